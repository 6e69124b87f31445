package fetchers_test

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sony/gobreaker/v2"

	"github.com/featgraph/featgraph/fetchers"
)

// neverTrip keeps the breaker out of tests about retries.
var neverTrip = fetchers.WithBreaker(gobreaker.Settings{ReadyToTrip: func(gobreaker.Counts) bool { return false }})

func TestRetriesServerErrorsThenSucceeds(t *testing.T) {
	f := newFake(t, func(w http.ResponseWriter, r *http.Request, hit int64) {
		if hit <= 2 {
			writeJSON(w, http.StatusServiceUnavailable, `{"error":"busy"}`)
			return
		}
		writeJSON(w, http.StatusOK, okAccount)
	})
	u := newUpstream(t, f, fetchers.WithAttempts(4, time.Millisecond, 5*time.Millisecond))
	got, err := fetchers.FetchJSON[account](withTimeout(t, 5*time.Second), u, fetchers.GetRequest("/accounts/a1"))
	if err != nil {
		t.Fatal(err)
	}
	if got != (account{ID: "a1", Limit: 500}) {
		t.Errorf("got %+v", got)
	}
	if h := f.hits.Load(); h != 3 {
		t.Errorf("server hits = %d, want 3", h)
	}
	if s := u.Stats(); s.Attempts != 3 || s.Retries != 2 || s.Calls != 1 || s.Failures != 0 {
		t.Errorf("stats = %+v, want 3 attempts, 2 retries, 1 call, 0 failures", s)
	}
}

func TestRetriesGiveUpAfterLimit(t *testing.T) {
	f := newFake(t, func(w http.ResponseWriter, r *http.Request, hit int64) {
		writeJSON(w, http.StatusInternalServerError, `{"error":"boom"}`)
	})
	u := newUpstream(t, f, fetchers.WithAttempts(3, time.Millisecond, time.Millisecond))
	_, err := fetchers.FetchJSON[account](withTimeout(t, 5*time.Second), u, fetchers.GetRequest("/accounts/a1"))
	if !errors.Is(err, fetchers.ErrStatus) {
		t.Fatalf("err = %v, want ErrStatus", err)
	}
	e := asError(t, err)
	if e.Status != 500 || e.Attempts != 3 {
		t.Errorf("status %d after %d attempts, want 500 after 3", e.Status, e.Attempts)
	}
	mustContain(t, err.Error(), `upstream "accounts"`, "GET /accounts/a1", "status 500", "boom")
	if h := f.hits.Load(); h != 3 {
		t.Errorf("server hits = %d, want 3", h)
	}
}

func TestNoRetryOnClientErrorOrNotImplemented(t *testing.T) {
	for _, status := range []int{http.StatusBadRequest, http.StatusNotFound, http.StatusNotImplemented} {
		f := newFake(t, func(w http.ResponseWriter, r *http.Request, hit int64) {
			writeJSON(w, status, `{}`)
		})
		u := newUpstream(t, f, fetchers.WithAttempts(4, time.Millisecond, time.Millisecond))
		_, err := fetchers.FetchJSON[account](withTimeout(t, 5*time.Second), u, fetchers.GetRequest("/x"))
		if !errors.Is(err, fetchers.ErrStatus) || asError(t, err).Status != status {
			t.Errorf("status %d: err = %v", status, err)
		}
		if h := f.hits.Load(); h != 1 {
			t.Errorf("status %d: server hits = %d, want 1", status, h)
		}
	}
}

