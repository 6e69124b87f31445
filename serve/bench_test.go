package serve_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/featgraph/featgraph/examples/cardauth"
	"github.com/featgraph/featgraph/executor"
	"github.com/featgraph/featgraph/fetchers"
	"github.com/featgraph/featgraph/serve"
	"github.com/featgraph/featgraph/spec"
)

// BenchmarkServe puts the cardauth spec served by package serve beside a
// hand-written net/http handler that runs the same graph built in Go
// (examples/cardauth over HTTP upstreams) with encoding/json, both over
// loopback HTTP, against the simulated services served over loopback with
// no latency: 1 decision = 1 request in, 32 upstream calls out. serve-go
// serves that Go graph through package serve, to tell serve's own cost
// from the spec's. Clients: 4 per core, keep-alive; ns/op is wall time per
// decision; p50 and p99 are the client's latencies.
//
//	go test ./serve -run '^$' -bench Serve -benchmem -count 6
func BenchmarkServe(b *testing.B) {
	_, up := startUpstreams(b, cardauth.WithLatency(0))
	cardauthReq := []byte(`{"transaction_id":"t1","card_id":"c1","customer_id":"u1","merchant_id":"m1"}`)

	b.Run("handwritten", func(b *testing.B) {
		ups, err := cardauth.NewHTTPUpstreams(up.URL)
		if err != nil {
			b.Fatal(err)
		}
		defer ups.Close()
		ca, err := cardauth.New(ups.Upstreams)
		if err != nil {
			b.Fatal(err)
		}
		h, err := handwritten(ca)
		if err != nil {
			b.Fatal(err)
		}
		benchDecide(b, h, "/decide", cardauthReq)
	})
	b.Run("serve-spec", func(b *testing.B) {
		// The spec with generous timeouts: on a loaded machine a timed-out
		// run (cheaper, and a breaker that opens) would skew the comparison.
		g, err := serve.LoadSpec("cardauth", generousSpec(b), []spec.Option{spec.Getenv(func(k string) string {
			if k == "CARDAUTH_URL" {
				return up.URL
			}
			return ""
		})})
		if err != nil {
			b.Fatal(err)
		}
		srv, err := serve.New([]*serve.Graph{g})
		if err != nil {
			b.Fatal(err)
		}
		defer srv.Close()
		benchDecide(b, srv, "/v1/graphs/cardauth/decide", cardauthReq)
	})
	b.Run("serve-go", func(b *testing.B) {
		ups, err := cardauth.NewHTTPUpstreams(up.URL)
		if err != nil {
			b.Fatal(err)
		}
		defer ups.Close()
		ca, err := cardauth.New(ups.Upstreams)
		if err != nil {
			b.Fatal(err)
		}
		g, err := serve.FromGraph("cardauth", ca.Graph, []string{"decision"}, serve.GraphDeadline(700*time.Millisecond))
		if err != nil {
			b.Fatal(err)
		}
		srv, err := serve.New([]*serve.Graph{g})
		if err != nil {
			b.Fatal(err)
		}
		defer srv.Close()
		benchDecide(b, srv, "/v1/graphs/cardauth/decide", cardauthReq)
	})
}

// handwritten is what a careful programmer writes by hand around the Go
// cardauth graph: decode the request, run, encode the decision.
func handwritten(ca *cardauth.Graph) (http.Handler, error) {
	ex, err := executor.New(ca.Graph, executor.WithRunTimeout(700*time.Millisecond))
	if err != nil {
		return nil, err
	}
	type answer struct {
		Decision *cardauth.Decision `json:"decision,omitempty"`
		Error    string             `json:"error,omitempty"`
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var in struct {
			TransactionID string `json:"transaction_id"`
			CardID        string `json:"card_id"`
			CustomerID    string `json:"customer_id"`
			MerchantID    string `json:"merchant_id"`
		}
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&in); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		res, err := ex.Run(fetchers.WithRequestCache(r.Context()),
			ca.Inputs(cardauth.Request{TransactionID: in.TransactionID, CardID: in.CardID, CustomerID: in.CustomerID, MerchantID: in.MerchantID}), ca.Decision)
		if res == nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		defer res.Release()
		w.Header().Set("Content-Type", "application/json")
		d, err := executor.Get(res, ca.Decision)
		if err != nil {
			w.WriteHeader(http.StatusBadGateway)
			_ = json.NewEncoder(w).Encode(answer{Error: err.Error()})
			return
		}
		_ = json.NewEncoder(w).Encode(answer{Decision: &d})
	}), nil
}

// benchDecide serves h on loopback and sends it decisions from 4 clients
// per core, reporting decisions/s, the clients' p50 and p99, and failures.
func benchDecide(b *testing.B, h http.Handler, path string, body []byte) {
	ts := httptest.NewServer(h)
	defer ts.Close()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	defer client.CloseIdleConnections()
	url := ts.URL + path
	post := func() (int, error) {
		resp, err := client.Post(url, "application/json", bytes.NewReader(body))
		if err != nil {
			return 0, err
		}
		_, err = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode, err
	}
	for range 50 { // warm: connections, pools, goroutines
		if code, err := post(); err != nil || code != http.StatusOK {
			b.Fatalf("warm-up: %d %v", code, err)
		}
	}
	var (
		mu     sync.Mutex
		lat    []time.Duration
		failed atomic.Int64
	)
	b.SetParallelism(4)
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		mine := make([]time.Duration, 0, 1024)
		for pb.Next() {
			t0 := time.Now()
			code, err := post()
			mine = append(mine, time.Since(t0))
			if err != nil || code != http.StatusOK {
				failed.Add(1)
			}
		}
		mu.Lock()
		lat = append(lat, mine...)
		mu.Unlock()
	})
	elapsed := time.Since(start)
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "decisions/s")
	b.ReportMetric(float64(quantile(lat, 0.50).Microseconds()), "p50-µs")
	b.ReportMetric(float64(quantile(lat, 0.99).Microseconds()), "p99-µs")
	b.ReportMetric(float64(failed.Load()), "failed")
}

func quantile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	return sorted[min(len(sorted)-1, int(q*float64(len(sorted))))]
}

// BenchmarkShed measures a 429: the time from a request reaching the
// handler to its answer when every run slot is taken (in process, no
// network), beside a 404 for an unknown graph as the floor of any answer.
//
//	go test ./serve -run '^$' -bench Shed -benchmem -count 6
func BenchmarkShed(b *testing.B) {
	f := newFixture(b, nil, serve.WithMaxInFlight(1))
	gate := f.up.setGate()
	held := make(chan struct{})
	go func() {
		defer close(held)
		call(b, "POST", f.url+"/v1/graphs/cardauth/decide", req("1"), nil, nil)
	}()
	for f.srv.InFlight() == 0 {
		time.Sleep(time.Millisecond)
	}
	body := []byte(`{"transaction_id":"t1","card_id":"c1","customer_id":"u1","merchant_id":"m1"}`)
	for _, bc := range []struct{ name, path string }{
		{"429", "/v1/graphs/cardauth/decide"},
		{"404", "/v1/graphs/nope"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				r := httptest.NewRequest("POST", bc.path, bytes.NewReader(body))
				if bc.name == "404" {
					r.Method = "GET"
				}
				w := httptest.NewRecorder()
				f.srv.ServeHTTP(w, r)
				if w.Code != map[string]int{"429": 429, "404": 404}[bc.name] {
					b.Fatalf("%d", w.Code)
				}
			}
		})
	}
	close(gate)
	<-held
}
