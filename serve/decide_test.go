package serve_test

import (
	"context"
	"errors"
	"math"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/featgraph/featgraph/examples/cardauth"
	"github.com/featgraph/featgraph/executor"
	"github.com/featgraph/featgraph/serve"
)

// goDecision runs the Go-built cardauth graph in process on the same
// services: what the spec served over HTTP must decide.
func goDecision(t *testing.T, svc *cardauth.Services, r map[string]any) cardauth.Decision {
	t.Helper()
	ca, err := cardauth.New(svc.Upstreams())
	if err != nil {
		t.Fatal(err)
	}
	res, err := executor.Run(context.Background(), ca.Graph, ca.Inputs(cardauth.Request{
		TransactionID: r["transaction_id"].(string), CardID: r["card_id"].(string),
		CustomerID: r["customer_id"].(string), MerchantID: r["merchant_id"].(string)}), ca.Decision)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Release()
	d, err := executor.Get(res, ca.Decision)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func sameDecision(t *testing.T, id string, got map[string]any, want cardauth.Decision) {
	t.Helper()
	score, _ := got["score"].(float64)
	if got["verdict"] != string(want.Verdict) || got["score_source"] != string(want.ScoreSource) || math.Abs(score-want.Score) > 1e-9 {
		t.Errorf("request %s: served %v; the Go graph decided %+v", id, got, want)
	}
}

func TestDecideOK(t *testing.T) {
	f := newFixture(t, nil)
	verdicts := map[string]int{}
	for _, id := range []string{"1", "2", "3", "5", "8", "13", "21", "34"} {
		var ans serve.Answer
		resp := call(t, "POST", f.url+"/v1/graphs/cardauth/decide", req(id), nil, &ans)
		if resp.StatusCode != http.StatusOK || ans.Status != http.StatusOK {
			t.Fatalf("request %s: %d %+v", id, resp.StatusCode, ans)
		}
		if ans.Graph != "cardauth" || ans.Version != f.spec || ans.RunID == "" || ans.DurationMS <= 0 {
			t.Errorf("request %s: graph %q version %q (want %q) run id %q duration %v", id, ans.Graph, ans.Version, f.spec, ans.RunID, ans.DurationMS)
		}
		d, _ := ans.Targets["decision"].(map[string]any)
		sameDecision(t, id, d, goDecision(t, f.svc, req(id)))
		verdict, _ := d["verdict"].(string)
		verdicts[verdict]++
		if len(ans.NotOK) != 0 || ans.Nodes != nil {
			t.Errorf("request %s: not ok %+v, nodes %v; want none", id, ans.NotOK, ans.Nodes)
		}
	}
	if len(verdicts) < 2 {
		t.Errorf("every request got the same verdict (%v): the ids do not exercise the graph", verdicts)
	}
}

func TestDecideExplain(t *testing.T) {
	f := newFixture(t, nil)
	var ans serve.Answer
	resp := call(t, "POST", f.url+"/v1/graphs/cardauth/decide?explain=1", req("1"), nil, &ans)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%d %s", resp.StatusCode, bodyOf(t, resp))
	}
	var info serve.GraphInfo
	call(t, "GET", f.url+"/v1/graphs/cardauth", nil, nil, &info)
	if len(ans.Nodes) != len(info.Nodes) || len(ans.Nodes) < 40 {
		t.Fatalf("explain gave %d nodes, the graph has %d", len(ans.Nodes), len(info.Nodes))
	}
	ran := 0
	for i, n := range ans.Nodes {
		if n.Node != info.Nodes[i].Name {
			t.Errorf("node %d is %q, the graph's is %q", i, n.Node, info.Nodes[i].Name)
		}
		if n.Outcome == "ok" {
			ran++
		}
	}
	if ran < 32 {
		t.Errorf("%d nodes ok, want at least the 32 fetches", ran)
	}
	if len(ans.CriticalPath) < 4 || ans.CriticalPath[len(ans.CriticalPath)-1].Node != "decision" {
		t.Errorf("critical path %+v: want at least the chain of 4 fetches, ending at decision", ans.CriticalPath)
	}
}

// modelDown fails every call to the fraud model.
func modelDown(c cardauth.Call) error {
	if c.Service == "model" {
		return errors.New("model down")
	}
	return nil
}

