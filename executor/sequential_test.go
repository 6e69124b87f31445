package executor_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/featgraph/featgraph/executor"
	"github.com/featgraph/featgraph/graph"
	"github.com/featgraph/featgraph/internal/deadline"
	"github.com/featgraph/featgraph/nodes"
)

// promise is one promise of Run (see truth_test.go), as a graph to run once
// with each engine.
type promise struct {
	name  string
	build func(b *graph.Builder) []graph.Target
	opts  []executor.Option
	ctx   func() (context.Context, context.CancelFunc) // nil: context.Background
	// timing lists the nodes whose outcome the concurrent engine's timing
	// decides: the engines may differ there.
	timing []string
	// check asserts the promise itself, with either engine.
	check func(t *testing.T, res *executor.Result, err error)
}

var engines = []struct {
	name string
	opts []executor.Option
}{{"concurrent", nil}, {"sequential", []executor.Option{executor.WithSequential()}}}

func promises(t *testing.T) []promise {
	var ps []promise
	for _, tt := range panicCases {
		ps = append(ps, promise{name: "panic/" + tt.name,
			build: func(b *graph.Builder) []graph.Target { return []graph.Target{tt.build(b)} },
			check: func(t *testing.T, res *executor.Result, err error) {
				checkPanicCase(t, tt, res, err, res.Targets()[0])
			}})
	}
	for _, tt := range goexitCases {
		var n graph.Target
		var user nodes.Ref[int]
		ps = append(ps, promise{name: "goexit/" + tt.name, timing: []string{"sibling"}, // fails fast, or not
			build: func(b *graph.Builder) []graph.Target {
				n, user = buildGoexitCase(b, tt)
				return []graph.Target{n, user}
			},
			check: func(t *testing.T, res *executor.Result, err error) { checkGoexitCase(t, res, err, n, user) }})
	}
	late := func(v int, err error) func(context.Context) (int, error) {
		return func(context.Context) (int, error) { time.Sleep(60 * time.Millisecond); return v, err }
	}
	ps = append(ps, promise{name: "late values are never ok",
		build: func(b *graph.Builder) []graph.Target {
			return []graph.Target{
				nodes.Fetch0(b, "guarded", late(1, nil), nodes.Timeout(20*time.Millisecond), nodes.Fallback(-1)),
				nodes.Fetch0(b, "bare", late(1, nil), nodes.Timeout(20*time.Millisecond)),
				nodes.Fetch0(b, "failing", late(0, errors.New("late")), nodes.Timeout(20*time.Millisecond)),
			}
		},
		check: func(t *testing.T, res *executor.Result, err error) {
			wantOutcomes(t, res, map[string]executor.Outcome{"guarded": executor.OutcomeFallback, "bare": executor.OutcomeTimeout, "failing": executor.OutcomeTimeout})
			if g, _ := res.Lookup("guarded"); !errors.Is(g.Cause, context.DeadlineExceeded) {
				t.Errorf("guarded cause = %v, want a timeout", g.Cause)
			}
		}})
	var calls atomic.Int32
	counted := func(b *graph.Builder) []graph.Target {
		f := nodes.Fetch0(b, "f", func(context.Context) (int, error) { calls.Add(1); return 1, nil })
		return []graph.Target{nodes.Compute1(b, "c", f, func(v int) (int, error) { calls.Add(1); return v, nil })}
	}
	for name, ctx := range map[string]func() (context.Context, context.CancelFunc){
		"canceled": func() (context.Context, context.CancelFunc) {
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			return ctx, cancel
		},
		"expired": func() (context.Context, context.CancelFunc) {
			return context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
		},
	} {
		ps = append(ps, promise{name: "a done context starts nothing/" + name, build: counted, ctx: ctx,
			check: func(t *testing.T, res *executor.Result, err error) {
				if err == nil || calls.Swap(0) != 0 {
					t.Errorf("err = %v, and bodies ran; want an error and no call", err)
				}
			}})
	}
	ps = append(ps, promise{name: "a node past its deadline does not start",
		opts: []executor.Option{executor.WithRunTimeout(20 * time.Millisecond)},
		build: func(b *graph.Builder) []graph.Target {
			slow := nodes.Fetch0(b, "slow", func(context.Context) (int, error) { time.Sleep(40 * time.Millisecond); return 1, nil })
			return []graph.Target{nodes.Fetch1(b, "after", slow, func(_ context.Context, v int) (int, error) {
				calls.Add(1)
				return v, nil
			}, nodes.Fallback(0))}
		},
		check: func(t *testing.T, res *executor.Result, err error) {
			if !errors.Is(err, context.DeadlineExceeded) || calls.Swap(0) != 0 {
				t.Errorf("err = %v; want a deadline error and no call of after", err)
			}
		}})
	ps = append(ps, promise{name: "a missing input starts nothing",
		build: func(b *graph.Builder) []graph.Target {
			in := nodes.Input[int](b, "amount")
			u := nodes.Fetch0(b, "unrelated", func(context.Context) (int, error) { calls.Add(1); return 1, nil })
			return []graph.Target{nodes.Compute2(b, "sum", in, u, func(a, u int) (int, error) { return a + u, nil })}
		},
		check: func(t *testing.T, res *executor.Result, err error) {
			var ue *executor.UnboundInputError
			if !errors.As(err, &ue) || calls.Swap(0) != 0 {
				t.Errorf("err = %v, want an UnboundInputError and no call", err)
			}
		}})
	ps = append(ps, promise{name: "fail fast, root first in time", timing: []string{"slow"},
		build: func(b *graph.Builder) []graph.Target {
			target, _ := buildFailFast(b, func(ctx context.Context) (int, error) {
				if !deadline.Sleep(ctx, 20*time.Millisecond) {
					return 0, ctx.Err()
				}
				return 1, nil
			})
			return []graph.Target{target}
		},
		check: func(t *testing.T, res *executor.Result, err error) {
			var de *executor.DependencyError
			if nr, _ := res.Lookup("target"); !errors.As(nr.Cause, &de) || de.Root != "first" {
				t.Errorf("target cause = %v, want a DependencyError rooted at first", nr.Cause)
			}
		}})
	ps = append(ps, promise{name: "nothing starts after Run returns", timing: []string{"q"},
		build: func(b *graph.Builder) []graph.Target {
			a := nodes.Fetch0(b, "a", func(context.Context) (int, error) { return 1, nil })
			p := nodes.Compute1(b, "p", a, func(v int) (bool, error) { return v == 1, nil })
			q := nodes.Fetch1(b, "q", a, func(context.Context, int) (bool, error) { return false, nil })
			return []graph.Target{nodes.Or(b, "or", []nodes.Ref[bool]{p, q})}
		},
		check: func(t *testing.T, res *executor.Result, err error) {
			if v, _ := res.Value(res.Targets()[0]); err != nil || v != true {
				t.Errorf("or = %v, %v", v, err)
			}
		}})
	release := make(chan struct{}) // the hung body's, at the test's end
	t.Cleanup(func() { close(release) })
	ps = append(ps, promise{name: "the run's deadline holds against a hung body",
		opts: []executor.Option{executor.WithRunTimeout(30 * time.Millisecond)},
		build: func(b *graph.Builder) []graph.Target {
			hung := nodes.Fetch0(b, "hung", hungFetch(release, 1))
			return []graph.Target{nodes.Compute1(b, "after", hung, func(v int) (int, error) { return v, nil })}
		},
		check: func(t *testing.T, res *executor.Result, err error) {
			wantOutcomes(t, res, map[string]executor.Outcome{"hung": executor.OutcomeTimeout, "after": executor.OutcomeCanceled})
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("err = %v, want a deadline error", err)
			}
		}})
	ps = append(ps, promise{name: "a node's timeout holds against a body ignoring its context",
		build: func(b *graph.Builder) []graph.Target {
			hung := nodes.Fetch0(b, "hung", hungFetch(release, 99), nodes.Timeout(20*time.Millisecond))
			guarded := nodes.Fetch0(b, "guarded", hungFetch(release, 99), nodes.Timeout(20*time.Millisecond), nodes.Fallback(7))
			return []graph.Target{hung, nodes.Compute1(b, "after", guarded, func(v int) (int, error) { return v + 1, nil })}
		},
		check: func(t *testing.T, res *executor.Result, err error) {
			wantOutcomes(t, res, map[string]executor.Outcome{"hung": executor.OutcomeTimeout, "guarded": executor.OutcomeFallback, "after": executor.OutcomeOK})
			if v, _ := res.Value(res.Targets()[1]); v != 8 {
				t.Errorf("after = %v, want 8", v)
			}
		}})
	var started chan struct{}
	ps = append(ps, promise{name: "the caller's cancellation cancels the run", timing: []string{"rude"}, // started, or not
		build: func(b *graph.Builder) []graph.Target {
			polite := nodes.Fetch0(b, "polite", func(ctx context.Context) (int, error) {
				close(started)
				<-ctx.Done()
				return 0, ctx.Err()
			})
			return []graph.Target{polite, nodes.Fetch0(b, "rude", hungFetch(release, 1))}
		},
		ctx: func() (context.Context, context.CancelFunc) {
			started = make(chan struct{})
			ctx, cancel := context.WithCancel(context.Background())
			go func() { // once polite runs: no body starts after a cancel
				select {
				case <-started:
					cancel()
				case <-ctx.Done():
				}
			}()
			return ctx, cancel
		},
		check: func(t *testing.T, res *executor.Result, err error) {
			wantOutcomes(t, res, map[string]executor.Outcome{"polite": executor.OutcomeCanceled, "rude": executor.OutcomeCanceled})
			if !errors.Is(err, context.Canceled) {
				t.Errorf("err = %v, want context.Canceled", err)
			}
		}})
	var tries atomic.Int32
	ps = append(ps, promise{name: "retries", timing: []string{"hopeless"},
		ctx: func() (context.Context, context.CancelFunc) {
			tries.Store(0)
			return context.WithCancel(context.Background())
		},
		build: func(b *graph.Builder) []graph.Target {
			return []graph.Target{
				nodes.Fetch0(b, "flaky", func(context.Context) (int, error) {
					if tries.Add(1) < 3 {
						return 0, errors.New("503")
					}
					return 42, nil
				}, nodes.Retry(5, time.Millisecond)),
				nodes.Fetch0(b, "hopeless", func(context.Context) (int, error) { return 0, errors.New("503") },
					nodes.Retry(100, 40*time.Millisecond), nodes.Timeout(100*time.Millisecond)),
				nodes.Fetch0(b, "permanent", func(context.Context) (int, error) { return 0, errors.New("400") },
					nodes.Retry(5, time.Millisecond), nodes.RetryIf(func(err error) bool { return err.Error() != "400" })),
			}
		},
		check: func(t *testing.T, res *executor.Result, err error) {
			if f, _ := res.Lookup("flaky"); f.Outcome != executor.OutcomeOK || f.Attempts != 3 {
				t.Errorf("flaky %v after %d attempts, want ok after 3", f.Outcome, f.Attempts)
			}
			if h, _ := res.Lookup("hopeless"); h.Outcome != executor.OutcomeError || h.Attempts < 2 || h.Attempts > 3 {
				t.Errorf("hopeless %v after %d attempts, want error after 2-3", h.Outcome, h.Attempts)
			}
			if p, _ := res.Lookup("permanent"); p.Attempts != 1 {
				t.Errorf("permanent error retried: %d attempts", p.Attempts)
			}
		}})
	ps = append(ps, promise{name: "a panicking tracer is survived",
		opts: []executor.Option{executor.WithTracerProvider(panickyTracerProvider{})},
		build: func(b *graph.Builder) []graph.Target {
			return []graph.Target{nodes.Fetch0(b, "f", func(context.Context) (int, error) { return 1, nil })}
		},
		check: func(t *testing.T, res *executor.Result, err error) {
			if v, _ := res.Value(res.Targets()[0]); err != nil || v != 1 {
				t.Errorf("f = %v, %v", v, err)
			}
		}})
	return ps
}

