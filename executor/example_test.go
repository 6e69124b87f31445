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
	defer res.Release() // whatever err is; nil-safe
	if err != nil {
		panic(err) // a target has no value, or (res nil, err matching ErrInvalidRun) the run did not start
	}

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
// node that failed first. Run returns the Result with the error: every
// node's outcome and cause can be read from it.
func ExampleDependencyError() {
	b := graph.NewBuilder()
	id := nodes.Fetch0(b, "primary_id", func(context.Context) (string, error) { return "", errors.New("not found") })
	acct := nodes.Fetch1(b, "account", id, func(_ context.Context, id string) (string, error) { return id, nil })
	limit := nodes.Compute1(b, "limit", acct, func(a string) (int, error) { return len(a), nil })
	g, _ := b.Build()

	res, err := executor.Run(context.Background(), g, nil, limit)
	defer res.Release() // a failed run has a Result too
	fmt.Println("run error:", err)
	fmt.Println("limit:", res.Node(limit).Cause)
	var de *executor.DependencyError
	fmt.Println("root:", errors.As(res.Node(limit).Cause, &de) && de.Root == "primary_id")
	// Output:
	// run error: node "primary_id": not found
	// limit: node "limit" not run: dependency "account" failed: node "primary_id": not found
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
	defer res.Release()
	fmt.Println(res.Node(hung).Outcome, errors.Is(err, context.DeadlineExceeded))
	fmt.Println(strings.Contains(err.Error(), "the run's deadline"))
	// Output:
	// timeout true
	// true
}

// Run's error contract: a caller's mistake comes with a nil Result and
// matches ErrInvalidRun; a failed target comes with the Result, which says
// which node failed and why.
func ExampleExecutor_Run() {
	b := graph.NewBuilder()
	card := nodes.Input[string](b, "card")
	score := nodes.Fetch1(b, "score", card, func(_ context.Context, card string) (float64, error) {
		if card == "" {
			return 0, errors.New("empty card")
		}
		return 0.1, nil
	})
	g, _ := b.Build()
	ex, _ := executor.New(g)

	for _, bindings := range [][]executor.Binding{
		{executor.BindNamed("card", 42)}, // wrong type: the caller's mistake
		{executor.Bind(card, "")},        // the fetch fails
		{executor.Bind(card, "c1")},
	} {
		res, err := ex.Run(context.Background(), bindings, score)
		switch {
		case errors.Is(err, executor.ErrInvalidRun) && res == nil:
			fmt.Println("not run:", err)
		case err != nil:
			fmt.Println("failed:", res.Node(score).Outcome, err)
		default:
			v, _ := executor.Get(res, score)
			fmt.Println("score:", v)
		}
		res.Release() // nil-safe
	}
	// Output:
	// not run: executor: invalid run: binding input "card": value of type int, want string
	// failed: error node "score": empty card
	// score: 0.1
}
