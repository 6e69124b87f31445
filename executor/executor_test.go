package executor_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/featgraph/featgraph/executor"
	"github.com/featgraph/featgraph/graph"
	"github.com/featgraph/featgraph/nodes"
)

func TestOnlyAncestorsOfTargetsRun(t *testing.T) {
	c := newCounter("a", "b", "other")
	b := graph.NewBuilder()
	in := nodes.Input[int](b, "in")
	a := nodes.Fetch1(b, "a", in, func(_ context.Context, x int) (int, error) { c.hit("a"); return x + 1, nil })
	bb := nodes.Compute1(b, "b", a, func(x int) (int, error) { c.hit("b"); return x * 2, nil })
	nodes.Fetch1(b, "other", in, func(_ context.Context, x int) (int, error) { c.hit("other"); return x, nil })
	g := mustBuild(t, b)

	res := mustRun(t, g, []executor.Binding{executor.Bind(in, 20)}, bb)
	if v, err := executor.Get(res, bb); v != 42 || err != nil {
		t.Errorf("b = %v, %v; want 42", v, err)
	}
	if c.get("a") != 1 || c.get("b") != 1 || c.get("other") != 0 {
		t.Errorf("calls a=%d b=%d other=%d", c.get("a"), c.get("b"), c.get("other"))
	}
	wantOutcomes(t, res, map[string]executor.Outcome{"in": executor.OutcomeOK, "a": executor.OutcomeOK, "b": executor.OutcomeOK, "other": executor.OutcomeSkipped})
}

func TestConditionalsRunOnlyTheChosenBranch(t *testing.T) {
	c := newCounter("cheap", "expensive", "expensive_dep")
	b := graph.NewBuilder()
	amount := nodes.Input[int](b, "amount")
	big := nodes.Compute1(b, "big", amount, func(a int) (bool, error) { return a > 100, nil })
	dep := nodes.Fetch0(b, "expensive_dep", func(context.Context) (int, error) { c.hit("expensive_dep"); return 10, nil })
	expensive := nodes.Fetch1(b, "expensive", dep, func(_ context.Context, d int) (string, error) { c.hit("expensive"); return fmt.Sprint("model", d), nil })
	cheap := nodes.Fetch0(b, "cheap", func(context.Context) (string, error) { c.hit("cheap"); return "rules", nil })
	pick := nodes.If(b, "pick", big, expensive, cheap)
	g := mustBuild(t, b)

	for _, tt := range []struct {
		amount int
		want   string
		ran    []string
		branch string
	}{
		{500, "model10", []string{"expensive", "expensive_dep"}, "expensive"},
		{5, "rules", []string{"cheap"}, "cheap"},
	} {
		t.Run(fmt.Sprint(tt.amount), func(t *testing.T) {
			before := map[string]int32{}
			for n := range c.calls {
				before[n] = c.get(n)
			}
			res := mustRun(t, g, []executor.Binding{executor.Bind(amount, tt.amount)}, pick)
			if v, err := executor.Get(res, pick); v != tt.want || err != nil {
				t.Errorf("pick = %q, %v; want %q", v, err, tt.want)
			}
			for n := range c.calls {
				ran := c.get(n) > before[n]
				if ran != slices.Contains(tt.ran, n) {
					t.Errorf("%s ran = %v", n, ran)
				}
				if want := map[bool]executor.Outcome{true: executor.OutcomeOK, false: executor.OutcomeSkipped}[ran]; outcomes(res)[n] != want {
					t.Errorf("%s outcome = %v, want %v", n, outcomes(res)[n], want)
				}
			}
			if got := res.Node(pick).Branch; got != tt.branch {
				t.Errorf("Branch = %q, want %q", got, tt.branch)
			}
		})
	}
}

func TestSwitch(t *testing.T) {
	b := graph.NewBuilder()
	country := nodes.Input[string](b, "country")
	br := nodes.Fetch0(b, "br", func(context.Context) (float64, error) { return 0.2, nil })
	us := nodes.Fetch0(b, "us", func(context.Context) (float64, error) { return 0.1, nil })
	other := nodes.Value(b, "other", 0.5)
	rate := nodes.Switch(b, "rate", country, nodes.Cases(nodes.On("BR", br), nodes.On("US", us)), nodes.Default(other))
	strict := nodes.Switch(b, "strict", country, nodes.Cases(nodes.On("BR", br)))
	g := mustBuild(t, b)

	for country_, want := range map[string]float64{"BR": 0.2, "US": 0.1, "FR": 0.5} {
		res := mustRun(t, g, []executor.Binding{executor.BindNamed("country", country_)}, rate)
		if v, err := executor.Get(res, rate); v != want || err != nil {
			t.Errorf("rate(%s) = %v, %v; want %v", country_, v, err, want)
		}
	}
	res, err := executor.Run(context.Background(), g, []executor.Binding{executor.BindNamed("country", "FR")}, strict)
	var be *executor.BranchError
	if !errors.As(err, &be) || be.Node != "strict" || !strings.Contains(err.Error(), "no case for key FR") {
		t.Errorf("strict(FR) error = %v", err)
	}
	wantOutcomes(t, res, map[string]executor.Outcome{"strict": executor.OutcomeError, "br": executor.OutcomeSkipped})
}

