package cardauth_test

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sony/gobreaker/v2"

	"github.com/featgraph/featgraph/examples/cardauth"
	"github.com/featgraph/featgraph/executor"
	"github.com/featgraph/featgraph/fetchers"
)

// overHTTP serves svc with httptest and returns the graph built on
// HTTPUpstreams that call it; both are closed when the test ends.
func overHTTP(t *testing.T, svc *cardauth.Services, opts ...fetchers.Option) (*cardauth.Graph, *executor.Executor, *cardauth.HTTPUpstreams) {
	t.Helper()
	srv := httptest.NewServer(svc.Handler())
	t.Cleanup(srv.Close)
	h, err := cardauth.NewHTTPUpstreams(srv.URL, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.Close)
	ca, err := cardauth.New(h.Upstreams)
	if err != nil {
		t.Fatal(err)
	}
	ex, err := executor.New(ca.Graph, executor.WithRunTimeout(5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	return ca, ex, h
}

func decide(t *testing.T, ca *cardauth.Graph, ex *executor.Executor, r cardauth.Request) cardauth.Decision {
	t.Helper()
	res, err := ex.Run(fetchers.WithRequestCache(context.Background()), ca.Inputs(r), ca.Decision)
	if err != nil {
		t.Fatalf("run %+v: %v", r, err)
	}
	defer res.Release()
	d, err := executor.Get(res, ca.Decision)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func paymentRequest(i int) cardauth.Request {
	return cardauth.Request{
		TransactionID: fmt.Sprintf("t%d", i), CardID: fmt.Sprintf("c%d", i),
		CustomerID: fmt.Sprintf("u%d", i), MerchantID: fmt.Sprintf("m%d", i),
	}
}

// The whole graph over real HTTP, the model through the model-score
// fetcher, decides exactly as the in-process services do.
func TestGraphOverHTTPDecidesAsInProcess(t *testing.T) {
	svc, err := cardauth.NewServices()
	if err != nil {
		t.Fatal(err)
	}
	ca, ex, h := overHTTP(t, svc)
	local, err := cardauth.New(svc.Upstreams())
	if err != nil {
		t.Fatal(err)
	}
	localEx, err := executor.New(local.Graph)
	if err != nil {
		t.Fatal(err)
	}
	scored := 0
	const runs = 40
	for i := range runs {
		r := paymentRequest(i)
		got := decide(t, ca, ex, r)
		want := decide(t, local, localEx, r)
		if got != want {
			t.Errorf("%+v: over HTTP %v, in process %v", r, got, want)
		}
		if got.ScoreSource == cardauth.ScoreFromModel {
			scored++
		}
	}
	if scored == 0 {
		t.Fatal("no run reached the model: the test proves nothing about it")
	}
	model := h.Service("model").Stats()
	if model.Calls != uint64(scored) || model.Failures != 0 {
		t.Errorf("model stats %+v, want %d calls without failure", model, scored)
	}
	for _, name := range cardauth.ServiceNames {
		if s := h.Service(name).Stats(); s.Failures != 0 || s.Retries != 0 {
			t.Errorf("%s: %+v", name, s)
		}
	}
}

// A model that fails falls back to the cautious score; once its breaker
// opens, runs fall back without calling it, and the rest of the graph is
// untouched.
func TestModelOutageOverHTTPFallsBackAndTripsBreaker(t *testing.T) {
	var down atomic.Bool
	svc, err := cardauth.NewServices(cardauth.WithFault(func(c cardauth.Call) error {
		if c.Service == "model" && down.Load() {
			return errors.New("model overloaded")
		}
		return nil
	}))
	if err != nil {
		t.Fatal(err)
	}
	ca, ex, h := overHTTP(t, svc,
		fetchers.WithAttempts(2, time.Millisecond, time.Millisecond),
		fetchers.WithBreaker(gobreaker.Settings{Timeout: time.Minute,
			ReadyToTrip: func(c gobreaker.Counts) bool { return c.ConsecutiveFailures >= 4 }}))
	down.Store(true)
	fellBack := 0
	for i := 0; fellBack < 6 && i < 200; i++ {
		d := decide(t, ca, ex, paymentRequest(i))
		switch d.ScoreSource {
		case cardauth.ScoreFallback:
			fellBack++
		case cardauth.ScoreFromModel:
			t.Fatalf("run %d was scored by a model that is down", i)
		}
	}
	if fellBack < 6 {
		t.Fatalf("only %d runs reached the model", fellBack)
	}
	model := h.Service("model")
	if s := model.BreakerState(); s != gobreaker.StateOpen {
		t.Fatalf("model breaker %v after repeated failures, want open", s)
	}
	// Two runs of two attempts each tripped it; the others never called.
	if calls := svc.Calls("model"); calls != 4 {
		t.Errorf("model called %d times, want 4 (2 runs x 2 attempts, then the breaker)", calls)
	}
	if s := model.Stats(); s.Rejected < 4 {
		t.Errorf("model stats %+v, want the later runs rejected by the breaker", s)
	}
}
