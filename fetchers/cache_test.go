package fetchers_test

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/featgraph/featgraph/executor"
	"github.com/featgraph/featgraph/fetchers"
	"github.com/featgraph/featgraph/graph"
	"github.com/featgraph/featgraph/nodes"
)

func TestCacheMakesOneCallForTwoNodes(t *testing.T) {
	var f *fake
	f = newFake(t, func(w http.ResponseWriter, r *http.Request, hit int64) {
		f.sleep(r, 20*time.Millisecond) // long enough for both nodes to ask
		writeJSON(w, http.StatusOK, okAccount)
	})
	u := newUpstream(t, f)
	b := graph.NewBuilder()
	id := nodes.Input[string](b, "card")
	get := func(id string) (fetchers.Request, error) { return fetchers.GetRequest("/accounts/" + id), nil }
	full := fetchers.JSON1[account](b, "account", u, id, get)
	limit := fetchers.JSON1[struct {
		Limit int `json:"limit"`
	}](b, "limit", u, id, get)
	g, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	run := func(ctx context.Context) {
		res, err := executor.Run(ctx, g, []executor.Binding{executor.Bind(id, "a1")}, full, limit)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Release()
		a, _ := executor.Get(res, full)
		l, _ := executor.Get(res, limit)
		if a.Limit != 500 || l.Limit != 500 {
			t.Errorf("values %+v, %+v", a, l)
		}
	}
	run(fetchers.WithRequestCache(context.Background()))
	if h := f.hits.Load(); h != 1 {
		t.Errorf("with a cache: server hits = %d, want 1", h)
	}
	if s := u.Stats(); s.CacheHits != 1 || s.Calls != 1 {
		t.Errorf("stats = %+v, want 1 call and 1 cache hit", s)
	}
	run(fetchers.WithRequestCache(context.Background()))
	if h := f.hits.Load(); h != 2 {
		t.Errorf("a new run's cache: server hits = %d, want 2", h)
	}
	run(context.Background())
	if h := f.hits.Load(); h != 4 {
		t.Errorf("without a cache: server hits = %d, want 4", h)
	}
}

func TestCacheKeepsAnswersWithinRun(t *testing.T) {
	f := newFake(t, func(w http.ResponseWriter, r *http.Request, hit int64) {
		writeJSON(w, http.StatusOK, okAccount)
	})
	u := newUpstream(t, f)
	ctx := fetchers.WithRequestCache(context.Background())
	for range 3 {
		if _, err := fetchers.FetchJSON[account](ctx, u, fetchers.GetRequest("/a", "k", "v")); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := fetchers.FetchJSON[account](ctx, u, fetchers.GetRequest("/a", "k", "other")); err != nil {
		t.Fatal(err)
	}
	if h := f.hits.Load(); h != 2 {
		t.Errorf("server hits = %d, want 2 (one per distinct query)", h)
	}
}

func TestCacheOneCallerCancelingDoesNotPoisonOthers(t *testing.T) {
	gate := make(chan struct{})
	var f *fake
	f = newFake(t, func(w http.ResponseWriter, r *http.Request, hit int64) {
		select {
		case <-gate:
			writeJSON(w, http.StatusOK, okAccount)
		case <-r.Context().Done():
			f.canceled.Add(1)
		}
	})
	u := newUpstream(t, f)
	cacheCtx := fetchers.WithRequestCache(context.Background())

	// The first caller starts the call, then gives up.
	first, cancelFirst := context.WithCancel(cacheCtx)
	firstErr := make(chan error, 1)
	go func() {
		_, err := fetchers.FetchJSON[account](first, u, fetchers.GetRequest("/a"))
		firstErr <- err
	}()
	eventually(t, "the call to reach the server", func() bool { return f.hits.Load() == 1 })

	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(cacheCtx, 10*time.Second)
			defer cancel()
			_, errs[i] = fetchers.FetchJSON[account](ctx, u, fetchers.GetRequest("/a"))
		})
	}
	eventually(t, "the others to join the call", func() bool { return u.Stats().CacheHits == 4 })
	cancelFirst()
	if err := <-firstErr; !errors.Is(err, context.Canceled) {
		t.Errorf("first caller: err = %v, want Canceled", err)
	}
	close(gate)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("waiter %d: %v", i, err)
		}
	}
	if h, c := f.hits.Load(), f.canceled.Load(); h != 1 || c != 0 {
		t.Errorf("server hits = %d, canceled = %d: want one call, never canceled", h, c)
	}
}

