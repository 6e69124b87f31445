package executor_test

import (
	"context"
	"errors"
	"github.com/featgraph/featgraph/internal/graphdef"
	"github.com/featgraph/featgraph/internal/graphx"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/featgraph/featgraph/executor"
	"github.com/featgraph/featgraph/graph"
	"github.com/featgraph/featgraph/nodes"
	"go.opentelemetry.io/otel/trace"
	tracenoop "go.opentelemetry.io/otel/trace/noop"
)

// Each test here is one promise of Run, shown where it used to break: under
// many concurrent runs, with the machine loaded, and with callbacks that
// misbehave.

// loadMachine keeps every P busy with a spinning goroutine until the
// returned stop is called, so that timers, watchers and node goroutines lag
// as they do on a saturated service.
func loadMachine() (stop func()) {
	var quit atomic.Bool
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			x := 0
			for !quit.Load() {
				for i := range 1 << 12 {
					x += i
				}
			}
			_ = x
		}()
	}
	return func() { quit.Store(true); wg.Wait() }
}

// many runs fn n times, at most conc at once.
func many(n, conc int, fn func(i int)) {
	var wg sync.WaitGroup
	slots := make(chan struct{}, conc)
	for i := range n {
		slots <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-slots; wg.Done() }()
			fn(i)
		}()
	}
	wg.Wait()
}

// A body that ignores its context and returns after its deadline never
// yields ok: with a fallback the node falls back with a timeout cause,
// without one it times out. Shown with thousands of runs in flight at once
// on a loaded machine.
func TestLateValuesAreNeverOK(t *testing.T) {
	const timeout, sleep = 20 * time.Millisecond, 60 * time.Millisecond
	b := graph.NewBuilder()
	late := func(context.Context) (int, error) { time.Sleep(sleep); return 1, nil }
	lateErr := func(context.Context) (int, error) { time.Sleep(sleep); return 0, errors.New("late error") }
	guarded := nodes.Fetch0(b, "guarded", late, nodes.Timeout(timeout), nodes.Fallback(-1))
	bare := nodes.Fetch0(b, "bare", late, nodes.Timeout(timeout))
	failing := nodes.Fetch0(b, "failing", lateErr, nodes.Timeout(timeout))
	ex, err := executor.New(mustBuild(t, b))
	if err != nil {
		t.Fatal(err)
	}
	stop := loadMachine()
	defer stop()
	var bad atomic.Int32
	many(stressRuns(2000), 1000, func(int) {
		res, _ := ex.Run(context.Background(), nil, guarded, bare, failing)
		defer res.Release()
		g, b, f := res.Node(guarded), res.Node(bare), res.Node(failing)
		ok := g.Outcome == executor.OutcomeFallback && errors.Is(g.Cause, context.DeadlineExceeded) &&
			b.Outcome == executor.OutcomeTimeout && f.Outcome == executor.OutcomeTimeout
		if v, _ := executor.Get(res, guarded); !ok || v != -1 {
			if bad.Add(1) <= 3 {
				t.Errorf("guarded %v (%v) = %v, bare %v, failing %v: want fallback -1 with a timeout cause, timeout, timeout",
					g.Outcome, g.Cause, v, b.Outcome, f.Outcome)
			}
		}
	})
	if n := bad.Load(); n > 0 {
		t.Errorf("%d runs accepted a late result", n)
	}
}

// stressRuns is n, or ten times n with FEATGRAPH_STRESS=long.
func stressRuns(n int) int {
	if strings.EqualFold(envStress, "long") {
		return 10 * n
	}
	return n
}

