package timeouts

import (
	"math"
	"sync/atomic"
	"time"
)

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

// Enabled reports whether the policy ever hedges.
func (p HedgePolicy) Enabled() bool {
	return p.Delay > 0 || (p.Quantile > 0 && p.Quantile < 1)
}

// After returns how long to wait before hedging, given observed, which
// returns the upstream's latency at a quantile and whether enough calls were
// seen to know it. It returns false when the policy cannot say (no fixed
// delay and too few observations): then the call is not hedged.
func (p HedgePolicy) After(observed func(q float64) (time.Duration, bool)) (time.Duration, bool) {
	if p.Quantile > 0 && p.Quantile < 1 && observed != nil {
		if d, ok := observed(p.Quantile); ok {
			return max(d, p.MinDelay), true
		}
	}
	return p.Delay, p.Delay > 0
}

// NewBudget returns the token budget that enforces the policy's MaxExtra
// and Burst.
func (p HedgePolicy) NewBudget() *HedgeBudget {
	extra := p.MaxExtra
	if extra <= 0 {
		extra = DefaultMaxExtra
	}
	burst := p.Burst
	if burst <= 0 {
		burst = DefaultHedgeBurst
	}
	return NewHedgeBudget(extra, burst)
}

// HedgeBudget throttles hedges with a token bucket: every call earns ratio
// of a token, a hedge spends a whole one, and at most burst tokens are kept.
// Over many calls hedges therefore add at most ratio extra requests, however
// slow the upstream gets. It is safe for concurrent use.
type HedgeBudget struct {
	micros atomic.Int64 // tokens, in millionths
	earn   int64
	limit  int64
}

const tokenMicros = 1_000_000

// NewHedgeBudget returns a budget that earns ratio of a token per call and
// keeps at most burst tokens. It starts full, so that a fresh process can
// hedge its first slow calls: over n calls hedges add at most burst +
// ratio·n requests.
func NewHedgeBudget(ratio float64, burst int) *HedgeBudget {
	b := &HedgeBudget{
		earn:  int64(math.Round(max(ratio, 0) * tokenMicros)),
		limit: int64(max(burst, 1)) * tokenMicros,
	}
	b.micros.Store(b.limit)
	return b
}

// Burst returns the most tokens the budget keeps.
func (b *HedgeBudget) Burst() int { return int(b.limit / tokenMicros) }

// Earn records one call.
func (b *HedgeBudget) Earn() {
	for {
		cur := b.micros.Load()
		next := min(cur+b.earn, b.limit)
		if next == cur || b.micros.CompareAndSwap(cur, next) {
			return
		}
	}
}

// Spend takes a token for one hedge and reports whether there was one.
func (b *HedgeBudget) Spend() bool { return b.SpendKeeping(0) }

// SpendKeeping takes a token only if keep whole tokens remain after it,
// and reports whether it took one. Keeping a reserve for the first ask of
// every call leaves tokens for the calls that are still waiting much later,
// which are the ones a hedge saves.
func (b *HedgeBudget) SpendKeeping(keep int) bool {
	need := int64(keep+1) * tokenMicros
	for {
		cur := b.micros.Load()
		if cur < need {
			return false
		}
		if b.micros.CompareAndSwap(cur, cur-tokenMicros) {
			return true
		}
	}
}

// Tokens returns the whole tokens saved up.
func (b *HedgeBudget) Tokens() int { return int(b.micros.Load() / tokenMicros) }