func TestCacheDoesNotKeepFailures(t *testing.T) {
	f := newFake(t, func(w http.ResponseWriter, r *http.Request, hit int64) {
		if hit == 1 {
			writeJSON(w, http.StatusInternalServerError, `{}`)
			return
		}
		writeJSON(w, http.StatusOK, okAccount)
	})
	u := newUpstream(t, f, fetchers.WithAttempts(1, 0, 0))
	ctx := fetchers.WithRequestCache(context.Background())
	if _, err := fetchers.FetchJSON[account](ctx, u, fetchers.GetRequest("/a")); err == nil {
		t.Fatal("want the 500 to fail")
	}
	if _, err := fetchers.FetchJSON[account](ctx, u, fetchers.GetRequest("/a")); err != nil {
		t.Fatalf("second ask: %v (a failure was kept)", err)
	}
	if h := f.hits.Load(); h != 2 {
		t.Errorf("server hits = %d, want 2", h)
	}
}

func TestCacheCancelsCallWhenLastWaiterLeaves(t *testing.T) {
	var f *fake
	f = newFake(t, func(w http.ResponseWriter, r *http.Request, hit int64) {
		f.hang(r)
	})
	u := newUpstream(t, f)
	// No deadline: only the waiter leaving can end the call. It leaves once
	// the call has reached the server, however slow the machine.
	ctx, cancel := context.WithCancel(fetchers.WithRequestCache(context.Background()))
	defer cancel()
	go func() {
		for f.hits.Load() == 0 && ctx.Err() == nil {
			time.Sleep(time.Millisecond)
		}
		cancel()
	}()
	if _, err := fetchers.FetchJSON[account](ctx, u, fetchers.GetRequest("/a")); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want Canceled", err)
	}
	eventually(t, "the abandoned call to be canceled", func() bool { return f.canceled.Load() == 1 })
}

// A shared call lives as long as its latest caller wants it: a caller with
// a short deadline starts it, one with a long deadline joins, the first
// gives up at its own deadline and the second still gets the answer.
func TestCacheSharedCallOutlivesItsFirstCaller(t *testing.T) {
	short := make(chan struct{})
	f := newFake(t, func(w http.ResponseWriter, r *http.Request, hit int64) {
		select {
		case <-short: // answer only once the short caller has given up
			writeJSON(w, http.StatusOK, okAccount)
		case <-r.Context().Done():
		}
	})
	u := newUpstream(t, f)
	cacheCtx := fetchers.WithRequestCache(context.Background())

	shortCtx, cancelShort := context.WithTimeout(cacheCtx, time.Second) // long enough for the other to join, on a busy machine too
	defer cancelShort()
	shortErr := make(chan error, 1)
	go func() {
		_, err := fetchers.FetchJSON[account](shortCtx, u, fetchers.GetRequest("/a"))
		shortErr <- err
	}()
	eventually(t, "the call to reach the server", func() bool { return f.hits.Load() == 1 })

	longCtx, cancelLong := context.WithTimeout(cacheCtx, 30*time.Second)
	defer cancelLong()
	longErr := make(chan error, 1)
	go func() {
		_, err := fetchers.FetchJSON[account](longCtx, u, fetchers.GetRequest("/a"))
		longErr <- err
	}()
	eventually(t, "the long caller to join", func() bool { return u.Stats().CacheHits == 1 })
	if err := <-shortErr; !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("short caller: err = %v, want DeadlineExceeded", err)
	}
	close(short)
	if err := <-longErr; err != nil {
		t.Errorf("long caller: %v (the shared call died with its first caller's deadline)", err)
	}
	if h := f.hits.Load(); h != 1 {
		t.Errorf("server hits = %d, want 1", h)
	}
}

