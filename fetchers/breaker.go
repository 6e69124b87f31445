package fetchers

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/sony/gobreaker/v2"
)

// errServerFailed tells the breaker that an attempt got a 5xx answer.
var errServerFailed = errors.New("server error status")

// breakerTransport sends each attempt through the upstream's circuit
// breaker: an open breaker refuses it at once, and every answer counts for
// or against the upstream's health (5xx and transport errors against;
// cancellations not at all).
type breakerTransport struct{ u *Upstream }

func (t breakerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	done, err := t.u.breaker.Allow()
	if err != nil {
		t.u.stats.rejected.Add(1)
		state := gobreaker.StateOpen
		if errors.Is(err, gobreaker.ErrTooManyRequests) {
			state = gobreaker.StateHalfOpen
		}
		if r.Body != nil {
			r.Body.Close()
		}
		return nil, &CircuitOpenError{State: state, Err: err}
	}
	start := time.Now()
	resp, err := t.u.transport.RoundTrip(r)
	if ctxErr := r.Context().Err(); !errors.Is(ctxErr, context.Canceled) {
		// Canceled attempts (a hedge that lost, a caller that left) say
		// nothing of how long the upstream takes; timed-out ones give a
		// lower bound.
		t.u.attemptTimes.observe(time.Since(start))
	}
	switch {
	case err != nil:
		done(err)
	case resp.StatusCode >= 500:
		done(errServerFailed)
	default:
		done(nil)
	}
	return resp, err
}

// BreakerState returns the state of the upstream's circuit breaker.
func (u *Upstream) BreakerState() gobreaker.State { return u.breaker.State() }
