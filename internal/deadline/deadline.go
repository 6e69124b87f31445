// Package deadline holds the deadline arithmetic the executor and the
// fetchers share: the time a context has left, the backoff before a retry,
// and a wait that refuses to sleep past the deadline. It depends on the
// standard library only.
package deadline

import (
	"context"
	"time"
)

// Remaining returns the time ctx has left at now, never negative, and false
// when ctx has no deadline.
func Remaining(ctx context.Context, now time.Time) (time.Duration, bool) {
	d, ok := ctx.Deadline()
	if !ok {
		return 0, false
	}
	return max(d.Sub(now), 0), true
}

// fits reports whether work of duration d started at now ends before ctx's
// deadline. Everything fits a context without a deadline.
func fits(ctx context.Context, now time.Time, d time.Duration) bool {
	end, ok := ctx.Deadline()
	return !ok || now.Add(d).Before(end)
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
	if !fits(ctx, time.Now(), d) || ctx.Err() != nil {
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
