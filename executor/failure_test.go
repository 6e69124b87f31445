package executor_test

import (
	"context"
	"errors"
	"fmt"
	"github.com/featgraph/featgraph/internal/graphdef"
	"github.com/featgraph/featgraph/internal/graphx"
	"strings"
	"testing"
	"time"

	"github.com/featgraph/featgraph/executor"
	"github.com/featgraph/featgraph/graph"
	"github.com/featgraph/featgraph/nodes"
)

func TestPanicBecomesAnErrorOutcome(t *testing.T) {
	b := graph.NewBuilder()
	bad := nodes.Fetch0(b, "bad", func(context.Context) (int, error) { panic("nil map write") })
	badCompute := nodes.Compute1(b, "bad_compute", nodes.Value(b, "v", 1), func(i int) (int, error) {
		var empty []int
		return empty[i], nil // index out of range
	})
	saved := nodes.Fetch0(b, "saved", func(context.Context) (int, error) { panic("boom") }, nodes.Fallback(5))
	g := mustBuild(t, b)

	res, err := executor.Run(context.Background(), g, nil, bad, badCompute, saved)
	if err == nil {
		t.Fatal("Run succeeded")
	}
	for _, name := range []string{"bad", "bad_compute"} {
		n, _ := res.Lookup(name)
		var pe *executor.PanicError
		if n.Outcome != executor.OutcomeError || !errors.As(n.Cause, &pe) || pe.Node != name {
			t.Errorf("%s: %v, cause %v; want error with a PanicError naming it", name, n.Outcome, n.Cause)
			continue
		}
		if !strings.Contains(string(pe.Stack), "failure_test.go") {
			t.Errorf("%s: stack does not show where it panicked:\n%s", name, pe.Stack)
		}
		if msg := pe.Error(); strings.Contains(msg, "\n") || strings.Contains(msg, "goroutine") || !strings.Contains(msg, fmt.Sprint(pe.Value)) {
			t.Errorf("%s: Error() = %q, want the node and the panic value on one line, no stack", name, msg)
		}
	}
	if n := res.Node(saved); n.Outcome != executor.OutcomeFallback || !strings.Contains(n.Cause.Error(), "boom") {
		t.Errorf("saved: %v, cause %v; want fallback caused by the panic", n.Outcome, n.Cause)
	}
}

func TestFallbackFuncSeesTheCause(t *testing.T) {
	errDown := errors.New("model down")
	b := graph.NewBuilder()
	score := nodes.Fetch0(b, "score", func(context.Context) (float64, error) { return 0, errDown },
		nodes.FallbackFunc(func(cause error) (float64, error) {
			if errors.Is(cause, errDown) {
				return 0.5, nil
			}
			return 0, cause
		}))
	refused := nodes.Fetch0(b, "refused", func(context.Context) (float64, error) { return 0, errors.New("other") },
		nodes.FallbackFunc(func(cause error) (float64, error) { return 0, errors.New("no default for this") }))
	g := mustBuild(t, b)

	res := mustRun(t, g, nil, score)
	if v, _ := executor.Get(res, score); v != 0.5 || res.Node(score).Outcome != executor.OutcomeFallback || !errors.Is(res.Node(score).Cause, errDown) {
		t.Errorf("score = %v (%v, %v)", v, res.Node(score).Outcome, res.Node(score).Cause)
	}
	res, err := executor.Run(context.Background(), g, nil, refused)
	if err == nil || res.Node(refused).Outcome != executor.OutcomeError || !strings.Contains(err.Error(), "no default for this") {
		t.Errorf("refused fallback: %v, %v", res.Node(refused).Outcome, err)
	}
}