// A shared call started without a deadline keeps none, whatever later
// callers have; one started with a deadline loses it when a caller without
// one joins: each is ended only by its last waiter leaving.
func TestCacheSharedCallDeadlineOfJoiners(t *testing.T) {
	gate := make(chan struct{})
	f := newFake(t, func(w http.ResponseWriter, r *http.Request, hit int64) {
		dl := r.Header.Get(fetchers.DeadlineHeader)
		select {
		case <-gate:
			writeJSON(w, http.StatusOK, `{"id":"`+dl+`"}`)
		case <-r.Context().Done():
		}
	})
	u := newUpstream(t, f)
	cacheCtx := fetchers.WithRequestCache(context.Background())
	first, cancelFirst := context.WithTimeout(cacheCtx, time.Second)
	defer cancelFirst()
	firstErr := make(chan error, 1)
	go func() {
		_, err := fetchers.FetchJSON[account](first, u, fetchers.GetRequest("/a"))
		firstErr <- err
	}()
	eventually(t, "the call to reach the server", func() bool { return f.hits.Load() == 1 })
	got := make(chan account, 1)
	go func() {
		a, err := fetchers.FetchJSON[account](cacheCtx, u, fetchers.GetRequest("/a"))
		if err != nil {
			t.Errorf("caller without deadline: %v", err)
		}
		got <- a
	}()
	eventually(t, "the second caller to join", func() bool { return u.Stats().CacheHits == 1 })
	<-firstErr
	close(gate)
	if a := <-got; a.ID == "" {
		t.Errorf("the first attempt carried no deadline header: the test does not test")
	}
}

// Requests that differ only in a header of their own (an end user's
// token) never share an answer; equal ones do.
func TestCacheKeysOnRequestHeaders(t *testing.T) {
	f := newFake(t, func(w http.ResponseWriter, r *http.Request, hit int64) {
		writeJSON(w, http.StatusOK, `{"id":"`+r.Header.Get("X-User-Token")+`"}`)
	})
	u := newUpstream(t, f)
	ctx := fetchers.WithRequestCache(withTimeout(t, 10*time.Second))
	ask := func(token string) string {
		t.Helper()
		req := fetchers.GetRequest("/a")
		req.Header = http.Header{"X-User-Token": {token}}
		a, err := fetchers.FetchJSON[account](ctx, u, req)
		if err != nil {
			t.Fatal(err)
		}
		return a.ID
	}
	if got := ask("alice"); got != "alice" {
		t.Fatalf("alice got %q", got)
	}
	if got := ask("bob"); got != "bob" {
		t.Errorf("bob got %q: another user's answer", got)
	}
	if got := ask("alice"); got != "alice" {
		t.Errorf("alice again got %q", got)
	}
	if h := f.hits.Load(); h != 2 {
		t.Errorf("server hits = %d, want 2 (one per user)", h)
	}
}

// Many callers joining and leaving a shared call at random: every one
// either gets the answer or its own context's error, and nothing leaks.
func TestCacheJoinersRace(t *testing.T) {
	f := newFake(t, func(w http.ResponseWriter, r *http.Request, hit int64) {
		if f := time.Duration(hit%3) * time.Millisecond; f > 0 {
			time.Sleep(f)
		}
		writeJSON(w, http.StatusOK, okAccount)
	})
	u := newUpstream(t, f)
	for round := 0; round < 20; round++ {
		cacheCtx := fetchers.WithRequestCache(context.Background())
		var wg sync.WaitGroup
		for i := 0; i < 8; i++ {
			wg.Go(func() {
				ctx, cancel := context.WithTimeout(cacheCtx, time.Duration(i%4)*time.Millisecond+time.Microsecond)
				if i%2 == 0 {
					ctx, cancel = context.WithTimeout(cacheCtx, 30*time.Second)
				}
				defer cancel()
				a, err := fetchers.FetchJSON[account](ctx, u, fetchers.GetRequest("/a"))
				switch {
				case err == nil && a.ID != "a1":
					t.Errorf("caller %d got %+v", i, a)
				case err != nil && time.Now().Before(deadlineOf(ctx)):
					t.Errorf("caller %d: %v before its deadline", i, err)
				}
			})
		}
		wg.Wait()
	}
}

func deadlineOf(ctx context.Context) time.Time {
	d, _ := ctx.Deadline()
	return d
}
