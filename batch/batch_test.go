package batch_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/featgraph/featgraph/batch"
	"github.com/featgraph/featgraph/executor"
	"github.com/featgraph/featgraph/graph"
	"github.com/featgraph/featgraph/nodes"
)

// server answers "v:"+key for every key but those in missing, and records
// the calls it got.
type server struct {
	mu      sync.Mutex
	calls   [][]string
	missing map[string]bool
	fail    error
	hang    bool
	n       atomic.Int64
}

func (s *server) fetch(ctx context.Context, keys []string) (map[string]string, error) {
	s.n.Add(1)
	s.mu.Lock()
	s.calls = append(s.calls, slices.Clone(keys))
	fail, hang := s.fail, s.hang
	s.mu.Unlock()
	if hang {
		<-ctx.Done()
		return nil, ctx.Err()
	}
	if fail != nil {
		return nil, fail
	}
	out := map[string]string{}
	for _, k := range keys {
		if !s.missing[k] {
			out[k] = "v:" + k
		}
	}
	return out, nil
}

func newBatch(t *testing.T, s *server, opts ...batch.Option) *batch.Batch[string, string] {
	t.Helper()
	bt, err := batch.New("accounts", s.fetch, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { bt.Close() })
	return bt
}

func keys(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("k%03d", i)
	}
	return out
}

func TestEachOverAListMakesCeilNOverMaxCalls(t *testing.T) {
	for _, tc := range []struct{ n, max, calls int }{{100, 50, 2}, {101, 50, 3}, {7, 50, 1}, {10, 1, 10}} {
		s := &server{}
		bt := newBatch(t, s, batch.MaxSize(tc.max))
		b := graph.NewBuilder()
		ids := nodes.Input[[]string](b, "ids")
		vals := batch.Each(b, "accounts", bt, ids)
		g, err := b.Build()
		if err != nil {
			t.Fatal(err)
		}
		list := keys(tc.n)
		res, err := executor.Run(context.Background(), g, []executor.Binding{executor.Bind(ids, list)}, vals)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := executor.Get(res, vals)
		res.Release()
		for i, k := range list {
			if got[i] != "v:"+k {
				t.Fatalf("n=%d: element %d is %q, want v:%s", tc.n, i, got[i], k)
			}
		}
		if c := bt.Stats().Calls; c != int64(tc.calls) {
			t.Errorf("n=%d max=%d: %d calls, want %d", tc.n, tc.max, c, tc.calls)
		}
		for _, call := range s.calls {
			if len(call) > tc.max {
				t.Errorf("a call of %d keys, max %d", len(call), tc.max)
			}
		}
	}
}

func TestDuplicateKeysAreSentOnce(t *testing.T) {
	s := &server{}
	bt := newBatch(t, s)
	got, err := bt.LoadMany(context.Background(), []string{"a", "b", "a", "a"})
	if err != nil || !slices.Equal(got, []string{"v:a", "v:b", "v:a", "v:a"}) {
		t.Fatalf("%v %v", got, err)
	}
	if st := bt.Stats(); st.Calls != 1 || st.Keys != 2 {
		t.Fatalf("stats %+v: want 1 call of 2 keys", st)
	}
}

// siblings declares n fetch nodes of bt, each on its own input, all ready
// when the run starts.
func siblings(t *testing.T, bt *batch.Batch[string, string], n int, opts ...nodes.Option) (*graph.Graph, []nodes.Ref[string], []nodes.Ref[string]) {
	t.Helper()
	b := graph.NewBuilder()
	var ins, outs []nodes.Ref[string]
	for i := range n {
		in := nodes.Input[string](b, fmt.Sprintf("id%d", i))
		ins = append(ins, in)
		outs = append(outs, batch.Fetch(b, fmt.Sprintf("account%d", i), bt, in, opts...))
	}
	g, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	return g, ins, outs
}