// In Or(p, q), p (a compute on fetch a) may decide the run while q (a fetch
// on a) is being started: q's body must then not be called with a live
// context after Run returned, and nothing may be written into the Result
// (the race detector checks the latter).
func TestNothingStartsAfterRunReturns(t *testing.T) {
	type runKey struct{}
	b := graph.NewBuilder()
	a := nodes.Fetch0(b, "a", func(context.Context) (int, error) { return 1, nil })
	p := nodes.Compute1(b, "p", a, func(v int) (bool, error) { return v == 1, nil })
	q := nodes.Fetch1(b, "q", a, func(ctx context.Context, v int) (bool, error) {
		if returned := ctx.Value(runKey{}).(*atomic.Bool); returned.Load() && ctx.Err() == nil {
			return false, errors.New("started after Run returned, with a live context")
		}
		return false, nil
	})
	or := nodes.Or(b, "or", []nodes.Ref[bool]{p, q})
	ex, _ := executor.New(mustBuild(t, b))
	var late atomic.Int32
	many(stressRuns(2000), 200, func(int) {
		returned := new(atomic.Bool)
		res, err := ex.Run(context.WithValue(context.Background(), runKey{}, returned), nil, or)
		returned.Store(true)
		if v, _ := executor.Get(res, or); err != nil || !v {
			t.Errorf("or = %v, %v", v, err)
		}
		for _, n := range res.Nodes() { // read everything, racing any late writer
			_ = n.Cause
			_ = n.End
		}
		if n := res.Node(q); n.Outcome == executor.OutcomeError {
			late.Add(1)
		}
		res.Release()
	})
	if n := late.Load(); n > 0 {
		t.Errorf("q started %d times after Run returned", n)
	}
}

// No body starts when the run's context is already done or expired.
func TestADoneContextStartsNothing(t *testing.T) {
	var calls atomic.Int32
	b := graph.NewBuilder()
	f := nodes.Fetch0(b, "f", func(context.Context) (int, error) { calls.Add(1); return 1, nil })
	c := nodes.Compute1(b, "c", f, func(v int) (int, error) { calls.Add(1); return v, nil })
	ex, _ := executor.New(mustBuild(t, b))
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	expired, cancel2 := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancel2()
	for name, ctx := range map[string]context.Context{"canceled": canceled, "expired": expired} {
		t.Run(name, func(t *testing.T) {
			for range 500 {
				res, err := ex.Run(ctx, nil, c)
				if err == nil || !errors.Is(err, ctx.Err()) {
					t.Fatalf("Run error = %v, want %v", err, ctx.Err())
				}
				res.Release()
			}
			if n := calls.Load(); n > 0 {
				t.Errorf("%d bodies ran", n)
			}
		})
	}
}

// A node whose deadline passed before it could start does not start.
func TestANodePastItsDeadlineDoesNotStart(t *testing.T) {
	var calls atomic.Int32
	b := graph.NewBuilder()
	slow := nodes.Fetch0(b, "slow", func(context.Context) (int, error) { time.Sleep(40 * time.Millisecond); return 1, nil })
	after := nodes.Fetch1(b, "after", slow, func(_ context.Context, v int) (int, error) { calls.Add(1); return v, nil },
		nodes.Fallback(0))
	ex, _ := executor.New(mustBuild(t, b), executor.WithRunTimeout(20*time.Millisecond))
	res, err := ex.Run(context.Background(), nil, after)
	defer res.Release()
	if !errors.Is(err, context.DeadlineExceeded) || calls.Load() != 0 {
		t.Errorf("err = %v, after ran %d times; want a deadline error and no call", err, calls.Load())
	}
}

// panicCase is a graph whose one callback of one sort panics.
type panicCase struct {
	name  string
	build func(b *graph.Builder) graph.Target
	node  string // the node the PanicError names
}

var panicCases = func() []panicCase {
	boom := func() { panic("boom") }
	return []panicCase{
		{"fetch body", func(b *graph.Builder) graph.Target {
			return nodes.Fetch0(b, "n", func(context.Context) (int, error) { boom(); return 0, nil })
		}, "n"},
		{"compute body", func(b *graph.Builder) graph.Target {
			return nodes.Compute1(b, "n", nodes.Value(b, "v", 1), func(int) (int, error) { boom(); return 0, nil })
		}, "n"},
		{"fallback", func(b *graph.Builder) graph.Target {
			return nodes.Fetch0(b, "n", func(context.Context) (int, error) { return 0, errors.New("no") },
				nodes.FallbackFunc(func(error) (int, error) { boom(); return 0, nil }))
		}, "n (fallback)"},
		{"retry predicate", func(b *graph.Builder) graph.Target {
			return nodes.Fetch0(b, "n", func(context.Context) (int, error) { return 0, errors.New("no") },
				nodes.Retry(3, 0), nodes.RetryIf(func(error) bool { boom(); return true }))
		}, "n (retry predicate)"},
		{"each element", func(b *graph.Builder) graph.Target {
			return nodes.Each(b, "n", nodes.Value(b, "l", []int{1, 2}), func(_ context.Context, x int) (int, error) {
				if x == 2 {
					boom()
				}
				return x, nil
			})
		}, "n[1]"},
		{"chooser", func(b *graph.Builder) graph.Target {
			nodes.Value(b, "c", true)
			nodes.Value(b, "x", 1)
			nodes.Value(b, "y", 2)
			// A hand-written descriptor: nodes.If's chooser cannot panic.
			graphx.AddID(b, graphdef.Node{Name: "n", Kind: graph.KindIf, Type: reflectTypeFor[int](), Deps: []string{"c"},
				Lazy: []string{"x", "y"}, Choose: func([]any) (int, error) { boom(); return 0, nil }})
			return graph.Named("n")
		}, "n"},
	}
}()

