package timeouts

import (
	"context"
	"time"
)

// Budget is the time a piece of work may take: a deadline, or none.
// The zero Budget has no deadline.
type Budget struct {
	deadline time.Time
}

// Until returns the Budget that ends at deadline; a zero deadline means none.
func Until(deadline time.Time) Budget { return Budget{deadline: deadline} }

// FromContext returns the Budget of ctx's deadline.
func FromContext(ctx context.Context) Budget {
	d, _ := ctx.Deadline()
	return Budget{deadline: d}
}

// Deadline returns the deadline and whether there is one.
func (b Budget) Deadline() (time.Time, bool) { return b.deadline, !b.deadline.IsZero() }

// Remaining returns the time left at now, never negative, and false when there
// is no deadline.
func (b Budget) Remaining(now time.Time) (time.Duration, bool) {
	if b.deadline.IsZero() {
		return 0, false
	}
	return max(b.deadline.Sub(now), 0), true
}

// Expired reports whether the deadline has passed at now.
func (b Budget) Expired(now time.Time) bool {
	return !b.deadline.IsZero() && !now.Before(b.deadline)
}

// Fits reports whether work of duration d started at now ends before the
// deadline. Everything fits a Budget without a deadline.
func (b Budget) Fits(now time.Time, d time.Duration) bool {
	return b.deadline.IsZero() || now.Add(d).Before(b.deadline)
}

// Limit says which bound decides a node's deadline.
type Limit uint8

const (
	// NoLimit: neither the node nor the run has a deadline.
	NoLimit Limit = iota
	// NodeLimit: the node's own timeout ends first.
	NodeLimit
	// RunLimit: the run's deadline ends first (or the node has no timeout).
	RunLimit
)

// NodeDeadline returns the deadline of a node that starts at now with its own
// timeout (0 for none) inside run, and which of the two decides. A node is
// never given more time than the run has left.
func NodeDeadline(now time.Time, timeout time.Duration, run Budget) (time.Time, Limit) {
	runEnd, hasRun := run.Deadline()
	switch {
	case timeout <= 0 && !hasRun:
		return time.Time{}, NoLimit
	case timeout <= 0:
		return runEnd, RunLimit
	}
	own := now.Add(timeout)
	if hasRun && !own.Before(runEnd) {
		return runEnd, RunLimit
	}
	return own, NodeLimit
}

// Backoff returns the wait before try number attempt+1 (attempt >= 1) when
// the first retry waits base: base, 2·base, 4·base, … capped at limit when
// limit > 0.
func Backoff(base time.Duration, attempt int, limit time.Duration) time.Duration {
	d := base
	for i := 1; i < attempt && d < time.Hour; i++ {
		d *= 2
	}
	if limit > 0 && d > limit {
		d = limit
	}
	return d
}

// Sleep waits d unless ctx ends first, and refuses to start a wait that
// would end past ctx's deadline: the caller gives up at once rather than
// sleeping into a timeout. It reports whether the full wait happened.
func Sleep(ctx context.Context, d time.Duration) bool {
	if !FromContext(ctx).Fits(time.Now(), d) || ctx.Err() != nil {
		return false
	}
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
