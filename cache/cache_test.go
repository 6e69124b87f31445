package cache_test

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/featgraph/featgraph/cache"
	"github.com/featgraph/featgraph/executor"
	"github.com/featgraph/featgraph/graph"
	"github.com/featgraph/featgraph/nodes"
)

func TestFreshHitSkipsTheUpstream(t *testing.T) {
	var log statusLog
	c := newCache(t, cache.WithObserver(log.observe))
	u := &upstream{}
	pg := newProfileGraph(t, u, cache.For(c, time.Hour))
	ctx := context.Background()

	first, nr := pg.run(t, ctx, "u1")
	if nr.Outcome != executor.OutcomeOK || log.last() != cache.StatusFetched || nr.Source != "fetched" {
		t.Fatalf("first run: outcome %v, status %v, source %q; want ok, fetched", nr.Outcome, log.last(), nr.Source)
	}
	second, nr := pg.run(t, ctx, "u1")
	if nr.Outcome != executor.OutcomeOK || log.last() != cache.StatusFresh || nr.Source != "fresh" {
		t.Fatalf("second run: outcome %v, status %v, source %q; want ok, fresh", nr.Outcome, log.last(), nr.Source)
	}
	if !reflect.DeepEqual(first, second) || first.ID != "u1" {
		t.Fatalf("cached %+v, fetched %+v", second, first)
	}
	if _, _ = pg.run(t, ctx, "u2"); u.calls.Load() != 2 {
		t.Fatalf("3 runs over 2 keys made %d calls, want 2", u.calls.Load())
	}
	if st := c.Stats(); st.Fetched != 2 || st.Fresh != 1 {
		t.Fatalf("stats %+v, want 2 fetched and 1 fresh", st)
	}
}

func TestStaleServedWhileOneRefreshRuns(t *testing.T) {
	var log statusLog
	c := newCache(t, cache.WithObserver(log.observe))
	u := &upstream{}
	pg := newProfileGraph(t, u, cache.For(c, time.Millisecond, cache.Stale(time.Hour), cache.RefreshTimeout(time.Minute)))
	ctx := context.Background()
	old, _ := pg.run(t, ctx, "u1")
	time.Sleep(5 * time.Millisecond) // past the TTL, inside the stale window

	// The upstream now answers a new version, but only when let through.
	gate := make(chan struct{})
	u.set(func(u *upstream) { u.gate = gate; u.version.Store(1) })
	const runs = 8
	var wg sync.WaitGroup
	for range runs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Each run gets the old value at once although the upstream is blocked.
			v, nr := pg.run(t, ctx, "u1")
			if nr.Outcome != executor.OutcomeOK || !reflect.DeepEqual(v, old) || nr.Source != "stale" {
				t.Errorf("stale run: %v %+v (source %q), want ok %+v, stale", nr.Outcome, v, nr.Source, old)
			}
		}()
	}
	wg.Wait()
	if got := log.last(); got != cache.StatusStale {
		t.Fatalf("status %v, want stale", got)
	}
	eventually(t, "the refresh to call the upstream", func() bool { return u.calls.Load() == 2 })
	if st := c.Stats(); st.Refreshes != 1 || st.Stale != runs {
		t.Fatalf("stats %+v: want 1 refresh for %d stale reads", st, runs)
	}
	close(gate)
	eventually(t, "the refreshed value", func() bool {
		v, _ := pg.run(t, ctx, "u1")
		return v.Tenure == 1
	})
}

func TestRefreshHasItsOwnBudget(t *testing.T) {
	c := newCache(t)
	u := &upstream{}
	pg := newProfileGraph(t, u, cache.For(c, time.Millisecond, cache.Stale(time.Hour), cache.RefreshTimeout(20*time.Millisecond)))
	ctx := context.Background()
	pg.run(t, ctx, "u1")
	time.Sleep(5 * time.Millisecond)
	u.set(func(u *upstream) { u.gate = make(chan struct{}) }) // never answers
	if _, nr := pg.run(t, ctx, "u1"); nr.Outcome != executor.OutcomeOK {
		t.Fatalf("stale run: %v", nr.Outcome)
	}
	// The hung refresh gives up at its budget, fails, and leaves the stale value.
	eventually(t, "the refresh to time out", func() bool { return c.Stats().RefreshErrors == 1 })
	if v, nr := pg.run(t, ctx, "u1"); nr.Outcome != executor.OutcomeOK || v.ID != "u1" {
		t.Fatalf("after a failed refresh: %v %+v", nr.Outcome, v)
	}
}

