package graph_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"strings"

	"github.com/featgraph/featgraph/executor"
	"github.com/featgraph/featgraph/graph"
	"github.com/featgraph/featgraph/nodes"
	"github.com/featgraph/featgraph/spec"
)

// Build validates the whole graph at once and reports every mistake as an
// error that matches graph.ErrInvalid, never as a panic.
func ExampleBuilder_Build() {
	b := graph.NewBuilder()
	card := nodes.Input[string](b, "card_id")
	nodes.Fetch1(b, "account", card, func(ctx context.Context, id string) (int, error) { return 1, nil })
	nodes.Fetch1(b, "account", card, func(ctx context.Context, id string) (int, error) { return 2, nil })

	_, err := b.Build()
	fmt.Println(errors.Is(err, graph.ErrInvalid))
	fmt.Println(err)
	// Output:
	// true
	// graph: node "account" is declared twice
}

// A built graph knows its topological order, and which nodes a set of
// targets needs: only those run.
func ExampleGraph_Ancestors() {
	b := graph.NewBuilder()
	card := nodes.Input[string](b, "card_id")
	account := nodes.Fetch1(b, "account", card, func(ctx context.Context, id string) (int, error) { return 1, nil })
	nodes.Fetch1(b, "history", card, func(ctx context.Context, id string) (int, error) { return 2, nil })
	limit := nodes.Compute1(b, "limit", account, func(a int) (int, error) { return a * 100, nil })
	g, err := b.Build()
	if err != nil {
		panic(err)
	}

	ancestors, err := g.Ancestors(limit)
	if err != nil {
		panic(err)
	}
	for _, id := range ancestors {
		fmt.Println(g.Name(id))
	}
	// Output:
	// card_id
	// account
	// limit
}

// A graph whose nodes are named by data (a YAML spec, here) can have a
// cycle, which Build reports as a *graph.CycleError: errors.As finds it
// inside whatever error the front end returns, with the cycle's path.
// Graphs built with package nodes cannot have one: a node only depends on
// Refs declared before it.
func ExampleCycleError() {
	src := []byte(`version: 1
inputs:
  amount: int
nodes:
  a: {expr: "c + amount", type: int}
  b: {expr: "a * 2", type: int}
  c: {expr: "b - 1", type: int}
`)
	_, err := spec.Parse("cycle.yaml", src)

	var cycle *graph.CycleError
	if errors.As(err, &cycle) {
		fmt.Println(strings.Join(cycle.Path, " -> "))
	}
	fmt.Println(errors.Is(err, graph.ErrInvalid))
	// Output:
	// a -> c -> b -> a
	// true
}

// Lookup turns a node's name into a typed Ref, checking the node's type:
// the way in for Go code that knows a graph only by names, such as one
// loaded from a spec. The Ref then binds inputs and reads results as if the
// graph had been declared in Go.
func ExampleLookup() {
	s, err := spec.Parse("limits.yaml", []byte(`version: 1
inputs:
  amount: int
nodes:
  over: {expr: "amount > 500", type: bool}
targets: [over]
`))
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()
	g := s.Graph()

	amount, err := graph.Lookup[int](g, "amount")
	if err != nil {
		log.Fatal(err)
	}
	over, err := graph.Lookup[bool](g, "over")
	if err != nil {
		log.Fatal(err)
	}
	res, err := executor.Run(context.Background(), g, []executor.Binding{executor.Bind(amount, 900)}, over)
	if err != nil {
		log.Fatal(err)
	}
	defer res.Release()
	v, _ := executor.Get(res, over)
	fmt.Println("over:", v)

	// The wrong type is an error, not a Ref that reads zero values.
	_, err = graph.Lookup[string](g, "over")
	fmt.Println(err != nil)
	// Output:
	// over: true
	// true
}