func TestDecideFallbackIs200(t *testing.T) {
	f := newFixture(t, []cardauth.ServiceOption{cardauth.WithFault(modelDown)})
	fellBack := 0
	for i := 1; i <= 20; i++ {
		id := strconv.Itoa(i)
		var ans serve.Answer
		resp := call(t, "POST", f.url+"/v1/graphs/cardauth/decide", req(id), nil, &ans)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("request %s: %d %s", id, resp.StatusCode, bodyOf(t, resp))
		}
		d, _ := ans.Targets["decision"].(map[string]any)
		if d["score_source"] != "fallback" {
			continue // not eligible: the model was not asked
		}
		fellBack++
		found := false
		for _, n := range ans.NotOK {
			if n.Node == "model_score" && n.Outcome == "fallback" && strings.Contains(n.Cause, `upstream "model"`) {
				found = true
			} else if n.Outcome != "fallback" {
				t.Errorf("request %s: %+v did not end ok", id, n)
			}
		}
		if !found {
			t.Errorf("request %s: not_ok %+v lacks model_score's fallback and its cause", id, ans.NotOK)
		}
	}
	if fellBack == 0 {
		t.Fatal("no request asked the model: the test exercises nothing")
	}
}

func TestDecideFailedDependencyIs502(t *testing.T) {
	f := newFixture(t, []cardauth.ServiceOption{cardauth.WithFault(func(c cardauth.Call) error {
		if c.Service == "cards" && c.Method == "card" {
			return errors.New("cards down")
		}
		return nil
	})})
	var ans serve.Answer
	resp := call(t, "POST", f.url+"/v1/graphs/cardauth/decide", req("1"), nil, &ans)
	if resp.StatusCode != http.StatusBadGateway || ans.Status != http.StatusBadGateway {
		t.Fatalf("%d, want 502: %s", resp.StatusCode, bodyOf(t, resp))
	}
	if _, has := ans.Targets["decision"]; has {
		t.Errorf("decision has a value: %v", ans.Targets)
	}
	outcomes := map[string]serve.NodeAnswer{}
	for _, n := range ans.NotOK {
		outcomes[n.Node] = n
	}
	if c := outcomes["card"]; c.Outcome != "error" || !strings.Contains(c.Cause, "card") {
		t.Errorf("card ended %+v, want an error with its cause", c)
	}
	if d := outcomes["decision"]; d.Outcome != "error" || !strings.Contains(d.Cause, "card") {
		t.Errorf("decision ended %+v, want an error naming card", d)
	}
	if !strings.Contains(ans.Error, "card") {
		t.Errorf("error %q does not name the node that failed", ans.Error)
	}
}

func TestDecideDeadlineIs504AndReachesUpstreams(t *testing.T) {
	// The caller allows 300 ms; the chain of 4 fetches takes 600 ms or more.
	// (Room enough that the first calls go out even on a loaded machine.)
	f := newFixture(t, []cardauth.ServiceOption{cardauth.WithLatency(150 * time.Millisecond)})
	var ans serve.Answer
	start := time.Now()
	resp := call(t, "POST", f.url+"/v1/graphs/cardauth/decide", req("1"),
		http.Header{serve.DeadlineHeader: {"300"}}, &ans)
	took := time.Since(start)
	if resp.StatusCode != http.StatusGatewayTimeout || ans.Status != http.StatusGatewayTimeout {
		t.Fatalf("%d, want 504: %s", resp.StatusCode, bodyOf(t, resp))
	}
	timedOut := false
	for _, n := range ans.NotOK {
		if n.Outcome == "timeout" || strings.Contains(n.Cause, "deadline") {
			timedOut = true
		}
	}
	if !timedOut {
		t.Errorf("no node ran out of time: %+v", ans.NotOK)
	}
	if took > 30*300*time.Millisecond {
		t.Errorf("the answer took %v for a 300 ms deadline", took)
	}
	// Every upstream call was told how little time was left.
	checkDeadlines(t, f.up.seen(), 300)

	// Without the header, the spec's deadline is what upstreams see. (A new
	// fixture: the calls that ran out of time above opened circuit breakers.)
	f = newFixture(t, nil)
	resp = call(t, "POST", f.url+"/v1/graphs/cardauth/decide", req("1"), nil, &ans)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%d: %s", resp.StatusCode, bodyOf(t, resp))
	}
	checkDeadlines(t, f.up.seen(), int(generousDeadline/time.Millisecond))
}