func TestPostIsRetriedOnlyWhenIdempotent(t *testing.T) {
	f := newFake(t, func(w http.ResponseWriter, r *http.Request, hit int64) {
		writeJSON(w, http.StatusBadGateway, `{}`)
	})
	u := newUpstream(t, f, fetchers.WithAttempts(3, time.Millisecond, time.Millisecond))
	ctx := withTimeout(t, 5*time.Second)
	if _, err := fetchers.FetchJSON[account](ctx, u, fetchers.PostJSONRequest("/charge", map[string]int{"amount": 1})); err == nil {
		t.Fatal("want an error")
	}
	if h := f.hits.Load(); h != 1 {
		t.Errorf("plain POST: server hits = %d, want 1", h)
	}
	req := fetchers.PostJSONRequest("/score", map[string]int{"amount": 1})
	req.Idempotent = true
	if _, err := fetchers.FetchJSON[account](ctx, u, req); err == nil {
		t.Fatal("want an error")
	}
	if h := f.hits.Load(); h != 1+3 {
		t.Errorf("idempotent POST: server hits = %d, want 1 + 3", h-1)
	}
	if got := f.lastBody(); got != `{"amount":1}` {
		t.Errorf("retried body = %q, want the same JSON", got)
	}
}

func TestTooManyRequestsHonoursRetryAfter(t *testing.T) {
	f := newFake(t, func(w http.ResponseWriter, r *http.Request, hit int64) {
		if hit == 1 {
			w.Header().Set("Retry-After", "1")
			writeJSON(w, http.StatusTooManyRequests, `{}`)
			return
		}
		writeJSON(w, http.StatusOK, okAccount)
	})
	u := newUpstream(t, f, fetchers.WithAttempts(3, time.Millisecond, 2*time.Second))
	start := time.Now()
	if _, err := fetchers.FetchJSON[account](withTimeout(t, 10*time.Second), u, fetchers.GetRequest("/a")); err != nil {
		t.Fatal(err)
	}
	// The backoff alone is 1 ms: waiting about a second means Retry-After won.
	if elapsed := time.Since(start); elapsed < 900*time.Millisecond {
		t.Errorf("retried after %v, want the 1 s of Retry-After", elapsed)
	}
	if h := f.hits.Load(); h != 2 {
		t.Errorf("server hits = %d, want 2", h)
	}
}

func TestRetryAfterPastDeadlineFailsAtOnce(t *testing.T) {
	f := newFake(t, func(w http.ResponseWriter, r *http.Request, hit int64) {
		w.Header().Set("Retry-After", "5")
		writeJSON(w, http.StatusTooManyRequests, `{}`)
	})
	u := newUpstream(t, f, fetchers.WithAttempts(4, time.Millisecond, time.Millisecond))
	start := time.Now()
	_, err := fetchers.FetchJSON[account](withTimeout(t, 2*time.Second), u, fetchers.GetRequest("/a"))
	elapsed := time.Since(start)
	if !errors.Is(err, fetchers.ErrRetryBudget) || !errors.Is(err, fetchers.ErrStatus) {
		t.Fatalf("err = %v, want ErrRetryBudget and ErrStatus", err)
	}
	mustContain(t, err.Error(), "Retry-After", "status 429")
	if elapsed > time.Second {
		t.Errorf("took %v: it slept toward a Retry-After that could not fit", elapsed)
	}
	if h := f.hits.Load(); h != 1 {
		t.Errorf("server hits = %d, want 1", h)
	}
}

func TestRetriesNeverPassTheDeadline(t *testing.T) {
	f := newFake(t, func(w http.ResponseWriter, r *http.Request, hit int64) {
		writeJSON(w, http.StatusServiceUnavailable, `{}`)
	})
	// Each attempt must have 50 ms left to start: room for a noisy machine.
	u := newUpstream(t, f, fetchers.WithAttempts(101, 10*time.Millisecond, 40*time.Millisecond),
		fetchers.WithMinAttempt(50*time.Millisecond), neverTrip)
	const budget = 400 * time.Millisecond
	ctx := withTimeout(t, budget)
	deadline, _ := ctx.Deadline()
	_, err := fetchers.FetchJSON[account](ctx, u, fetchers.GetRequest("/a"))
	over := time.Since(deadline)
	if !errors.Is(err, fetchers.ErrRetryBudget) {
		t.Fatalf("err = %v, want ErrRetryBudget (gave up before the deadline)", err)
	}
	// It stops early, not late; the margin only absorbs a noisy machine.
	if over > 200*time.Millisecond {
		t.Errorf("returned %v after the deadline", over)
	}
	e := asError(t, err)
	if e.Attempts < 3 || int64(e.Attempts) != f.hits.Load() {
		t.Errorf("attempts = %d, server hits = %d: want several, equal", e.Attempts, f.hits.Load())
	}
}

