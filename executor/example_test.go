package executor_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/featgraph/featgraph/executor"
	"github.com/featgraph/featgraph/graph"
	"github.com/featgraph/featgraph/nodes"
)

// Account is what the accounts service returns.
type Account struct {
	ID      string
	Limit   int
	Blocked bool
}

// This example declares a small authorization graph, runs it and reads the
// decision and every node's outcome.
func Example() {
	// 1. Declare the graph: typed nodes, wired by typed refs.
	b := graph.NewBuilder()
	card := nodes.Input[string](b, "card_id")
	amount := nodes.Input[int](b, "amount")
	account := nodes.Fetch1(b, "account", card, func(ctx context.Context, id string) (Account, error) {
		return Account{ID: "acc-" + id, Limit: 500}, nil // a call to the accounts service
	}, nodes.Timeout(50*time.Millisecond))
	risk := nodes.Fetch1(b, "risk", card, func(ctx context.Context, id string) (float64, error) {
		return 0, errors.New("risk service unavailable")
	}, nodes.Fallback(0.5)) // fall back to a neutral score
	decision := nodes.Compute3(b, "decision", account, amount, risk, func(a Account, amt int, r float64) (string, error) {
		switch {
		case a.Blocked || amt > a.Limit:
			return "decline", nil
		case r > 0.8:
			return "review", nil
		}
		return "approve", nil
	})
	g, err := b.Build() // validates: duplicate names, unknown deps, cycles
	if err != nil {
		panic(err)
	}

	// 2. Run it: only what the target needs runs, concurrently, within 700ms.
	ex, err := executor.New(g, executor.WithRunTimeout(700*time.Millisecond))
	if err != nil {
		panic(err)
	}
	res, err := ex.Run(context.Background(),
		[]executor.Binding{executor.Bind(card, "c1"), executor.Bind(amount, 120)},
		decision)
	if err != nil {
		panic(err)
	}
	defer res.Release()

	// 3. Read the typed value and the outcomes.
	d, _ := executor.Get(res, decision)
	fmt.Println("decision:", d)
	for _, n := range res.Nodes() {
		cause := ""
		if n.Cause != nil {
			cause = " (" + n.Cause.Error() + ")"
		}
		fmt.Printf("%-8s %-7s %s%s\n", n.Name, n.Kind, n.Outcome, cause)
	}
	// Output:
	// decision: approve
	// card_id  input   ok
	// amount   input   ok
	// account  fetch   ok
	// risk     fetch   fallback (node "risk": risk service unavailable)
	// decision compute ok
}

// A failed dependency fails what depends on it, and the error names the
// node that failed first.
func ExampleDependencyError() {
	b := graph.NewBuilder()
	id := nodes.Fetch0(b, "primary_id", func(context.Context) (string, error) { return "", errors.New("not found") })
	acct := nodes.Fetch1(b, "account", id, func(_ context.Context, id string) (string, error) { return id, nil })
	limit := nodes.Compute1(b, "limit", acct, func(a string) (int, error) { return len(a), nil })
	g, _ := b.Build()

	res, err := executor.Run(context.Background(), g, nil, limit)
	fmt.Println("run error:", err)
	fmt.Println("limit:", res.Node(limit).Cause)
	var de *executor.DependencyError
	fmt.Println("root:", errors.As(res.Node(limit).Cause, &de) && de.Root == "primary_id")
	// Output:
	// run error: node "primary_id": not found
	// limit: node "limit" not run: dependency "account" failed because "primary_id" failed: node "primary_id": not found
	// root: true
}

// Nodes that ignore their context cannot hold a run past its deadline.
func ExampleWithRunTimeout() {
	release := make(chan struct{})
	defer close(release)
	b := graph.NewBuilder()
	hung := nodes.Fetch0(b, "hung", func(context.Context) (int, error) { <-release; return 1, nil })
	g, _ := b.Build()

	ex, _ := executor.New(g, executor.WithRunTimeout(500*time.Millisecond))
	res, err := ex.Run(context.Background(), nil, hung)
	fmt.Println(res.Node(hung).Outcome, errors.Is(err, context.DeadlineExceeded))
	fmt.Println(strings.Contains(err.Error(), "the run's deadline"))
	// Output:
	// timeout true
	// true
}
