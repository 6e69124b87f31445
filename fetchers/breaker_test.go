package fetchers_test

import (
	"context"
	"errors"
	"github.com/featgraph/featgraph/internal/graphx"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sony/gobreaker/v2"

	"github.com/featgraph/featgraph/executor"
	"github.com/featgraph/featgraph/fetchers"
	"github.com/featgraph/featgraph/graph"
	"github.com/featgraph/featgraph/nodes"
)

func TestBreakerOpensFailsFastAndRecovers(t *testing.T) {
	var healthy atomic.Bool
	f := newFake(t, func(w http.ResponseWriter, r *http.Request, hit int64) {
		if healthy.Load() {
			writeJSON(w, http.StatusOK, okAccount)
			return
		}
		writeJSON(w, http.StatusInternalServerError, `{}`)
	})
	u := newUpstream(t, f,
		fetchers.WithAttempts(1, 0, 0),
		fetchers.WithBreaker(gobreaker.Settings{
			MaxRequests: 1,
			Timeout:     100 * time.Millisecond,
			ReadyToTrip: func(c gobreaker.Counts) bool { return c.ConsecutiveFailures >= 3 },
		}))
	ctx := withTimeout(t, 10*time.Second)
	for i := range 3 {
		if _, err := fetchers.FetchJSON[account](ctx, u, fetchers.GetRequest("/a")); !errors.Is(err, fetchers.ErrStatus) {
			t.Fatalf("call %d: err = %v, want ErrStatus", i, err)
		}
	}
	if s := u.BreakerState(); s != gobreaker.StateOpen {
		t.Fatalf("breaker %v after 3 failures, want open", s)
	}

	_, err := fetchers.FetchJSON[account](ctx, u, fetchers.GetRequest("/a"))
	if !errors.Is(err, fetchers.ErrCircuitOpen) || !errors.Is(err, gobreaker.ErrOpenState) {
		t.Fatalf("err = %v, want ErrCircuitOpen and gobreaker.ErrOpenState", err)
	}
	if e := asError(t, err); e.Attempts != 0 {
		t.Errorf("open breaker: %d attempts, want none", e.Attempts)
	}
	if h := f.hits.Load(); h != 3 {
		t.Errorf("server hits = %d, want 3 (the open breaker sends nothing)", h)
	}

	healthy.Store(true)
	eventually(t, "the breaker to half-open", func() bool { return u.BreakerState() == gobreaker.StateHalfOpen })
	if _, err := fetchers.FetchJSON[account](ctx, u, fetchers.GetRequest("/a")); err != nil {
		t.Fatalf("half-open probe: %v", err)
	}
	if s := u.BreakerState(); s != gobreaker.StateClosed {
		t.Errorf("breaker %v after a good probe, want closed", s)
	}
	if s := u.Stats(); s.Rejected != 1 || s.Breaker != gobreaker.StateClosed {
		t.Errorf("stats = %+v, want 1 rejected, closed", s)
	}
}

func TestOpenBreakerServesFallbackAtOnce(t *testing.T) {
	f := newFake(t, func(w http.ResponseWriter, r *http.Request, hit int64) {
		writeJSON(w, http.StatusServiceUnavailable, `{}`)
	})
	u := newUpstream(t, f,
		fetchers.WithAttempts(1, 0, 0),
		fetchers.WithBreaker(gobreaker.Settings{Timeout: time.Minute, ReadyToTrip: func(c gobreaker.Counts) bool { return c.ConsecutiveFailures >= 1 }}))
	b := graph.NewBuilder()
	id := nodes.Input[string](b, "card")
	acct := fetchers.JSON1[account](b, "account", u, id,
		func(id string) (fetchers.Request, error) { return fetchers.GetRequest("/accounts/" + id), nil },
		nodes.Fallback(account{ID: "unknown"}), nodes.Timeout(time.Second))
	g, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	ex, err := executor.New(g)
	if err != nil {
		t.Fatal(err)
	}
	run := func() executor.NodeResult {
		res, err := ex.Run(context.Background(), []executor.Binding{executor.Bind(id, "c1")}, acct)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Release()
		if v, _ := executor.Get(res, acct); v.ID != "unknown" {
			t.Errorf("value %+v, want the fallback", v)
		}
		return res.Node(acct)
	}
	first := run() // 503: trips the breaker
	if first.Outcome != executor.OutcomeFallback || !errors.Is(first.Cause, fetchers.ErrStatus) {
		t.Fatalf("first run: %v (%v), want fallback on ErrStatus", first.Outcome, first.Cause)
	}
	second := run()
	if second.Outcome != executor.OutcomeFallback || !errors.Is(second.Cause, gobreaker.ErrOpenState) {
		t.Fatalf("second run: %v (%v), want fallback on the open breaker", second.Outcome, second.Cause)
	}
	mustContain(t, second.Cause.Error(), `node "account"`, `upstream "accounts"`, "circuit")
	if h := f.hits.Load(); h != 1 {
		t.Errorf("server hits = %d, want 1", h)
	}
	if graphx.Node(g, acct.ID()).Meta[fetchers.MetaUpstream] != "accounts" {
		t.Errorf("node meta = %v, want the upstream's name", graphx.Node(g, acct.ID()).Meta)
	}
}
