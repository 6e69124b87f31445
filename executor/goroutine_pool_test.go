package executor_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/featgraph/featgraph/executor"
	"github.com/featgraph/featgraph/graph"
	"github.com/featgraph/featgraph/nodes"
	"go.uber.org/goleak"
)

// Node goroutines outlive a run to carry the next one, but not for long.
func TestIdleNodeGoroutinesExit(t *testing.T) {
	b := graph.NewBuilder()
	var deps []nodes.Dep
	for i := range 100 {
		// a body that outgrows a goroutine's first stack, as real fetches
		// do; the runs' helpers come from the Executor's pool, and stay
		// idle in it after the last run
		deps = append(deps, nodes.Fetch0(b, fmt.Sprint("f", i), func(context.Context) (int, error) { return i + bigFrame(i), nil }))
	}
	sum := nodes.ComputeN(b, "sum", deps, func(a nodes.Args) (int, error) {
		total := 0
		for _, d := range deps {
			total += nodes.Arg(a, d.(nodes.Ref[int]))
		}
		return total, nil
	})
	ex, err := executor.New(mustBuild(t, b))
	if err != nil {
		t.Fatal(err)
	}
	for range 50 {
		res, err := ex.Run(context.Background(), nil, sum)
		if v, _ := executor.Get(res, sum); err != nil || v != 4950 {
			t.Fatalf("sum = %d, %v", v, err)
		}
		res.Release()
	}
	goleak.VerifyNone(t) // retries for a while: the idle goroutines must be gone by then
}

// bigFrame needs a 6 KB stack frame and returns 0.
//
//go:noinline
func bigFrame(seed int) int {
	var buf [6 << 10]byte
	buf[seed%len(buf)] = 1
	return int(buf[(seed+1)%len(buf)])
}
