package batch_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/featgraph/featgraph/batch"
	"github.com/featgraph/featgraph/executor"
	"github.com/featgraph/featgraph/graph"
	"github.com/featgraph/featgraph/nodes"
)

// slowUpstream answers one key or many after 1 ms, and counts its calls.
type slowUpstream struct{ calls atomic.Int64 }

func (u *slowUpstream) wait(ctx context.Context) error {
	t := time.NewTimer(time.Millisecond)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (u *slowUpstream) one(ctx context.Context, key string) (string, error) {
	u.calls.Add(1)
	return "v:" + key, u.wait(ctx)
}

func (u *slowUpstream) many(ctx context.Context, keys []string) (map[string]string, error) {
	u.calls.Add(1)
	out := make(map[string]string, len(keys))
	for _, k := range keys {
		out[k] = "v:" + k
	}
	return out, u.wait(ctx)
}

// BenchmarkBatch compares batched and unbatched fetches against an upstream
// that takes 1 ms per call, however many keys it gets.
//
// each: one run of an Each over 100 keys; batched with MaxSize 50.
// concurrent: 1,000 concurrent runs each asking for one key; batched with
// MaxWait 1 ms. Each op is the 1,000 runs; p50/p99 are per run.
//
//	go test ./batch -run '^$' -bench Batch -benchtime 200x
func BenchmarkBatch(b *testing.B) {
	list := keys(100)
	for _, mode := range []string{"unbatched", "batched"} {
		b.Run("each/"+mode, func(b *testing.B) {
			u := &slowUpstream{}
			g := graph.NewBuilder()
			in := nodes.Input[[]string](g, "ids")
			var out nodes.Ref[[]string]
			if mode == "batched" {
				bt, err := batch.New("accounts", u.many, batch.MaxSize(50))
				if err != nil {
					b.Fatal(err)
				}
				defer bt.Close()
				out = batch.Each(g, "accounts", bt, in)
			} else {
				out = nodes.Each(g, "accounts", in, u.one)
			}
			built, err := g.Build()
			if err != nil {
				b.Fatal(err)
			}
			ex, err := executor.New(built)
			if err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			for range b.N {
				res, err := ex.Run(context.Background(), []executor.Binding{executor.Bind(in, list)}, out)
				if err != nil {
					b.Fatal(err)
				}
				res.Release()
			}
			b.StopTimer()
			b.ReportMetric(float64(u.calls.Load())/float64(b.N), "calls/run")
		})
	}
	for _, mode := range []string{"unbatched", "batched"} {
		b.Run("concurrent/"+mode, func(b *testing.B) {
			const runs = 1000
			u := &slowUpstream{}
			g := graph.NewBuilder()
			in := nodes.Input[string](g, "id")
			var out nodes.Ref[string]
			if mode == "batched" {
				bt, err := batch.New("accounts", u.many, batch.MaxSize(1000), batch.MaxWait(time.Millisecond))
				if err != nil {
					b.Fatal(err)
				}
				defer bt.Close()
				out = batch.Fetch(g, "account", bt, in)
			} else {
				out = nodes.Fetch1(g, "account", in, u.one)
			}
			built, err := g.Build()
			if err != nil {
				b.Fatal(err)
			}
			ex, err := executor.New(built)
			if err != nil {
				b.Fatal(err)
			}
			lat := make([]time.Duration, 0, b.N*runs)
			var mu sync.Mutex
			b.ResetTimer()
			for range b.N {
				var wg sync.WaitGroup
				for r := range runs {
					wg.Add(1)
					go func() {
						defer wg.Done()
						start := time.Now()
						res, err := ex.Run(context.Background(), []executor.Binding{executor.Bind(in, fmt.Sprintf("k%d", r))}, out)
						took := time.Since(start)
						if err != nil {
							b.Error(err)
							return
						}
						res.Release()
						mu.Lock()
						lat = append(lat, took)
						mu.Unlock()
					}()
				}
				wg.Wait()
			}
			b.StopTimer()
			slices.Sort(lat)
			q := func(p float64) float64 { return float64(lat[int(p*float64(len(lat)-1))]) / 1e6 }
			b.ReportMetric(q(0.50), "p50-ms")
			b.ReportMetric(q(0.99), "p99-ms")
			b.ReportMetric(float64(u.calls.Load())/float64(b.N*runs), "calls/run")
		})
	}
}
