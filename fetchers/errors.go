package fetchers

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/sony/gobreaker/v2"
)

// What went wrong with a call, to test with errors.Is on an *Error.
var (
	// ErrStatus: the upstream answered with a status other than 2xx.
	ErrStatus = errors.New("unexpected status")
	// ErrNotJSON: the body is not JSON (empty, garbage, trailing data).
	ErrNotJSON = errors.New("body is not JSON")
	// ErrWrongShape: the body is JSON but does not fit the expected type.
	ErrWrongShape = errors.New("body has the wrong shape")
	// ErrTruncated: the body ended early (connection closed mid-body, or
	// JSON cut short).
	ErrTruncated = errors.New("body is truncated")
	// ErrTooLarge: the body is larger than the upstream's limit.
	ErrTooLarge = errors.New("body is too large")
	// ErrBadRequest: the request could not be built (a body that does not
	// encode, a hook that failed).
	ErrBadRequest = errors.New("bad request")
	// ErrRowCount: a batch answer does not have one row per row sent.
	ErrRowCount = errors.New("wrong number of rows")
	// ErrCircuitOpen: the upstream's circuit breaker refused the call
	// without sending it. An error matching it also matches
	// gobreaker.ErrOpenState (open) or gobreaker.ErrTooManyRequests
	// (half-open, probes already under way).
	ErrCircuitOpen = errors.New("circuit open")
	// ErrRetryBudget: a retryable failure was not retried because the
	// wait and one more attempt did not fit the deadline (matched by every
	// *RetryBudgetError).
	ErrRetryBudget = errors.New("no time left to retry")
)

// Error is the error of a call to an upstream: it names the upstream, the
// node (when the call was made by a fetch node) and the request, and wraps
// what went wrong (one of the Err* values above, a transport error, a
// context error).
type Error struct {
	Upstream string
	Node     string
	Method   string
	Path     string
	// Status is the last HTTP status received, 0 if none.
	Status int
	// Attempts is how many attempts were sent (0 when none was).
	Attempts int
	// Detail is a short excerpt of an unexpected body, for the message.
	Detail string
	Err    error
}

// Error names the upstream and the request, not the node: the executor's
// cause that wraps it (an executor.NodeError) names the node, once.
func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "upstream %q", e.Upstream)
	fmt.Fprintf(&b, ": %s %s", e.Method, e.Path)
	if e.Status != 0 {
		fmt.Fprintf(&b, ": status %d", e.Status)
	}
	if e.Attempts > 1 {
		fmt.Fprintf(&b, " after %d attempts", e.Attempts)
	}
	fmt.Fprintf(&b, ": %v", e.Err)
	if e.Detail != "" {
		fmt.Fprintf(&b, " (body: %q)", e.Detail)
	}
	return b.String()
}

// Unwrap returns what went wrong.
func (e *Error) Unwrap() error { return e.Err }

// CircuitOpenError is the cause of a call refused by the breaker.
type CircuitOpenError struct {
	State gobreaker.State
	// Err is gobreaker.ErrOpenState or gobreaker.ErrTooManyRequests.
	Err error
}

func (e *CircuitOpenError) Error() string {
	return fmt.Sprintf("circuit %s: %v", e.State, e.Err)
}

// Is makes errors.Is(err, ErrCircuitOpen) true.
func (e *CircuitOpenError) Is(target error) bool { return target == ErrCircuitOpen }

// Unwrap returns gobreaker's error.
func (e *CircuitOpenError) Unwrap() error { return e.Err }

// RetryBudgetError is the cause of a retryable failure that was not
// retried because the wait before the next attempt, plus the least time an
// attempt needs, was more than the deadline left, or because the
// upstream's Retry-After asked for a longer wait than the retry policy's
// longest (MaxWait is then set).
type RetryBudgetError struct {
	Wait, Left time.Duration
	// MaxWait, when not zero, is the policy's longest wait, which Wait
	// (a Retry-After) exceeded.
	MaxWait time.Duration
	// RetryAfter is true when the wait came from the upstream's Retry-After.
	RetryAfter bool
	Cause      error
}

func (e *RetryBudgetError) Error() string {
	from := "backoff"
	if e.RetryAfter {
		from = "Retry-After"
	}
	s := fmt.Sprintf("%v: next try in %v (%s) with %v left", ErrRetryBudget, e.Wait.Round(time.Microsecond), from, e.Left.Round(time.Microsecond))
	if e.MaxWait > 0 {
		s = fmt.Sprintf("%v: next try in %v (%s), longer than the retry policy's max wait %v", ErrRetryBudget, e.Wait.Round(time.Microsecond), from, e.MaxWait)
	}
	if e.Cause != nil {
		s += ": " + e.Cause.Error()
	}
	return s
}

// Is makes errors.Is(err, ErrRetryBudget) true.
func (e *RetryBudgetError) Is(target error) bool { return target == ErrRetryBudget }

// Unwrap returns the failure that was not retried.
func (e *RetryBudgetError) Unwrap() error { return e.Cause }
