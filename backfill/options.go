package backfill

import (
	"context"
	"fmt"
	"time"
)

// Option configures a Runner.
type Option func(*Runner) error

// DefaultInFlight is the bound on runs in flight when InFlight is not given.
const DefaultInFlight = 64

// InFlight bounds the runs in flight at once (default DefaultInFlight). The
// real limit is what the upstreams can take. It also bounds the memory a
// backfill holds: at most n rows at once, running or waiting to be written
// in order.
func InFlight(n int) Option {
	return func(r *Runner) error {
		if n < 1 || n > 1<<20 {
			return fmt.Errorf("backfill: in flight %d: want 1 to %d", n, 1<<20)
		}
		r.inFlight = n
		return nil
	}
}

// Deadline gives each row's run a deadline d after it starts, on top of the
// Executor's own run timeout, if any.
func Deadline(d time.Duration) Option {
	return func(r *Runner) error {
		if d < 0 {
			return fmt.Errorf("backfill: deadline %v is negative", d)
		}
		r.deadline = d
		return nil
	}
}

// Unordered writes rows as they finish instead of in the input's order: a
// slow row then holds back no other. By default the order is kept, through a
// reorder buffer of at most InFlight rows.
func Unordered() Option {
	return func(r *Runner) error {
		r.ordered = false
		return nil
	}
}

// WithOutcomes adds every node's outcome to the output rows
// (Output.Outcomes, and the "outcome.NODE" columns of the sinks).
func WithOutcomes() Option {
	return func(r *Runner) error {
		r.outcomes = true
		return nil
	}
}

// RowContext derives each row's context from the backfill's, for what a run
// needs in its context (fetchers.WithRequestCache, say).
func RowContext(fn func(context.Context) context.Context) Option {
	return func(r *Runner) error {
		r.rowCtx = fn
		return nil
	}
}

// OnProgress calls fn after every row written or dead-lettered, from the
// goroutine that writes: fn must be quick (a progress bar, a counter).
func OnProgress(fn func(Progress)) Option {
	return func(r *Runner) error {
		r.progress = fn
		return nil
	}
}