// Every function the graph is given runs under a recover: a panic ends its
// node with an error naming it, and the process survives.
func TestEveryCallbackPanicBecomesAnError(t *testing.T) {
	for _, tt := range panicCases {
		t.Run(tt.name, func(t *testing.T) {
			b := graph.NewBuilder()
			target := tt.build(b)
			res, err := executor.Run(context.Background(), mustBuild(t, b), nil, target)
			defer res.Release()
			checkPanicCase(t, tt, res, err, target)
		})
	}
}

func checkPanicCase(t *testing.T, tt panicCase, res *executor.Result, err error, target graph.Target) {
	t.Helper()
	var pe *executor.PanicError
	if !errors.As(err, &pe) || pe.Node != tt.node || res.Node(target).Outcome != executor.OutcomeError {
		t.Errorf("err = %v, outcome %v; want a PanicError naming %q", err, res.Node(target).Outcome, tt.node)
	}
}

// goexitCase is a graph whose node n calls runtime.Goexit, with a sibling
// and a user of both that has a fallback.
type goexitCase struct {
	name  string
	build func(b *graph.Builder) graph.Target
}

var goexitCases = func() []goexitCase {
	exit := func() { runtime.Goexit() }
	return []goexitCase{
		{"fetch", func(b *graph.Builder) graph.Target {
			return nodes.Fetch0(b, "n", func(context.Context) (int, error) { exit(); return 0, nil })
		}},
		{"compute", func(b *graph.Builder) graph.Target {
			return nodes.Compute1(b, "n", nodes.Value(b, "v", 1), func(int) (int, error) { exit(); return 0, nil })
		}},
		{"each element", func(b *graph.Builder) graph.Target {
			return nodes.Each(b, "n", nodes.Value(b, "l", []int{1, 2}), func(context.Context, int) (int, error) { exit(); return 0, nil })
		}},
		{"fallback", func(b *graph.Builder) graph.Target {
			return nodes.Fetch0(b, "n", func(context.Context) (int, error) { return 0, errors.New("no") },
				nodes.FallbackFunc(func(error) (int, error) { exit(); return 0, nil }))
		}},
	}
}()

// buildGoexitCase declares the case's node n, a sibling and their user.
func buildGoexitCase(b *graph.Builder, tt goexitCase) (n graph.Target, user nodes.Ref[int]) {
	n = tt.build(b)
	sibling := nodes.Fetch0(b, "sibling", func(context.Context) (int, error) { return 7, nil })
	switch r := n.(type) {
	case nodes.Ref[int]:
		user = nodes.Compute2(b, "user", r, sibling, func(a, s int) (int, error) { return a + s, nil }, nodes.Fallback(-1))
	case nodes.Ref[[]int]:
		user = nodes.Compute2(b, "user", r, sibling, func(a []int, s int) (int, error) { return s, nil }, nodes.Fallback(-1))
	}
	return n, user
}

func checkGoexitCase(t *testing.T, res *executor.Result, err error, n graph.Target, user nodes.Ref[int]) {
	t.Helper()
	if !errors.Is(err, executor.ErrGoexit) || res.Node(n).Outcome != executor.OutcomeError {
		t.Errorf("err = %v, %s %v; want an error naming Goexit", err, res.Node(n).Name, res.Node(n).Outcome)
	}
	if v, _ := executor.Get(res, user); v != -1 || res.Node(user).Outcome != executor.OutcomeFallback {
		t.Errorf("user = %v (%v), want its fallback -1", v, res.Node(user).Outcome)
	}
}

