// Package hedge is the machinery behind a [timeouts.HedgePolicy]: when a
// call sends its backup request, and the token budget that caps how many
// extra requests hedges add. The fetchers use it; users set the policy.
package hedge

import (
	"math"
	"sync/atomic"
	"time"

	"github.com/featgraph/featgraph/timeouts"
)

// Enabled reports whether policy p ever hedges.
func Enabled(p timeouts.HedgePolicy) bool {
	return p.Delay > 0 || (p.Quantile > 0 && p.Quantile < 1)
}

// Delay returns how long a call under p waits before hedging, given
// observed, which returns the upstream's latency at a quantile and whether
// enough calls were seen to know it. It returns false when p cannot say (no
// fixed delay and too few observations): then the call is not hedged.
func Delay(p timeouts.HedgePolicy, observed func(q float64) (time.Duration, bool)) (time.Duration, bool) {
	if p.Quantile > 0 && p.Quantile < 1 && observed != nil {
		if d, ok := observed(p.Quantile); ok {
			return max(d, p.MinDelay), true
		}
	}
	return p.Delay, p.Delay > 0
}

// For returns the token budget that enforces p's MaxExtra and Burst, with
// the package timeouts defaults for zero fields.
func For(p timeouts.HedgePolicy) *Budget {
	extra := p.MaxExtra
	if extra <= 0 {
		extra = timeouts.DefaultMaxExtra
	}
	burst := p.Burst
	if burst <= 0 {
		burst = timeouts.DefaultHedgeBurst
	}
	return NewBudget(extra, burst)
}

// Budget throttles hedges with a token bucket: every call earns ratio of a
// token, a hedge spends a whole one, and at most burst tokens are kept. Over
// many calls hedges therefore add at most ratio extra requests, however slow
// the upstream gets. It is safe for concurrent use.
type Budget struct {
	micros atomic.Int64 // tokens, in millionths
	earn   int64
	limit  int64
}

const tokenMicros = 1_000_000

// NewBudget returns a budget that earns ratio of a token per call and keeps
// at most burst tokens. It starts full, so that a fresh process can hedge
// its first slow calls: over n calls hedges add at most burst + ratio·n
// requests.
func NewBudget(ratio float64, burst int) *Budget {
	b := &Budget{
		earn:  int64(math.Round(max(ratio, 0) * tokenMicros)),
		limit: int64(max(burst, 1)) * tokenMicros,
	}
	b.micros.Store(b.limit)
	return b
}

// Burst returns the most tokens the budget keeps.
func (b *Budget) Burst() int { return int(b.limit / tokenMicros) }

// Earn records one call.
func (b *Budget) Earn() {
	for {
		cur := b.micros.Load()
		next := min(cur+b.earn, b.limit)
		if next == cur || b.micros.CompareAndSwap(cur, next) {
			return
		}
	}
}

// Spend takes a token for one hedge and reports whether there was one.
func (b *Budget) Spend() bool { return b.SpendKeeping(0) }

// SpendKeeping takes a token only if keep whole tokens remain after it,
// and reports whether it took one. Keeping a reserve for the first ask of
// every call leaves tokens for the calls that are still waiting much later,
// which are the ones a hedge saves.
func (b *Budget) SpendKeeping(keep int) bool {
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
func (b *Budget) Tokens() int { return int(b.micros.Load() / tokenMicros) }