func TestFetchNodesReadyTogetherShareACall(t *testing.T) {
	s := &server{}
	bt := newBatch(t, s)
	const n = 8
	g, ins, outs := siblings(t, bt, n)
	ex, err := executor.New(g)
	if err != nil {
		t.Fatal(err)
	}
	const runs = 20
	for range runs {
		var inputs []executor.Binding
		for i, in := range ins {
			inputs = append(inputs, executor.Bind(in, fmt.Sprintf("k%d", i)))
		}
		targets := make([]graph.Target, len(outs))
		for i, o := range outs {
			targets[i] = o
		}
		res, err := ex.Run(context.Background(), inputs, targets...)
		if err != nil {
			t.Fatal(err)
		}
		for i, o := range outs {
			if v, _ := executor.Get(res, o); v != fmt.Sprintf("v:k%d", i) {
				t.Fatalf("node %d: %q", i, v)
			}
		}
		res.Release()
	}
	// Which goroutines run before the batch sends is up to the scheduler,
	// so the bound is loose: far fewer calls than nodes.
	if c := bt.Stats().Calls; c > runs*n/2 {
		t.Fatalf("%d runs of %d sibling nodes made %d calls, want at most %d", runs, n, c, runs*n/2)
	}
	t.Logf("%d runs of %d sibling nodes: %d calls", runs, n, bt.Stats().Calls)
}

func TestMaxWaitSharesACallAcrossRuns(t *testing.T) {
	s := &server{}
	bt := newBatch(t, s, batch.MaxWait(200*time.Millisecond), batch.MaxSize(1000))
	const runs = 50
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range runs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			v, err := bt.Load(context.Background(), fmt.Sprintf("k%d", i))
			if err != nil || v != fmt.Sprintf("v:k%d", i) {
				t.Errorf("load %d: %q %v", i, v, err)
			}
		}()
	}
	close(start)
	wg.Wait()
	if c := bt.Stats().Calls; c > runs/10 {
		t.Fatalf("%d concurrent loads made %d calls, want at most %d", runs, c, runs/10)
	}
}

func TestFullBatchGoesAtOnce(t *testing.T) {
	s := &server{}
	bt := newBatch(t, s, batch.MaxWait(time.Hour), batch.MaxSize(3))
	got, err := bt.LoadMany(context.Background(), []string{"a", "b", "c"})
	if err != nil || len(got) != 3 {
		t.Fatalf("%v %v", got, err)
	}
}

func TestMissingKeyFailsThatNodeAlone(t *testing.T) {
	s := &server{missing: map[string]bool{"k1": true, "k2": true}}
	bt := newBatch(t, s)
	b := graph.NewBuilder()
	var ins []nodes.Ref[string]
	for i := range 3 {
		ins = append(ins, nodes.Input[string](b, fmt.Sprintf("id%d", i)))
	}
	ok := batch.Fetch(b, "ok", bt, ins[0])
	missing := batch.Fetch(b, "missing", bt, ins[1])
	fellBack := batch.Fetch(b, "fell_back", bt, ins[2], nodes.Fallback("unknown"))
	g, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	res, _ := executor.Run(context.Background(), g, []executor.Binding{
		executor.Bind(ins[0], "k0"), executor.Bind(ins[1], "k1"), executor.Bind(ins[2], "k2"),
	}, ok, missing, fellBack)
	if res == nil {
		t.Fatal("no result")
	}
	defer res.Release()
	if v, err := executor.Get(res, ok); v != "v:k0" || err != nil {
		t.Errorf("ok: %q %v", v, err)
	}
	nr := res.Node(missing)
	var mk *batch.MissingKeyError
	if nr.Outcome != executor.OutcomeError || !errors.As(nr.Cause, &mk) || mk.Key != "k1" || !strings.Contains(nr.Cause.Error(), `"k1"`) {
		t.Errorf("missing: %v %v, want an error naming k1", nr.Outcome, nr.Cause)
	}
	if v, _ := executor.Get(res, fellBack); v != "unknown" || res.Node(fellBack).Outcome != executor.OutcomeFallback {
		t.Errorf("fell_back: %q %v", v, res.Node(fellBack).Outcome)
	}
	if c := bt.Stats(); c.Missing != 2 {
		t.Errorf("stats %+v: want 2 missing", c)
	}
}

func TestEachFailsNamingTheMissingKey(t *testing.T) {
	s := &server{missing: map[string]bool{"k042": true}}
	bt := newBatch(t, s, batch.MaxSize(50))
	_, err := bt.LoadMany(context.Background(), keys(100))
	var mk *batch.MissingKeyError
	if !errors.As(err, &mk) || mk.Key != "k042" || mk.Batch != "accounts" {
		t.Fatalf("%v, want a MissingKeyError for k042", err)
	}
}

