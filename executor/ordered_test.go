package executor_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/featgraph/featgraph/executor"
	"github.com/featgraph/featgraph/graph"
	"github.com/featgraph/featgraph/nodes"
)

// A graph of values and compute nodes only runs as one ordered pass (with
// plain stores when nothing can end the run but the pass); it must give
// the outcomes the concurrent scheduler gives, however the run may end.
func TestPureComputeGraphOutcomes(t *testing.T) {
	for _, mode := range []string{"background", "cancelable", "run timeout"} {
		t.Run(mode, func(t *testing.T) {
			b := graph.NewBuilder()
			v := nodes.Value(b, "v", 1)
			a := nodes.Compute1(b, "a", v, func(x int) (int, error) { return x + 1, nil })
			p := nodes.Compute1(b, "p", a, func(int) (int, error) { panic("boom") })
			e := nodes.Compute1(b, "e", a, func(int) (int, error) { return 0, errors.New("no") }, nodes.Fallback(5))
			x := nodes.Compute1(b, "x", v, func(int) (int, error) { runtime.Goexit(); return 0, nil })
			u := nodes.Compute2(b, "u", p, a, func(p, a int) (int, error) { return p + a, nil })
			w := nodes.Compute2(b, "w", e, x, func(e, x int) (int, error) { return e + x, nil }, nodes.Fallback(-1))
			var opts []executor.Option
			ctx := context.Background()
			switch mode {
			case "cancelable":
				c, cancel := context.WithCancel(ctx)
				defer cancel()
				ctx = c
			case "run timeout":
				opts = append(opts, executor.WithRunTimeout(time.Minute))
			}
			ex, err := executor.New(mustBuild(t, b), opts...)
			if err != nil {
				t.Fatal(err)
			}
			for run := range 3 { // the first run times every node; later ones batch the quick
				res, err := ex.Run(ctx, nil, a, u, w, e)
				var pe *executor.PanicError
				if !errors.As(err, &pe) {
					t.Errorf("run %d: err = %v, want the panic of p", run, err)
				}
				wantOutcomes(t, res, map[string]executor.Outcome{
					"v": executor.OutcomeOK, "a": executor.OutcomeOK, "p": executor.OutcomeError, "e": executor.OutcomeFallback,
					"x": executor.OutcomeError, "u": executor.OutcomeError, "w": executor.OutcomeFallback,
				})
				if got, _ := executor.Get(res, a); got != 2 {
					t.Errorf("run %d: a = %d, want 2", run, got)
				}
				if got, _ := executor.Get(res, w); got != -1 {
					t.Errorf("run %d: w = %d, want its fallback -1", run, got)
				}
				var de *executor.DependencyError
				if c := res.Node(u).Cause; !errors.As(c, &de) || de.Root != "p" {
					t.Errorf("run %d: u's cause = %v, want a dependency error rooted at p", run, c)
				}
				if c := res.Node(x).Cause; !errors.Is(c, executor.ErrGoexit) {
					t.Errorf("run %d: x's cause = %v, want ErrGoexit", run, c)
				}
				for _, n := range res.Nodes() {
					if n.Start < 0 || n.End < n.Start || n.End > res.Duration() {
						t.Errorf("run %d: %s from %v to %v, run %v", run, n.Name, n.Start, n.End, res.Duration())
					}
				}
				res.Release()
			}
		})
	}
}

// Quick compute nodes share clock readings; one that turns slow is timed
// on its own again from its next run on, wherever it sits in a batch.
func TestQuickNodeTurnedSlowIsTimedAgain(t *testing.T) {
	const slowFor = 5 * time.Millisecond
	for _, at := range []int{0, 3, 10, 19} {
		t.Run(fmt.Sprint("slow node ", at), func(t *testing.T) {
			var slow atomic.Bool
			b := graph.NewBuilder()
			prev := nodes.Value(b, "v", 0)
			var chain []nodes.Ref[int]
			for i := range 20 {
				body := func(x int) (int, error) { return x + 1, nil }
				if i == at {
					body = func(x int) (int, error) {
						if slow.Load() {
							time.Sleep(slowFor)
						}
						return x + 1, nil
					}
				}
				prev = nodes.Compute1(b, fmt.Sprintf("c%02d", i), prev, body)
				chain = append(chain, prev)
			}
			ex, err := executor.New(mustBuild(t, b))
			if err != nil {
				t.Fatal(err)
			}
			run := func() *executor.Result {
				res, err := ex.Run(context.Background(), nil, prev)
				if err != nil {
					t.Fatal(err)
				}
				return res
			}
			for range 5 {
				run().Release()
			}
			slow.Store(true)
			first := run()
			if d := first.Duration(); d < slowFor {
				t.Errorf("the run with a slow node took %v, want at least %v", d, slowFor)
			}
			first.Release()
			res := run()
			defer res.Release()
			if d := res.Node(chain[at]).Duration(); d < slowFor {
				t.Errorf("the slow node took %v by its times, want at least %v", d, slowFor)
			}
		})
	}
}
