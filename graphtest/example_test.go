package graphtest_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/featgraph/featgraph/executor"
	"github.com/featgraph/featgraph/graph"
	"github.com/featgraph/featgraph/graphtest"
	"github.com/featgraph/featgraph/nodes"
)

// exampleT stands in for the *testing.T of a test so that the examples run
// as documentation: it prints failures and runs cleanups at end. In a test,
// pass t.
type exampleT struct {
	testing.TB
	cleanups []func()
}

func (e *exampleT) Helper()                           {}
func (e *exampleT) Cleanup(f func())                  { e.cleanups = append(e.cleanups, f) }
func (e *exampleT) Errorf(format string, args ...any) { fmt.Printf("FAIL: "+format+"\n", args...) }
func (e *exampleT) Fatalf(format string, args ...any) { e.Errorf(format, args...); runtime.Goexit() }
func (e *exampleT) FailNow()                          { runtime.Goexit() }
func (e *exampleT) end() {
	for _, f := range slices.Backward(e.cleanups) {
		f()
	}
}

// scoreGraph is a card's risk score, fetched from a service with a timeout
// and a cautious fallback, and the decision made from it.
func scoreGraph() (g *graph.Graph, card graph.Ref[string], score graph.Ref[float64], decision graph.Ref[string]) {
	b := graph.NewBuilder()
	card = nodes.Input[string](b, "card")
	score = nodes.Fetch1(b, "score", card, func(ctx context.Context, card string) (float64, error) {
		return 0, errors.New("the real scoring service is not reachable from tests")
	}, nodes.Timeout(100*time.Millisecond), nodes.Fallback(0.5)) // room for a stub on a loaded machine
	decision = nodes.Compute1(b, "decision", score, func(s float64) (string, error) {
		switch {
		case s >= 0.9:
			return "decline", nil
		case s >= 0.5:
			return "review", nil
		}
		return "approve", nil
	})
	g, err := b.Build()
	if err != nil {
		panic(err)
	}
	return g, card, score, decision
}

// Run the same graph with the score service answering 0.93, hanging, and
// failing: the decision, and how the score node ended.
func Example() {
	t := &exampleT{} // in a test: t
	defer t.end()
	g, card, score, decision := scoreGraph()
	inputs := []executor.Binding{executor.Bind(card, "c1")}

	for _, tc := range []struct {
		stub graphtest.Option
		want string
	}{
		{graphtest.Stub(score, 0.93), "decline"},
		{graphtest.StubHang(score), "review"}, // timed out: the fallback 0.5
		{graphtest.StubError(score, errors.New("scoring service down")), "review"},
	} {
		h := graphtest.New(t, g, tc.stub)
		run := h.Run(context.Background(), inputs, decision)
		graphtest.ExpectValue(run, decision, tc.want)
		fmt.Println(graphtest.Value(run, decision), run.Outcome(score))
	}
	// Output:
	// decline ok
	// review fallback
	// review fallback
}

// The faults a seed draws are always the same, so a failing seed can be
// run again.
func ExampleRandomFaults() {
	t := &exampleT{}
	defer t.end()
	g, _, score, _ := scoreGraph()
	for seed := range uint64(4) {
		h := graphtest.New(t, g, graphtest.Stub(score, 0.1), graphtest.RandomFaults(seed, graphtest.FaultRate(1)))
		fmt.Println(seed, h.Faults())
	}
	// Output:
	// 0 [score: latency 32.695259ms]
	// 1 [score: panic]
	// 2 [score: latency 36.591696ms]
	// 3 [score: latency 34.996352ms]
}
