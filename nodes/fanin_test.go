package nodes_test

import (
	"context"
	"fmt"
	"github.com/featgraph/featgraph/internal/graphx"
	"log"
	"strings"
	"testing"

	"github.com/featgraph/featgraph/executor"
	"github.com/featgraph/featgraph/graph"
	"github.com/featgraph/featgraph/nodes"
)

// wide declares n int values and returns their Refs.
func wide(b *graph.Builder, n int) []nodes.Ref[int] {
	refs := make([]nodes.Ref[int], n)
	for i := range refs {
		refs[i] = nodes.Value(b, fmt.Sprint("v", i), i)
	}
	return refs
}

func TestWideFanIn(t *testing.T) {
	const n = 5000
	b := graph.NewBuilder()
	refs := wide(b, n)
	deps := make([]nodes.Dep, n)
	for i, r := range refs {
		deps[i] = r
	}
	byRef := nodes.ComputeN(b, "by_ref", deps, func(a nodes.Args) (int, error) {
		sum := 0
		for _, r := range refs {
			sum += nodes.Arg(a, r)
		}
		return sum, nil
	})
	byIndex := nodes.ComputeN(b, "by_index", deps, func(a nodes.Args) (int, error) {
		sum := 0
		for i := range a.Len() {
			sum += nodes.ArgAt[int](a, i)
		}
		return sum, nil
	})
	var kept []int
	all := nodes.ComputeAll(b, "all", refs, func(vs []int) (int, error) {
		kept = vs // its own slice: safe to keep
		sum := 0
		for _, v := range vs {
			sum += v
		}
		return sum, nil
	})
	fetched := nodes.FetchAll(b, "fetched", refs[:3], func(_ context.Context, vs []int) (string, error) {
		return fmt.Sprint(vs), nil
	})
	g, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	res, err := executor.Run(context.Background(), g, nil, byRef, byIndex, all, fetched)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Release()
	want := n * (n - 1) / 2
	for _, r := range []nodes.Ref[int]{byRef, byIndex, all} {
		if v, err := executor.Get(res, r); v != want || err != nil {
			t.Errorf("%s = %d, %v; want %d", r.Name(), v, err, want)
		}
	}
	if v, _ := executor.Get(res, fetched); v != "[0 1 2]" {
		t.Errorf("fetched = %q", v)
	}
	if len(kept) != n || kept[n-1] != n-1 {
		t.Errorf("kept %d values", len(kept))
	}
}

func TestArgAtOutOfRangePanics(t *testing.T) {
	b := graph.NewBuilder()
	x := nodes.Value(b, "x", 1)
	c := nodes.ComputeN(b, "c", []nodes.Dep{x}, func(a nodes.Args) (int, error) { return nodes.ArgAt[int](a, 1), nil })
	g, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	_, err = executor.Run(context.Background(), g, nil, c)
	if err == nil || !strings.Contains(err.Error(), "index 1 out of range [0, 1)") {
		t.Errorf("err = %v", err)
	}
}

// BenchmarkWideFanIn reads 5,000 dependencies by Ref and by index:
//
//	go test ./nodes -run '^$' -bench WideFanIn -count 6
func BenchmarkWideFanIn(b *testing.B) {
	const n = 5000
	bld := graph.NewBuilder()
	refs := wide(bld, n)
	deps := make([]nodes.Dep, n)
	for i, r := range refs {
		deps[i] = r
	}
	var sink int
	byRef := nodes.ComputeN(bld, "by_ref", deps, func(a nodes.Args) (int, error) {
		for _, r := range refs {
			sink += nodes.Arg(a, r)
		}
		return sink, nil
	})
	byIndex := nodes.ComputeN(bld, "by_index", deps, func(a nodes.Args) (int, error) {
		for i := range a.Len() {
			sink += nodes.ArgAt[int](a, i)
		}
		return sink, nil
	})
	g, err := bld.Build()
	if err != nil {
		b.Fatal(err)
	}
	args := make([]any, n)
	for i := range args {
		args[i] = i
	}
	for _, r := range []nodes.Ref[int]{byRef, byIndex} {
		body := graphx.Node(g, r.ID()).Compute
		b.Run(r.Name(), func(b *testing.B) {
			for b.Loop() {
				if _, err := body(args); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// ComputeAll takes many dependencies of one type as a []Ref[T] and gives
// its body a []T of its own, in the same order.
func ExampleComputeAll() {
	b := graph.NewBuilder()
	var scores []nodes.Ref[float64]
	for i, s := range []float64{0.2, 0.5, 0.1} {
		scores = append(scores, nodes.Value(b, fmt.Sprint("score", i), s))
	}
	worst := nodes.ComputeAll(b, "worst", scores, func(vs []float64) (float64, error) {
		m := vs[0]
		for _, v := range vs[1:] {
			m = max(m, v)
		}
		return m, nil
	})
	g, err := b.Build()
	if err != nil {
		log.Fatal(err)
	}
	res, err := executor.Run(context.Background(), g, nil, worst)
	if err != nil {
		log.Fatal(err)
	}
	defer res.Release()
	v, _ := executor.Get(res, worst)
	fmt.Println(v)
	// Output: 0.5
}

// ArgAt reads a FetchN or ComputeN dependency by position, in the order
// the node was declared with; Arg reads it by Ref.
func ExampleArgAt() {
	b := graph.NewBuilder()
	amount := nodes.Value(b, "amount", 120)
	limit := nodes.Value(b, "limit", 100)
	over := nodes.ComputeN(b, "over", []nodes.Dep{amount, limit}, func(a nodes.Args) (bool, error) {
		return nodes.ArgAt[int](a, 0) > nodes.Arg(a, limit), nil
	})
	g, err := b.Build()
	if err != nil {
		log.Fatal(err)
	}
	res, err := executor.Run(context.Background(), g, nil, over)
	if err != nil {
		log.Fatal(err)
	}
	defer res.Release()
	v, _ := executor.Get(res, over)
	fmt.Println(v)
	// Output: true
}
