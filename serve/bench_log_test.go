package serve_test

import (
	"context"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/featgraph/featgraph/decisionlog"
	"github.com/featgraph/featgraph/examples/cardauth"
	"github.com/featgraph/featgraph/executor"
	"github.com/featgraph/featgraph/serve"
	"github.com/featgraph/featgraph/shadow"
	"github.com/featgraph/featgraph/spec"
)

// BenchmarkServeLog serves the cardauth spec as BenchmarkServe's
// serve-spec does, with the decision log off, to files (fsynced per
// batch), to an in-process Kafka broker (kfake), and with the same spec
// shadowing every request (the candidate's fetches come from the request
// cache). Compare the p99 of each to off's, side by side:
//
//	go test ./serve -run '^$' -bench ServeLog -count 6
func BenchmarkServeLog(b *testing.B) {
	_, up := startUpstreams(b, cardauth.WithLatency(0))
	req := []byte(`{"transaction_id":"t1","card_id":"c1","customer_id":"u1","merchant_id":"m1"}`)
	specFile := generousSpec(b)
	serveWith := func(b *testing.B, opts ...serve.Option) {
		g, err := serve.LoadSpec("cardauth", specFile, cardauthEnv(up.URL))
		if err != nil {
			b.Fatal(err)
		}
		srv, err := serve.New([]*serve.Graph{g}, opts...)
		if err != nil {
			b.Fatal(err)
		}
		defer srv.Close()
		benchDecide(b, srv, "/v1/graphs/cardauth/decide", req)
	}
	logTo := func(b *testing.B, target string) {
		log, err := decisionlog.Open(target, decisionlog.SpillDir(b.TempDir(), 1<<30))
		if err != nil {
			b.Fatal(err)
		}
		obs, _ := decisionlog.NewObserver(log)
		serveWith(b, serve.WithDecisionLog(obs))
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := log.Shutdown(ctx); err != nil {
			b.Fatal(err)
		}
		st := log.Stats()
		b.ReportMetric(float64(st.Spilled), "spilled")
		b.ReportMetric(float64(st.Dropped), "dropped")
	}
	b.Run("off", func(b *testing.B) { serveWith(b) })
	b.Run("file", func(b *testing.B) { logTo(b, "file://"+b.TempDir()) })
	b.Run("kafka", func(b *testing.B) {
		c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(4, "decisions"))
		if err != nil {
			b.Fatal(err)
		}
		defer c.Close()
		logTo(b, "kafka://"+c.ListenAddrs()[0]+"/decisions")
	})
	b.Run("shadow-100", func(b *testing.B) {
		cand, err := spec.Load(specFile, cardauthEnv(up.URL)...)
		if err != nil {
			b.Fatal(err)
		}
		defer cand.Close()
		cex, err := executor.New(cand.Graph(), executor.WithRunTimeout(generousDeadline))
		if err != nil {
			b.Fatal(err)
		}
		crec, _ := decisionlog.NewRecorder(cand.Graph(), "cardauth-candidate")
		runner, err := shadow.New(cex, crec, shadow.Targets(cand.Targets()...), shadow.MaxInFlight(1024))
		if err != nil {
			b.Fatal(err)
		}
		obs, _ := decisionlog.NewObserver(nil, decisionlog.ShadowGraph("cardauth", runner))
		serveWith(b, serve.WithDecisionLog(obs))
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := runner.Close(ctx); err != nil {
			b.Fatal(err)
		}
		st := runner.Stats()
		b.ReportMetric(float64(st.Busy), "not-shadowed")
		b.ReportMetric(st.Targets["decision"].AgreementRate(), "agreement")
	})
}
