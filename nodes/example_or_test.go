package nodes_test

import (
	"context"
	"errors"
	"fmt"
	"log"

	"github.com/featgraph/featgraph/executor"
	"github.com/featgraph/featgraph/graph"
	"github.com/featgraph/featgraph/nodes"
)

// Or stops at the first true operand. An operand that fails does not decide
// it while another can still say true: here the watch list is down (and
// falls back to false), but the high amount alone sends the payment to
// review.
func ExampleOr() {
	b := graph.NewBuilder()
	amount := nodes.Input[int](b, "amount")
	onWatchList := nodes.Fetch0(b, "watch_list", func(ctx context.Context) (bool, error) {
		return false, errors.New("watch list unavailable")
	}, nodes.Fallback(false))
	highAmount := nodes.Compute1(b, "high_amount", amount, func(a int) (bool, error) { return a > 1000, nil })
	review := nodes.Or(b, "review", []nodes.Ref[bool]{onWatchList, highAmount})

	g, err := b.Build()
	if err != nil {
		log.Fatal(err)
	}
	res, err := executor.Run(context.Background(), g, []executor.Binding{executor.Bind(amount, 5000)}, review)
	if err != nil {
		log.Fatal(err)
	}
	defer res.Release()
	r, _ := executor.Get(res, review)
	fmt.Println("review:", r)
	// Output:
	// review: true
}