// Every promise of Run holds with either engine, and both end every node
// whose outcome timing does not decide alike: same outcome, cause type,
// value, attempts and branch.
func TestBothEnginesKeepThePromises(t *testing.T) {
	for _, p := range promises(t) {
		t.Run(p.name, func(t *testing.T) {
			b := graph.NewBuilder()
			targets := p.build(b)
			g := mustBuild(t, b)
			var results [2][]executor.NodeResult
			var values [2][]any
			for i, eng := range engines {
				ex, err := executor.New(g, append(slices.Clone(p.opts), eng.opts...)...)
				if err != nil {
					t.Fatal(err)
				}
				ctx, cancel := context.Background(), context.CancelFunc(func() {})
				if p.ctx != nil {
					ctx, cancel = p.ctx()
				}
				res, err := ex.Run(ctx, nil, targets...)
				cancel()
				t.Run(eng.name, func(t *testing.T) { p.check(t, res, err) })
				results[i] = res.Nodes()
				for _, nr := range results[i] {
					v, _ := res.Value(graph.Named(nr.Name))
					values[i] = append(values[i], v)
				}
				res.Release()
			}
			for id, c := range results[0] {
				s := results[1][id]
				if slices.Contains(p.timing, c.Name) {
					continue
				}
				if c.Outcome != s.Outcome || reflect.TypeOf(c.Cause) != reflect.TypeOf(s.Cause) ||
					c.Attempts != s.Attempts || c.Branch != s.Branch || !reflect.DeepEqual(values[0][id], values[1][id]) {
					t.Errorf("%s: concurrent %v (%T %v) = %v after %d attempts, branch %q; sequential %v (%T %v) = %v after %d, branch %q",
						c.Name, c.Outcome, c.Cause, c.Cause, values[0][id], c.Attempts, c.Branch,
						s.Outcome, s.Cause, s.Cause, values[1][id], s.Attempts, s.Branch)
				}
			}
		})
	}
}