// runtime.Goexit in user code (t.Fatal in a stub does that) ends its node
// as an error at once; its users go on, and Run returns without waiting
// for a deadline.
func TestGoexitSettlesItsNode(t *testing.T) {
	for _, tt := range goexitCases {
		t.Run(tt.name, func(t *testing.T) {
			b := graph.NewBuilder()
			n, user := buildGoexitCase(b, tt)
			res, err := executor.Run(context.Background(), mustBuild(t, b), nil, n, user)
			defer res.Release()
			checkGoexitCase(t, res, err, n, user)
		})
	}
}

// A run that statically needs an unbound input starts nothing.
func TestAMissingInputStartsNothing(t *testing.T) {
	var calls atomic.Int32
	b := graph.NewBuilder()
	in := nodes.Input[int](b, "amount")
	unrelated := nodes.Fetch0(b, "unrelated", func(context.Context) (int, error) { calls.Add(1); return 1, nil })
	sum := nodes.Compute2(b, "sum", in, unrelated, func(a, u int) (int, error) { return a + u, nil })
	res, err := executor.Run(context.Background(), mustBuild(t, b), nil, sum)
	defer res.Release()
	var ue *executor.UnboundInputError
	if !errors.As(err, &ue) || ue.Input != "amount" {
		t.Errorf("err = %v, want an UnboundInputError for amount", err)
	}
	if calls.Load() != 0 {
		t.Error("a fetch ran in a run that could not succeed")
	}
	wantOutcomes(t, res, map[string]executor.Outcome{"amount": executor.OutcomeError, "unrelated": executor.OutcomeCanceled, "sum": executor.OutcomeCanceled})
}

// buildFailFast declares target = f(mid(second), slow, first), where first
// fails at once and second after 30ms, and slow has the body given: the
// later failure is declared first, so that Root must follow time, not
// order.
func buildFailFast(b *graph.Builder, slowBody func(context.Context) (int, error)) (target, first nodes.Ref[int]) {
	slow := nodes.Fetch0(b, "slow", slowBody, nodes.Timeout(time.Hour))
	first = nodes.Fetch0(b, "first", func(context.Context) (int, error) { return 0, errors.New("first") })
	second := nodes.Fetch0(b, "second", func(context.Context) (int, error) {
		time.Sleep(30 * time.Millisecond)
		return 0, errors.New("second")
	})
	mid := nodes.Compute1(b, "mid", second, func(v int) (int, error) { return v, nil })
	return nodes.Compute3(b, "target", mid, slow, first, func(a, b, c int) (int, error) { return a + b + c, nil }), first
}

// A node whose dependency fails fails at once, without waiting for its
// slow siblings, which are canceled; Root is the failure first in time.
func TestFailFastAndRootFirstInTime(t *testing.T) {
	const slowFor = 2 * time.Second
	slowSawCancel := make(chan struct{}, 1)
	var slowStarted atomic.Bool
	b := graph.NewBuilder()
	target, first := buildFailFast(b, func(ctx context.Context) (int, error) {
		slowStarted.Store(true)
		select {
		case <-ctx.Done():
			slowSawCancel <- struct{}{}
			return 0, ctx.Err()
		case <-time.After(slowFor):
			return 1, nil
		}
	})
	start := time.Now()
	res, err := executor.Run(context.Background(), mustBuild(t, b), nil, target)
	elapsed := time.Since(start)
	defer res.Release()
	if elapsed > slowFor/2 {
		t.Errorf("Run took %v: the doomed target waited for its slow dependency", elapsed)
	}
	var de *executor.DependencyError
	if !errors.As(res.Node(target).Cause, &de) || de.Root != "first" || de.Dependency != "first" {
		t.Errorf("target cause = %v, want a DependencyError rooted at first", res.Node(target).Cause)
	}
	if !errors.Is(err, errors.Unwrap(res.Node(first).Cause)) {
		t.Errorf("Run error = %v", err)
	}
	wantOutcomes(t, res, map[string]executor.Outcome{"target": executor.OutcomeError, "slow": executor.OutcomeCanceled, "first": executor.OutcomeError})
	if slowStarted.Load() { // else first failed before slow could start: it never will
		select {
		case <-slowSawCancel:
		case <-time.After(slowFor):
			t.Error("slow's context was not canceled")
		}
	}
}

