package executor_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/featgraph/featgraph/executor"
	"github.com/featgraph/featgraph/graph"
	"github.com/featgraph/featgraph/nodes"
)

// rendezvous lets through the calls to wait only once all of them have
// arrived: a body that waits at one finishes only if every other body
// waiting there runs at the same time.
type rendezvous struct {
	want    int32
	arrived atomic.Int32
	all     chan struct{}
}

func newRendezvous(want int) *rendezvous {
	return &rendezvous{want: int32(want), all: make(chan struct{})}
}

// spin is wait without parking: a body busy on the CPU, or in a system
// call, which the Go scheduler can only preempt or hand off.
func (r *rendezvous) spin(ctx context.Context) error {
	r.arrived.Add(1)
	for r.arrived.Load() < r.want {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("%d of %d arrived: %w", r.arrived.Load(), r.want, err)
		}
	}
	return nil
}

func (r *rendezvous) wait(ctx context.Context) error {
	if r.arrived.Add(1) == r.want {
		close(r.all)
	}
	select {
	case <-r.all:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("%d of %d arrived: %w", r.arrived.Load(), r.want, ctx.Err())
	}
}

// meeting is one run's two rendezvous: the roots', and their users'.
type meeting struct{ roots, users *rendezvous }

// TestBlockingBodiesRunConcurrently checks that ready blocking bodies run at
// the same time, however quick the bodies before them were: each body
// waits until all of its siblings are running too, so a run that started
// one before another had returned would never end. The roots become ready
// together on Run's goroutine; the users become ready together on the
// goroutine that ran the node they all depend on. Many runs are in flight
// at once, most of them between quick nodes, so that every goroutine is
// busy when a body blocks.
func TestBlockingBodiesRunConcurrently(t *testing.T) {
	const width = 8
	b := graph.NewBuilder()
	meet := nodes.Input[meeting](b, "meeting")
	var roots, users []nodes.Dep
	for i := range width {
		roots = append(roots, nodes.Fetch1(b, fmt.Sprint("root", i), meet, func(ctx context.Context, m meeting) (int, error) {
			return i, m.roots.wait(ctx)
		}))
	}
	// quick nodes between the two levels: one worker runs them in turn
	fan := nodes.FetchN(b, "fan", roots, func(context.Context, nodes.Args) (int, error) { return 0, nil })
	for i := range width {
		users = append(users, nodes.Fetch2(b, fmt.Sprint("user", i), meet, fan, func(ctx context.Context, m meeting, _ int) (int, error) {
			return i, m.users.wait(ctx)
		}))
	}
	sum := nodes.ComputeN(b, "sum", users, func(a nodes.Args) (int, error) {
		total := 0
		for i := range width {
			total += nodes.ArgAt[int](a, i)
		}
		return total, nil
	})
	// generous: a run whose bodies do not all run at once never ends, and
	// fails here, however loaded the machine
	ex, err := executor.New(mustBuild(t, b), executor.WithRunTimeout(20*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	runs, inFlight := 2000, 256
	if testing.Short() {
		runs = 200
	}
	var wg sync.WaitGroup
	slots := make(chan struct{}, inFlight)
	for r := range runs {
		slots <- struct{}{}
		wg.Go(func() {
			defer func() { <-slots }()
			m := meeting{roots: newRendezvous(width), users: newRendezvous(width)}
			res, err := ex.Run(context.Background(), []executor.Binding{executor.Bind(meet, m)}, sum)
			if err != nil {
				t.Errorf("run %d: %v", r, err)
				return
			}
			defer res.Release()
			if v, err := executor.Get(res, sum); err != nil || v != width*(width-1)/2 {
				t.Errorf("run %d: sum = %d, %v", r, v, err)
			}
		})
	}
	wg.Wait()
}

// Bodies that never park — busy on the CPU until their siblings run — hold
// up no queued sibling either: the helper on its way runs on another core,
// or when the Go scheduler preempts the busy body.
func TestBusyBodiesHoldUpNoSibling(t *testing.T) {
	const width = 4
	b := graph.NewBuilder()
	meet := nodes.Input[*rendezvous](b, "meeting")
	var roots []nodes.Dep
	for i := range width {
		roots = append(roots, nodes.Fetch1(b, fmt.Sprint("busy", i), meet, func(ctx context.Context, r *rendezvous) (int, error) {
			return i, r.spin(ctx)
		}))
	}
	all := nodes.ComputeN(b, "all", roots, func(nodes.Args) (bool, error) { return true, nil })
	ex, err := executor.New(mustBuild(t, b), executor.WithRunTimeout(20*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	for r := range 10 {
		res, err := ex.Run(context.Background(), []executor.Binding{executor.Bind(meet, newRendezvous(width))}, all)
		if err != nil {
			t.Fatalf("run %d: %v", r, err)
		}
		res.Release()
	}
}
