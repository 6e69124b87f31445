package fetchers_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sony/gobreaker/v2"

	"github.com/featgraph/featgraph/executor"
	"github.com/featgraph/featgraph/fetchers"
	"github.com/featgraph/featgraph/graph"
	"github.com/featgraph/featgraph/nodes"
	"github.com/featgraph/featgraph/timeouts"
)

// tailServer answers after 2 ms, and after 40 ms for 1 call in 100 (a
// seeded pseudo-random draw per request), giving up when canceled.
// With tail false every call takes 2 ms: the floor of the machine's noise.
func tailServer(seed uint64, tail bool) (*httptest.Server, *atomic.Int64) {
	var hits atomic.Int64
	var mu sync.Mutex
	rng := rand.New(rand.NewPCG(seed, seed))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		mu.Lock()
		slow := rng.IntN(100) == 0 && tail
		mu.Unlock()
		d := 2 * time.Millisecond
		if slow {
			d = 40 * time.Millisecond
		}
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-t.C:
			io.WriteString(w, `{"v":1}`)
		case <-r.Context().Done():
		}
	}))
	return srv, &hits
}

type feature struct {
	V int `json:"v"`
}

// BenchmarkHedging runs a graph of 30 parallel fetches against tailServer,
// without and with hedging at the observed p95 within the default budget
// (at most 5% extra requests), and reports the graph's p50 and p99 wall
// time and the extra requests hedging sent.
//
//	go test -run XXX -bench BenchmarkHedging -benchtime 1000x -count 3 ./fetchers/
func BenchmarkHedging(b *testing.B) {
	const fetches = 30
	modes := []struct {
		name  string
		hedge timeouts.HedgePolicy // the zero policy: no hedging
		tail  bool
	}{
		{"off", timeouts.HedgePolicy{}, true},
		// Hedge at the observed p95, within the default budget.
		{"on", timeouts.HedgeAtQuantile(0.95, time.Millisecond), true},
		// The control: no slow calls, no hedging; its p99 is the machine's
		// noise, below which hedging cannot go.
		{"no-tail", timeouts.HedgePolicy{}, false},
	}
	for _, mode := range modes {
		b.Run(mode.name, func(b *testing.B) {
			srv, hits := tailServer(42, mode.tail)
			defer srv.Close()
			opts := []fetchers.Option{}
			if mode.hedge != (timeouts.HedgePolicy{}) {
				opts = append(opts, fetchers.WithHedging(mode.hedge))
			}
			u, err := fetchers.NewUpstream("features", srv.URL, opts...)
			if err != nil {
				b.Fatal(err)
			}
			defer u.Close()
			gb := graph.NewBuilder()
			targets := make([]graph.Target, fetches)
			for i := range fetches {
				targets[i] = fetchers.JSON0[feature](gb, fmt.Sprintf("f%02d", i), u,
					fetchers.GetRequest(fmt.Sprintf("/features/%d", i)), nodes.Timeout(time.Second))
			}
			g, err := gb.Build()
			if err != nil {
				b.Fatal(err)
			}
			ex, err := executor.New(g, executor.WithRunTimeout(2*time.Second))
			if err != nil {
				b.Fatal(err)
			}
			run := func() time.Duration {
				start := time.Now()
				res, err := ex.Run(context.Background(), nil, targets...)
				d := time.Since(start)
				if err != nil {
					b.Fatal(err)
				}
				res.Release()
				return d
			}
			for range 20 { // warm connections and the latency window
				run()
			}
			before := hits.Load()
			walls := make([]time.Duration, 0, b.N)
			b.ResetTimer()
			for range b.N {
				walls = append(walls, run())
			}
			b.StopTimer()
			slices.Sort(walls)
			pct := func(q float64) float64 {
				return float64(walls[min(int(q*float64(len(walls))), len(walls)-1)]) / 1e6
			}
			calls := float64(b.N * fetches)
			b.ReportMetric(pct(0.50), "p50-ms")
			b.ReportMetric(pct(0.99), "p99-ms")
			b.ReportMetric(100*(float64(hits.Load()-before)-calls)/calls, "extra-req-%")
		})
	}
}

// BenchmarkHTTPFetch shows the fetcher's own cost on a zero-latency local
// upstream: a fetch node run by the executor, the fetcher called directly,
// and the plain net/http + encoding/json baseline.
//
//	go test -run XXX -bench BenchmarkHTTPFetch -benchmem -count 5 ./fetchers/
func BenchmarkHTTPFetch(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, `{"id":"a1","limit":500}`)
	}))
	defer srv.Close()

	b.Run("net-http", func(b *testing.B) {
		client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
		defer client.CloseIdleConnections()
		ctx := context.Background()
		for b.Loop() {
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/accounts/a1", nil)
			if err != nil {
				b.Fatal(err)
			}
			resp, err := client.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			var a account
			err = json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&a)
			resp.Body.Close()
			if err != nil || a.Limit != 500 {
				b.Fatal(a, err)
			}
		}
	})

	u, err := fetchers.NewUpstream("accounts", srv.URL)
	if err != nil {
		b.Fatal(err)
	}
	defer u.Close()

	b.Run("fetcher", func(b *testing.B) {
		ctx := context.Background()
		for b.Loop() {
			a, err := fetchers.FetchJSON[account](ctx, u, fetchers.GetRequest("/accounts/a1"))
			if err != nil || a.Limit != 500 {
				b.Fatal(a, err)
			}
		}
	})

	b.Run("node", func(b *testing.B) {
		gb := graph.NewBuilder()
		ref := fetchers.JSON0[account](gb, "account", u, fetchers.GetRequest("/accounts/a1"), nodes.Timeout(time.Second))
		g, err := gb.Build()
		if err != nil {
			b.Fatal(err)
		}
		ex, err := executor.New(g)
		if err != nil {
			b.Fatal(err)
		}
		ctx := context.Background()
		for b.Loop() {
			res, err := ex.Run(ctx, nil, ref)
			if err != nil {
				b.Fatal(err)
			}
			res.Release()
		}
	})
}

// BenchmarkOpenBreakerFallback runs a fetch node whose upstream's breaker
// is open: the node serves its fallback without a request, which is the
// cost a dead upstream adds to a run.
//
//	go test -run XXX -bench BenchmarkOpenBreakerFallback -benchmem ./fetchers/
func BenchmarkOpenBreakerFallback(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	defer srv.Close()
	u, err := fetchers.NewUpstream("accounts", srv.URL, fetchers.WithAttempts(1, 0, 0),
		fetchers.WithBreaker(gobreaker.Settings{Timeout: time.Hour, ReadyToTrip: func(c gobreaker.Counts) bool { return c.ConsecutiveFailures >= 1 }}))
	if err != nil {
		b.Fatal(err)
	}
	defer u.Close()
	gb := graph.NewBuilder()
	ref := fetchers.JSON0[account](gb, "account", u, fetchers.GetRequest("/accounts/a1"), nodes.Fallback(account{ID: "fallback"}))
	g, err := gb.Build()
	if err != nil {
		b.Fatal(err)
	}
	ex, err := executor.New(g)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	run := func() executor.Outcome {
		res, err := ex.Run(ctx, nil, ref)
		if err != nil {
			b.Fatal(err)
		}
		defer res.Release()
		return res.Node(ref).Outcome
	}
	run() // trips the breaker
	if u.BreakerState() != gobreaker.StateOpen {
		b.Fatal("breaker did not open")
	}
	for b.Loop() {
		if o := run(); o != executor.OutcomeFallback {
			b.Fatal(o)
		}
	}
}
