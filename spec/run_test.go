package spec_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/featgraph/featgraph/executor"
	"github.com/featgraph/featgraph/fetchers"
	"github.com/featgraph/featgraph/graph"
	"github.com/featgraph/featgraph/spec"
)

// seen is what a fake upstream received.
type seen struct {
	mu       sync.Mutex
	requests []string // "METHOD /path?query body"
}

func (s *seen) add(r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	s.mu.Lock()
	defer s.mu.Unlock()
	line := r.Method + " " + r.URL.RequestURI()
	if len(body) > 0 {
		line += " " + string(body)
	}
	s.requests = append(s.requests, line)
}

func (s *seen) all() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.requests...)
}

func run(t *testing.T, s *spec.Spec, inputs ...executor.Binding) *executor.Result {
	t.Helper()
	var targets []graph.Target
	for _, name := range s.Targets() {
		targets = append(targets, graph.Named(name))
	}
	res, err := executor.Run(context.Background(), s.Graph(), inputs, targets...)
	if res == nil {
		t.Fatalf("run: %v", err)
	}
	t.Cleanup(res.Release)
	return res
}

func value(t *testing.T, res *executor.Result, name string) any {
	t.Helper()
	v, err := res.Value(graph.Named(name))
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return v
}

func outcome(t *testing.T, res *executor.Result, name string) executor.NodeResult {
	t.Helper()
	n, err := res.Lookup(name)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestRunAllKinds(t *testing.T) {
	var got seen
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got.add(r)
		switch {
		case strings.HasPrefix(r.URL.Path, "/accounts/"):
			io.WriteString(w, `{"limit": 100, "tier": "gold"}`)
		case r.URL.Path == "/v1/score":
			io.WriteString(w, `{"score": 0.25}`)
		case strings.HasPrefix(r.URL.Path, "/tags/"):
			json.NewEncoder(w).Encode(map[string]any{"tag": strings.TrimPrefix(r.URL.Path, "/tags/")})
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	s, err := spec.Load("testdata/allkinds.yaml", spec.Getenv(func(v string) string { return map[string]string{"FEATGRAPH_TEST_ACCOUNTS": srv.URL}[v] }),
		spec.UpstreamURL("scores", srv.URL+"/v1/"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	res := run(t, s, executor.BindNamed("card_id", "c 1"), executor.BindNamed("amount", 150.0),
		executor.BindNamed("channel", "pos"), executor.BindNamed("tags", []any{"x", "y z"}))

	if v := value(t, res, "decision"); v != "review" { // 150 > limit 100
		t.Errorf("decision = %v, want review", v)
	}
	if n := outcome(t, res, "decision"); n.Branch != "review" {
		t.Errorf("decision took %q", n.Branch)
	}
	if outcome(t, res, "approve").Outcome != executor.OutcomeSkipped {
		t.Error("the branch not taken ran")
	}
	if v := value(t, res, "tier"); v != "silver" {
		t.Errorf("tier = %v, want silver (channel pos)", v)
	}
	if v := value(t, res, "checked"); v != false {
		t.Errorf("checked = %v", v)
	}
	if v := value(t, res, "score"); !jsonEqual(v, `{"score": 0.25}`) {
		t.Errorf("score = %v", v)
	}
	if v := value(t, res, "tag_info"); !jsonEqual(v, `[{"tag": "x"}, {"tag": "y z"}]`) {
		t.Errorf("tag_info = %v", v)
	}
	if v := value(t, res, "params"); !jsonEqual(v, `{"a": 1, "b": [true, "x"]}`) {
		t.Errorf("params = %v", v)
	}
	want := map[string]bool{
		"GET /accounts/c%201?amount=150&channel=pos":                   true,
		`POST /v1/score {"amount":150,"card":"c 1","note":"card c 1"}`: true,
		"GET /tags/x":     true,
		"GET /tags/y%20z": true,
	}
	reqs := got.all()
	for _, r := range reqs {
		if !want[r] {
			t.Errorf("unexpected request %q", r)
		}
		delete(want, r)
	}
	for r := range want {
		t.Errorf("missing request %q (got %q)", r, reqs)
	}
}

func jsonEqual(v any, want string) bool {
	var w any
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		panic(err)
	}
	a, _ := json.Marshal(v)
	b, _ := json.Marshal(w)
	return string(a) == string(b)
}

// oneNode is a spec with one http node against url, with extra lines for the node.
func oneNode(t *testing.T, url, extra string) *spec.Spec {
	t.Helper()
	src := "version: 1\nupstreams:\n  up: {url: \"" + url + "\"}\nnodes:\n  a:\n    http: {upstream: up, path: /x}\n" + extra
	s, err := spec.Parse("one.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

func TestRunRetriesOnlyRetryableErrors(t *testing.T) {
	var calls atomic.Int32
	status := []int{503, 429, 200}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		i := int(calls.Add(1)) - 1
		if code := status[min(i, len(status)-1)]; code != 200 {
			w.WriteHeader(code)
			return
		}
		io.WriteString(w, `{"ok": true}`)
	}))
	defer srv.Close()
	res := run(t, oneNode(t, srv.URL, "    retry: {attempts: 3, backoff: 1ms}\n"))
	if n := outcome(t, res, "a"); n.Outcome != executor.OutcomeOK || calls.Load() != 3 {
		t.Errorf("outcome %v after %d calls, want ok after 3 (%v)", n.Outcome, calls.Load(), n.Cause)
	}

	calls.Store(0)
	status = []int{404}
	res = run(t, oneNode(t, srv.URL, "    retry: {attempts: 3, backoff: 1ms}\n"))
	n := outcome(t, res, "a")
	var fe *fetchers.Error
	if n.Outcome != executor.OutcomeError || !errors.As(n.Cause, &fe) || fe.Status != 404 || !errors.Is(n.Cause, fetchers.ErrStatus) {
		t.Errorf("a 404: outcome %v, cause %v; want a fetchers.Error with status 404", n.Outcome, n.Cause)
	}
	if calls.Load() != 1 {
		t.Errorf("a 404 was sent %d times", calls.Load())
	}
}

func TestRunFallbackOnGarbage(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, `<html>oops`)
	}))
	defer srv.Close()
	res := run(t, oneNode(t, srv.URL, "    fallback: {limit: 0}\n"))
	n := outcome(t, res, "a")
	if n.Outcome != executor.OutcomeFallback || !errors.Is(n.Cause, fetchers.ErrNotJSON) {
		t.Errorf("outcome %v, cause %v; want a fallback because the answer is not JSON", n.Outcome, n.Cause)
	}
	if v := value(t, res, "a"); !jsonEqual(v, `{"limit": 0}`) {
		t.Errorf("value %v", v)
	}
}