func TestConcurrentMissesShareOneFetch(t *testing.T) {
	var log statusLog
	c := newCache(t, cache.WithObserver(log.observe))
	gate := make(chan struct{})
	u := &upstream{gate: gate}
	pg := newProfileGraph(t, u, cache.For(c, time.Hour))
	const runs = 20
	var wg sync.WaitGroup
	for range runs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			v, nr := pg.run(t, context.Background(), "u1")
			if nr.Outcome != executor.OutcomeOK || v.ID != "u1" {
				t.Errorf("run: %v %+v", nr.Outcome, v)
			}
		}()
	}
	eventually(t, "the first call", func() bool { return u.calls.Load() >= 1 })
	time.Sleep(20 * time.Millisecond) // let the other runs join (or find the value later)
	close(gate)
	wg.Wait()
	if n := u.calls.Load(); n != 1 {
		t.Fatalf("%d concurrent misses made %d calls, want 1", runs, n)
	}
	if st := c.Stats(); st.Fetched+st.Fresh != runs {
		t.Fatalf("stats %+v: want %d values served", st, runs)
	}
}

func TestSharedFetchKeepsEachNodesDeadline(t *testing.T) {
	c := newCache(t)
	gate := make(chan struct{})
	entered := make(chan struct{}, 1)
	u := &upstream{gate: gate, entered: entered}
	b := graph.NewBuilder()
	id := nodes.Input[string](b, "id")
	slowOK := nodes.Fetch1(b, "profile", id, u.profile, cache.For(c, time.Hour), nodes.Timeout(time.Minute))
	g, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	b2 := graph.NewBuilder()
	id2 := nodes.Input[string](b2, "id")
	hurried := nodes.Fetch1(b2, "profile", id2, u.profile, cache.For(c, time.Hour), nodes.Timeout(30*time.Millisecond))
	g2, err := b2.Build()
	if err != nil {
		t.Fatal(err)
	}

	done := make(chan executor.NodeResult, 1)
	go func() {
		res, err := executor.Run(context.Background(), g, []executor.Binding{executor.Bind(id, "u1")}, slowOK)
		if err != nil {
			t.Error(err)
			done <- executor.NodeResult{}
			return
		}
		defer res.Release()
		done <- res.Node(slowOK)
	}()
	<-entered // the long-deadline run owns the fetch
	res, err := executor.Run(context.Background(), g2, []executor.Binding{executor.Bind(id2, "u1")}, hurried)
	if res == nil {
		t.Fatal(err)
	}
	if nr := res.Node(hurried); nr.Outcome != executor.OutcomeTimeout {
		t.Errorf("the hurried node: %v (%v), want timeout", nr.Outcome, nr.Cause)
	}
	res.Release()
	close(gate)
	if nr := <-done; nr.Outcome != executor.OutcomeOK {
		t.Fatalf("the patient node: %v (%v), want ok", nr.Outcome, nr.Cause)
	}
	if n := u.calls.Load(); n != 1 {
		t.Fatalf("%d calls, want 1", n)
	}
}

func TestErrorsAndFallbacksAreNeverCached(t *testing.T) {
	c := newCache(t)
	boom := errors.New("profiles down")
	u := &upstream{fail: boom}
	pg := newProfileGraph(t, u, cache.For(c, time.Hour), nodes.Fallback(Profile{ID: "default"}))
	ctx := context.Background()
	for i := range 3 {
		v, nr := pg.run(t, ctx, "u1")
		if nr.Outcome != executor.OutcomeFallback || v.ID != "default" || !errors.Is(nr.Cause, boom) || nr.Source != "" {
			t.Fatalf("run %d: %v %+v (%v), want the fallback", i, nr.Outcome, v, nr.Cause)
		}
	}
	if n := u.calls.Load(); n != 3 {
		t.Fatalf("3 failing runs made %d calls, want 3 (a failure is not cached)", n)
	}
	u.set(func(u *upstream) { u.fail = nil })
	if v, nr := pg.run(t, ctx, "u1"); nr.Outcome != executor.OutcomeOK || v.ID != "u1" {
		t.Fatalf("after recovery: %v %+v, want the upstream's value", nr.Outcome, v)
	}
	if st := c.Stats(); st.Errors != 3 || st.Fetched != 1 {
		t.Fatalf("stats %+v", st)
	}
}

