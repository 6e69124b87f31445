package nodes_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/featgraph/featgraph/executor"
	"github.com/featgraph/featgraph/graph"
	"github.com/featgraph/featgraph/nodes"
)

// A fetch gets a context and may block; a compute is pure and runs inline.
// Each dependency is a typed Ref, so wiring the wrong type does not compile.
func ExampleFetch1() {
	b := graph.NewBuilder()
	card := nodes.Input[string](b, "card_id")
	// 1. The fetch: a call to a service, bounded by its own timeout.
	limit := nodes.Fetch1(b, "limit", card, func(ctx context.Context, id string) (int, error) {
		return 500, nil // the accounts service's answer for id
	}, nodes.Timeout(50*time.Millisecond))
	// 2. The compute: pure logic over the fetched value.
	approve := nodes.Compute1(b, "approve", limit, func(l int) (bool, error) { return l >= 100, nil })

	// 3. Build checks the whole graph; Run runs what the target needs.
	g, err := b.Build()
	if err != nil {
		log.Fatal(err)
	}
	res, err := executor.Run(context.Background(), g, []executor.Binding{executor.Bind(card, "c1")}, approve)
	if err != nil {
		log.Fatal(err)
	}
	defer res.Release()
	ok, _ := executor.Get(res, approve)
	fmt.Println("approve:", ok, "after", res.Node(limit).Outcome, "limit")
	// Output:
	// approve: true after ok limit
}

// FetchN takes any number of dependencies of any types; the body reads each
// one with its type through Arg.
func ExampleFetchN() {
	b := graph.NewBuilder()
	card := nodes.Input[string](b, "card_id")
	amount := nodes.Input[int](b, "amount")
	score := nodes.FetchN(b, "score", []nodes.Dep{card, amount}, func(ctx context.Context, a nodes.Args) (float64, error) {
		id, amt := nodes.Arg(a, card), nodes.Arg(a, amount)
		return float64(len(id)*amt) / 1000, nil // a model call in real life
	})

	g, err := b.Build()
	if err != nil {
		log.Fatal(err)
	}
	res, err := executor.Run(context.Background(), g,
		[]executor.Binding{executor.Bind(card, "c1"), executor.Bind(amount, 250)}, score)
	if err != nil {
		log.Fatal(err)
	}
	defer res.Release()
	v, _ := executor.Get(res, score)
	fmt.Println("score:", v)
	// Output:
	// score: 0.5
}

// EachN is Each with more dependencies: every element's call also gets
// their values, read with Arg as in FetchN.
func ExampleEachN() {
	b := graph.NewBuilder()
	merchants := nodes.Input[[]string](b, "merchants")
	weight := nodes.Value(b, "weight", 10)
	risks := nodes.EachN(b, "merchant_risk", merchants, []nodes.Dep{weight},
		func(ctx context.Context, m string, args nodes.Args) (int, error) {
			return len(m) * nodes.Arg(args, weight), nil
		}, nodes.Limit(2))

	g, err := b.Build()
	if err != nil {
		log.Fatal(err)
	}
	res, err := executor.Run(context.Background(), g,
		[]executor.Binding{executor.Bind(merchants, []string{"acme", "globex"})}, risks)
	if err != nil {
		log.Fatal(err)
	}
	defer res.Release()
	r, _ := executor.Get(res, risks)
	fmt.Println(r)
	// Output:
	// [40 60]
}