func TestRunWrongAnswerType(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, `"text"`)
	}))
	defer srv.Close()
	res := run(t, oneNode(t, srv.URL, "    type: int\n"))
	n := outcome(t, res, "a")
	if n.Outcome != executor.OutcomeError || !strings.Contains(n.Cause.Error(), `string "text" is not an int`) {
		t.Errorf("outcome %v, cause %v", n.Outcome, n.Cause)
	}
}

func TestRunBreakerOpens(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		w.WriteHeader(500)
	}))
	defer srv.Close()
	s := oneNode(t, srv.URL, "    breaker: {failures: 2, open_for: 1h}\n    fallback: {}\n")
	for range 5 {
		run(t, s)
	}
	if got := calls.Load(); got != 2 {
		t.Errorf("upstream called %d times; the breaker should open after 2 failures", got)
	}
	res := run(t, s)
	if n := outcome(t, res, "a"); n.Outcome != executor.OutcomeFallback || !errors.Is(n.Cause, fetchers.ErrCircuitOpen) {
		t.Errorf("outcome %v, cause %v; want a fallback on an open circuit", n.Outcome, n.Cause)
	}
}

func TestRunHedgeWinsOverHungRequest(t *testing.T) {
	var calls atomic.Int32
	release := make(chan struct{})
	defer close(release) // lets the hung handler return before the server closes
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) == 1 {
			select { // the first request hangs
			case <-release:
			case <-r.Context().Done():
			}
			return
		}
		io.WriteString(w, `{"hedged": true}`)
	}))
	defer srv.Close()
	res := run(t, oneNode(t, srv.URL, "    hedge: {after: 5ms}\n    timeout: 10s\n"))
	if v := value(t, res, "a"); !jsonEqual(v, `{"hedged": true}`) {
		t.Errorf("value %v", v)
	}
	if got := calls.Load(); got != 2 {
		t.Errorf("%d requests, want the first and one hedge", got)
	}
}

func TestRunGoNodes(t *testing.T) {
	s, err := spec.Load("testdata/gonodes.yaml", binds...)
	if err != nil {
		t.Fatal(err)
	}
	res := run(t, s, executor.BindNamed("customer_id", "u1"), executor.BindNamed("amount", 50))
	if v := value(t, res, "spend"); v != 1150 {
		t.Errorf("spend = %v, want 400+700+50", v)
	}
	if v := value(t, res, "big"); v != true {
		t.Errorf("big = %v", v)
	}
	if v := value(t, res, "visits"); !jsonEqual(v, `["visit-a", "visit-b", "visit-c"]`) {
		t.Errorf("visits = %v", v)
	}
	// The Go type of a go node declared any is its function's.
	history, err := graph.Lookup[[]int](s.Graph(), "history")
	if err != nil {
		t.Fatal(err)
	}
	if h, err := executor.Get(res, history); err != nil || len(h) != 2 {
		t.Errorf("history = %v, %v", h, err)
	}
}
