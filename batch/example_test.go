package batch_test

import (
	"context"
	"fmt"

	"github.com/featgraph/featgraph/batch"
	"github.com/featgraph/featgraph/executor"
	"github.com/featgraph/featgraph/graph"
	"github.com/featgraph/featgraph/nodes"
)

// An Each over 120 merchants against an endpoint that answers up to 50
// at a time: 3 calls instead of 120.
func ExampleEach() {
	merchants, err := batch.New("merchants", func(ctx context.Context, ids []string) (map[string]int, error) {
		out := make(map[string]int, len(ids)) // one call to the merchants service
		for _, id := range ids {
			out[id] = len(id)
		}
		return out, nil
	}, batch.MaxSize(50))
	if err != nil {
		panic(err)
	}
	defer merchants.Close()

	b := graph.NewBuilder()
	ids := nodes.Input[[]string](b, "merchant_ids")
	sizes := batch.Each(b, "merchant_sizes", merchants, ids)
	g, err := b.Build()
	if err != nil {
		panic(err)
	}
	list := make([]string, 120)
	for i := range list {
		list[i] = fmt.Sprintf("m%d", i)
	}
	res, err := executor.Run(context.Background(), g, []executor.Binding{executor.Bind(ids, list)}, sizes)
	if err != nil {
		panic(err)
	}
	defer res.Release()
	got, _ := executor.Get(res, sizes)
	fmt.Println(len(got), "values,", merchants.Stats().Calls, "calls")
	// Output: 120 values, 3 calls
}
