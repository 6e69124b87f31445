package fetchers

import (
	"context"
	"net/http"
	"time"

	"github.com/sony/gobreaker/v2"

	"github.com/featgraph/featgraph/internal/hedge"
)

// Response is an upstream's answer to a call: its status (always 2xx when
// returned without error), headers and body, read in full. It is shared by
// the nodes that asked for the same thing in a run and must not be changed.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// Do sends r to the upstream with everything the Upstream adds (retries
// inside ctx's deadline, the breaker, hedging, trace context, hooks, the
// size limit) and returns the answer. When ctx carries a request cache (see
// WithRequestCache) an idempotent request already asked in this run is
// answered from it. A status other than 2xx is an *Error wrapping ErrStatus.
func (u *Upstream) Do(ctx context.Context, r Request) (*Response, error) {
	return u.do(ctx, "", r)
}

func (u *Upstream) do(ctx context.Context, node string, r Request) (*Response, error) {
	p, err := u.prepare(node, r)
	if err != nil {
		return nil, err
	}
	if cache := cacheFrom(ctx); cache != nil && p.repeat {
		return cache.do(ctx, u, p)
	}
	return u.call(ctx, p)
}

// call is one logical call: the breaker's fast refusal, then one leg, or a
// leg and its hedge.
func (u *Upstream) call(ctx context.Context, p *prepared) (*Response, error) {
	u.stats.calls.Add(1)
	resp, err := u.callOnce(ctx, p)
	if err != nil {
		u.stats.failures.Add(1)
	}
	return resp, err
}

func (u *Upstream) callOnce(ctx context.Context, p *prepared) (*Response, error) {
	if state := u.breaker.State(); state == gobreaker.StateOpen {
		u.stats.rejected.Add(1)
		return nil, u.errorf(p, 0, 0, &CircuitOpenError{State: state, Err: gobreaker.ErrOpenState})
	}
	u.hedgeBudget.Earn()
	if !p.repeat || !hedge.Enabled(u.hedge) {
		return u.leg(ctx, p)
	}
	delay, ok := hedge.Delay(u.hedge, u.latency.quantile)
	if !ok {
		return u.leg(ctx, p)
	}
	return u.hedged(ctx, p, delay)
}

type legResult struct {
	resp  *Response
	err   error
	hedge bool
}

// hedged sends p, and once more after delay if the first has not answered
// by then, the breaker is closed and the hedge budget has a token. The
// first success wins and the other leg is canceled; when one leg fails the
// call waits for the other.
//
// A hedge held back asks again after each further delay, and only these
// later asks may spend the budget's last half: calls that are only a little
// late answer before asking twice, so when tokens are scarce they go to the
// calls that are really stuck. A timer that fires more than
// a delay late means this process was stalled (GC, a busy machine) rather
// than the upstream slow: the answer may already be waiting in the socket,
// so the call looks again after one more delay (once) before paying for a
// hedge.
func (u *Upstream) hedged(ctx context.Context, p *prepared, delay time.Duration) (*Response, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel() // cancels the losing leg
	results := make(chan legResult, 2)
	launch := func(hedge bool) {
		u.legs.Add(1)
		go func() {
			defer u.legs.Done()
			resp, err := u.leg(ctx, p)
			results <- legResult{resp, err, hedge}
		}()
	}
	launch(false)
	due := time.Now().Add(delay)
	timer := time.NewTimer(delay)
	defer timer.Stop()
	pending, throttled, lookedAgain := 1, false, false
	reserve := u.hedgeBudget.Burst() / 2
	for {
		select {
		case r := <-results:
			pending--
			if r.err == nil {
				if r.hedge {
					u.stats.hedgesWon.Add(1)
				}
				return r.resp, nil
			}
			if pending == 0 {
				return nil, r.err
			}
		case now := <-timer.C:
			if !lookedAgain && now.Sub(due) > delay {
				lookedAgain = true
				due = now.Add(delay)
				timer.Reset(delay)
				continue
			}
			if u.breaker.State() != gobreaker.StateClosed || !u.hedgeBudget.SpendKeeping(reserve) {
				if !throttled {
					throttled = true
					u.stats.hedgesThrottled.Add(1)
				}
				due = now.Add(delay)
				timer.Reset(delay)
				reserve = 0
				continue
			}
			u.stats.hedgesSent.Add(1)
			pending++
			launch(true)
		}
	}
}

func (u *Upstream) errorf(p *prepared, status, attempts int, err error) *Error {
	return &Error{Upstream: u.name, Node: p.node, Method: p.method, Path: p.path, Status: status, Attempts: attempts, Err: err}
}
