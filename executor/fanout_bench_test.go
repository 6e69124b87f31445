package executor_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/featgraph/featgraph/executor"
	"github.com/featgraph/featgraph/graph"
	"github.com/featgraph/featgraph/internal/deadline"
	"github.com/featgraph/featgraph/nodes"
	"golang.org/x/sync/errgroup"
)

// fanOutWait is how long each fetch of BenchmarkFanOut waits.
const fanOutWait = 2 * time.Millisecond

// BenchmarkFanOut is a run whose fetches all start at once and all block:
// its time is the wait plus how long the last fetch took to start. A run
// starts its ready fetches one helper goroutine after another (see
// run_queue.go); errgroup starts them from one loop.
//
//	go test ./executor -run '^$' -bench FanOut -benchtime 200x -count 3
func BenchmarkFanOut(b *testing.B) {
	wait := func(ctx context.Context) error {
		if !deadline.Sleep(ctx, fanOutWait) {
			return fmt.Errorf("wait cut short: %w", context.Cause(ctx))
		}
		return nil
	}
	for _, width := range []int{10, 100, 1000} {
		b.Run(fmt.Sprintf("featgraph/width=%d", width), func(b *testing.B) {
			gb := graph.NewBuilder()
			deps := make([]nodes.Dep, width)
			for i := range deps {
				deps[i] = nodes.Fetch0(gb, fmt.Sprint("f", i), func(ctx context.Context) (int, error) { return i, wait(ctx) })
			}
			all := nodes.ComputeN(gb, "all", deps, func(nodes.Args) (int, error) { return width, nil })
			ex, err := executor.New(mustBuild(b, gb))
			if err != nil {
				b.Fatal(err)
			}
			for b.Loop() {
				res, err := ex.Run(context.Background(), nil, all)
				if err != nil {
					b.Fatal(err)
				}
				res.Release()
			}
		})
		b.Run(fmt.Sprintf("errgroup/width=%d", width), func(b *testing.B) {
			for b.Loop() {
				g, ctx := errgroup.WithContext(context.Background())
				for range width {
					g.Go(func() error { return wait(ctx) })
				}
				if err := g.Wait(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
