package nodes_test

import (
	"context"
	"errors"
	"github.com/featgraph/featgraph/executor"
	"github.com/featgraph/featgraph/internal/graphx"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/featgraph/featgraph/graph"
	"github.com/featgraph/featgraph/nodes"
)

func TestMisuseIsReportedByBuild(t *testing.T) {
	other := graph.NewBuilder()
	foreign := nodes.Input[string](other, "foreign")
	_ = nodes.Input[int](other, "filler")

	tests := []struct {
		name    string
		declare func(b *graph.Builder)
		want    string
	}{
		{"ref from another builder", func(b *graph.Builder) {
			nodes.Compute1(b, "c", foreign, func(s string) (int, error) { return len(s), nil })
		}, `depends on "foreign", which is not a Ref declared on this builder`},
		{"zero ref", func(b *graph.Builder) {
			nodes.Compute1(b, "c", nodes.Ref[string]{}, func(s string) (int, error) { return 0, nil })
		}, "unset (zero) Ref"},
		{"fallback of the wrong type", func(b *graph.Builder) {
			nodes.Fetch0(b, "f", func(context.Context) (float64, error) { return 1, nil }, nodes.Fallback(0))
		}, "fallback has type int, the node has type float64"},
		{"non-positive timeout", func(b *graph.Builder) {
			nodes.Fetch0(b, "f", func(context.Context) (int, error) { return 1, nil }, nodes.Timeout(0))
		}, "timeout 0s is not positive"},
		{"limit on a fetch", func(b *graph.Builder) {
			nodes.Fetch0(b, "f", func(context.Context) (int, error) { return 1, nil }, nodes.Limit(2))
		}, "Limit has no effect on a fetch node"},
		{"retry with no attempts", func(b *graph.Builder) {
			nodes.Fetch0(b, "f", func(context.Context) (int, error) { return 1, nil }, nodes.Retry(0, time.Millisecond))
		}, "retry needs attempts >= 1"},
		{"duplicate switch case", func(b *graph.Builder) {
			k := nodes.Input[string](b, "k")
			v := nodes.Value(b, "v", 1)
			nodes.Switch(b, "s", k, nodes.Cases(nodes.On("x", v), nodes.On("x", v)))
		}, `case x appears twice`},
		{"retry on a compute node", func(b *graph.Builder) {
			v := nodes.Value(b, "v", 1)
			nodes.Compute1(b, "c", v, func(n int) (int, error) { return n, nil }, nodes.Retry(3, 0))
		}, `node "c": a retry has no effect on a compute node`},
		{"retry predicate on an input", func(b *graph.Builder) {
			nodes.Input[int](b, "in", nodes.RetryIf(func(error) bool { return true }))
		}, `node "in": a retry has no effect on an input node`},
		{"timeout on a compute node", func(b *graph.Builder) {
			v := nodes.Value(b, "v", 1)
			nodes.Compute1(b, "c", v, func(n int) (int, error) { return n, nil }, nodes.Timeout(time.Second))
		}, `node "c": a timeout has no effect on a compute node`},
		{"timeout on an and node", func(b *graph.Builder) {
			t := nodes.Value(b, "t", true)
			nodes.And(b, "both", []nodes.Ref[bool]{t, t}, nodes.Timeout(time.Second))
		}, `node "both": a timeout has no effect on an and node`},
		{"fallback on a value", func(b *graph.Builder) {
			nodes.Value(b, "v", 1, nodes.Fallback(2))
		}, `node "v": a fallback has no effect on a value node`},
		{"limit on a compute node", func(b *graph.Builder) {
			v := nodes.Value(b, "v", 1)
			nodes.Compute1(b, "c", v, func(n int) (int, error) { return n, nil }, nodes.Limit(2))
		}, `node "c": Limit has no effect on a compute node`},
		{"default on an if", func(b *graph.Builder) {
			c := nodes.Value(b, "c", true)
			v := nodes.Value(b, "v", 1)
			nodes.If(b, "i", c, v, v, nodes.Default(v))
		}, `node "i": Default has no effect on an if node`},
		{"default of the wrong type", func(b *graph.Builder) {
			k := nodes.Input[string](b, "k")
			v := nodes.Value(b, "v", 1)
			s := nodes.Value(b, "s", "x")
			nodes.Switch(b, "sw", k, nodes.Cases(nodes.On("x", v)), nodes.Default(s))
		}, `node "sw": Default "s" has type string, the node has type int`},
		{"default twice", func(b *graph.Builder) {
			k := nodes.Input[string](b, "k")
			v := nodes.Value(b, "v", 1)
			nodes.Switch(b, "sw", k, nodes.Cases(nodes.On("x", v)), nodes.Default(v), nodes.Default(v))
		}, `node "sw": Default is given twice`},
		{"zero default", func(b *graph.Builder) {
			k := nodes.Input[string](b, "k")
			v := nodes.Value(b, "v", 1)
			nodes.Switch(b, "sw", k, nodes.Cases(nodes.On("x", v)), nodes.Default(nodes.Ref[int]{}))
		}, `node "sw": Default of an unset (zero) Ref`},
		{"non-Ref dependency", func(b *graph.Builder) {
			nodes.ComputeN(b, "c", []nodes.Dep{graph.Named("x")}, func(nodes.Args) (int, error) { return 0, nil })
		}, `node "c": depends on "x", which is not a Ref declared on this builder`},
		{"duplicate name", func(b *graph.Builder) {
			nodes.Value(b, "v", 1)
			nodes.Value(b, "v", 2)
		}, `node "v" is declared twice`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := graph.NewBuilder()
			tt.declare(b)
			_, err := b.Build()
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Build error = %v, want it to contain %q", err, tt.want)
			}
			if !errors.Is(err, graph.ErrInvalid) {
				t.Errorf("errors.Is(%v, ErrInvalid) = false", err)
			}
		})
	}
}

