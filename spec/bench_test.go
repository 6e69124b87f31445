package spec_test

import (
	"context"
	"github.com/featgraph/featgraph/graph"
	"net/http/httptest"
	"os"
	"testing"

	"github.com/featgraph/featgraph/examples/cardauth"
	"github.com/featgraph/featgraph/executor"
	"github.com/featgraph/featgraph/fetchers"
	"github.com/featgraph/featgraph/spec"
)

// BenchmarkLoad measures loading examples/specs/cardauth.yaml: parsing,
// checking, compiling its expressions and building the graph.
func BenchmarkLoad(b *testing.B) {
	data, err := os.ReadFile("../examples/specs/cardauth.yaml")
	if err != nil {
		b.Fatal(err)
	}
	getenv := spec.Getenv(func(string) string { return "" })
	b.ReportAllocs()
	for b.Loop() {
		s, err := spec.Parse("cardauth.yaml", data, getenv)
		if err != nil {
			b.Fatal(err)
		}
		s.Close()
	}
}

// BenchmarkCardAuthOverHTTP runs the card-authorization decision against the
// simulated services served over local HTTP with no added latency, two
// ways side by side: the Go-built graph on cardauth.HTTPUpstreams (the
// baseline) and examples/specs/cardauth.yaml. Both go through package
// fetchers, so the difference is the spec's own cost: templated requests,
// JSON answers as maps, expressions instead of Go code.
func BenchmarkCardAuthOverHTTP(b *testing.B) {
	svc, err := cardauth.NewServices()
	if err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(svc.Handler())
	defer srv.Close()
	req := cardauth.Request{TransactionID: "t1", CardID: "c1", CustomerID: "u1", MerchantID: "m1"}

	b.Run("go", func(b *testing.B) {
		up, err := cardauth.NewHTTPUpstreams(srv.URL)
		if err != nil {
			b.Fatal(err)
		}
		defer up.Close()
		ca, err := cardauth.New(up.Upstreams)
		if err != nil {
			b.Fatal(err)
		}
		ex, err := executor.New(ca.Graph)
		if err != nil {
			b.Fatal(err)
		}
		inputs := ca.Inputs(req)
		b.ReportAllocs()
		for b.Loop() {
			res, err := ex.Run(fetchers.WithRequestCache(context.Background()), inputs, ca.Decision)
			if err != nil {
				b.Fatal(err)
			}
			res.Release()
		}
	})
	b.Run("spec", func(b *testing.B) {
		s, err := spec.Load("../examples/specs/cardauth.yaml", spec.Getenv(func(string) string { return srv.URL }))
		if err != nil {
			b.Fatal(err)
		}
		defer s.Close()
		ex, err := executor.New(s.Graph())
		if err != nil {
			b.Fatal(err)
		}
		decision, _ := graph.Lookup[any](s.Graph(), "decision")
		inputs := []executor.Binding{executor.BindNamed("transaction_id", req.TransactionID), executor.BindNamed("card_id", req.CardID),
			executor.BindNamed("customer_id", req.CustomerID), executor.BindNamed("merchant_id", req.MerchantID)}
		b.ReportAllocs()
		failed := 0
		for b.Loop() {
			res, err := ex.Run(fetchers.WithRequestCache(context.Background()), inputs, decision)
			if res == nil {
				b.Fatal(err)
			}
			if err != nil {
				failed++ // the spec's per-call timeouts, on a machine that stalled
			}
			res.Release()
		}
		b.ReportMetric(float64(failed), "failed-runs")
	})
}
