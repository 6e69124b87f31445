package nodes_test

import (
	"context"
	"fmt"
	"log"
	"strings"

	"github.com/featgraph/featgraph/executor"
	"github.com/featgraph/featgraph/graph"
	"github.com/featgraph/featgraph/nodes"
)

// If runs only the branch its condition chooses. Here a card on the allow
// list is approved at once: the expensive fraud check is never called and
// ends as skipped, which the run's result says node by node.
func ExampleIf() {
	b := graph.NewBuilder()
	card := nodes.Input[string](b, "card_id")
	// The condition: any node of type bool.
	allowed := nodes.Compute1(b, "allowed", card, func(id string) (bool, error) {
		return strings.HasPrefix(id, "vip-"), nil
	})
	// The two branches: refs of the same type, declared like any node.
	approve := nodes.Value(b, "approve", "approve")
	fraud := nodes.Fetch1(b, "fraud", card, func(ctx context.Context, id string) (string, error) {
		return "review", nil // an expensive call in real life
	})
	decision := nodes.If(b, "decision", allowed, approve, fraud)

	g, err := b.Build()
	if err != nil {
		log.Fatal(err)
	}
	for _, id := range []string{"vip-7", "c1"} {
		res, err := executor.Run(context.Background(), g, []executor.Binding{executor.Bind(card, id)}, decision)
		if err != nil {
			log.Fatal(err)
		}
		d, _ := executor.Get(res, decision)
		fmt.Printf("%-5s → %-7s (fraud %s)\n", id, d, res.Node(fraud).Outcome)
		res.Release()
	}
	// Output:
	// vip-7 → approve (fraud skipped)
	// c1    → review  (fraud ok)
}
