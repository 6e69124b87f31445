package backfill_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/featgraph/featgraph/backfill"
	"github.com/featgraph/featgraph/executor"
	"github.com/featgraph/featgraph/graph"
	"github.com/featgraph/featgraph/nodes"
)

// A graph computes a feature for every row of a JSON-lines file; a row with
// an amount that is not an int goes to the dead letters, naming its row and
// column, and the others go on.
func Example() {
	b := graph.NewBuilder()
	customer := nodes.Input[string](b, "customer")
	amount := nodes.Input[int](b, "amount")
	tenure := nodes.Fetch1(b, "tenure_days", customer, func(ctx context.Context, c string) (int, error) {
		return len(c) * 100, nil // a call to a customer service, in real life
	})
	nodes.Compute2(b, "risky", tenure, amount, func(days, amount int) (bool, error) {
		return days < 500 && amount > 1000, nil
	})
	g, err := b.Build()
	if err != nil {
		panic(err)
	}
	ex, err := executor.New(g)
	if err != nil {
		panic(err)
	}
	r, err := backfill.New(ex, []string{"risky"}, backfill.InFlight(64), backfill.Deadline(time.Second))
	if err != nil {
		panic(err)
	}
	rows := `{"customer": "ann", "amount": 5000}
{"customer": "bartholomew", "amount": 5000}
{"customer": "cy", "amount": "a lot"}
`
	out := backfill.NewJSONLWriter(os.Stdout)
	dead := backfill.DeadLetterFunc(func(d backfill.DeadLetter) error {
		fmt.Println("dead letter:", d.Cause)
		return nil
	})
	stats, err := r.Run(context.Background(), backfill.JSONLSource(strings.NewReader(rows), "rows.jsonl"), out, dead)
	if err != nil {
		panic(err)
	}
	if err := out.Flush(); err != nil {
		panic(err)
	}
	fmt.Printf("%d rows: %d written, %d failed\n", stats.Rows, stats.Written, stats.Failed)
	// Output:
	// dead letter: row 3: column "amount": string "a lot" is not an int
	// {"amount":5000,"customer":"ann","risky":true}
	// {"amount":5000,"customer":"bartholomew","risky":false}
	// 3 rows: 2 written, 1 failed
}
