package deadline_test

import (
	"context"
	"testing"
	"time"

	"github.com/featgraph/featgraph/internal/deadline"
)

var t0 = time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)

func TestRemaining(t *testing.T) {
	ctx, cancel := context.WithDeadline(context.Background(), t0.Add(100*time.Millisecond))
	defer cancel()
	if left, ok := deadline.Remaining(ctx, t0.Add(40*time.Millisecond)); !ok || left != 60*time.Millisecond {
		t.Errorf("Remaining = %v, %v; want 60ms, true", left, ok)
	}
	if left, ok := deadline.Remaining(ctx, t0.Add(time.Second)); !ok || left != 0 {
		t.Errorf("Remaining past the deadline = %v, %v; want 0, true", left, ok)
	}
	if left, ok := deadline.Remaining(context.Background(), t0); ok || left != 0 {
		t.Errorf("Remaining without a deadline = %v, %v; want 0, false", left, ok)
	}
}

func TestBackoff(t *testing.T) {
	base := 10 * time.Millisecond
	for attempt, want := range map[int]time.Duration{1: 10 * time.Millisecond, 2: 20 * time.Millisecond, 3: 40 * time.Millisecond, 4: 50 * time.Millisecond, 40: 50 * time.Millisecond} {
		if got := deadline.Backoff(base, attempt, 50*time.Millisecond); got != want {
			t.Errorf("Backoff(attempt %d) = %v, want %v", attempt, got, want)
		}
	}
	if got := deadline.Backoff(base, 1000, 0); got <= 0 {
		t.Errorf("uncapped Backoff overflowed to %v", got)
	}
}

func TestSleepRefusesToSleepPastTheDeadline(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	start := time.Now()
	if deadline.Sleep(ctx, time.Hour) {
		t.Error("Sleep(1h) within a 2s budget reported a full wait")
	}
	if time.Since(start) > time.Second {
		t.Error("Sleep started a wait that could not fit instead of giving up at once")
	}
	if !deadline.Sleep(ctx, time.Millisecond) {
		t.Error("Sleep(1ms) within a 2s budget did not wait")
	}
	if !deadline.Sleep(context.Background(), time.Millisecond) {
		t.Error("Sleep(1ms) without a deadline did not wait")
	}
	cancel()
	if deadline.Sleep(ctx, 0) {
		t.Error("Sleep on a canceled context reported success")
	}
}
