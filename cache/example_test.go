package cache_test

import (
	"context"
	"fmt"
	"time"

	"github.com/featgraph/featgraph/cache"
	"github.com/featgraph/featgraph/executor"
	"github.com/featgraph/featgraph/graph"
	"github.com/featgraph/featgraph/nodes"
)

// A customer's tenure changes over days: cache it for ten minutes, and
// serve it up to an hour past that while a background refresh replaces it.
func ExampleFor() {
	c, err := cache.New(cache.WithMaxSize(100_000))
	if err != nil {
		panic(err)
	}
	defer c.Close()

	calls := 0
	b := graph.NewBuilder()
	customer := nodes.Input[string](b, "customer_id")
	tenure := nodes.Fetch1(b, "tenure", customer, func(ctx context.Context, id string) (int, error) {
		calls++ // the customers service
		return 1200, nil
	}, cache.For(c, 10*time.Minute, cache.Stale(time.Hour)), nodes.Timeout(50*time.Millisecond))
	g, err := b.Build()
	if err != nil {
		panic(err)
	}
	ex, err := executor.New(g)
	if err != nil {
		panic(err)
	}
	for range 3 {
		res, err := ex.Run(context.Background(), []executor.Binding{executor.Bind(customer, "u1")}, tenure)
		if err != nil {
			panic(err)
		}
		days, _ := executor.Get(res, tenure)
		res.Release()
		fmt.Println("tenure", days)
	}
	st := c.Stats()
	fmt.Printf("%d call; fetched %d, fresh %d\n", calls, st.Fetched, st.Fresh)
	// Output:
	// tenure 1200
	// tenure 1200
	// tenure 1200
	// 1 call; fetched 1, fresh 2
}