func TestRefreshPanicIsCaught(t *testing.T) {
	c := newCache(t)
	u := &upstream{}
	pg := newProfileGraph(t, u, cache.For(c, time.Millisecond, cache.Stale(time.Hour)))
	ctx := context.Background()
	pg.run(t, ctx, "u1")
	time.Sleep(5 * time.Millisecond)
	u.set(func(u *upstream) { u.panics = true })
	if _, nr := pg.run(t, ctx, "u1"); nr.Outcome != executor.OutcomeOK {
		t.Fatalf("stale run: %v", nr.Outcome)
	}
	eventually(t, "the refresh to fail", func() bool { return c.Stats().RefreshErrors == 1 })
}

func TestPanicOnMissIsAnErrorNamingTheNode(t *testing.T) {
	c := newCache(t)
	u := &upstream{panics: true}
	pg := newProfileGraph(t, u, cache.For(c, time.Hour))
	_, nr := pg.run(t, context.Background(), "u1")
	var pe *executor.PanicError
	if nr.Outcome != executor.OutcomeError || !errors.As(nr.Cause, &pe) || pe.Node != "profile" {
		t.Fatalf("outcome %v cause %v, want an error naming the node", nr.Outcome, nr.Cause)
	}
}

func TestEachCachesElements(t *testing.T) {
	c := newCache(t)
	u := &upstream{}
	b := graph.NewBuilder()
	ids := nodes.Input[[]string](b, "ids")
	profiles := nodes.Each(b, "profiles", ids, u.profile, cache.For(c, time.Hour))
	g, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	for _, list := range [][]string{{"a", "b", "c"}, {"b", "c", "d"}} {
		res, err := executor.Run(context.Background(), g, []executor.Binding{executor.Bind(ids, list)}, profiles)
		if err != nil {
			t.Fatal(err)
		}
		got, err := executor.Get(res, profiles)
		res.Release()
		if err != nil || len(got) != len(list) {
			t.Fatalf("%v: %v %v", list, got, err)
		}
		for i, p := range got {
			if p.ID != list[i] {
				t.Fatalf("element %d is %q, want %q", i, p.ID, list[i])
			}
		}
	}
	if n := u.calls.Load(); n != 4 {
		t.Fatalf("%d calls for 4 distinct elements, want 4", n)
	}
}

func TestKeys(t *testing.T) {
	type pair struct {
		A string
		B int
	}
	cases := []struct {
		name string
		a, b []any
		same bool
	}{
		{"equal strings", []any{"x"}, []any{"x"}, true},
		{"different strings", []any{"x"}, []any{"y"}, false},
		{"separator inside a string", []any{"a,b"}, []any{"a", "b"}, false},
		{"structs", []any{pair{"a", 1}}, []any{pair{"a", 1}}, true},
		{"different structs", []any{pair{"a", 1}}, []any{pair{"a", 2}}, false},
		{"maps in any order", []any{map[string]int{"a": 1, "b": 2}}, []any{map[string]int{"b": 2, "a": 1}}, true},
		{"two arguments", []any{"a", 1}, []any{"a", 2}, false},
	}
	for _, tc := range cases {
		ka, err := cache.DefaultKey(tc.a)
		if err != nil {
			t.Fatal(err)
		}
		kb, err := cache.DefaultKey(tc.b)
		if err != nil {
			t.Fatal(err)
		}
		if (ka == kb) != tc.same {
			t.Errorf("%s: keys %q and %q, want same=%v", tc.name, ka, kb, tc.same)
		}
	}
	var ke *cache.KeyError
	if _, err := cache.DefaultKey([]any{"ok", func() {}}); !errors.As(err, &ke) || ke.Index != 1 {
		t.Fatalf("a func argument: %v, want a KeyError at index 1", err)
	}
}

