package executor_test

import (
	"context"
	"errors"
	"os"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/featgraph/featgraph/executor"
	"github.com/featgraph/featgraph/graph"
	"github.com/featgraph/featgraph/nodes"
)

// envStress makes the stress tests ten times longer when "long":
//
//	FEATGRAPH_STRESS=long go test -race -run 'Stress|Late' ./executor
var envStress = os.Getenv("FEATGRAPH_STRESS")

// The faults a stress run injects, one bit each.
const (
	injErr    = 1 << iota // errF returns an error
	injPanic              // panicF panics
	injGoexit             // exitF calls runtime.Goexit
	injSlow               // slowF sleeps past its timeout, ignoring its context
	injCancel             // blockF cancels the run's context, then waits for it
	injAll    = 1<<iota - 1
)

type cancelKey struct{}

// TestStressOutcomesAreAsInjected runs thousands of runs of a mixed graph
// at once, on a loaded machine, each with its own faults, and checks that
// every node ends as injected, that no value past its deadline is ok, and
// that the heap comes back to where it started once the runs are released.
func TestStressOutcomesAreAsInjected(t *testing.T) {
	const timeout, sleep = 15 * time.Millisecond, 45 * time.Millisecond
	b := graph.NewBuilder()
	id := nodes.Input[int](b, "id")
	inj := nodes.Input[int](b, "inject")
	fault := func(name string, bit int, do func()) nodes.Ref[int] {
		return nodes.Fetch2(b, name, id, inj, func(_ context.Context, v, in int) (int, error) {
			if in&bit != 0 {
				do()
				return 0, errors.New(name)
			}
			return v, nil
		})
	}
	okF := nodes.Fetch1(b, "okF", id, func(_ context.Context, v int) (int, error) { return v, nil })
	errF := fault("errF", injErr, func() {})
	panicF := fault("panicF", injPanic, func() { panic("injected") })
	exitF := fault("exitF", injGoexit, func() { runtime.Goexit() })
	slowF := nodes.Fetch2(b, "slowF", id, inj, func(_ context.Context, v, in int) (int, error) {
		if in&injSlow != 0 {
			time.Sleep(sleep)
		}
		return v, nil
	}, nodes.Timeout(timeout), nodes.Fallback(-1))
	blockF := nodes.Fetch2(b, "blockF", id, inj, func(ctx context.Context, v, in int) (int, error) {
		if in&injCancel != 0 {
			ctx.Value(cancelKey{}).(context.CancelFunc)()
			<-ctx.Done()
			return 0, ctx.Err()
		}
		return v, nil
	})
	sum := nodes.ComputeN(b, "sum", []nodes.Dep{okF, errF, panicF, exitF, slowF}, func(a nodes.Args) (int, error) {
		return nodes.Arg(a, okF) + nodes.Arg(a, errF) + nodes.Arg(a, panicF) + nodes.Arg(a, exitF) + nodes.Arg(a, slowF), nil
	})
	ex, err := executor.New(mustBuild(t, b))
	if err != nil {
		t.Fatal(err)
	}

	heapBefore := liveHeap()
	stop := loadMachine()
	var bad atomic.Int32
	report := func(format string, args ...any) {
		if bad.Add(1) <= 5 {
			t.Errorf(format, args...)
		}
	}
	many(stressRuns(3000), 1000, func(i int) {
		in := i % (injAll + 1)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		ctx = context.WithValue(ctx, cancelKey{}, context.CancelFunc(cancel))
		res, err := ex.Run(ctx, []executor.Binding{executor.Bind(id, i), executor.Bind(inj, in)}, sum, blockF)
		defer res.Release()
		canceled := in&injCancel != 0
		want := map[string]executor.Outcome{"okF": executor.OutcomeOK, "errF": executor.OutcomeOK, "panicF": executor.OutcomeOK,
			"exitF": executor.OutcomeOK, "slowF": executor.OutcomeOK, "blockF": executor.OutcomeOK, "sum": executor.OutcomeOK}
		var roots []string
		for _, f := range []struct {
			bit  int
			name string
		}{{injErr, "errF"}, {injPanic, "panicF"}, {injGoexit, "exitF"}} {
			if in&f.bit != 0 {
				want[f.name], want["sum"] = executor.OutcomeError, executor.OutcomeError
				roots = append(roots, f.name)
			}
		}
		if in&injSlow != 0 {
			want["slowF"] = executor.OutcomeFallback
		}
		if canceled {
			want["blockF"] = executor.OutcomeCanceled
		}
		for _, n := range res.Nodes() {
			w := want[n.Name]
			switch {
			case n.Kind == graph.KindInput:
				continue
			case n.Outcome == w:
			case n.Name == "slowF" && n.Outcome == executor.OutcomeFallback:
				// not injected, but the loaded machine made it late: a
				// timeout all the same (checked below), never a late ok
			case canceled && n.Outcome == executor.OutcomeCanceled:
				continue // the run was canceled while it ran
			case n.Name == "sum" && w == executor.OutcomeOK && n.Outcome == executor.OutcomeCanceled:
				continue // the run ended (blockF's cancel) first
			case len(roots) > 0 && n.Name != "blockF" && n.Outcome == executor.OutcomeCanceled && errors.Is(n.Cause, executor.ErrNotNeeded):
				continue // sum failed fast: its other dependencies were dropped
			default:
				report("inject %05b: %s ended %v (%v), want %v", in, n.Name, n.Outcome, n.Cause, w)
				continue
			}
			if n.Outcome == executor.OutcomeOK && n.Name == "slowF" && n.Duration() >= timeout {
				report("inject %05b: slowF ok after %v, past its %v timeout", in, n.Duration(), timeout)
			}
			if n.Outcome == executor.OutcomeFallback && !errors.Is(n.Cause, context.DeadlineExceeded) {
				report("inject %05b: %s fell back because of %v, want its timeout", in, n.Name, n.Cause)
			}
		}
		if nr := res.Node(sum); nr.Outcome == executor.OutcomeError {
			var de *executor.DependencyError
			if !errors.As(nr.Cause, &de) || !contains(roots, de.Root) {
				report("inject %05b: sum cause %v, want a root among %v", in, nr.Cause, roots)
			}
		} else if v, _ := executor.Get(res, sum); nr.Outcome == executor.OutcomeOK {
			slow := i
			if res.Node(slowF).Outcome == executor.OutcomeFallback {
				slow = -1
			}
			if v != 4*i+slow {
				report("inject %05b: sum = %d, want %d", in, v, 4*i+slow)
			}
		}
		if wantErr := len(roots) > 0 || canceled; (err != nil) != wantErr {
			report("inject %05b: Run error %v", in, err)
		}
	})
	stop()
	// Bodies sleeping past their timeout keep their run's state until they
	// return; then everything goes back to the pool, which GC empties.
	deadline := time.Now().Add(10 * time.Second)
	heapAfter := liveHeap()
	for heapAfter > heapBefore+4<<20 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
		heapAfter = liveHeap()
	}
	if heapAfter > heapBefore+4<<20 {
		t.Errorf("live heap %d KB after the runs, %d KB before: runs were not released", heapAfter>>10, heapBefore>>10)
	}
}

// liveHeap returns the bytes of live heap after two collections (the second
// empties sync.Pool's victim cache).
func liveHeap() uint64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
