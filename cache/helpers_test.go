package cache_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/featgraph/featgraph/cache"
	"github.com/featgraph/featgraph/executor"
	"github.com/featgraph/featgraph/graph"
	"github.com/featgraph/featgraph/nodes"
)

// Profile is a long-term feature with more than one field, to see values
// survive the JSON codec.
type Profile struct {
	ID     string   `json:"id"`
	Tenure int      `json:"tenure"`
	Tags   []string `json:"tags"`
}

// upstream counts calls and can be told to block, fail or answer anew.
type upstream struct {
	calls   atomic.Int64
	version atomic.Int64
	mu      sync.Mutex
	gate    chan struct{} // when set, calls wait for it to close
	fail    error
	panics  bool
	entered chan struct{} // when set, each call sends on it first
}

func (u *upstream) profile(ctx context.Context, id string) (Profile, error) {
	u.calls.Add(1)
	u.mu.Lock()
	gate, fail, panics, entered := u.gate, u.fail, u.panics, u.entered
	u.mu.Unlock()
	if entered != nil {
		entered <- struct{}{}
	}
	if gate != nil {
		select {
		case <-gate:
		case <-ctx.Done():
			return Profile{}, ctx.Err()
		}
	}
	if panics {
		panic("upstream exploded")
	}
	if fail != nil {
		return Profile{}, fail
	}
	return Profile{ID: id, Tenure: int(u.version.Load()), Tags: []string{"gold", id}}, nil
}

func (u *upstream) set(f func(u *upstream)) {
	u.mu.Lock()
	defer u.mu.Unlock()
	f(u)
}

// profileGraph is one input and one cached fetch node.
type profileGraph struct {
	g       *graph.Graph
	id      nodes.Ref[string]
	profile nodes.Ref[Profile]
}

func newProfileGraph(t *testing.T, u *upstream, opts ...nodes.Option) profileGraph {
	t.Helper()
	b := graph.NewBuilder()
	id := nodes.Input[string](b, "customer_id")
	p := nodes.Fetch1(b, "profile", id, u.profile, opts...)
	g, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	return profileGraph{g: g, id: id, profile: p}
}

// run runs the graph for id and returns the profile node's value and result.
func (pg profileGraph) run(t *testing.T, ctx context.Context, id string) (Profile, executor.NodeResult) {
	t.Helper()
	// A failed target makes Run return an error with the result: the
	// tests read the node's outcome instead.
	res, err := executor.Run(ctx, pg.g, []executor.Binding{executor.Bind(pg.id, id)}, pg.profile)
	if res == nil {
		t.Fatalf("run: %v", err)
	}
	defer res.Release()
	v, _ := executor.Get(res, pg.profile)
	return v, res.Node(pg.profile)
}

// statusLog records the statuses the cache reports.
type statusLog struct {
	mu  sync.Mutex
	got []cache.Status
}

func (l *statusLog) observe(_ context.Context, _ string, s cache.Status) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.got = append(l.got, s)
}

func (l *statusLog) last() cache.Status {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.got) == 0 {
		return 0
	}
	return l.got[len(l.got)-1]
}

func newCache(t *testing.T, opts ...cache.Option) *cache.Cache {
	t.Helper()
	c, err := cache.New(opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// eventually polls cond for up to 10 s.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}
