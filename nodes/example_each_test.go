package nodes_test

import (
	"context"
	"fmt"
	"log"

	"github.com/featgraph/featgraph/executor"
	"github.com/featgraph/featgraph/graph"
	"github.com/featgraph/featgraph/nodes"
)

// Each calls its body once per element of a list, at most Limit at once,
// and keeps the list's order in its result, whichever call ends first.
func ExampleEach() {
	b := graph.NewBuilder()
	merchants := nodes.Input[[]string](b, "merchants")
	risks := nodes.Each(b, "merchant_risk", merchants, func(ctx context.Context, m string) (int, error) {
		return len(m), nil // a call per merchant in real life
	}, nodes.Limit(2)) // at most 2 calls in flight

	g, err := b.Build()
	if err != nil {
		log.Fatal(err)
	}
	res, err := executor.Run(context.Background(), g,
		[]executor.Binding{executor.Bind(merchants, []string{"acme", "globex", "initech"})}, risks)
	if err != nil {
		log.Fatal(err)
	}
	defer res.Release()
	r, _ := executor.Get(res, risks)
	fmt.Println(r)
	// Output:
	// [4 6 7]
}
