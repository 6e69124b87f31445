package fetchers

import (
	"math"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sony/gobreaker/v2"
)

// Stats is a snapshot of an upstream's activity since it was made.
type Stats struct {
	Upstream string
	// Calls counts logical calls (a cache hit is not a call).
	Calls uint64
	// Attempts counts requests started, hedges and retries included.
	Attempts uint64
	// Retries counts attempts after the first of a leg.
	Retries uint64
	// HedgesSent and HedgesWon count backup requests and those that
	// answered first; HedgesThrottled counts calls whose hedge the budget
	// or the breaker held back at least once (it may have gone out later).
	HedgesSent, HedgesWon, HedgesThrottled uint64
	// CacheHits counts calls answered by the request cache, including
	// those that waited for the same call already under way.
	CacheHits uint64
	// Rejected counts calls and attempts the open breaker refused.
	Rejected uint64
	// Failures counts calls that ended in an error, answers that did not
	// decode included.
	Failures uint64
	// Breaker is the circuit breaker's state now.
	Breaker gobreaker.State
	// Latency quantiles of the last successful legs (a request and its
	// retries, body included); Samples says how many they are computed from
	// (at most a fixed window).
	P50, P95, P99 time.Duration
	Samples       int
}

// Stats returns a snapshot of the upstream's counters and latencies.
func (u *Upstream) Stats() Stats {
	q := u.latency.snapshot()
	return Stats{
		Upstream:        u.name,
		Calls:           u.stats.calls.Load(),
		Attempts:        u.stats.attempts.Load(),
		Retries:         u.stats.retries.Load(),
		HedgesSent:      u.stats.hedgesSent.Load(),
		HedgesWon:       u.stats.hedgesWon.Load(),
		HedgesThrottled: u.stats.hedgesThrottled.Load(),
		CacheHits:       u.stats.cacheHits.Load(),
		Rejected:        u.stats.rejected.Load(),
		Failures:        u.stats.failures.Load(),
		Breaker:         u.breaker.State(),
		P50:             q.p50, P95: q.p95, P99: q.p99,
		Samples: q.samples,
	}
}

type counters struct {
	calls, attempts, retries               atomic.Uint64
	hedgesSent, hedgesWon, hedgesThrottled atomic.Uint64
	cacheHits, rejected, failures          atomic.Uint64
}

const (
	latencyWindow = 2048
	// minSamples is how many latencies the ring needs before its quantiles
	// are trusted (for hedge delays and retry floors).
	minSamples = 20
	// refreshEvery is how many observations pass between recomputations
	// of the quantiles, which sort the window.
	refreshEvery = 64
)

// latencyRing keeps the last latencies in a fixed window and their
// quantiles, recomputed every few observations so that reading one on
// every call costs a lock, not a sort.
type latencyRing struct {
	mu      sync.Mutex
	window  []time.Duration
	next    int
	filled  int
	pending int
	sorted  []time.Duration // the window, sorted at the last refresh
}

func newLatencyRing(size int) *latencyRing {
	return &latencyRing{window: make([]time.Duration, size), sorted: make([]time.Duration, 0, size)}
}

func (r *latencyRing) observe(d time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.window[r.next] = d
	r.next = (r.next + 1) % len(r.window)
	r.filled = min(r.filled+1, len(r.window))
	r.pending++
	if r.pending >= refreshEvery || r.filled <= minSamples {
		r.refresh()
	}
}

func (r *latencyRing) refresh() {
	r.pending = 0
	r.sorted = append(r.sorted[:0], r.window[:r.filled]...)
	slices.Sort(r.sorted)
}

// quantile returns the latency at q and whether enough were observed.
func (r *latencyRing) quantile(q float64) (time.Duration, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.sorted) < minSamples {
		return 0, false
	}
	return at(r.sorted, q), true
}

type quantiles struct {
	p50, p95, p99 time.Duration
	samples       int
}

func (r *latencyRing) snapshot() quantiles {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.pending > 0 {
		r.refresh()
	}
	if len(r.sorted) == 0 {
		return quantiles{}
	}
	return quantiles{at(r.sorted, 0.5), at(r.sorted, 0.95), at(r.sorted, 0.99), len(r.sorted)}
}

// at returns the nearest-rank quantile q of sorted, which is not empty.
func at(sorted []time.Duration, q float64) time.Duration {
	i := int(math.Ceil(q*float64(len(sorted)))) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}
