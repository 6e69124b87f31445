package fetchers_test

import (
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sony/gobreaker/v2"

	"github.com/featgraph/featgraph/fetchers"
	"github.com/featgraph/featgraph/timeouts"
)

func TestHedgeWinsAndLoserIsCanceled(t *testing.T) {
	var f *fake
	f = newFake(t, func(w http.ResponseWriter, r *http.Request, hit int64) {
		if hit == 1 {
			f.hang(r) // the primary never answers
			return
		}
		writeJSON(w, http.StatusOK, okAccount)
	})
	u := newUpstream(t, f, fetchers.WithHedging(timeouts.HedgeAfter(20*time.Millisecond)))
	got, err := fetchers.FetchJSON[account](withTimeout(t, 10*time.Second), u, fetchers.GetRequest("/a"))
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != "a1" {
		t.Errorf("got %+v", got)
	}
	if s := u.Stats(); s.HedgesSent != 1 || s.HedgesWon != 1 || s.Attempts != 2 {
		t.Errorf("stats = %+v, want 1 hedge sent and won, 2 attempts", s)
	}
	eventually(t, "the losing primary to be canceled", func() bool { return f.canceled.Load() == 1 })
}

func TestPrimaryWinsBeforeHedgeDelay(t *testing.T) {
	f := newFake(t, func(w http.ResponseWriter, r *http.Request, hit int64) {
		writeJSON(w, http.StatusOK, okAccount)
	})
	u := newUpstream(t, f, fetchers.WithHedging(timeouts.HedgeAfter(time.Second)))
	for range 5 {
		if _, err := fetchers.FetchJSON[account](withTimeout(t, 10*time.Second), u, fetchers.GetRequest("/a")); err != nil {
			t.Fatal(err)
		}
	}
	if s := u.Stats(); s.HedgesSent != 0 || f.hits.Load() != 5 {
		t.Errorf("stats = %+v, hits %d: want no hedge", s, f.hits.Load())
	}
}

func TestHedgesAreThrottledByBudget(t *testing.T) {
	// Every call is slower than the delay, however slow the machine: the
	// server answers a call only once it has asked for a hedge (sent or
	// throttled) and every hedge sent so far has arrived. Without a budget
	// each call would hedge.
	var (
		f      *fake
		up     atomic.Pointer[fetchers.Upstream]
		callNo atomic.Int64  // the calls started so far
		asked  atomic.Uint64 // hedges sent or throttled before this call
	)
	f = newFake(t, func(w http.ResponseWriter, r *http.Request, hit int64) {
		for {
			s := up.Load().Stats()
			if s.HedgesSent+s.HedgesThrottled > asked.Load() && f.hits.Load() >= callNo.Load()+int64(s.HedgesSent) {
				writeJSON(w, http.StatusOK, okAccount)
				return
			}
			if !f.sleep(r, time.Millisecond) {
				return
			}
		}
	})
	u := newUpstream(t, f, fetchers.WithHedging(timeouts.HedgePolicy{Delay: time.Millisecond, MaxExtra: 0.05, Burst: 1}))
	up.Store(u)
	const calls = 60
	for range calls {
		s := u.Stats()
		asked.Store(s.HedgesSent + s.HedgesThrottled)
		callNo.Add(1)
		if _, err := fetchers.FetchJSON[account](withTimeout(t, 10*time.Second), u, fetchers.GetRequest("/a")); err != nil {
			t.Fatal(err)
		}
	}
	s := u.Stats()
	// One starting token plus 5% of 60 calls.
	if s.HedgesSent < 1 || s.HedgesSent > 1+3 {
		t.Errorf("hedges sent = %d, want between 1 and 4 for %d calls", s.HedgesSent, calls)
	}
	// Each call asked for a hedge: those not sent were throttled.
	if s.HedgesThrottled > calls || s.HedgesThrottled < calls-s.HedgesSent {
		t.Errorf("%d of %d calls throttled with %d hedges sent: want all the others", s.HedgesThrottled, calls, s.HedgesSent)
	}
	if got := f.hits.Load(); got != calls+int64(s.HedgesSent) {
		t.Errorf("server hits = %d, want calls + hedges = %d", got, calls+int64(s.HedgesSent))
	}
}

