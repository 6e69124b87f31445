package cache_test

import (
	"context"
	"testing"
	"time"

	"github.com/featgraph/featgraph/cache"
	"github.com/featgraph/featgraph/executor"
	"github.com/featgraph/featgraph/graph"
	"github.com/featgraph/featgraph/nodes"
)

// BenchmarkCacheHit is the cost of serving a fetch node from the cache
// against running its (instant) body: the cache's own overhead per node.
//
//	go test ./cache -run '^$' -bench CacheHit -benchmem -count 5
func BenchmarkCacheHit(b *testing.B) {
	for _, mode := range []string{"uncached", "cached"} {
		b.Run(mode, func(b *testing.B) {
			c, err := cache.New()
			if err != nil {
				b.Fatal(err)
			}
			defer c.Close()
			var opts []nodes.Option
			if mode == "cached" {
				opts = append(opts, cache.For(c, time.Hour))
			}
			g := graph.NewBuilder()
			in := nodes.Input[string](g, "customer_id")
			p := nodes.Fetch1(g, "profile", in, func(_ context.Context, id string) (Profile, error) {
				return Profile{ID: id, Tenure: 7}, nil
			}, opts...)
			built, err := g.Build()
			if err != nil {
				b.Fatal(err)
			}
			ex, err := executor.New(built)
			if err != nil {
				b.Fatal(err)
			}
			inputs := []executor.Binding{executor.Bind(in, "u1")}
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				res, err := ex.Run(context.Background(), inputs, p)
				if err != nil {
					b.Fatal(err)
				}
				res.Release()
			}
		})
	}
}