func TestDependentFallsBackWhenADependencyFails(t *testing.T) {
	b := graph.NewBuilder()
	features := nodes.Fetch0(b, "features", func(context.Context) (int, error) { return 0, errors.New("timeout") })
	score := nodes.Fetch1(b, "score", features, func(_ context.Context, f int) (float64, error) { return 1, nil }, nodes.Fallback(0.5))
	decision := nodes.Compute1(b, "decision", score, func(s float64) (string, error) {
		if s > 0.9 {
			return "decline", nil
		}
		return "review", nil
	})
	g := mustBuild(t, b)
	res := mustRun(t, g, nil, decision)
	if v, _ := executor.Get(res, decision); v != "review" {
		t.Errorf("decision = %q", v)
	}
	var de *executor.DependencyError
	if !errors.As(res.Node(score).Cause, &de) || de.Root != "features" {
		t.Errorf("score cause = %v", res.Node(score).Cause)
	}
	if res.Err() == nil || !strings.Contains(res.Err().Error(), "timeout") {
		t.Errorf("Err() = %v; the root failure must be reported even when a fallback saved the run", res.Err())
	}
}

func TestGarbageFromADescriptorBodyIsAnError(t *testing.T) {
	n := graphdef.Node{Name: "typed", Kind: graph.KindFetch, Type: reflectTypeFor[int](),
		Fetch: func(context.Context, []any) (any, error) { return "not an int", nil }}
	g, err := graphx.New([]graphdef.Node{n})
	if err != nil {
		t.Fatal(err)
	}
	_, err = executor.Run(context.Background(), g, nil, graph.Named("typed"))
	if err == nil || !strings.Contains(err.Error(), `node "typed": returned a string, want int`) {
		t.Errorf("error = %v", err)
	}
}

// Every caller's mistake matches ErrInvalidRun; those found before the run
// starts come with a nil Result, an unbound input with a Result saying so.
func TestCallerMistakesMatchErrInvalidRun(t *testing.T) {
	b := graph.NewBuilder()
	card := nodes.Input[string](b, "card")
	amount := nodes.Input[int](b, "amount")
	both := nodes.Compute2(b, "both", card, amount, func(c string, a int) (string, error) { return c, nil })
	g := mustBuild(t, b)
	other := graph.NewBuilder()
	foreign := nodes.Input[string](other, "elsewhere")

	tests := []struct {
		name    string
		inputs  []executor.Binding
		targets []graph.Target
		want    string
	}{
		{"wrong type by name", []executor.Binding{executor.BindNamed("amount", "12")}, []graph.Target{both}, `executor: invalid run: binding input "amount": value of type string, want int`},
		{"unknown name", []executor.Binding{executor.BindNamed("amnt", 12)}, []graph.Target{both}, `executor: invalid run: binding input "amnt": no such node`},
		{"not an input", []executor.Binding{executor.BindNamed("both", "x")}, []graph.Target{both}, `executor: invalid run: binding input "both": it is a compute node, not an input`},
		{"bound twice", []executor.Binding{executor.Bind(card, "a"), executor.Bind(card, "b")}, []graph.Target{both}, `executor: invalid run: binding input "card": bound twice`},
		{"foreign ref", []executor.Binding{executor.Bind(foreign, "x")}, []graph.Target{both}, `executor: invalid run: binding input "elsewhere": Ref of another graph`},
		{"foreign target", nil, []graph.Target{foreign}, `executor: invalid run: target "elsewhere": Ref of another graph`},
		{"nil target", nil, []graph.Target{nil}, `executor: invalid run: target #0 is nil`},
		{"no target", nil, nil, "executor: invalid run: no target"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := executor.Run(context.Background(), g, tt.inputs, tt.targets...)
			if !errors.Is(err, executor.ErrInvalidRun) || err.Error() != tt.want || res != nil {
				t.Errorf("Run = %v, %v; want a nil Result and %q, matching ErrInvalidRun", res, err, tt.want)
			}
			if strings.Contains(tt.name, "foreign") || tt.name == "unknown name" {
				var un *graph.UnknownNodeError
				if !errors.Is(err, graph.ErrUnknownNode) || !errors.As(err, &un) {
					t.Errorf("%v does not match graph.ErrUnknownNode and *graph.UnknownNodeError", err)
				}
			}
		})
	}

	res, err := executor.Run(context.Background(), g, []executor.Binding{executor.Bind(card, "c1")}, both)
	defer res.Release()
	var ue *executor.UnboundInputError
	if !errors.As(err, &ue) || ue.Input != "amount" || !errors.Is(err, executor.ErrInvalidRun) || res == nil {
		t.Errorf("unbound input: Run = %v, %v; want a Result and an UnboundInputError for amount matching ErrInvalidRun", res, err)
	}
	if want := `node "amount": input needed but not bound`; err == nil || err.Error() != want {
		t.Errorf("unbound input: error %q, want %q", err, want)
	}
	if _, err := executor.Get(res, foreign); !errors.Is(err, executor.ErrInvalidRun) {
		t.Errorf("Get of a foreign ref: %v, want ErrInvalidRun", err)
	}

	for name, opt := range map[string]executor.Option{
		"run timeout":     executor.WithRunTimeout(-time.Second),
		"tracer provider": executor.WithTracerProvider(nil),
		"meter provider":  executor.WithMeterProvider(nil),
	} {
		if ex, err := executor.New(g, opt); !errors.Is(err, executor.ErrInvalidRun) || ex != nil {
			t.Errorf("New with a bad %s: %v, %v; want ErrInvalidRun", name, ex, err)
		}
	}
	if _, err := executor.New(nil); !errors.Is(err, executor.ErrInvalidRun) {
		t.Errorf("New(nil): %v, want ErrInvalidRun", err)
	}
}