func TestDescriptors(t *testing.T) {
	b := graph.NewBuilder()
	id := nodes.Input[string](b, "id")
	n := nodes.Fetch1(b, "len", id, func(_ context.Context, s string) (int, error) { return len(s), nil },
		nodes.Timeout(time.Second), nodes.Fallback(-1), nodes.Describe("length"), nodes.Meta("upstream", "svc"))
	cond := nodes.Compute1(b, "big", n, func(n int) (bool, error) { return n > 3, nil })
	pick := nodes.If(b, "pick", cond, n, nodes.Value(b, "zero", 0))
	g, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	d := graphx.Node(g, n.ID())
	if d.Kind != graph.KindFetch || d.Timeout != time.Second || d.FallbackValue != -1 || d.Description != "length" ||
		d.Meta["upstream"] != "svc" || d.Type.String() != "int" || d.Deps[0] != "id" {
		t.Errorf("fetch descriptor = %+v", d)
	}
	if v, err := d.Fetch(context.Background(), []any{"abcd"}); v != 4 || err != nil {
		t.Errorf("body(abcd) = %v, %v", v, err)
	}
	p := graphx.Node(g, pick.ID())
	if p.Kind != graph.KindIf || len(p.Lazy) != 2 || p.Lazy[0] != "len" || p.Lazy[1] != "zero" {
		t.Errorf("if descriptor = %+v", p)
	}
	for cond, want := range map[bool]int{true: 0, false: 1} {
		if got, _ := p.Choose([]any{cond}); got != want {
			t.Errorf("Choose(%v) = %d, want %d", cond, got, want)
		}
	}
}

func TestSwitchChoose(t *testing.T) {
	b := graph.NewBuilder()
	k := nodes.Input[string](b, "k")
	br := nodes.Value(b, "br", "BRL")
	us := nodes.Value(b, "us", "USD")
	other := nodes.Value(b, "other", "EUR")
	s := nodes.Switch(b, "currency", k, nodes.Cases(nodes.On("BR", br), nodes.On("US", us)), nodes.Default(other))
	strict := nodes.Switch(b, "strict", k, nodes.Cases(nodes.On("BR", br)))
	g, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	choose := graphx.Node(g, s.ID()).Choose
	for key, want := range map[string]int{"BR": 0, "US": 1, "FR": 2} {
		if got, err := choose([]any{key}); got != want || err != nil {
			t.Errorf("Choose(%s) = %d, %v; want %d", key, got, err, want)
		}
	}
	if _, err := graphx.Node(g, strict.ID()).Choose([]any{"FR"}); err == nil || !strings.Contains(err.Error(), "no case for key FR") {
		t.Errorf("Choose without default = %v", err)
	}
}

func TestArgPanicsOnUndeclaredDependency(t *testing.T) {
	b := graph.NewBuilder()
	x := nodes.Value(b, "x", 1)
	y := nodes.Value(b, "y", 2)
	sum := nodes.ComputeN(b, "sum", []nodes.Dep{x}, func(a nodes.Args) (int, error) {
		return nodes.Arg(a, x) + nodes.Arg(a, y), nil
	})
	g, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if r := recover(); r == nil || !strings.Contains(r.(string), `"y" is not a declared dependency`) {
			t.Errorf("recover() = %v", r)
		}
	}()
	_, _ = graphx.Node(g, sum.ID()).Compute([]any{1})
}

func TestEachNGivesEveryCallTheExtraDependencies(t *testing.T) {
	b := graph.NewBuilder()
	list := nodes.Input[[]int](b, "list")
	add := nodes.Input[int](b, "add")
	mul := nodes.Value(b, "mul", 3)
	out := nodes.EachN(b, "out", list, []nodes.Dep{add, mul}, func(_ context.Context, e int, a nodes.Args) (int, error) {
		return (e + nodes.Arg(a, add)) * nodes.ArgAt[int](a, 1), nil
	})
	g, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	res, err := executor.Run(context.Background(), g, []executor.Binding{executor.Bind(list, []int{1, 2, 3}), executor.Bind(add, 10)}, out)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Release()
	if got, _ := executor.Get(res, out); !slices.Equal(got, []int{33, 36, 39}) {
		t.Errorf("EachN = %v, want [33 36 39]", got)
	}
}
