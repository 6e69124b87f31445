package fetchers

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/hashicorp/go-retryablehttp"

	"github.com/featgraph/featgraph/internal/deadline"
)

// checkRetry is the Upstream's retryablehttp.CheckRetry: retry only
// retryable failures (connection errors, bodies cut short, 5xx but 501,
// 429), only idempotent requests, at most the configured number of times,
// only when the backoff (or Retry-After) is within the policy's longest
// wait, and only when it plus one more attempt fits the deadline left. It decides with the same backoff function the client then
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
	cause := redactError(err, st.p.url, st.p.shown)
	if cause == nil {
		cause = ErrStatus
	}
	wait := u.client.Backoff(u.client.RetryWaitMin, u.client.RetryWaitMax, st.attempt, resp)
	retryAfter := resp != nil && resp.Header.Get("Retry-After") != ""
	if wait > u.client.RetryWaitMax {
		// Only a Retry-After asks for more than the policy's longest wait:
		// rather than hold the caller past it, or call again sooner than
		// the server asked, give up now.
		st.stopped = &RetryBudgetError{Wait: wait, MaxWait: u.client.RetryWaitMax, RetryAfter: retryAfter, Cause: cause}
		return false, nil
	}
	if left, ok := deadline.Remaining(ctx, time.Now()); ok && wait+u.attemptFloor() >= left {
		st.stopped = &RetryBudgetError{Wait: wait, Left: left, RetryAfter: retryAfter, Cause: cause}
		return false, nil
	}
	return true, nil
}

// retryable reports whether a failure may go away on its own.
func retryable(resp *http.Response, err error) bool {
	if err != nil {
		switch {
		case errors.Is(err, ErrCircuitOpen), errors.Is(err, ErrTooLarge), errors.Is(err, ErrRedirect),
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
// median duration of attempts once known, failed and timed-out ones
// included (a timed-out attempt counts the time it was given, a lower
// bound), and never less than WithMinAttempt.
func (u *Upstream) attemptFloor() time.Duration {
	if p50, ok := u.attemptTimes.quantile(0.5); ok && p50 > u.minAttempt {
		return p50
	}
	return u.minAttempt
}