func TestHedgesPauseWhileBreakerIsNotClosed(t *testing.T) {
	var mode atomic.Int32 // 0 fail, 1 slow success
	var f *fake
	f = newFake(t, func(w http.ResponseWriter, r *http.Request, hit int64) {
		if mode.Load() == 0 {
			writeJSON(w, http.StatusInternalServerError, `{}`)
			return
		}
		if f.sleep(r, 50*time.Millisecond) {
			writeJSON(w, http.StatusOK, okAccount)
		}
	})
	u := newUpstream(t, f,
		fetchers.WithAttempts(1, 0, 0),
		fetchers.WithHedging(timeouts.HedgePolicy{Delay: 5 * time.Millisecond, MaxExtra: 1, Burst: 10}),
		// Two good probes close the breaker: the first leaves it half-open
		// for the whole of its call.
		fetchers.WithBreaker(gobreaker.Settings{MaxRequests: 2, Timeout: 50 * time.Millisecond,
			ReadyToTrip: func(c gobreaker.Counts) bool { return c.ConsecutiveFailures >= 1 }}))
	ctx := withTimeout(t, 10*time.Second)
	// A POST is never hedged: the tripping call sends one request.
	if _, err := fetchers.FetchJSON[account](ctx, u, fetchers.PostJSONRequest("/a", nil)); err == nil {
		t.Fatal("want the 500 to fail")
	}
	mode.Store(1)
	eventually(t, "the breaker to half-open", func() bool { return u.BreakerState() == gobreaker.StateHalfOpen })
	if _, err := fetchers.FetchJSON[account](ctx, u, fetchers.GetRequest("/a")); err != nil {
		t.Fatalf("probe: %v", err)
	}
	s := u.Stats()
	if s.HedgesSent != 0 || s.HedgesThrottled != 1 || s.Breaker != gobreaker.StateHalfOpen {
		t.Errorf("stats = %+v: the half-open probe must not be hedged", s)
	}
	// The second probe closes the breaker (its hedge may go out once it has).
	if _, err := fetchers.FetchJSON[account](ctx, u, fetchers.GetRequest("/a")); err != nil {
		t.Fatal(err)
	}
	if s := u.BreakerState(); s != gobreaker.StateClosed {
		t.Fatalf("breaker %v after two good probes, want closed", s)
	}
	// Closed again: the next slow call hedges.
	before := u.Stats().HedgesSent
	if _, err := fetchers.FetchJSON[account](ctx, u, fetchers.GetRequest("/a")); err != nil {
		t.Fatal(err)
	}
	if s := u.Stats(); s.HedgesSent != before+1 {
		t.Errorf("hedges sent = %d after the breaker closed, want %d", s.HedgesSent, before+1)
	}
}

func TestHedgeDelayFollowsObservedQuantile(t *testing.T) {
	var slow atomic.Bool
	var f *fake
	f = newFake(t, func(w http.ResponseWriter, r *http.Request, hit int64) {
		d := time.Millisecond
		if slow.Load() {
			d = time.Second
		}
		if f.sleep(r, d) {
			writeJSON(w, http.StatusOK, okAccount)
		}
	})
	u := newUpstream(t, f, fetchers.WithHedging(timeouts.HedgePolicy{Quantile: 0.95, MaxExtra: 0.5, Burst: 5}))
	ctx := withTimeout(t, 20*time.Second)
	for range 30 { // enough to know the p95, no hedge before that
		if _, err := fetchers.FetchJSON[account](ctx, u, fetchers.GetRequest("/a")); err != nil {
			t.Fatal(err)
		}
	}
	s := u.Stats()
	if s.P95 <= 0 || s.P95 > 500*time.Millisecond {
		t.Fatalf("p95 = %v, want a few ms", s.P95)
	}
	slow.Store(true)
	start := time.Now()
	// The hedge of this call hits the slow server too, so both legs stall:
	// the call ends at its deadline, but the hedge went out after about p95.
	ctx2 := withTimeout(t, 300*time.Millisecond)
	fetchers.FetchJSON[account](ctx2, u, fetchers.GetRequest("/a"))
	if time.Since(start) > 5*time.Second {
		t.Errorf("call outlived its deadline")
	}
	if got := u.Stats().HedgesSent; got != s.HedgesSent+1 {
		t.Errorf("hedges sent = %d, want %d", got, s.HedgesSent+1)
	}
}

func TestThrottledHedgeGoesOutOnceATokenIsEarned(t *testing.T) {
	var mu sync.Mutex
	seen := map[string]int{}
	var f *fake
	f = newFake(t, func(w http.ResponseWriter, r *http.Request, hit int64) {
		mu.Lock()
		seen[r.URL.Path]++
		first := seen[r.URL.Path] == 1
		mu.Unlock()
		if first && r.URL.Path != "/fast" {
			f.hang(r) // the first request of a stuck path never answers
			return
		}
		writeJSON(w, http.StatusOK, okAccount)
	})
	// Half a token per call, at most one saved.
	u := newUpstream(t, f, fetchers.WithHedging(timeouts.HedgePolicy{Delay: 5 * time.Millisecond, MaxExtra: 0.5, Burst: 1}))
	ctx := withTimeout(t, 10*time.Second)
	// Spends the starting token.
	if _, err := fetchers.FetchJSON[account](ctx, u, fetchers.GetRequest("/stuck1")); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := fetchers.FetchJSON[account](ctx, u, fetchers.GetRequest("/stuck2"))
		done <- err
	}()
	eventually(t, "the second hedge to be held back", func() bool { return u.Stats().HedgesThrottled == 1 })
	// Another call earns the missing half token: a POST, never hedged
	// itself, so that on a busy machine it cannot take the token first.
	if _, err := fetchers.FetchJSON[account](ctx, u, fetchers.PostJSONRequest("/fast", nil)); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatalf("stuck call: %v", err)
	}
	// Which leg of a stuck call reaches the server first (and hangs) is up
	// to the scheduler: on a busy machine the hedge may overtake its
	// primary, which then answers. Both calls answered, each with a hedge:
	// that is the rescue.
	if s := u.Stats(); s.HedgesSent != 2 {
		t.Errorf("stats = %+v, want both stuck calls rescued by a hedge", s)
	}
}