func TestAndOrShortCircuit(t *testing.T) {
	released := make(chan struct{})
	defer close(released)
	var slowStarted, slowSawCancel atomic.Int32
	b := graph.NewBuilder()
	fast := func(name string, v bool) nodes.Ref[bool] {
		return nodes.Fetch0(b, name, func(context.Context) (bool, error) { return v, nil })
	}
	slow := nodes.Fetch0(b, "slow", func(ctx context.Context) (bool, error) {
		slowStarted.Add(1)
		select {
		case <-ctx.Done():
			slowSawCancel.Add(1)
			return false, ctx.Err()
		case <-released:
			return true, nil
		}
	})
	and := nodes.And(b, "and", []nodes.Ref[bool]{fast("f", false), slow})
	or := nodes.Or(b, "or", []nodes.Ref[bool]{slow, fast("t", true)})
	andAll := nodes.And(b, "and_all", []nodes.Ref[bool]{fast("t1", true), fast("t2", true)})
	orNone := nodes.Or(b, "or_none", []nodes.Ref[bool]{fast("f1", false), fast("f2", false)})
	g := mustBuild(t, b)

	for _, tt := range []struct {
		target nodes.Ref[bool]
		want   bool
	}{{and, false}, {or, true}, {andAll, true}, {orNone, false}} {
		t.Run(tt.target.Name(), func(t *testing.T) {
			res := mustRun(t, g, nil, tt.target) // would hang on "slow" without short-circuit
			if v, err := executor.Get(res, tt.target); v != tt.want || err != nil {
				t.Errorf("%s = %v, %v; want %v", tt.target.Name(), v, err, tt.want)
			}
			if oc := outcomes(res)["slow"]; tt.target == and || tt.target == or {
				if oc != executor.OutcomeCanceled {
					t.Errorf("slow outcome = %v, want canceled", oc)
				}
				if n, _ := res.Lookup("slow"); !errors.Is(n.Cause, executor.ErrNotNeeded) {
					t.Errorf("slow cause = %v, want ErrNotNeeded", n.Cause)
				}
			}
		})
	}
	// A canceled operand either never started or saw its context end (and
	// so returned).
	deadline := time.Now().Add(10 * time.Second)
	for slowSawCancel.Load() < slowStarted.Load() && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if n, m := slowSawCancel.Load(), slowStarted.Load(); n != m {
		t.Errorf("%d of %d operands that were no longer needed saw their context canceled", n, m)
	}
}

func TestAndFailsOnlyWhenUndecided(t *testing.T) {
	b := graph.NewBuilder()
	boom := nodes.Fetch0(b, "boom", func(context.Context) (bool, error) { return false, errors.New("down") })
	no := nodes.Value(b, "no", false)
	yes := nodes.Value(b, "yes", true)
	decided := nodes.And(b, "decided", []nodes.Ref[bool]{boom, no})
	undecided := nodes.And(b, "undecided", []nodes.Ref[bool]{boom, yes})
	g := mustBuild(t, b)

	res := mustRun(t, g, nil, decided)
	if v, err := executor.Get(res, decided); v || err != nil {
		t.Errorf("decided = %v, %v; want false (a false operand decides even if another fails)", v, err)
	}
	res, err := executor.Run(context.Background(), g, nil, undecided)
	if err == nil || !strings.Contains(err.Error(), "down") {
		t.Errorf("Run error = %v, want the root cause", err)
	}
	var de *executor.DependencyError
	if cause := res.Node(undecided).Cause; !errors.As(cause, &de) || de.Root != "boom" {
		t.Errorf("undecided cause = %v, want a DependencyError rooted at boom", cause)
	}
}

