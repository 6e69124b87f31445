package fetchers

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/hashicorp/go-retryablehttp"

	"github.com/featgraph/featgraph/timeouts"
)

// checkRetry is the Upstream's retryablehttp.CheckRetry: retry only
// retryable failures (connection errors, bodies cut short, 5xx but 501,
// 429), only idempotent requests, at most the configured number of times,
// and only when the backoff (or Retry-After) plus one more attempt fits the
// deadline left. It decides with the same backoff function the client then
// sleeps, so no sleep outlasts the deadline.
func (u *Upstream) checkRetry(ctx context.Context, resp *http.Response, err error) (bool, error) {
	if ctxErr := ctx.Err(); ctxErr != nil {
		return false, ctxErr
	}
	if !retryable(resp, err) {
		return false, nil
	}
	st := legStateFrom(ctx)
	if st == nil || !st.repeat || st.attempt >= u.retries {
		return false, nil
	}
	wait := u.client.Backoff(u.client.RetryWaitMin, u.client.RetryWaitMax, st.attempt, resp)
	if left, ok := timeouts.FromContext(ctx).Remaining(time.Now()); ok && wait+u.attemptFloor() >= left {
		cause := err
		if cause == nil {
			cause = ErrStatus
		}
		st.stopped = &RetryBudgetError{Wait: wait, Left: left, RetryAfter: resp != nil && resp.Header.Get("Retry-After") != "", Cause: cause}
		return false, nil
	}
	return true, nil
}

// retryable reports whether a failure may go away on its own.
func retryable(resp *http.Response, err error) bool {
	if err != nil {
		switch {
		case errors.Is(err, ErrCircuitOpen), errors.Is(err, ErrTooLarge),
			errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
			return false
		case errors.Is(err, ErrTruncated):
			return true
		}
		// retryablehttp knows which transport errors are permanent
		// (bad scheme, bad certificate, too many redirects).
		retry, _ := retryablehttp.ErrorPropagatedRetryPolicy(context.Background(), nil, err)
		return retry
	}
	if resp == nil {
		return false
	}
	return resp.StatusCode == http.StatusTooManyRequests ||
		(resp.StatusCode >= 500 && resp.StatusCode != http.StatusNotImplemented)
}

// attemptFloor is the least time worth giving an attempt: the observed
// median latency once known, and never less than WithMinAttempt.
func (u *Upstream) attemptFloor() time.Duration {
	if p50, ok := u.latency.quantile(0.5); ok && p50 > u.minAttempt {
		return p50
	}
	return u.minAttempt
}