func TestConnectionResetIsRetried(t *testing.T) {
	f := newFake(t, func(w http.ResponseWriter, r *http.Request, hit int64) {
		if hit == 1 {
			reset(w)
			return
		}
		writeJSON(w, http.StatusOK, okAccount)
	})
	u := newUpstream(t, f, fetchers.WithAttempts(3, time.Millisecond, time.Millisecond))
	if _, err := fetchers.FetchJSON[account](withTimeout(t, 5*time.Second), u, fetchers.GetRequest("/a")); err != nil {
		t.Fatal(err)
	}
	if s := u.Stats(); s.Attempts != 2 || s.Retries != 1 {
		t.Errorf("stats = %+v, want 2 attempts", s)
	}
}

func TestHungUpstreamEndsAtDeadline(t *testing.T) {
	var f *fake
	var err error
	var over time.Duration
	// A deadline that passes before the request even reaches the server (a
	// stalled machine) proves nothing: try again with twice the time.
	for budget := 100 * time.Millisecond; ; budget *= 2 {
		var try *fake
		try = newFake(t, func(w http.ResponseWriter, r *http.Request, hit int64) {
			try.hang(r)
		})
		f = try
		u := newUpstream(t, f, fetchers.WithAttempts(4, time.Millisecond, time.Millisecond))
		ctx := withTimeout(t, budget)
		deadline, _ := ctx.Deadline()
		_, err = fetchers.FetchJSON[account](ctx, u, fetchers.GetRequest("/a"))
		over = time.Since(deadline)
		if f.hits.Load() > 0 || budget >= 5*time.Second {
			break
		}
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want DeadlineExceeded", err)
	}
	if over > 200*time.Millisecond {
		t.Errorf("returned %v after the deadline", over)
	}
	if h := f.hits.Load(); h != 1 {
		t.Errorf("server hits = %d, want 1 (no retry once the deadline passed)", h)
	}
	eventually(t, "the server to see the cancellation", func() bool { return f.canceled.Load() == 1 })
}

func TestTruncatedBody(t *testing.T) {
	t.Run("retried", func(t *testing.T) {
		f := newFake(t, func(w http.ResponseWriter, r *http.Request, hit int64) {
			if hit == 1 {
				truncate(w, len(okAccount), okAccount[:5])
				return
			}
			writeJSON(w, http.StatusOK, okAccount)
		})
		u := newUpstream(t, f, fetchers.WithAttempts(3, time.Millisecond, time.Millisecond))
		if _, err := fetchers.FetchJSON[account](withTimeout(t, 5*time.Second), u, fetchers.GetRequest("/a")); err != nil {
			t.Fatal(err)
		}
		if h := f.hits.Load(); h != 2 {
			t.Errorf("server hits = %d, want 2", h)
		}
	})
	t.Run("always", func(t *testing.T) {
		f := newFake(t, func(w http.ResponseWriter, r *http.Request, hit int64) {
			truncate(w, 100, okAccount[:5])
		})
		u := newUpstream(t, f, fetchers.WithAttempts(2, time.Millisecond, time.Millisecond))
		_, err := fetchers.FetchJSON[account](withTimeout(t, 5*time.Second), u, fetchers.GetRequest("/a"))
		if !errors.Is(err, fetchers.ErrTruncated) {
			t.Fatalf("err = %v, want ErrTruncated", err)
		}
		mustContain(t, err.Error(), `upstream "accounts"`, "truncated")
		if h := f.hits.Load(); h != 2 {
			t.Errorf("server hits = %d, want 2", h)
		}
	})
}

