package fetchers_test

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/featgraph/featgraph/executor"
	"github.com/featgraph/featgraph/fetchers"
	"github.com/featgraph/featgraph/graph"
	"github.com/featgraph/featgraph/nodes"
)

// runAccount runs a one-node graph that fetches /accounts/<id> from u.
func runAccount(t *testing.T, u *fetchers.Upstream, opts ...nodes.Option) executor.NodeResult {
	t.Helper()
	b := graph.NewBuilder()
	id := nodes.Input[string](b, "card")
	acct := fetchers.JSON1[account](b, "account", u, id,
		func(id string) (fetchers.Request, error) { return fetchers.GetRequest("/accounts/" + id), nil }, opts...)
	g, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	res, err := executor.Run(context.Background(), g, []executor.Binding{executor.Bind(id, "a1")}, acct)
	if res == nil {
		t.Fatal(err)
	}
	defer res.Release()
	return res.Node(acct)
}

func TestBadBodiesNameUpstreamNodeAndProblem(t *testing.T) {
	cases := []struct {
		name, body string
		want       error
		says       string
	}{
		{"garbage", "<html>oops</html>", fetchers.ErrNotJSON, "not JSON"},
		{"empty", "", fetchers.ErrNotJSON, "empty body"},
		{"trailing", okAccount + " x", fetchers.ErrNotJSON, "not JSON"},
		{"wrong shape", `{"id":42,"limit":"many"}`, fetchers.ErrWrongShape, "id"},
		{"array", `[1,2]`, fetchers.ErrWrongShape, "array"},
		{"null", `null`, fetchers.ErrWrongShape, "null"},
		{"cut JSON", `{"id":"a1","li`, fetchers.ErrTruncated, "truncated"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFake(t, func(w http.ResponseWriter, r *http.Request, hit int64) {
				writeJSON(w, http.StatusOK, c.body)
			})
			u := newUpstream(t, f)
			n := runAccount(t, u)
			if n.Outcome != executor.OutcomeError || !errors.Is(n.Cause, c.want) {
				t.Fatalf("outcome %v, cause %v: want error wrapping %v", n.Outcome, n.Cause, c.want)
			}
			mustContain(t, n.Cause.Error(), `upstream "accounts"`, `node "account"`, "/accounts/a1", c.says)
			if h := f.hits.Load(); h != 1 {
				t.Errorf("server hits = %d: a bad body is not retried", h)
			}
		})
	}
}

func TestNodeTimeoutBoundsTheFetch(t *testing.T) {
	var f *fake
	f = newFake(t, func(w http.ResponseWriter, r *http.Request, hit int64) { f.hang(r) })
	u := newUpstream(t, f)
	n := runAccount(t, u, nodes.Timeout(50*time.Millisecond), nodes.Fallback(account{ID: "fallback"}))
	if n.Outcome != executor.OutcomeFallback || !errors.Is(n.Cause, context.DeadlineExceeded) {
		t.Fatalf("outcome %v (%v), want a fallback on the timeout", n.Outcome, n.Cause)
	}
	eventually(t, "the hung request to be canceled", func() bool { return f.canceled.Load() == 1 })
}

func TestRequestCarriesTraceDeadlineAndHooks(t *testing.T) {
	f := newFake(t, func(w http.ResponseWriter, r *http.Request, hit int64) {
		writeJSON(w, http.StatusOK, okAccount)
	})
	u := newUpstream(t, f,
		fetchers.WithPropagator(propagation.TraceContext{}),
		fetchers.WithHeader("X-Client", "featgraph"),
		fetchers.WithBearerToken(func(context.Context) (string, error) { return "s3cret", nil }))
	traceID, _ := trace.TraceIDFromHex("4bf92f3577b34da6a3ce929d0e0e4736")
	spanID, _ := trace.SpanIDFromHex("00f067aa0ba902b7")
	ctx := trace.ContextWithSpanContext(context.Background(), trace.NewSpanContext(trace.SpanContextConfig{
		TraceID: traceID, SpanID: spanID, TraceFlags: trace.FlagsSampled,
	}))
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req := fetchers.GetRequest("/a")
	req.Header = http.Header{"Accept": {"application/vnd.accounts+json"}}
	if _, err := fetchers.FetchJSON[account](ctx, u, req); err != nil {
		t.Fatal(err)
	}
	h := f.lastHeader()
	if got := h.Get("Accept"); got != "application/vnd.accounts+json" {
		t.Errorf("Accept = %q, want the request's own", got)
	}
	if got := h.Get("Traceparent"); got != "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01" {
		t.Errorf("traceparent = %q", got)
	}
	ms, err := strconv.Atoi(h.Get(fetchers.DeadlineHeader))
	if err != nil || ms <= 0 || ms > 5000 {
		t.Errorf("%s = %q, want the ms left of 5 s", fetchers.DeadlineHeader, h.Get(fetchers.DeadlineHeader))
	}
	if h.Get("X-Client") != "featgraph" || h.Get("Authorization") != "Bearer s3cret" {
		t.Errorf("hook headers missing: %v", h)
	}
}

