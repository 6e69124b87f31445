package cardauth_test

import (
	"context"
	"errors"
	"fmt"
	"github.com/featgraph/featgraph/internal/graphx"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/featgraph/featgraph/examples/cardauth"
	"github.com/featgraph/featgraph/executor"
	"github.com/featgraph/featgraph/graph"
)

func build(t *testing.T, svc *cardauth.Services, opts ...cardauth.Option) (*cardauth.Graph, *executor.Executor) {
	t.Helper()
	ca, err := cardauth.New(svc.Upstreams(), opts...)
	if err != nil {
		t.Fatal(err)
	}
	ex, err := executor.New(ca.Graph)
	if err != nil {
		t.Fatal(err)
	}
	return ca, ex
}

func run(t *testing.T, ca *cardauth.Graph, ex *executor.Executor, r cardauth.Request) (cardauth.Decision, *executor.Result) {
	t.Helper()
	res, err := ex.Run(context.Background(), ca.Inputs(r), ca.Decision)
	if err != nil {
		t.Fatalf("run %+v: %v", r, err)
	}
	t.Cleanup(res.Release)
	d, err := executor.Get(res, ca.Decision)
	if err != nil {
		t.Fatal(err)
	}
	return d, res
}

func request(i int) cardauth.Request {
	return cardauth.Request{
		TransactionID: fmt.Sprintf("t%d", i), CardID: fmt.Sprintf("c%d", i),
		CustomerID: fmt.Sprintf("u%d", i), MerchantID: fmt.Sprintf("m%d", i),
	}
}

// findRequest returns the first request whose zero-latency run is decided
// by the model and satisfies want.
func findRequest(t *testing.T, want func(cardauth.Decision) bool) cardauth.Request {
	t.Helper()
	ca, ex := build(t, newServices(t))
	for i := range 1000 {
		if d, _ := run(t, ca, ex, request(i)); d.ScoreSource == cardauth.ScoreFromModel && want(d) {
			return request(i)
		}
	}
	t.Fatal("no request among 1000 fits")
	return cardauth.Request{}
}

func TestGraphShape(t *testing.T) {
	ca, _ := build(t, newServices(t))
	g := ca.Graph
	var inputs, fetches []string
	for _, n := range graphx.Nodes(g) {
		switch n.Kind {
		case graph.KindInput:
			inputs = append(inputs, n.Name)
		case graph.KindFetch:
			fetches = append(fetches, n.Name)
		}
		if n.Description == "" {
			t.Errorf("node %q has no description", n.Name)
		}
	}
	if want := []string{"transaction_id", "card_id", "customer_id", "merchant_id"}; !slices.Equal(inputs, want) {
		t.Errorf("inputs %v, want %v", inputs, want)
	}
	if len(fetches) != 32 {
		t.Errorf("%d fetch nodes, want 32: %v", len(fetches), fetches)
	}
	path, depth := g.CriticalPath(func(id graph.NodeID) time.Duration {
		if graphx.Node(g, id).Kind == graph.KindFetch {
			return time.Second
		}
		return 0
	})
	if depth != 4*time.Second {
		var names []string
		for _, id := range path {
			names = append(names, g.Name(id))
		}
		t.Errorf("longest chain of fetches is %v deep (%s), want 4", depth.Seconds(), strings.Join(names, " -> "))
	}
	if anc, err := g.Ancestors(ca.Decision); err != nil || len(anc) != g.Len() {
		got := len(anc)
		t.Errorf("the decision depends on %d of the %d nodes, want all", got, g.Len())
	}
}

func TestNewReportsMissingUpstreams(t *testing.T) {
	up := newServices(t).Upstreams()
	up.ModelScore, up.HomePlace = nil, nil
	_, err := cardauth.New(up)
	var me *cardauth.MissingUpstreamError
	if !errors.As(err, &me) || !slices.Equal(me.Names, []string{"HomePlace", "ModelScore"}) {
		t.Fatalf("New = %v, want a MissingUpstreamError naming HomePlace and ModelScore", err)
	}
	if _, err := cardauth.New(newServices(t).Upstreams(), cardauth.WithModelTimeout(0)); err == nil {
		t.Error("New accepted a zero model timeout")
	}
}