// orderGraph is a graph of fetches and computes where much could run at
// once: each body records that it ran, and how many bodies were in flight.
type orderGraph struct {
	g        *graph.Graph
	targets  []graph.Target
	deps     [][]int // static dependencies by node
	mu       sync.Mutex
	order    []int
	inFlight atomic.Int32
	most     atomic.Int32
}

func newOrderGraph(t *testing.T) *orderGraph {
	o := &orderGraph{}
	b := graph.NewBuilder()
	var refs []nodes.Ref[int]
	for i := range 40 {
		var deps []nodes.Dep
		var ids []int
		for k := 1; k <= 3; k++ { // a fixed, irregular shape: fan-outs, fan-ins, declaration order not topological ties
			if j := i - k*(1+i%3); j >= 0 && (i+k)%4 != 0 {
				deps, ids = append(deps, refs[j]), append(ids, j)
			}
		}
		o.deps = append(o.deps, ids)
		body := func() (int, error) {
			if n := o.inFlight.Add(1); n > o.most.Load() {
				o.most.Store(n)
			}
			o.mu.Lock()
			o.order = append(o.order, i)
			o.mu.Unlock()
			time.Sleep(200 * time.Microsecond) // long enough for another body to start, if one could
			o.inFlight.Add(-1)
			return i, nil
		}
		name := fmt.Sprintf("n%02d", i)
		if i%2 == 0 {
			refs = append(refs, nodes.FetchN(b, name, deps, func(context.Context, nodes.Args) (int, error) { return body() }))
		} else {
			refs = append(refs, nodes.ComputeN(b, name, deps, func(nodes.Args) (int, error) { return body() }))
		}
	}
	for _, r := range refs {
		o.targets = append(o.targets, r)
	}
	o.g = mustBuild(t, b)
	return o
}