// A failure's message names each node once, root cause last.
func TestErrorMessagesNameEachNodeOnce(t *testing.T) {
	b := graph.NewBuilder()
	a := nodes.Fetch0(b, "a", func(context.Context) (int, error) { return 0, errors.New("boom") })
	mid := nodes.Compute1(b, "mid", a, func(v int) (int, error) { return v, nil })
	top := nodes.Compute1(b, "top", mid, func(v int) (int, error) { return v, nil })
	res, err := executor.Run(context.Background(), mustBuild(t, b), nil, top, mid)
	defer res.Release()
	var ne *executor.NodeError
	var de *executor.DependencyError
	if !errors.As(err, &ne) || ne.Node != "a" || !errors.As(res.Node(top).Cause, &de) || de.Root != "a" || de.Dependency != "mid" {
		t.Fatalf("err = %v, top's cause %v; want a NodeError of a, and a DependencyError through mid", err, res.Node(top).Cause)
	}
	for _, tc := range []struct {
		node graph.Target
		want string
	}{
		{mid, `node "mid" not run: dependency "a" failed: boom`},
		{top, `node "top" not run: dependency "mid" failed: node "a": boom`},
	} {
		if got := res.Node(tc.node).Cause.Error(); got != tc.want {
			t.Errorf("cause %q, want %q", got, tc.want)
		}
	}
}

func TestReleasedStateIsReusedCleanly(t *testing.T) {
	b := graph.NewBuilder()
	x := nodes.Input[int](b, "x")
	fails := nodes.Compute1(b, "fails", x, func(v int) (int, error) {
		if v%2 == 1 {
			return 0, errors.New("odd")
		}
		return v, nil
	})
	ex, _ := executor.New(mustBuild(t, b))
	for i := range 50 {
		res, err := ex.Run(context.Background(), []executor.Binding{executor.Bind(x, i)}, fails)
		if (err != nil) != (i%2 == 1) {
			t.Fatalf("run %d: err = %v", i, err)
		}
		if v, _ := executor.Get(res, fails); err == nil && v != i {
			t.Fatalf("run %d: value %d: state leaked from an earlier run", i, v)
		}
		res.Release()
	}
}