func TestModelSkippedWhenNotEligible(t *testing.T) {
	ctx := context.Background()
	probe := newServices(t)
	r := request(1)
	for i := 0; ; i++ {
		r.CardID = fmt.Sprintf("c%d", i)
		if c, _ := probe.Cards.Card(ctx, r.CardID); c.Status != cardauth.CardActive {
			break
		}
	}
	svc := newServices(t)
	ca, ex := build(t, svc)
	d, res := run(t, ca, ex, r)
	if d.Verdict != cardauth.Decline || !strings.HasPrefix(d.Reason, "card ") || d.ScoreSource != cardauth.ScoreSkipped {
		t.Errorf("decision %v, want a decline for the card's status without a score", d)
	}
	if o := res.Node(ca.ModelScore).Outcome; o != executor.OutcomeSkipped {
		t.Errorf("model_score ended %v, want skipped", o)
	}
	if b := res.Node(ca.Score).Branch; b != "no_model_score" {
		t.Errorf("score took branch %q, want no_model_score", b)
	}
	if n := svc.Calls("model"); n != 0 {
		t.Errorf("the model was called %d times", n)
	}
	if n := svc.Calls("accounts"); n != 5 {
		t.Errorf("accounts called %d times, want 5: the rest of the graph still runs", n)
	}
}

func TestModelFallbackWhenModelFails(t *testing.T) {
	r := findRequest(t, func(d cardauth.Decision) bool { return d.Verdict == cardauth.Approve })
	errDown := errors.New("model server overloaded")
	svc := newServices(t, cardauth.WithFault(func(c cardauth.Call) error {
		if c.Service == "model" {
			return errDown
		}
		return nil
	}))
	ca, ex := build(t, svc)
	d, res := run(t, ca, ex, r)
	if d.Verdict != cardauth.Review || d.ScoreSource != cardauth.ScoreFallback || d.Score != cardauth.FallbackScore.Score {
		t.Errorf("decision %v, want a review on the fallback score", d)
	}
	m := res.Node(ca.ModelScore)
	if m.Outcome != executor.OutcomeFallback || !errors.Is(m.Cause, errDown) {
		t.Errorf("model_score ended %v (%v), want fallback caused by the injected fault", m.Outcome, m.Cause)
	}
	if err := res.Err(); err != nil {
		t.Errorf("a fallen-back run reports failure: %v", err)
	}
	if n := svc.Calls("model"); n != 1 {
		t.Errorf("the model was called %d times, want 1", n)
	}
}

func TestModelFallbackWhenModelTimesOut(t *testing.T) {
	r := findRequest(t, func(d cardauth.Decision) bool { return d.Verdict == cardauth.Approve })
	svc := newServices(t, cardauth.WithJitter(func(c cardauth.Call) time.Duration {
		if c.Service == "model" {
			return time.Hour
		}
		return 0
	}))
	ca, ex := build(t, svc, cardauth.WithModelTimeout(20*time.Millisecond))
	d, res := run(t, ca, ex, r)
	if d.Verdict != cardauth.Review || d.ScoreSource != cardauth.ScoreFallback {
		t.Errorf("decision %v, want a review on the fallback score", d)
	}
	m := res.Node(ca.ModelScore)
	var te *executor.TimeoutError
	if m.Outcome != executor.OutcomeFallback || !errors.As(m.Cause, &te) {
		t.Errorf("model_score ended %v (%v), want fallback after a timeout", m.Outcome, m.Cause)
	}
}

func TestWallTimeIsBoundedByTheChain(t *testing.T) {
	const latency = 20 * time.Millisecond
	r := findRequest(t, func(d cardauth.Decision) bool { return true })
	ca, ex := build(t, newServices(t, cardauth.WithLatency(latency)))
	_, res := run(t, ca, ex, r)
	var sum time.Duration
	var fetched int
	for _, n := range res.Nodes() {
		if n.Kind == graph.KindFetch && n.Outcome == executor.OutcomeOK {
			sum += n.Duration()
			fetched++
		}
	}
	wall := res.Duration()
	if fetched != 32 {
		t.Fatalf("%d fetches ran, want 32", fetched)
	}
	if wall < 4*latency {
		t.Errorf("wall time %v is shorter than the chain of 4 fetches of %v", wall, latency)
	}
	if wall >= sum/2 {
		t.Errorf("wall time %v, want well under the sequential sum %v", wall, sum)
	}
}
