package nodes_test

import (
	"context"
	"fmt"
	"log"

	"github.com/featgraph/featgraph/executor"
	"github.com/featgraph/featgraph/graph"
	"github.com/featgraph/featgraph/nodes"
)

// And runs its operands concurrently and stops at the first false. Here the
// card is blocked, which decides the answer: the slow check is canceled
// rather than waited for. Its body sees the cancellation through its
// context, as every fetch body should.
func ExampleAnd() {
	b := graph.NewBuilder()
	notBlocked := nodes.Fetch0(b, "not_blocked", func(ctx context.Context) (bool, error) {
		return false, nil // the card is blocked
	})
	slowCheck := nodes.Fetch0(b, "slow_check", func(ctx context.Context) (bool, error) {
		<-ctx.Done() // a call that would take long; it honours cancellation
		return false, ctx.Err()
	})
	mayPay := nodes.And(b, "may_pay", []nodes.Ref[bool]{notBlocked, slowCheck})

	g, err := b.Build()
	if err != nil {
		log.Fatal(err)
	}
	res, err := executor.Run(context.Background(), g, nil, mayPay)
	if err != nil {
		log.Fatal(err)
	}
	defer res.Release()
	ok, _ := executor.Get(res, mayPay)
	fmt.Println("may pay:", ok)
	fmt.Println("slow_check:", res.Node(slowCheck).Outcome)
	// Output:
	// may pay: false
	// slow_check: canceled
}
