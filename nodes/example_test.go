package nodes_test

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

// run builds the graph, runs it for target with the given bindings and
// prints the target's value and how each named node ended.
func run[T any](b *graph.Builder, target nodes.Ref[T], inputs []executor.Binding, show ...string) {
	g, err := b.Build()
	if err != nil {
		fmt.Println("build:", err)
		return
	}
	res, err := executor.Run(context.Background(), g, inputs, target)
	if err != nil {
		fmt.Println("run:", err)
		return
	}
	defer res.Release()
	v, _ := executor.Get(res, target)
	fmt.Println("value:", v)
	for _, name := range show {
		n, _ := res.Lookup(name)
		fmt.Printf("  %-8s %s\n", name, n.Outcome)
	}
}

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

	run(b, approve, []executor.Binding{executor.Bind(card, "c1")}, "limit", "approve")
	// Output:
	// value: true
	//   limit    ok
	//   approve  ok
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

	run(b, score, []executor.Binding{executor.Bind(card, "c1"), executor.Bind(amount, 250)})
	// Output:
	// value: 0.5
}

// If runs only the branch it chooses: with the card on the allow list, the
// slow fraud check is never called and ends as skipped.
func ExampleIf() {
	b := graph.NewBuilder()
	card := nodes.Input[string](b, "card_id")
	allowed := nodes.Compute1(b, "allowed", card, func(id string) (bool, error) {
		return strings.HasPrefix(id, "vip-"), nil
	})
	approve := nodes.Value(b, "approve", "approve")
	fraud := nodes.Fetch1(b, "fraud", card, func(ctx context.Context, id string) (string, error) {
		return "review", nil // an expensive call
	})
	decision := nodes.If(b, "decision", allowed, approve, fraud)

	run(b, decision, []executor.Binding{executor.Bind(card, "vip-7")}, "allowed", "approve", "fraud")
	// Output:
	// value: approve
	//   allowed  ok
	//   approve  ok
	//   fraud    skipped
}

// Switch picks one branch by key; only that branch runs. Without a default
// (a zero otherwise Ref), a key that matches no case is an error.
func ExampleSwitch() {
	b := graph.NewBuilder()
	country := nodes.Input[string](b, "country")
	eu := nodes.Fetch0(b, "eu_rules", func(ctx context.Context) (int, error) { return 30, nil })
	us := nodes.Fetch0(b, "us_rules", func(ctx context.Context) (int, error) { return 50, nil })
	other := nodes.Value(b, "default_rules", 10)
	region := nodes.Compute1(b, "region", country, func(c string) (string, error) {
		if c == "FR" || c == "DE" {
			return "eu", nil
		}
		return c, nil
	})
	threshold := nodes.Switch(b, "threshold", region,
		nodes.Cases(nodes.On("eu", eu), nodes.On("US", us)),
		nodes.Default(other))

	run(b, threshold, []executor.Binding{executor.Bind(country, "FR")}, "eu_rules", "us_rules", "default_rules")
	// Output:
	// value: 30
	//   eu_rules ok
	//   us_rules skipped
	//   default_rules skipped
}

// And runs its operands concurrently and stops at the first false: the slow
// check is canceled as soon as the blocked card decides the answer.
func ExampleAnd() {
	b := graph.NewBuilder()
	notBlocked := nodes.Fetch0(b, "not_blocked", func(ctx context.Context) (bool, error) { return false, nil })
	slowCheck := nodes.Fetch0(b, "slow_check", func(ctx context.Context) (bool, error) {
		<-ctx.Done() // a call that would take long; it honours cancellation
		return false, ctx.Err()
	})
	ok := nodes.And(b, "ok", []nodes.Ref[bool]{notBlocked, slowCheck})

	run(b, ok, nil, "not_blocked", "slow_check")
	// Output:
	// value: false
	//   not_blocked ok
	//   slow_check canceled
}

// Or stops at the first true operand; a failed operand does not decide it
// while another can still say true.
func ExampleOr() {
	b := graph.NewBuilder()
	onWatchList := nodes.Fetch0(b, "watch_list", func(ctx context.Context) (bool, error) {
		return false, errors.New("watch list unavailable")
	}, nodes.Fallback(false))
	highAmount := nodes.Fetch0(b, "high_amount", func(ctx context.Context) (bool, error) { return true, nil })
	review := nodes.Or(b, "review", []nodes.Ref[bool]{onWatchList, highAmount})

	run(b, review, nil, "high_amount")
	// Output:
	// value: true
	//   high_amount ok
}

// Each calls its body once per element of a list, at most Limit at once, and
// keeps the list's order in its result.
func ExampleEach() {
	b := graph.NewBuilder()
	merchants := nodes.Input[[]string](b, "merchants")
	risks := nodes.Each(b, "merchant_risk", merchants, func(ctx context.Context, m string) (int, error) {
		return len(m), nil // a call per merchant
	}, nodes.Limit(2))

	run(b, risks, []executor.Binding{executor.Bind(merchants, []string{"acme", "globex", "initech"})})
	// Output:
	// value: [4 6 7]
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

	run(b, risks, []executor.Binding{executor.Bind(merchants, []string{"acme", "globex"})})
	// Output:
	// value: [40 60]
}
