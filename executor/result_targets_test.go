package executor_test

import (
	"context"
	"slices"
	"testing"

	"github.com/featgraph/featgraph/executor"
	"github.com/featgraph/featgraph/graph"
	"github.com/featgraph/featgraph/nodes"
)

func TestResultTargetsAndBound(t *testing.T) {
	b := graph.NewBuilder()
	a := nodes.Input[int](b, "a")
	unused := nodes.Input[string](b, "unused")
	unbound := nodes.Input[string](b, "unbound")
	double := nodes.Compute1(b, "double", a, func(x int) (int, error) { return 2 * x, nil })
	triple := nodes.Compute1(b, "triple", a, func(x int) (int, error) { return 3 * x, nil })
	g, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	res, err := executor.Run(context.Background(), g, []executor.Binding{executor.Bind(a, 2), executor.Bind(unused, "u")}, triple, double)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Release()
	var names []string
	for _, tg := range res.Targets() {
		names = append(names, tg.Name())
		if nr := res.Node(tg); nr.Name != tg.Name() {
			t.Errorf("Node(%s) = %+v", tg.Name(), nr)
		}
	}
	if !slices.Equal(names, []string{double.Name(), triple.Name()}) {
		t.Errorf("Targets() = %v", names)
	}
	if v, ok := res.Bound(unused); !ok || v != "u" || res.Node(unused).Outcome != executor.OutcomeSkipped {
		t.Errorf("Bound(unused) = %v, %v; outcome %v", v, ok, res.Node(unused).Outcome)
	}
	if v, ok := res.Bound(a); !ok || v != 2 {
		t.Errorf("Bound(a) = %v, %v", v, ok)
	}
	if _, ok := res.Bound(unbound); ok {
		t.Error("Bound(unbound) is ok")
	}
	if _, ok := res.Bound(double); ok {
		t.Error("Bound(double) is ok")
	}
	if _, ok := res.Bound(graph.Named("ghost")); ok {
		t.Error("Bound(ghost) is ok")
	}
}
