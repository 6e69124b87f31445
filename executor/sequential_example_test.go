package executor_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/featgraph/featgraph/executor"
	"github.com/featgraph/featgraph/graph"
	"github.com/featgraph/featgraph/nodes"
)

// This example runs a graph with the sequential engine, to tell whether a
// failure comes from concurrency: the bodies run one at a time, in the same
// order on every run (dependencies first, then declaration order), with the
// outcomes the concurrent engine gives.
func ExampleWithSequential() {
	var ran []string // no lock: with the sequential engine no two bodies overlap
	b := graph.NewBuilder()
	card := nodes.Input[string](b, "card_id")
	account := nodes.Fetch1(b, "account", card, func(_ context.Context, id string) (int, error) {
		ran = append(ran, "account")
		return 500, nil
	})
	history := nodes.Fetch1(b, "history", card, func(context.Context, string) (int, error) {
		ran = append(ran, "history")
		return 0, errors.New("history service unavailable")
	}, nodes.Fallback(0), nodes.Timeout(50*time.Millisecond))
	limit := nodes.Compute2(b, "limit", account, history, func(a, h int) (int, error) {
		ran = append(ran, "limit")
		return a - h, nil
	})
	g, err := b.Build()
	if err != nil {
		panic(err)
	}

	ex, err := executor.New(g, executor.WithSequential(), executor.WithRunTimeout(time.Second))
	if err != nil {
		panic(err)
	}
	res, err := ex.Run(context.Background(), []executor.Binding{executor.Bind(card, "c1")}, limit)
	if err != nil {
		panic(err)
	}
	defer res.Release()
	v, _ := executor.Get(res, limit)
	fmt.Println("ran:", ran)
	fmt.Println("limit:", v, res.Node(limit).Outcome)
	fmt.Println("history:", res.Node(history).Outcome)
	// Output:
	// ran: [account history limit]
	// limit: 500 ok
	// history: fallback
}