func TestEachNodeGivesUpAtItsOwnDeadline(t *testing.T) {
	s := &server{hang: true}
	bt := newBatch(t, s)
	b := graph.NewBuilder()
	in0 := nodes.Input[string](b, "id0")
	in1 := nodes.Input[string](b, "id1")
	short := batch.Fetch(b, "short", bt, in0, nodes.Timeout(20*time.Millisecond))
	long := batch.Fetch(b, "long", bt, in1, nodes.Timeout(200*time.Millisecond))
	g, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	res, _ := executor.Run(context.Background(), g, []executor.Binding{executor.Bind(in0, "a"), executor.Bind(in1, "b")}, short, long)
	if res == nil {
		t.Fatal("no result")
	}
	defer res.Release()
	for _, n := range []nodes.Ref[string]{short, long} {
		if nr := res.Node(n); nr.Outcome != executor.OutcomeTimeout {
			t.Errorf("%s: %v (%v), want timeout", n.Name(), nr.Outcome, nr.Cause)
		}
	}
	if s, l := res.Node(short), res.Node(long); s.End >= l.End {
		t.Errorf("short ended at %v, long at %v: the short one must not wait for the long one", s.End, l.End)
	}
}

func TestCallErrorsAndPanicsReachTheNodes(t *testing.T) {
	boom := errors.New("accounts down")
	s := &server{fail: boom}
	bt := newBatch(t, s)
	_, err := bt.Load(context.Background(), "a")
	var ce *batch.CallError
	if !errors.Is(err, boom) || !errors.As(err, &ce) || ce.Batch != "accounts" {
		t.Fatalf("%v, want a CallError wrapping the cause", err)
	}
	panicky, err := batch.New("panicky", func(context.Context, []string) (map[string]string, error) { panic("kaboom") })
	if err != nil {
		t.Fatal(err)
	}
	defer panicky.Close()
	if _, err := panicky.Load(context.Background(), "a"); err == nil || !strings.Contains(err.Error(), "kaboom") {
		t.Fatalf("%v, want the panic as an error", err)
	}
	if panicky.Stats().Failed != 1 {
		t.Fatalf("stats %+v", panicky.Stats())
	}
}

func TestClosedBatchRefusesLoads(t *testing.T) {
	bt := newBatch(t, &server{})
	bt.Close()
	if _, err := bt.Load(context.Background(), "a"); !errors.Is(err, batch.ErrClosed) {
		t.Fatalf("%v, want ErrClosed", err)
	}
}

func TestBadDeclarations(t *testing.T) {
	if _, err := batch.New[string, string]("x", nil); err == nil {
		t.Error("nil fetch accepted")
	}
	if _, err := batch.New("x", (&server{}).fetch, batch.MaxSize(0)); err == nil {
		t.Error("max size 0 accepted")
	}
	if _, err := batch.New("x", (&server{}).fetch, batch.MaxWait(-1)); err == nil {
		t.Error("negative max wait accepted")
	}
	b := graph.NewBuilder()
	batch.Fetch[string, string](b, "n", nil, nodes.Input[string](b, "i"))
	if _, err := b.Build(); err == nil || !strings.Contains(err.Error(), "nil batch") {
		t.Errorf("nil batch: %v", err)
	}
}

func TestListAnswers(t *testing.T) {
	bt, err := batch.NewList("lengths", func(_ context.Context, keys []string) ([]int, error) {
		out := make([]int, len(keys))
		for i, k := range keys {
			out[i] = len(k)
		}
		return out, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	defer bt.Close()
	got, err := bt.LoadMany(context.Background(), []string{"a", "bbb", "cc"})
	if err != nil || !slices.Equal(got, []int{1, 3, 2}) {
		t.Fatalf("%v %v", got, err)
	}
	short, err := batch.NewList("short", func(_ context.Context, keys []string) ([]int, error) { return []int{1}, nil })
	if err != nil {
		t.Fatal(err)
	}
	defer short.Close()
	var ce *batch.CallError
	if _, err := short.LoadMany(context.Background(), []string{"a", "b"}); !errors.As(err, &ce) || !strings.Contains(err.Error(), "1 values for 2 keys") {
		t.Fatalf("%v, want a CallError about the length", err)
	}
}