func TestFailingHookSendsNothing(t *testing.T) {
	f := newFake(t, func(w http.ResponseWriter, r *http.Request, hit int64) {
		writeJSON(w, http.StatusOK, okAccount)
	})
	u := newUpstream(t, f, fetchers.WithBearerToken(func(context.Context) (string, error) {
		return "", errors.New("token expired")
	}))
	_, err := fetchers.FetchJSON[account](context.Background(), u, fetchers.GetRequest("/a"))
	if !errors.Is(err, fetchers.ErrBadRequest) || !strings.Contains(err.Error(), "token expired") {
		t.Fatalf("err = %v, want ErrBadRequest naming the token error", err)
	}
	if h := f.hits.Load(); h != 0 {
		t.Errorf("server hits = %d, want 0", h)
	}
}

func TestBuildErrors(t *testing.T) {
	b := graph.NewBuilder()
	fetchers.JSON0[account](b, "orphan", nil, fetchers.GetRequest("/a"))
	if _, err := b.Build(); err == nil || !strings.Contains(err.Error(), "orphan") {
		t.Errorf("nil upstream: err = %v, want one naming the node", err)
	}
	for _, base := range []string{"", "accounts.internal", "ftp://x", "http://"} {
		if _, err := fetchers.NewUpstream("x", base); err == nil {
			t.Errorf("NewUpstream(%q) accepted a bad base URL", base)
		}
	}
	if _, err := fetchers.NewUpstream("x", "http://h", fetchers.WithAttempts(0, 0, 0)); err == nil {
		t.Error("negative retries accepted")
	}
}

func TestBuildRequestErrorNamesNode(t *testing.T) {
	f := newFake(t, func(w http.ResponseWriter, r *http.Request, hit int64) {})
	u := newUpstream(t, f)
	b := graph.NewBuilder()
	ref := fetchers.JSON[account](b, "acct", u, nil, func(nodes.Args) (fetchers.Request, error) {
		return fetchers.Request{}, errors.New("no id")
	})
	g, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	res, _ := executor.Run(context.Background(), g, nil, ref)
	defer res.Release()
	n := res.Node(ref)
	if !errors.Is(n.Cause, fetchers.ErrBadRequest) {
		t.Fatalf("cause %v, want ErrBadRequest", n.Cause)
	}
	mustContain(t, n.Cause.Error(), `node "acct"`, "no id")
}

func TestPathAndQueryJoinBase(t *testing.T) {
	f := newFake(t, func(w http.ResponseWriter, r *http.Request, hit int64) {
		writeJSON(w, http.StatusOK, `{"id":"`+r.URL.Path+"?"+r.URL.RawQuery+`"}`)
	})
	u, err := fetchers.NewUpstream("v1", f.srv.URL+"/v1/")
	if err != nil {
		t.Fatal(err)
	}
	defer u.Close()
	got, err := fetchers.FetchJSON[account](context.Background(), u, fetchers.GetRequest("accounts/a b", "z", "1", "a", "2"))
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != "/v1/accounts/a b?a=2&z=1" {
		t.Errorf("server saw %q", got.ID)
	}
}

// JSON1 and JSON2 take the answer's type first, so that it is the only
// type argument to write: the dependencies' types are inferred.
func TestJSONNodesInferDependencyTypes(t *testing.T) {
	f := newFake(t, func(w http.ResponseWriter, r *http.Request, hit int64) {
		writeJSON(w, http.StatusOK, `{"id":"`+strings.TrimPrefix(r.URL.Path, "/accounts/")+`","limit":`+r.URL.Query().Get("limit")+`}`)
	})
	u := newUpstream(t, f)
	b := graph.NewBuilder()
	card := nodes.Input[string](b, "card")
	limit := nodes.Input[int](b, "limit")
	one := fetchers.JSON1[account](b, "one", u, card, func(id string) (fetchers.Request, error) {
		return fetchers.GetRequest("/accounts/"+id, "limit", "7"), nil
	})
	two := fetchers.JSON2[account](b, "two", u, card, limit, func(id string, n int) (fetchers.Request, error) {
		return fetchers.GetRequest("/accounts/"+id, "limit", strconv.Itoa(n)), nil
	})
	g, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	res, err := executor.Run(context.Background(), g,
		[]executor.Binding{executor.Bind(card, "a1"), executor.Bind(limit, 300)}, one, two)
	if res == nil {
		t.Fatal(err)
	}
	defer res.Release()
	for ref, want := range map[nodes.Ref[account]]account{one: {ID: "a1", Limit: 7}, two: {ID: "a1", Limit: 300}} {
		if got, err := executor.Get(res, ref); err != nil || got != want {
			t.Errorf("%s = %+v, %v; want %+v", ref.Name(), got, err, want)
		}
	}
}
