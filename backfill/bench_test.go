package backfill_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/featgraph/featgraph/backfill"
	"github.com/featgraph/featgraph/examples/cardauth"
	"github.com/featgraph/featgraph/executor"
)

// cardauthRows yields n card-authorization requests as rows.
func cardauthRows(n int) backfill.Source {
	return func(yield func(backfill.Row, error) bool) {
		for i := range n {
			row := backfill.Row{N: int64(i + 1), Columns: map[string]any{
				"transaction_id": fmt.Sprintf("t%d", i),
				"card_id":        fmt.Sprintf("c%d", i%5000),
				"customer_id":    fmt.Sprintf("u%d", i%4000),
				"merchant_id":    fmt.Sprintf("m%d", i%300),
			}}
			if !yield(row, nil) {
				return
			}
		}
	}
}

// BenchmarkCardauth2ms runs the card-authorization graph (32 fetches, chain
// of 4) against the simulated services answering every call after 2 ms:
// "sequential" is a loop over Executor.Run, one row after another (what a
// naive backfill does); "backfill-256" is a backfill with 256 runs in flight.
// One op is one row; compare ns/op (or rows/s).
//
//	go test -run '^$' -bench 'Cardauth2ms/sequential' -benchtime 300x -count 5 ./backfill/
//	go test -run '^$' -bench 'Cardauth2ms/backfill' -benchtime 100000x -count 5 ./backfill/
func BenchmarkCardauth2ms(b *testing.B) {
	svc, err := cardauth.NewServices(cardauth.WithLatency(2 * time.Millisecond))
	if err != nil {
		b.Fatal(err)
	}
	ca, err := cardauth.New(svc.Upstreams())
	if err != nil {
		b.Fatal(err)
	}
	// A generous deadline: this measures throughput on a loaded machine, not the SLA.
	ex, err := executor.New(ca.Graph, executor.WithRunTimeout(10*time.Second))
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.Run("sequential", func(b *testing.B) {
		b.ReportAllocs()
		failed := 0
		i := 0
		for b.Loop() {
			req := cardauth.Request{TransactionID: fmt.Sprintf("t%d", i), CardID: fmt.Sprintf("c%d", i%5000),
				CustomerID: fmt.Sprintf("u%d", i%4000), MerchantID: fmt.Sprintf("m%d", i%300)}
			i++
			res, err := ex.Run(ctx, ca.Inputs(req), ca.Decision)
			if err != nil {
				failed++
			}
			if res != nil {
				res.Release()
			}
		}
		if failed > 0 {
			b.Fatalf("%d rows failed", failed)
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "rows/s")
	})
	// The floor under backfill-256: 256 goroutines running rows with no
	// source, sink, typing or ordering; what backfill costs is the difference.
	b.Run("bare-256", func(b *testing.B) {
		b.ReportAllocs()
		var next, failed atomic.Int64
		var wg sync.WaitGroup
		b.ResetTimer()
		for range 256 {
			wg.Go(func() {
				for i := next.Add(1) - 1; i < int64(b.N); i = next.Add(1) - 1 {
					req := cardauth.Request{TransactionID: fmt.Sprintf("t%d", i), CardID: fmt.Sprintf("c%d", i%5000),
						CustomerID: fmt.Sprintf("u%d", i%4000), MerchantID: fmt.Sprintf("m%d", i%300)}
					res, err := ex.Run(ctx, ca.Inputs(req), ca.Decision)
					if err != nil {
						failed.Add(1)
					}
					if res != nil {
						res.Release()
					}
				}
			})
		}
		wg.Wait()
		if failed.Load() > 0 {
			b.Fatalf("%d rows failed", failed.Load())
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "rows/s")
	})
	for _, inFlight := range []int{256} {
		b.Run(fmt.Sprintf("backfill-%d", inFlight), func(b *testing.B) {
			b.ReportAllocs()
			r, err := backfill.New(ex, []string{"decision"}, backfill.InFlight(inFlight))
			if err != nil {
				b.Fatal(err)
			}
			written := 0
			sink := backfill.SinkFunc(func(backfill.Output) error { written++; return nil })
			b.ResetTimer()
			st, err := r.Run(ctx, cardauthRows(b.N), sink, nil)
			if err != nil {
				b.Fatal(err)
			}
			if st.Failed > 0 || written != b.N {
				b.Fatalf("%d rows failed, %d written of %d", st.Failed, written, b.N)
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}
