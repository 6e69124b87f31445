package decisionlog_test

import (
	"context"
	"testing"

	"github.com/featgraph/featgraph/decisionlog"
	"github.com/featgraph/featgraph/examples/cardauth"
	"github.com/featgraph/featgraph/executor"
)

// BenchmarkRecord measures what logging adds to the decision path for the
// card-authorization graph (45 nodes, 32 fetches): the run alone, the run
// then Recorder.Record (every value encoded), and the run then
// Logger.Observe into a file log (Record, Marshal, enqueue).
//
//	go test ./decisionlog -run '^$' -bench Record -benchmem -count 6
func BenchmarkRecord(b *testing.B) {
	svc, err := cardauth.NewServices()
	if err != nil {
		b.Fatal(err)
	}
	ca, err := cardauth.New(svc.Upstreams())
	if err != nil {
		b.Fatal(err)
	}
	ex, err := executor.New(ca.Graph)
	if err != nil {
		b.Fatal(err)
	}
	in := ca.Inputs(cardauth.Request{TransactionID: "t1", CardID: "c1", CustomerID: "u1", MerchantID: "m1"})
	ctx := context.Background()
	rec, err := decisionlog.NewRecorder(ca.Graph, "cardauth")
	if err != nil {
		b.Fatal(err)
	}
	run := func(b *testing.B, after func(*executor.Result)) {
		b.ReportAllocs()
		for b.Loop() {
			res, err := ex.Run(ctx, in, ca.Decision)
			if err != nil {
				b.Fatal(err)
			}
			after(res)
			res.Release()
		}
	}
	b.Run("run", func(b *testing.B) { run(b, func(*executor.Result) {}) })
	b.Run("run+record", func(b *testing.B) {
		run(b, func(res *executor.Result) {
			if _, err := rec.Record("", res); err != nil {
				b.Fatal(err)
			}
		})
	})
	b.Run("run+observe-file", func(b *testing.B) {
		l, err := decisionlog.Open("file://"+b.TempDir(), decisionlog.QueueSize(1<<16))
		if err != nil {
			b.Fatal(err)
		}
		lg, _ := decisionlog.NewLogger(rec, l, nil)
		run(b, func(res *executor.Result) { lg.Observe(ctx, "", res) })
		b.StopTimer()
		_ = l.Shutdown(ctx)
		b.ReportMetric(float64(l.Stats().Spilled), "spilled")
	})
}