func TestEachKeepsOrderAndBoundsParallelism(t *testing.T) {
	var inFlight, peak atomic.Int32
	b := graph.NewBuilder()
	ids := nodes.Input[[]int](b, "ids")
	squares := nodes.Each(b, "squares", ids, func(ctx context.Context, x int) (int, error) {
		n := inFlight.Add(1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		time.Sleep(time.Duration(10-x%10) * time.Millisecond) // later elements finish first
		inFlight.Add(-1)
		return x * x, nil
	}, nodes.Limit(3))
	g := mustBuild(t, b)

	in := []int{1, 2, 3, 4, 5, 6, 7, 8, 9}
	res := mustRun(t, g, []executor.Binding{executor.Bind(ids, in)}, squares)
	got, err := executor.Get(res, squares)
	if err != nil {
		t.Fatal(err)
	}
	for i, x := range in {
		if got[i] != x*x {
			t.Fatalf("squares = %v: order lost", got)
		}
	}
	if p := peak.Load(); p > 3 || p < 2 {
		t.Errorf("peak parallelism %d, want 2..3 with Limit(3)", p)
	}
}

func TestEachErrorNamesTheElement(t *testing.T) {
	b := graph.NewBuilder()
	ids := nodes.Value(b, "ids", []string{"a", "b", "bad", "c"})
	got := nodes.Each(b, "lookup", ids, func(ctx context.Context, s string) (int, error) {
		if s == "bad" {
			return 0, errors.New("not found")
		}
		return len(s), nil
	})
	g := mustBuild(t, b)
	_, err := executor.Run(context.Background(), g, nil, got)
	if err == nil || !strings.Contains(err.Error(), `node "lookup": element 2: not found`) {
		t.Errorf("error = %v", err)
	}
}

func TestIndependentBranchesFinishWhenOneFails(t *testing.T) {
	downErr := errors.New("connection refused")
	b := graph.NewBuilder()
	acct := nodes.Fetch0(b, "account", func(context.Context) (int, error) { return 0, downErr })
	limit := nodes.Compute1(b, "limit", acct, func(a int) (int, error) { return a, nil })
	decision := nodes.Compute1(b, "decision", limit, func(l int) (string, error) { return "approve", nil })
	geo := nodes.Fetch0(b, "geo", func(context.Context) (string, error) { return "BR", nil })
	g := mustBuild(t, b)

	res, err := executor.Run(context.Background(), g, nil, decision, geo)
	if !errors.Is(err, downErr) {
		t.Fatalf("Run error %v does not wrap the root cause", err)
	}
	wantOutcomes(t, res, map[string]executor.Outcome{
		"account": executor.OutcomeError, "limit": executor.OutcomeError, "decision": executor.OutcomeError, "geo": executor.OutcomeOK,
	})
	var de *executor.DependencyError
	if !errors.As(res.Node(decision).Cause, &de) || de.Dependency != "limit" || de.Root != "account" {
		t.Errorf("decision cause = %v; want a DependencyError via limit rooted at account", res.Node(decision).Cause)
	}
	if v, err := executor.Get(res, geo); v != "BR" || err != nil {
		t.Errorf("geo = %v, %v", v, err)
	}
	if _, err := executor.Get(res, decision); !errors.Is(err, downErr) {
		t.Errorf("Get(decision) error = %v", err)
	}
	// Only the root cause is reported, once.
	if n := strings.Count(err.Error(), "connection refused"); n != 1 {
		t.Errorf("Run error mentions the root cause %d times: %v", n, err)
	}
}

func TestStressOneExecutorManyGoroutines(t *testing.T) {
	b := graph.NewBuilder()
	x := nodes.Input[int](b, "x")
	double := nodes.Fetch1(b, "double", x, func(_ context.Context, v int) (int, error) { return 2 * v, nil })
	square := nodes.Fetch1(b, "square", x, func(_ context.Context, v int) (int, error) { return v * v, nil })
	isEven := nodes.Compute1(b, "even", x, func(v int) (bool, error) { return v%2 == 0, nil })
	pick := nodes.If(b, "pick", isEven, double, square)
	sum := nodes.Compute2(b, "sum", pick, x, func(p, v int) (int, error) { return p + v, nil })
	ex, err := executor.New(mustBuild(t, b))
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for w := range 16 {
		wg.Go(func() {
			for i := range 200 {
				v := w*1000 + i
				res, err := ex.Run(context.Background(), []executor.Binding{executor.Bind(x, v)}, sum)
				if err != nil {
					errs <- err
					return
				}
				got, _ := executor.Get(res, sum)
				want := v + v*v
				if v%2 == 0 {
					want = v + 2*v
				}
				if got != want {
					errs <- fmt.Errorf("sum(%d) = %d, want %d", v, got, want)
				}
				res.Release()
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
