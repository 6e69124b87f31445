package graphtest_test

import (
	"context"
	"github.com/featgraph/featgraph/internal/graphdef"
	"github.com/featgraph/featgraph/internal/graphx"
	"reflect"
	"testing"
	"time"

	"github.com/featgraph/featgraph/executor"
	"github.com/featgraph/featgraph/graph"
	"github.com/featgraph/featgraph/graphtest"
	"github.com/featgraph/featgraph/nodes"
)

// Found by FuzzExecutor (see /work/wt/EXECUTOR_BUGS.md, bug 1): an operand
// shared by two And/Or nodes was canceled as "no longer needed" when the
// first one decided, although the second, not started yet, still needed
// it; the second then failed with the cancellation, and the run returned no
// error although its target had no value.
func TestSharedOperandOfADecidedOrIsNotCanceled(t *testing.T) {
	b := graph.NewBuilder()
	n0 := nodes.Fetch0(b, "n0", func(ctx context.Context) (bool, error) { return true, nil })
	n3 := nodes.And(b, "n3", []nodes.Ref[bool]{n0})
	n4 := nodes.Value(b, "n4", true)
	n5 := nodes.Or(b, "n5", []nodes.Ref[bool]{n4, n0}) // decides at once from n4
	n6 := nodes.And(b, "n6", []nodes.Ref[bool]{n3, n5})
	g, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	h := graphtest.New(t, g, graphtest.Allow(n0), graphtest.ExecutorOptions(executor.WithRunTimeout(10*time.Second)))
	for range 20 {
		run := h.Run(context.Background(), nil, n6)
		graphtest.ExpectValue(run, n6, true)
		run.ExpectOK(n0, n3, n5, n6)
		if run.Err() != nil {
			t.Errorf("run error %v, though the target has a value", run.Err())
		}
	}
}

// The same, when the other user of the operand is demanded only later,
// through a branch chosen after the Or decided.
func TestOperandNeededByALaterBranchIsNotCanceled(t *testing.T) {
	b := graph.NewBuilder()
	slowCond := nodes.Fetch0(b, "cond", func(ctx context.Context) (bool, error) {
		time.Sleep(2 * time.Millisecond)
		return true, nil
	})
	shared := nodes.Fetch0(b, "shared", func(ctx context.Context) (bool, error) {
		select {
		case <-time.After(5 * time.Millisecond):
			return true, nil
		case <-ctx.Done():
			return false, ctx.Err()
		}
	})
	fast := nodes.Value(b, "fast", true)
	or := nodes.Or(b, "or", []nodes.Ref[bool]{fast, shared}) // decides at once, while shared runs
	no := nodes.Value(b, "no", false)
	branch := nodes.If(b, "branch", slowCond, shared, no) // then takes shared
	both := nodes.Compute2(b, "both", or, branch, func(o, br bool) (bool, error) { return o && br, nil })
	g, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	h := graphtest.New(t, g, graphtest.Allow(slowCond, shared), graphtest.ExecutorOptions(executor.WithRunTimeout(10*time.Second)))
	for range 5 {
		run := h.Run(context.Background(), nil, both)
		graphtest.ExpectValue(run, both, true)
		run.ExpectOK(shared, branch)
	}
}

// Found by FuzzExecutor (EXECUTOR_BUGS.md, bug 3): a branch of an If that
// ended while the If was still choosing (its Choose runs without the run's
// lock) made the executor read the branch at index -1 and crash the
// process.
func TestBranchEndingWhileTheIfChooses(t *testing.T) {
	quick := func(context.Context, []any) (any, error) { return 1, nil }
	g, err := graphx.New([]graphdef.Node{
		{Name: "cond", Kind: graph.KindValue, Value: true, Type: reflect.TypeFor[bool]()},
		{Name: "branch", Kind: graph.KindFetch, Fetch: quick, Type: reflect.TypeFor[int]()},
		{Name: "other", Kind: graph.KindValue, Value: 2, Type: reflect.TypeFor[int]()},
		{Name: "if", Kind: graph.KindIf, Deps: []string{"cond"}, Lazy: []string{"branch", "other"}, Type: reflect.TypeFor[int](),
			Choose: func(args []any) (int, error) {
				time.Sleep(20 * time.Millisecond) // the branch, a target too, ends meanwhile
				return 0, nil
			}},
	})
	if err != nil {
		t.Fatal(err)
	}
	ifNode, _ := graph.Lookup[int](g, "if")
	branch, _ := graph.Lookup[int](g, "branch")
	h := graphtest.New(t, g, graphtest.Allow(branch), graphtest.ExecutorOptions(executor.WithRunTimeout(10*time.Second)))
	for range 3 {
		run := h.Run(context.Background(), nil, ifNode, branch) // in this order, branch starts as the If chooses
		graphtest.ExpectValue(run, ifNode, 1)
		run.ExpectBranch(ifNode, branch)
	}
}
