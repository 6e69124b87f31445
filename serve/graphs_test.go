package serve_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/featgraph/featgraph/graph"
	"github.com/featgraph/featgraph/nodes"
	"github.com/featgraph/featgraph/serve"
)

type payment struct {
	Amount int    `json:"amount"`
	Card   string `json:"card"`
}

// goGraph has inputs of a spec type (int), of a Go struct and of a slice.
func goGraph(t *testing.T) *graph.Graph {
	t.Helper()
	b := graph.NewBuilder()
	p := nodes.Input[payment](b, "payment")
	limit := nodes.Input[int](b, "limit")
	tags := nodes.Input[[]string](b, "tags")
	nodes.Compute3(b, "ok", p, limit, tags, func(p payment, l int, tags []string) (string, error) {
		if p.Amount > l {
			return "over " + p.Card, nil
		}
		return "ok " + p.Card + " " + strings.Join(tags, "+"), nil
	})
	g, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func TestFromGraphConvertsToGoTypes(t *testing.T) {
	g, err := serve.FromGraph("pay", goGraph(t), []string{"ok"}, serve.GraphDeadline(time.Second), serve.GraphDescription("payments"))
	if err != nil {
		t.Fatal(err)
	}
	srv, err := serve.New([]*serve.Graph{g})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	ts := httptest.NewServer(srv)
	defer ts.Close()
	var ans serve.Answer
	resp := call(t, "POST", ts.URL+"/v1/graphs/pay/decide", `{"payment": {"amount": 5, "card": "c1"}, "limit": 10, "tags": ["a", "b"]}`, nil, &ans)
	if resp.StatusCode != http.StatusOK || ans.Targets["ok"] != "ok c1 a+b" {
		t.Errorf("%d %+v", resp.StatusCode, ans)
	}
	for body, field := range map[string]string{
		`{"payment": {"amount": "5"}, "limit": 10, "tags": []}`: "payment",
		`{"payment": {}, "limit": 10.5, "tags": []}`:            "limit",
		`{"payment": {}, "limit": 10, "tags": "a"}`:             "tags",
		`{"payment": {}, "limit": 10}`:                          "tags",
	} {
		var e serve.ErrorAnswer
		if resp := call(t, "POST", ts.URL+"/v1/graphs/pay/decide", body, nil, &e); resp.StatusCode != http.StatusBadRequest || e.Field != field {
			t.Errorf("%s: %d %+v, want 400 naming %s", body, resp.StatusCode, e, field)
		}
	}
	var info serve.GraphInfo
	call(t, "GET", ts.URL+"/v1/graphs/pay", nil, nil, &info)
	if info.Description != "payments" || info.DeadlineMS != 1000 || len(info.Inputs) != 3 || info.Inputs[0].Type != "serve_test.payment" || info.Inputs[1].Type != "int" {
		t.Errorf("info %+v", info)
	}
}

func TestNewRejects(t *testing.T) {
	if _, err := serve.FromGraph("no/slash", goGraph(t), []string{"ok"}); !errors.Is(err, serve.ErrBadName) {
		t.Errorf("a name with a slash: %v", err)
	}
	if _, err := serve.FromGraph("pay", goGraph(t), []string{"nope"}); err == nil || !strings.Contains(err.Error(), "nope") {
		t.Errorf("an unknown target: %v", err)
	}
	a, err := serve.FromGraph("pay", goGraph(t), []string{"ok"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := serve.New([]*serve.Graph{a, a}); !errors.Is(err, serve.ErrDuplicate) {
		t.Errorf("two graphs of one name: %v", err)
	}
	for _, o := range []serve.Option{serve.WithTokens(), serve.WithTokens(""), serve.WithMaxBodyBytes(0), serve.WithMaxInFlight(-1), serve.WithBatch(0, 1), serve.WithDefaultDeadline(0)} {
		if _, err := serve.New([]*serve.Graph{a}, o); err == nil {
			t.Error("a bad option was accepted")
		}
	}
}

func TestSwapKeepsRunsOnTheirGraph(t *testing.T) {
	f := newFixture(t, nil)
	gate := f.up.setGate()
	done := make(chan serve.Answer, 1)
	go func() {
		var a serve.Answer
		call(t, "POST", f.url+"/v1/graphs/cardauth/decide", req("1"), nil, &a)
		done <- a
	}()
	for f.srv.InFlight() == 0 {
		time.Sleep(time.Millisecond)
	}
	<-f.up.gateCalls // the run is waiting on its upstreams
	// Another graph, another version, under the same name.
	g2, err := serve.FromGraph("cardauth", goGraph(t), []string{"ok"}, serve.GraphDescription("second"))
	if err != nil {
		t.Fatal(err)
	}
	if err := f.srv.Swap([]*serve.Graph{g2}); err != nil {
		t.Fatal(err)
	}
	if err := f.srv.Swap([]*serve.Graph{g2, g2}); !errors.Is(err, serve.ErrDuplicate) {
		t.Errorf("a bad swap: %v", err)
	}
	var info serve.GraphInfo
	call(t, "GET", f.url+"/v1/graphs/cardauth", nil, nil, &info)
	if info.Description != "second" {
		t.Errorf("after Swap the graph is %q", info.Description)
	}
	close(gate)
	a := <-done
	if a.Status != http.StatusOK || a.Version != f.spec || a.Version == g2.Version() || a.Targets["decision"] == nil {
		t.Errorf("the run in flight during Swap: %d, version %s (want %s)", a.Status, a.Version, f.spec)
	}
}
