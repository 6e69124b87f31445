package backfill_test

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/featgraph/featgraph/backfill"
	"github.com/featgraph/featgraph/executor"
	"github.com/featgraph/featgraph/graph"
	"github.com/featgraph/featgraph/nodes"
)

// testGraph is a small graph: an id and an amount in, a fetched score (that
// fails for ids starting with "bad", hangs for "hang"), a fetched tier with a
// fallback (failing for ids starting with "fb"), and a decision string.
type testGraph struct {
	g *graph.Graph
	// fetchHook, when set, runs at the start of every score fetch.
	fetchHook func(ctx context.Context, id string)
	// inside counts score fetches running now; maxInside the most at once.
	inside, maxInside atomic.Int64
}

func newTestGraph(t testing.TB) *testGraph {
	t.Helper()
	tg := &testGraph{}
	b := graph.NewBuilder()
	id := nodes.Input[string](b, "id")
	amount := nodes.Input[int](b, "amount")
	score := nodes.Fetch1(b, "score", id, func(ctx context.Context, id string) (float64, error) {
		n := tg.inside.Add(1)
		defer tg.inside.Add(-1)
		for {
			m := tg.maxInside.Load()
			if n <= m || tg.maxInside.CompareAndSwap(m, n) {
				break
			}
		}
		if tg.fetchHook != nil {
			tg.fetchHook(ctx, id)
		}
		switch {
		case len(id) >= 3 && id[:3] == "bad":
			return 0, errors.New("score service: no such id")
		case id == "hang":
			<-ctx.Done()
			return 0, ctx.Err()
		}
		return expectedScore(id), nil
	})
	tier := nodes.Fetch1(b, "tier", id, func(ctx context.Context, id string) (string, error) {
		if len(id) >= 2 && id[:2] == "fb" {
			return "", errors.New("tier service down")
		}
		return "gold", nil
	}, nodes.Fallback("basic"))
	nodes.Compute3(b, "decision", score, amount, tier, func(s float64, a int, tier string) (string, error) {
		return expectedDecision(s, a, tier), nil
	})
	g, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	tg.g = g
	return tg
}

func expectedScore(id string) float64 {
	h := fnv.New32a()
	h.Write([]byte(id))
	return float64(h.Sum32()%1000) / 1000
}

func expectedDecision(s float64, amount int, tier string) string {
	return fmt.Sprintf("%s:%.3f:%d", tier, s, amount*2)
}

func (tg *testGraph) runner(t testing.TB, opts ...backfill.Option) *backfill.Runner {
	t.Helper()
	ex, err := executor.New(tg.g)
	if err != nil {
		t.Fatal(err)
	}
	r, err := backfill.New(ex, []string{"decision"}, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// rowsOf is a source of n good rows: id "i<N>", amount N.
func rowsOf(n int) backfill.Source {
	return func(yield func(backfill.Row, error) bool) {
		for i := 1; i <= n; i++ {
			if !yield(backfill.Row{N: int64(i), Columns: map[string]any{"id": fmt.Sprintf("i%d", i), "amount": i, "extra": "x"}}, nil) {
				return
			}
		}
	}
}

// collect is a Sink and DeadLetterSink keeping what it gets.
type collect struct {
	mu   sync.Mutex
	out  []backfill.Output
	dead []backfill.DeadLetter
}

func (c *collect) Write(o backfill.Output) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.out = append(c.out, o)
	return nil
}

func (c *collect) WriteDeadLetter(d backfill.DeadLetter) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.dead = append(c.dead, d)
	return nil
}

// delayByID sleeps a few hundred microseconds depending on the id, so that
// rows finish out of order.
func delayByID(ctx context.Context, id string) {
	d := time.Duration(expectedScore(id)*2000) * time.Microsecond
	select {
	case <-time.After(d):
	case <-ctx.Done():
	}
}