// Release is nil-safe and idempotent; a use after it (also through a copy)
// panics with a clear message rather than reading another run's values.
func TestResultLifetime(t *testing.T) {
	b := graph.NewBuilder()
	x := nodes.Input[int](b, "x")
	ex, _ := executor.New(mustBuild(t, b))
	var nilRes *executor.Result
	nilRes.Release() // defer res.Release() before the error check
	res, err := ex.Run(context.Background(), nil, nodes.Ref[int]{})
	if err == nil {
		t.Fatal("a zero Ref ran")
	}
	res.Release()

	res, _ = ex.Run(context.Background(), []executor.Binding{executor.Bind(x, 1)}, x)
	cp := *res
	res.Release()
	res.Release()
	mustPanic := func(name string, f func()) {
		t.Helper()
		defer func() {
			if r := recover(); r != "featgraph: Result used after Release" {
				t.Errorf("%s: recover() = %v", name, r)
			}
		}()
		f()
	}
	mustPanic("Get", func() { _, _ = executor.Get(res, x) })
	other, _ := ex.Run(context.Background(), []executor.Binding{executor.Bind(x, 2)}, x) // may reuse the state
	defer other.Release()
	mustPanic("copy", func() { _, _ = executor.Get(&cp, x) })
	mustPanic("copy Release", func() { cp.Release() })
	if v, _ := executor.Get(other, x); v != 2 {
		t.Errorf("other run = %d, want 2", v)
	}
}

// The run's deadline holds for every run when many are in flight on a
// loaded machine, however long their bodies hang.
func TestRunDeadlineHoldsUnderLoad(t *testing.T) {
	const hangFor = 5 * time.Second
	release := make(chan struct{})
	defer close(release)
	b := graph.NewBuilder()
	hung := nodes.Fetch0(b, "hung", func(context.Context) (int, error) {
		select {
		case <-release:
		case <-time.After(hangFor):
		}
		return 1, nil
	})
	after := nodes.Compute1(b, "after", hung, func(v int) (int, error) { return v, nil })
	ex, _ := executor.New(mustBuild(t, b), executor.WithRunTimeout(30*time.Millisecond))
	stop := loadMachine()
	defer stop()
	var slowest atomic.Int64
	many(stressRuns(1000), 500, func(int) {
		start := time.Now()
		res, err := ex.Run(context.Background(), nil, after)
		elapsed := time.Since(start)
		defer res.Release()
		if elapsed > time.Duration(slowest.Load()) {
			slowest.Store(int64(elapsed))
		}
		// hung times out, or is canceled if the loaded machine did not
		// start it before the deadline
		if h := res.Node(hung).Outcome; !errors.Is(err, context.DeadlineExceeded) ||
			h != executor.OutcomeTimeout && h != executor.OutcomeCanceled || res.Node(after).Outcome != executor.OutcomeCanceled {
			t.Errorf("err %v, hung %v, after %v; want a deadline error, timeout, canceled", err, h, res.Node(after).Outcome)
		}
	})
	if d := time.Duration(slowest.Load()); d > hangFor/2 {
		t.Errorf("the slowest run took %v: a hung body held it past its deadline", d)
	}
}

// panickyTracerProvider hands out tracers whose Start panics.
type panickyTracerProvider struct{ tracenoop.TracerProvider }

func (panickyTracerProvider) Tracer(string, ...trace.TracerOption) trace.Tracer {
	return panickyTracer{}
}

type panickyTracer struct{ tracenoop.Tracer }

func (panickyTracer) Start(context.Context, string, ...trace.SpanStartOption) (context.Context, trace.Span) {
	panic("tracer")
}

// A tracer that panics costs the run its spans, not the process.
func TestAPanickingTracerIsSurvived(t *testing.T) {
	b := graph.NewBuilder()
	f := nodes.Fetch0(b, "f", func(context.Context) (int, error) { return 1, nil })
	ex, err := executor.New(mustBuild(t, b), executor.WithTracerProvider(panickyTracerProvider{}))
	if err != nil {
		t.Fatal(err)
	}
	res, err := ex.Run(context.Background(), nil, f)
	defer res.Release()
	if v, _ := executor.Get(res, f); err != nil || v != 1 {
		t.Errorf("f = %d, %v", v, err)
	}
}
