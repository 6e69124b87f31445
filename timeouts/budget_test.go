package timeouts_test

import (
	"context"
	"testing"
	"time"

	"github.com/featgraph/featgraph/timeouts"
)

var t0 = time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)

func TestNodeDeadline(t *testing.T) {
	tests := []struct {
		name      string
		timeout   time.Duration
		run       timeouts.Budget
		want      time.Time
		wantLimit timeouts.Limit
	}{
		{"neither", 0, timeouts.Budget{}, time.Time{}, timeouts.NoLimit},
		{"run only", 0, timeouts.Until(t0.Add(700 * time.Millisecond)), t0.Add(700 * time.Millisecond), timeouts.RunLimit},
		{"node only", 50 * time.Millisecond, timeouts.Budget{}, t0.Add(50 * time.Millisecond), timeouts.NodeLimit},
		{"node first", 50 * time.Millisecond, timeouts.Until(t0.Add(700 * time.Millisecond)), t0.Add(50 * time.Millisecond), timeouts.NodeLimit},
		{"run first: never more than the run has left", time.Second, timeouts.Until(t0.Add(30 * time.Millisecond)), t0.Add(30 * time.Millisecond), timeouts.RunLimit},
		{"equal: the run decides", 30 * time.Millisecond, timeouts.Until(t0.Add(30 * time.Millisecond)), t0.Add(30 * time.Millisecond), timeouts.RunLimit},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, limit := timeouts.NodeDeadline(t0, tt.timeout, tt.run)
			if !got.Equal(tt.want) || limit != tt.wantLimit {
				t.Errorf("NodeDeadline = %v, %v; want %v, %v", got, limit, tt.want, tt.wantLimit)
			}
		})
	}
}

func TestBudget(t *testing.T) {
	b := timeouts.Until(t0.Add(100 * time.Millisecond))
	if left, ok := b.Remaining(t0.Add(40 * time.Millisecond)); !ok || left != 60*time.Millisecond {
		t.Errorf("Remaining = %v, %v", left, ok)
	}
	if left, _ := b.Remaining(t0.Add(time.Second)); left != 0 {
		t.Errorf("Remaining past the deadline = %v, want 0", left)
	}
	if !b.Fits(t0, 99*time.Millisecond) || b.Fits(t0, 100*time.Millisecond) {
		t.Error("Fits disagrees with the deadline")
	}
	if b.Expired(t0.Add(99*time.Millisecond)) || !b.Expired(t0.Add(100*time.Millisecond)) {
		t.Error("Expired disagrees with the deadline")
	}
	var none timeouts.Budget
	if _, ok := none.Remaining(t0); ok || !none.Fits(t0, time.Hour) || none.Expired(t0.Add(time.Hour)) {
		t.Error("a Budget without deadline must fit everything and never expire")
	}
	ctx, cancel := context.WithDeadline(context.Background(), t0)
	defer cancel()
	if d, ok := timeouts.FromContext(ctx).Deadline(); !ok || !d.Equal(t0) {
		t.Errorf("FromContext deadline = %v, %v", d, ok)
	}
}

func TestBackoff(t *testing.T) {
	base := 10 * time.Millisecond
	for attempt, want := range map[int]time.Duration{1: 10 * time.Millisecond, 2: 20 * time.Millisecond, 3: 40 * time.Millisecond, 4: 50 * time.Millisecond, 40: 50 * time.Millisecond} {
		if got := timeouts.Backoff(base, attempt, 50*time.Millisecond); got != want {
			t.Errorf("Backoff(attempt %d) = %v, want %v", attempt, got, want)
		}
	}
	if got := timeouts.Backoff(base, 1000, 0); got <= 0 {
		t.Errorf("uncapped Backoff overflowed to %v", got)
	}
}

func TestSleepRefusesToSleepPastTheDeadline(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	start := time.Now()
	if timeouts.Sleep(ctx, time.Hour) {
		t.Error("Sleep(1h) within a 2s budget reported a full wait")
	}
	if time.Since(start) > time.Second {
		t.Error("Sleep started a wait that could not fit instead of giving up at once")
	}
	if !timeouts.Sleep(ctx, time.Millisecond) {
		t.Error("Sleep(1ms) within a 2s budget did not wait")
	}
	cancel()
	if timeouts.Sleep(ctx, 0) {
		t.Error("Sleep on a canceled context reported success")
	}
}