func TestUnkeyableArgumentsRunUncached(t *testing.T) {
	c := newCache(t)
	calls := 0
	b := graph.NewBuilder()
	in := nodes.Input[chan int](b, "ch")
	n := nodes.Fetch1(b, "n", in, func(ctx context.Context, ch chan int) (int, error) { calls++; return 7, nil }, cache.For(c, time.Hour))
	g, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	ch := make(chan int)
	for range 2 {
		res, err := executor.Run(context.Background(), g, []executor.Binding{executor.Bind(in, ch)}, n)
		if err != nil {
			t.Fatal(err)
		}
		if v, err := executor.Get(res, n); v != 7 || err != nil {
			t.Fatalf("%v %v", v, err)
		}
		res.Release()
	}
	if calls != 2 || c.Stats().Bypassed != 2 {
		t.Fatalf("calls %d, stats %+v: want 2 uncached calls", calls, c.Stats())
	}

	// With a key function, the same node is cached.
	calls = 0
	b = graph.NewBuilder()
	in = nodes.Input[chan int](b, "ch")
	n = nodes.Fetch1(b, "n", in, func(ctx context.Context, ch chan int) (int, error) { calls++; return 7, nil },
		cache.For(c, time.Hour, cache.Key(func([]any) (string, error) { return "the channel", nil })))
	if g, err = b.Build(); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		res, err := executor.Run(context.Background(), g, []executor.Binding{executor.Bind(in, ch)}, n)
		if err != nil {
			t.Fatal(err)
		}
		res.Release()
	}
	if calls != 1 {
		t.Fatalf("with a key function: %d calls, want 1", calls)
	}
}

func TestForRejectsBadUse(t *testing.T) {
	c := newCache(t)
	cases := map[string]func(b *graph.Builder){
		"compute node": func(b *graph.Builder) {
			nodes.Compute1(b, "x", nodes.Input[int](b, "i"), func(i int) (int, error) { return i, nil }, cache.For(c, time.Hour))
		},
		"zero ttl": func(b *graph.Builder) {
			nodes.Fetch0(b, "x", func(context.Context) (int, error) { return 1, nil }, cache.For(c, 0))
		},
		"nil cache": func(b *graph.Builder) {
			nodes.Fetch0(b, "x", func(context.Context) (int, error) { return 1, nil }, cache.For(nil, time.Hour))
		},
		"negative stale": func(b *graph.Builder) {
			nodes.Fetch0(b, "x", func(context.Context) (int, error) { return 1, nil }, cache.For(c, time.Hour, cache.Stale(-1)))
		},
	}
	for name, declare := range cases {
		b := graph.NewBuilder()
		declare(b)
		_, err := b.Build()
		var ie *graph.InvalidNodeError
		if !errors.As(err, &ie) || ie.Node != "x" || !strings.Contains(err.Error(), "cache") {
			t.Errorf("%s: %v, want an InvalidNodeError naming x", name, err)
		}
	}
}

func TestBoundedSize(t *testing.T) {
	c := newCache(t, cache.WithMaxSize(50))
	u := &upstream{}
	pg := newProfileGraph(t, u, cache.For(c, time.Hour))
	for i := range 500 {
		pg.run(t, context.Background(), strings.Repeat("k", 1+i%7)+string(rune('a'+i%26))+string(rune('a'+i/26)))
	}
	eventually(t, "eviction", func() bool { return c.Stats().Size <= 50 })
}

func TestClosedCacheFetchesEveryTime(t *testing.T) {
	c := newCache(t)
	u := &upstream{}
	pg := newProfileGraph(t, u, cache.For(c, time.Hour))
	pg.run(t, context.Background(), "u1")
	c.Close()
	pg.run(t, context.Background(), "u1")
	if n := u.calls.Load(); n != 2 {
		t.Fatalf("%d calls, want 2", n)
	}
}

func TestNodeNamesWithColonsDoNotShareKeys(t *testing.T) {
	c := newCache(t)
	b := graph.NewBuilder()
	in := nodes.Input[string](b, "in")
	// Node "a" asked for `b:"x"` and node `a:b` asked for "x" must not meet.
	a := nodes.Fetch1(b, "a", in, func(_ context.Context, s string) (string, error) { return "a/" + s, nil }, cache.For(c, time.Hour, cache.Key(func(args []any) (string, error) { return `b:"x"`, nil })))
	ab := nodes.Fetch1(b, "a:b", in, func(_ context.Context, s string) (string, error) { return "a:b/" + s, nil }, cache.For(c, time.Hour))
	g, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		res, err := executor.Run(context.Background(), g, []executor.Binding{executor.Bind(in, "x")}, a, ab)
		if err != nil {
			t.Fatal(err)
		}
		va, _ := executor.Get(res, a)
		vab, _ := executor.Get(res, ab)
		res.Release()
		if va != "a/x" || vab != "a:b/x" {
			t.Fatalf("a=%q a:b=%q", va, vab)
		}
	}
}
