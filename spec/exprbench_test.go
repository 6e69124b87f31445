package spec_test

import (
	"context"
	"errors"
	"fmt"
	"github.com/featgraph/featgraph/internal/graphdef"
	"github.com/featgraph/featgraph/internal/graphx"
	"reflect"
	"testing"
	"time"

	"github.com/expr-lang/expr"

	"github.com/featgraph/featgraph/executor"
	"github.com/featgraph/featgraph/graph"
	"github.com/featgraph/featgraph/spec"
)

// BenchmarkLoadExprNodes loads specs of 1,000 and 10,000 expr nodes: the
// time per node must stay flat (loading is linear).
func BenchmarkLoadExprNodes(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		data := manyExprNodes(n)
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				s, err := spec.Parse("many.yaml", data)
				if err != nil {
					b.Fatal(err)
				}
				s.Close()
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/node")
		})
	}
}

// BenchmarkExprNode runs a graph of one expr node over two inputs, two
// ways side by side: "inline" is what spec did before expressions were
// bounded (the expression compiled as written, run by expr.Run inside a
// compute node: the baseline), "spec" is the spec's bounded expr node (a
// blocking node, with guards when the expression needs them).
func BenchmarkExprNode(b *testing.B) {
	items := make([]any, 100)
	for i := range items {
		items[i] = float64(i)
	}
	for _, tc := range []struct{ name, src string }{
		{"arithmetic", "amount * 2 + len(items)"},
		{"predicate", "count(items, {# > amount})"},
		{"string", `upper(name + "-" + name)`},
	} {
		yaml := "version: 1\ninputs: {amount: float, items: list, name: string}\nnodes:\n  x:\n    expr: " + fmt.Sprintf("%q", tc.src) + "\n    type: any\n"
		inputs := []executor.Binding{executor.BindNamed("amount", 50.0), executor.BindNamed("items", items), executor.BindNamed("name", "card")}
		b.Run(tc.name+"/inline", func(b *testing.B) {
			program, err := expr.Compile(tc.src, expr.Env(map[string]any{"amount": 0.0, "items": []any{}, "name": ""}))
			if err != nil {
				b.Fatal(err)
			}
			deps := []string{"amount", "items", "name"}
			g, err := graphx.New([]graphdef.Node{
				{Name: "amount", Kind: graph.KindInput, Type: reflect.TypeFor[float64]()},
				{Name: "items", Kind: graph.KindInput, Type: reflect.TypeFor[[]any]()},
				{Name: "name", Kind: graph.KindInput, Type: reflect.TypeFor[string]()},
				{Name: "x", Kind: graph.KindCompute, Deps: deps, Compute: func(args []any) (any, error) {
					env := make(map[string]any, len(deps))
					for i, d := range deps {
						env[d] = args[i]
					}
					return expr.Run(program, env)
				}},
			})
			if err != nil {
				b.Fatal(err)
			}
			benchRun(b, g, inputs)
		})
		b.Run(tc.name+"/spec", func(b *testing.B) {
			s, err := spec.Parse("bench.yaml", []byte(yaml))
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			benchRun(b, s.Graph(), inputs)
		})
	}
}

func benchRun(b *testing.B, g *graph.Graph, inputs []executor.Binding) {
	b.Helper()
	ex, err := executor.New(g)
	if err != nil {
		b.Fatal(err)
	}
	x, _ := graph.Lookup[any](g, "x")
	b.ReportAllocs()
	for b.Loop() {
		res, err := ex.Run(context.Background(), inputs, x)
		if err != nil {
			b.Fatal(err)
		}
		res.Release()
	}
}

// BenchmarkExprPastDeadline calls the body of an expr node that would run
// for minutes (nested predicates over a range) with a 5 ms deadline, and
// reports how long after the deadline it returns: how soon an abandoned
// evaluation stops using CPU. The baseline is the same body with a
// deadline already passed: the cost of starting and stopping at once; and
// "spin", a Go loop that reads the clock at every iteration with the same
// 5 ms deadline, is the floor the machine's scheduling sets.
func BenchmarkExprPastDeadline(b *testing.B) {
	s, err := spec.Parse("late.yaml", []byte(exprSpec("let r = 1..n; count(r, {all(r, {all(r, {# > 0})})})", "int")))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	id, _ := s.Graph().Lookup("x")
	body := graphx.Node(s.Graph(), id).Fetch
	args := []any{5000}
	for _, tc := range []struct {
		name     string
		deadline time.Duration
		spin     bool
	}{{"passed", 0, false}, {"spin", 5 * time.Millisecond, true}, {"5ms", 5 * time.Millisecond, false}} {
		b.Run(tc.name, func(b *testing.B) {
			var late time.Duration
			for b.Loop() {
				ctx, cancel := context.WithTimeout(context.Background(), tc.deadline)
				dl, _ := ctx.Deadline()
				if tc.spin {
					for time.Now().Before(dl) {
					}
				} else if _, err := body(ctx, args); !errors.Is(err, context.DeadlineExceeded) {
					b.Fatalf("error %v, want the deadline", err)
				}
				late += time.Since(dl)
				cancel()
			}
			b.ReportMetric(float64(late.Microseconds())/float64(b.N), "µs-past-deadline")
		})
	}
}