// checkDeadlines checks that every upstream call carried a deadline of at
// most max milliseconds (0: less than one left).
func checkDeadlines(t *testing.T, seen []http.Header, max int) {
	t.Helper()
	if len(seen) == 0 {
		t.Fatal("no upstream call")
	}
	for _, h := range seen {
		v := h.Get(serve.DeadlineHeader)
		ms, err := strconv.Atoi(v)
		if err != nil || ms < 0 || ms > max {
			t.Errorf("an upstream call carried %s %q, want 0..%d", serve.DeadlineHeader, v, max)
		}
	}
}

func TestDecideBadInputIs400(t *testing.T) {
	f := newFixture(t, nil)
	withExtra := req("1")
	withExtra["amount"] = 12
	missing := req("1")
	delete(missing, "merchant_id")
	wrongType := req("1")
	wrongType["card_id"] = 42
	for _, tc := range []struct {
		name   string
		body   any
		header http.Header
		field  string
		want   string
	}{
		{"unknown input", withExtra, nil, "amount", `unknown input "amount"`},
		{"missing input", missing, nil, "merchant_id", `missing input "merchant_id"`},
		{"ill-typed input", wrongType, nil, "card_id", "is not a string"},
		{"not JSON", "{card_id:", nil, "", "JSON object"},
		{"an array", "[1,2]", nil, "", "JSON object"},
		{"null", "null", nil, "", "JSON object"},
		{"bad deadline", req("1"), http.Header{serve.DeadlineHeader: {"soon"}}, serve.DeadlineHeader, "milliseconds"},
		{"negative deadline", req("1"), http.Header{serve.DeadlineHeader: {"-5"}}, serve.DeadlineHeader, "milliseconds"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var e serve.ErrorAnswer
			resp := call(t, "POST", f.url+"/v1/graphs/cardauth/decide", tc.body, tc.header, &e)
			if resp.StatusCode != http.StatusBadRequest {
				t.Fatalf("%d, want 400: %s", resp.StatusCode, bodyOf(t, resp))
			}
			if e.Field != tc.field || !strings.Contains(e.Error, tc.want) {
				t.Errorf("error %+v: want field %q and %q", e, tc.field, tc.want)
			}
		})
	}
}

func TestUnknownGraphIs404(t *testing.T) {
	f := newFixture(t, nil)
	for _, u := range []string{"/v1/graphs/nope/decide", "/v1/graphs/nope/decide-batch"} {
		var e serve.ErrorAnswer
		resp := call(t, "POST", f.url+u, req("1"), nil, &e)
		if resp.StatusCode != http.StatusNotFound || !strings.Contains(e.Error, `"nope"`) {
			t.Errorf("%s: %d %+v, want 404 naming the graph", u, resp.StatusCode, e)
		}
	}
	resp := call(t, "GET", f.url+"/v1/graphs/nope", nil, nil, nil)
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("GET /v1/graphs/nope: %d, want 404", resp.StatusCode)
	}
	resp = call(t, "GET", f.url+"/v1/graphs/cardauth/decide", nil, nil, nil)
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET decide: %d, want 405", resp.StatusCode)
	}
}

func TestBodyLimitIs413(t *testing.T) {
	f := newFixture(t, nil, serve.WithMaxBodyBytes(200), serve.WithBatch(2, 2))
	big := req("1")
	big["card_id"] = strings.Repeat("x", 300)
	var e serve.ErrorAnswer
	resp := call(t, "POST", f.url+"/v1/graphs/cardauth/decide", big, nil, &e)
	if resp.StatusCode != http.StatusRequestEntityTooLarge || !strings.Contains(e.Error, "200") {
		t.Errorf("%d %+v, want 413 naming the limit", resp.StatusCode, e)
	}
	// Chunked, with no Content-Length: cut off while reading.
	r, err := http.NewRequest("POST", f.url+"/v1/graphs/cardauth/decide", strings.NewReader(`{"card_id":"`+strings.Repeat("x", 300)+`"}`))
	if err != nil {
		t.Fatal(err)
	}
	r.ContentLength = -1
	resp2, err := http.DefaultClient.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	resp2.Body.Close()
	if resp2.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("chunked body over the limit: %d, want 413", resp2.StatusCode)
	}
	// Too many rows in a batch.
	rows := []any{map[string]any{}, map[string]any{}, map[string]any{}}
	resp = call(t, "POST", f.url+"/v1/graphs/cardauth/decide-batch", rows, nil, &e)
	if resp.StatusCode != http.StatusRequestEntityTooLarge || !strings.Contains(e.Error, "3 rows") {
		t.Errorf("batch of 3 over a limit of 2: %d %+v, want 413", resp.StatusCode, e)
	}
}
