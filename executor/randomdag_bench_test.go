package executor_test

import (
	"context"
	"fmt"
	"github.com/featgraph/featgraph/internal/graphdef"
	"github.com/featgraph/featgraph/internal/graphx"
	"math/rand/v2"
	"sync/atomic"
	"testing"

	"github.com/featgraph/featgraph/executor"
	"github.com/featgraph/featgraph/graph"
	"golang.org/x/sync/errgroup"
)

// randomDAG returns the predecessors of n nodes: node i > 0 gets 0-3
// distinct predecessors drawn uniformly from [0, i), seed 42.
func randomDAG(n int) [][]int {
	rng := rand.New(rand.NewPCG(42, 42))
	preds := make([][]int, n)
	for i := 1; i < n; i++ {
		k := min(rng.IntN(4), i)
		seen := map[int]bool{}
		for len(preds[i]) < k {
			p := rng.IntN(i)
			if !seen[p] {
				seen[p] = true
				preds[i] = append(preds[i], p)
			}
		}
	}
	return preds
}

// buildRandomDAG declares the DAG with no-op bodies of the given kind and
// returns it with its sinks (nodes nothing depends on), the run's targets.
func buildRandomDAG(tb testing.TB, preds [][]int, kind graph.Kind) (*graph.Graph, []graph.Target) {
	descs := make([]graphdef.Node, len(preds))
	hasUser := make([]bool, len(preds))
	for i, ps := range preds {
		d := graphdef.Node{Name: fmt.Sprintf("n%d", i), Kind: kind}
		for _, p := range ps {
			d.Deps = append(d.Deps, fmt.Sprintf("n%d", p))
			hasUser[p] = true
		}
		if kind == graph.KindCompute {
			d.Compute = func([]any) (any, error) { return nil, nil }
		} else {
			d.Fetch = func(context.Context, []any) (any, error) { return nil, nil }
		}
		descs[i] = d
	}
	g, err := graphx.New(descs)
	if err != nil {
		tb.Fatal(err)
	}
	var targets []graph.Target
	for i, used := range hasUser {
		if !used {
			targets = append(targets, graphx.At(g, graph.NodeID(i)))
		}
	}
	return g, targets
}

// dagUsers returns, for each node, the nodes that have it as a predecessor.
func dagUsers(preds [][]int) [][]int {
	users := make([][]int, len(preds))
	for i, ps := range preds {
		for _, p := range ps {
			users[p] = append(users[p], i)
		}
	}
	return users
}

// runErrgroup is the hand-written baseline: a goroutine per node, started
// by whichever predecessor finishes last (an atomic countdown per node).
func runErrgroup(ctx context.Context, preds, users [][]int) error {
	pending := make([]atomic.Int32, len(preds))
	g, ctx := errgroup.WithContext(ctx)
	var start func(i int)
	start = func(i int) {
		g.Go(func() error {
			if err := ctx.Err(); err != nil {
				return err
			}
			for _, u := range users[i] {
				if pending[u].Add(-1) == 0 {
					start(u)
				}
			}
			return nil
		})
	}
	for i, ps := range preds {
		pending[i].Store(int32(len(ps)))
	}
	for i, ps := range preds {
		if len(ps) == 0 {
			start(i)
		}
	}
	return g.Wait()
}

func BenchmarkRandomDAG(b *testing.B) {
	for _, variant := range []string{"compute", "fetch", "errgroup"} {
		for _, n := range []int{1000, 10000, 100000} {
			b.Run(fmt.Sprintf("%s/nodes=%d", variant, n), func(b *testing.B) {
				preds := randomDAG(n)
				ctx := context.Background()
				if variant == "errgroup" {
					users := dagUsers(preds)
					b.ReportAllocs()
					for b.Loop() {
						if err := runErrgroup(ctx, preds, users); err != nil {
							b.Fatal(err)
						}
					}
					b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/node")
					return
				}
				kind := graph.KindCompute
				if variant == "fetch" {
					kind = graph.KindFetch
				}
				g, targets := buildRandomDAG(b, preds, kind)
				ex, err := executor.New(g)
				if err != nil {
					b.Fatal(err)
				}
				// One run outside the timing: the Executor plans a target set
				// once and keeps a run's state, as a service does.
				res, err := ex.Run(ctx, nil, targets...)
				if err != nil {
					b.Fatal(err)
				}
				res.Release()
				b.ReportAllocs()
				for b.Loop() {
					res, err := ex.Run(ctx, nil, targets...)
					if err != nil {
						b.Fatal(err)
					}
					res.Release()
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/node")
			})
		}
	}
}
