package executor_test

import (
	"context"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/featgraph/featgraph/executor"
	"github.com/featgraph/featgraph/graph"
)

// counter counts calls per node name.
type counter struct{ calls map[string]*atomic.Int32 }

func newCounter(names ...string) *counter {
	c := &counter{calls: map[string]*atomic.Int32{}}
	for _, n := range names {
		c.calls[n] = new(atomic.Int32)
	}
	return c
}

func (c *counter) hit(name string)       { c.calls[name].Add(1) }
func (c *counter) get(name string) int32 { return c.calls[name].Load() }

// outcomes returns name -> outcome for every node of the run.
func outcomes(res *executor.Result) map[string]executor.Outcome {
	out := map[string]executor.Outcome{}
	for _, n := range res.Nodes() {
		out[n.Name] = n.Outcome
	}
	return out
}

// wantOutcomes fails the test for every node whose outcome differs.
func wantOutcomes(t *testing.T, res *executor.Result, want map[string]executor.Outcome) {
	t.Helper()
	got := outcomes(res)
	var bad []string
	for name, w := range want {
		if got[name] != w {
			bad = append(bad, name+": got "+got[name].String()+", want "+w.String())
		}
	}
	if len(bad) > 0 {
		t.Errorf("outcomes differ:\n  %s\nall: %v", strings.Join(bad, "\n  "), got)
	}
}

func mustBuild(t testing.TB, b *graph.Builder) *graph.Graph {
	t.Helper()
	g, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func mustRun(t testing.TB, g *graph.Graph, inputs []executor.Binding, targets ...graph.Target) *executor.Result {
	t.Helper()
	res, err := executor.Run(context.Background(), g, inputs, targets...)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	return res
}

func reflectTypeFor[T any]() reflect.Type { return reflect.TypeFor[T]() }
