package executor

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/featgraph/featgraph/graph"
	"github.com/featgraph/featgraph/nodes"
)

// Quick fetches made ready together run on the goroutine that made them
// ready (see worker.spawn). One whose body turns slow holds up the others
// for that run only: every value is still right, and it is timed on its
// own again afterwards.
func TestQuickFetchesRunInlineAndTurnSlow(t *testing.T) {
	b := graph.NewBuilder()
	root := nodes.Fetch0(b, "root", func(context.Context) (int, error) { return 1, nil })
	var slow atomic.Bool
	leaf := func(name string, add int) graph.Ref[int] {
		return nodes.Fetch1(b, name, root, func(_ context.Context, v int) (int, error) {
			if name == "a" && slow.Load() {
				time.Sleep(2 * time.Millisecond)
			}
			return v + add, nil
		})
	}
	a, c, d := leaf("a", 10), leaf("c", 20), leaf("d", 30)
	sum := nodes.Compute3(b, "sum", a, c, d, func(x, y, z int) (int, error) { return x + y + z, nil })
	g, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	e, err := New(g)
	if err != nil {
		t.Fatal(err)
	}
	run := func() {
		t.Helper()
		res, err := e.Run(context.Background(), nil, sum)
		if err != nil {
			t.Fatal(err)
		}
		if v, err := Get(res, sum); err != nil || v != 63 {
			t.Fatalf("sum = %d, %v; want 63", v, err)
		}
		res.Release()
	}
	run() // plans the target set
	// Mark the leaves quick, as their timings would on a quiet machine
	// (under -race, or under load, they may never be).
	var id graph.NodeID
	for _, name := range []string{"a", "c", "d"} {
		n, err := g.Lookup(name)
		if err != nil {
			t.Fatal(err)
		}
		e.info[n].quick.Store(true)
		if name == "a" {
			id = n
		}
	}
	run()
	slow.Store(true)
	for range 3 {
		run()
	}
	if e.info[id].quick.Load() {
		t.Error("a, slow now, is still quick")
	}
}
