package graph_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/featgraph/featgraph/graph"
	"github.com/featgraph/featgraph/nodes"
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