// The sequential engine never has two bodies in flight, and runs them in
// the same order every time: dependencies first, and of the nodes ready
// together the one declared first. The concurrent engine, run on the same
// graph, shows that the check can fail.
func TestSequentialRunsOneBodyAtATimeInAFixedOrder(t *testing.T) {
	o := newOrderGraph(t)
	// The order expected: repeatedly, the first declared node whose
	// dependencies all ran.
	var want []int
	ran := make([]bool, len(o.deps))
	for len(want) < len(o.deps) {
		for i, deps := range o.deps {
			if !ran[i] && !slices.ContainsFunc(deps, func(d int) bool { return !ran[d] }) {
				ran[i] = true
				want = append(want, i)
				break
			}
		}
	}
	seq, err := executor.New(o.g, executor.WithSequential())
	if err != nil {
		t.Fatal(err)
	}
	for run := range 50 {
		o.order = o.order[:0]
		res, err := seq.Run(context.Background(), nil, o.targets...)
		if err != nil {
			t.Fatal(err)
		}
		res.Release()
		if !slices.Equal(o.order, want) {
			t.Fatalf("run %d ran the bodies in the order %v, want %v", run, o.order, want)
		}
	}
	if m := o.most.Load(); m != 1 {
		t.Errorf("%d bodies were in flight at once, want 1", m)
	}

	conc, err := executor.New(o.g)
	if err != nil {
		t.Fatal(err)
	}
	for range 5 {
		res, err := conc.Run(context.Background(), nil, o.targets...)
		if err != nil {
			t.Fatal(err)
		}
		res.Release()
	}
	if m := o.most.Load(); m < 2 {
		t.Errorf("the concurrent engine had at most %d body in flight: the check cannot tell", m)
	}
}