func TestOversizedBody(t *testing.T) {
	big := `{"id":"` + strings.Repeat("x", 2000) + `"}`
	for name, declare := range map[string]bool{"content-length": true, "chunked": false} {
		t.Run(name, func(t *testing.T) {
			f := newFake(t, func(w http.ResponseWriter, r *http.Request, hit int64) {
				if !declare {
					w.(http.Flusher).Flush() // no Content-Length
				}
				w.Write([]byte(big))
			})
			u := newUpstream(t, f, fetchers.WithMaxBodyBytes(1000), fetchers.WithAttempts(4, time.Millisecond, time.Millisecond))
			_, err := fetchers.FetchJSON[account](withTimeout(t, 5*time.Second), u, fetchers.GetRequest("/a"))
			if !errors.Is(err, fetchers.ErrTooLarge) {
				t.Fatalf("err = %v, want ErrTooLarge", err)
			}
			mustContain(t, err.Error(), "1000")
			if h := f.hits.Load(); h != 1 {
				t.Errorf("server hits = %d, want 1 (a size limit is not retried)", h)
			}
		})
	}
}

func TestSlowBodyEndsAtDeadline(t *testing.T) {
	var f *fake
	f = newFake(t, func(w http.ResponseWriter, r *http.Request, hit int64) {
		w.WriteHeader(http.StatusOK)
		for _, c := range okAccount {
			w.Write([]byte(string(c)))
			w.(http.Flusher).Flush()
			if !f.sleep(r, 20*time.Millisecond) {
				return
			}
		}
	})
	u := newUpstream(t, f)
	ctx := withTimeout(t, 100*time.Millisecond)
	deadline, _ := ctx.Deadline()
	_, err := fetchers.FetchJSON[account](ctx, u, fetchers.GetRequest("/a"))
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want DeadlineExceeded", err)
	}
	if over := time.Since(deadline); over > 200*time.Millisecond {
		t.Errorf("returned %v after the deadline", over)
	}
}

func TestEachAttemptTellsTheTimeLeft(t *testing.T) {
	f := newFake(t, func(w http.ResponseWriter, r *http.Request, hit int64) {
		if hit <= 2 {
			writeJSON(w, http.StatusServiceUnavailable, `{}`)
			return
		}
		writeJSON(w, http.StatusOK, okAccount)
	})
	u := newUpstream(t, f, fetchers.WithAttempts(3, 20*time.Millisecond, 20*time.Millisecond))
	if _, err := fetchers.FetchJSON[account](withTimeout(t, 5*time.Second), u, fetchers.GetRequest("/a")); err != nil {
		t.Fatal(err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	prev := 5001
	for i, h := range f.headers {
		ms, err := strconv.Atoi(h.Get(fetchers.DeadlineHeader))
		if err != nil || ms <= 0 || ms >= prev {
			t.Errorf("attempt %d: %s = %q, want fewer ms than %d", i+1, fetchers.DeadlineHeader, h.Get(fetchers.DeadlineHeader), prev)
		}
		prev = ms
	}
}

// The least time a retry needs is learned from every attempt, failed ones
// included: an upstream that always fails after 30 ms is not retried with
// 15 ms left, though no call ever succeeded.
func TestRetryFloorLearnsFromFailures(t *testing.T) {
	var f *fake
	f = newFake(t, func(w http.ResponseWriter, r *http.Request, hit int64) {
		if f.sleep(r, 30*time.Millisecond) {
			writeJSON(w, http.StatusServiceUnavailable, `{}`)
		}
	})
	u := newUpstream(t, f, fetchers.WithAttempts(2, time.Millisecond, time.Millisecond), neverTrip)
	for i := 0; i < 12; i++ { // 24 failed attempts of ~30 ms
		if _, err := fetchers.FetchJSON[account](withTimeout(t, 10*time.Second), u, fetchers.GetRequest("/a")); err == nil {
			t.Fatal("want the 503 to fail")
		}
	}
	before := f.hits.Load()
	ctx, cancel := context.WithTimeout(context.Background(), 45*time.Millisecond)
	defer cancel()
	_, err := fetchers.FetchJSON[account](ctx, u, fetchers.GetRequest("/a"))
	if !errors.Is(err, fetchers.ErrRetryBudget) && !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err = %v", err)
	}
	if n := f.hits.Load() - before; n != 1 {
		t.Errorf("%d attempts with 45 ms for 30 ms attempts: a retry started that could not finish (err %v)", n, err)
	}
}
