package timeouts

import "time"

// HedgePolicy says when a call sends one backup ("hedged") request: after a
// fixed Delay, or after the upstream's observed latency at Quantile, and how
// many extra requests hedging may add in all. The zero HedgePolicy never
// hedges.
type HedgePolicy struct {
	// Delay is how long to wait for the first request before sending the
	// backup. With Quantile set it is used until enough latencies are known.
	Delay time.Duration
	// Quantile, in (0, 1), hedges after the observed latency at that quantile
	// (0.95 hedges the slowest 5% of requests).
	Quantile float64
	// MinDelay is the least delay the observed quantile may give, so that a
	// very fast upstream is not hedged on noise.
	MinDelay time.Duration
	// MaxExtra is the largest share of extra requests hedges may add: 0.05
	// allows one hedge per 20 calls on average. Zero means DefaultMaxExtra.
	MaxExtra float64
	// Burst is how many hedges may be sent back to back when saved up:
	// room for a graph's fan-out, whose calls are slow together when the
	// caller's machine stalls. Zero means DefaultHedgeBurst.
	Burst int
}

// Defaults of a HedgePolicy.
const (
	DefaultMaxExtra   = 0.05
	DefaultHedgeBurst = 50
)

// HedgeAfter is the policy that hedges after a fixed delay d.
func HedgeAfter(d time.Duration) HedgePolicy { return HedgePolicy{Delay: d} }

// HedgeAtQuantile is the policy that hedges after the observed latency at
// quantile q (0.95 for the p95), waiting at least minDelay.
func HedgeAtQuantile(q float64, minDelay time.Duration) HedgePolicy {
	return HedgePolicy{Quantile: q, MinDelay: minDelay}
}
