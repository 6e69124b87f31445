package spec_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/featgraph/featgraph/executor"
	"github.com/featgraph/featgraph/graph"
	"github.com/featgraph/featgraph/spec"
)

// exprSpec is a spec with one expr node x of type typ over inputs n, k
// (int) and s (string).
func exprSpec(src, typ string) string {
	return "version: 1\ninputs:\n  n: int\n  k: int\n  s: string\nnodes:\n  x:\n    expr: " + strconv.Quote(src) + "\n    type: " + typ + "\ntargets: [x]\n"
}

// runExpr loads exprSpec(src, typ) and runs it with the given run deadline
// and inputs n, k and s. It returns how x ended, its value and how long
// Run took.
func runExpr(t *testing.T, src, typ string, deadline time.Duration, n, k int, s string, opts ...spec.Option) (executor.NodeResult, any, time.Duration) {
	t.Helper()
	sp, err := spec.Parse("hostile.yaml", []byte(exprSpec(src, typ)), opts...)
	if err != nil {
		t.Fatalf("load %q: %v", src, err)
	}
	t.Cleanup(sp.Close)
	id := graph.Named("x")
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	in := []executor.Binding{executor.BindNamed("n", n), executor.BindNamed("k", k), executor.BindNamed("s", s)}
	start := time.Now()
	res, err := executor.Run(ctx, sp.Graph(), in, []graph.Target{id}...)
	took := time.Since(start)
	if res == nil {
		t.Fatalf("run %q: %v", src, err)
	}
	defer res.Release()
	x, _ := res.Lookup("x")
	v, _ := res.Value(id)
	return x, v, took
}

// cpuTime is the CPU time this process has used so far.
func cpuTime(t *testing.T) time.Duration {
	t.Helper()
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		t.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// TestHostileExpressions runs the expressions of issue 10 that ran past
// their deadline, kept burning CPU after Run returned, or grew without
// bound: each must end as a timeout or an error, soon after its deadline,
// and stop using CPU.
func TestHostileExpressions(t *testing.T) {
	for _, tc := range []struct {
		name, src, typ string
		n, k           int
		s              string
		want           []executor.Outcome
		cause          string // in the cause's message, when it must be an error
		memory         int64  // the memory budget, when not the default
	}{
		// 2.7e10 steps: minutes of CPU when unbounded.
		{name: "nested all over a range", src: "let r = 1..n; count(r, {all(r, {all(r, {# > 0})})})", typ: "int", n: 3000, want: []executor.Outcome{executor.OutcomeTimeout, executor.OutcomeError}},
		{name: "nested any over a range", src: "let r = 1..n; any(r, {any(r, {any(r, {# < 0})})})", typ: "bool", n: 3000, want: []executor.Outcome{executor.OutcomeTimeout, executor.OutcomeError}},
		{name: "reduce over a range", src: "let r = 1..n; reduce(r, {#acc + count(r, {# > 0})}, 0)", typ: "int", n: 100000, want: []executor.Outcome{executor.OutcomeTimeout, executor.OutcomeError}},
		// 100 MB, then more: past the 64 MB default budget.
		{name: "repeat of repeat", src: "len(repeat(repeat(\"x\", k), 1000000))", typ: "int", k: 1000, want: []executor.Outcome{executor.OutcomeError}, cause: "memory"},
		{name: "string + chain", src: "let a = repeat(\"x\", 1024); let b = a + a; let c = b + b; let d = c + c; let e = d + d; let f = e + e; let g = f + f; let h = g + g; let i = h + h; let j = i + i; let k2 = j + j; let l = k2 + k2; let m = l + l; let o = m + m; let p = o + o; let q = p + p; let r = q + q; len(r)", typ: "int", want: []executor.Outcome{executor.OutcomeError}, cause: "memory"},
		{name: "string + in a reduce", src: "len(reduce(1..n, {#acc + s}, \"\"))", typ: "int", n: 100000, s: strings.Repeat("y", 4096), want: []executor.Outcome{executor.OutcomeError, executor.OutcomeTimeout}},
		// 9e6 elements kept: past an 8 MB budget (past 64 MB too, only slower).
		{name: "map of maps", src: "let r = 1..n; len(map(r, {map(r, {#})}))", typ: "int", n: 3000, want: []executor.Outcome{executor.OutcomeError}, cause: "memory", memory: 8 << 20},
		{name: "join of copies", src: "len(join(map(1..n, {s}), \"\"))", typ: "int", n: 1000, s: strings.Repeat("z", 100000), want: []executor.Outcome{executor.OutcomeError}, cause: "memory"},
		{name: "toJSON of copies", src: "len(toJSON(map(1..n, {s})))", typ: "int", n: 1000, s: strings.Repeat("z", 100000), want: []executor.Outcome{executor.OutcomeError}, cause: "memory"},
		{name: "string of copies", src: "len(string(map(1..n, {s})))", typ: "int", n: 1000, s: strings.Repeat("z", 100000), want: []executor.Outcome{executor.OutcomeError}, cause: "memory"},
		{name: "replace grows", src: "len(replace(s, \"a\", repeat(\"b\", 100000)))", typ: "int", s: strings.Repeat("a", 1000), want: []executor.Outcome{executor.OutcomeError}, cause: "memory"},
		{name: "split into bytes", src: "len(split(s, \"\"))", typ: "int", s: strings.Repeat("a", 8<<20), want: []executor.Outcome{executor.OutcomeError}, cause: "memory"},
		{name: "huge range", src: "len(1..n)", typ: "int", n: 1 << 40, want: []executor.Outcome{executor.OutcomeError}, cause: "memory"},
		{name: "negative repeat", src: "len(repeat(s, k))", typ: "int", k: -1, s: "x", want: []executor.Outcome{executor.OutcomeError}},
		{name: "overflowing repeat", src: "len(repeat(repeat(s, 1000000), k))", typ: "int", k: 1 << 50, s: "xy", want: []executor.Outcome{executor.OutcomeError}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			// The CPU cases must time out on a short deadline; the others
			// must fail, given all the time they need.
			deadline := 100 * time.Millisecond
			if !slices.Contains(tc.want, executor.OutcomeTimeout) {
				deadline = 20 * time.Second
			}
			x, _, took := runExpr(t, tc.src, tc.typ, deadline, tc.n, tc.k, tc.s, spec.WithLimits(spec.Limits{ExprMemory: tc.memory}))
			runtime.ReadMemStats(&after)
			if !slices.Contains(tc.want, x.Outcome) {
				t.Fatalf("outcome %v (cause %v), want one of %v", x.Outcome, x.Cause, tc.want)
			}
			if tc.cause != "" && (x.Cause == nil || !strings.Contains(x.Cause.Error(), tc.cause)) {
				t.Errorf("cause %v, want it to mention %q", x.Cause, tc.cause)
			}
			// The default budget is 64 MB; an evaluation may overshoot it
			// by one value before it stops.
			if alloc := after.TotalAlloc - before.TotalAlloc; tc.cause == "memory" && alloc > 200<<20 {
				t.Errorf("allocated %d MB", alloc>>20)
			}
			// Generous for a loaded machine; unbounded, these take
			// seconds to minutes or exhaust memory.
			if took > 20*deadline && slices.Contains(tc.want, executor.OutcomeTimeout) {
				t.Errorf("Run took %v with a %v deadline", took, deadline)
			}
		})
	}
}

// TestHostileExpressionStopsCPU checks that an expression that outlives
// its node's deadline stops using CPU soon after: Run returns on time and
// the process is idle afterwards.
func TestHostileExpressionStopsCPU(t *testing.T) {
	const deadline = 50 * time.Millisecond
	x, _, took := runExpr(t, "let r = 1..n; count(r, {all(r, {all(r, {# > 0})})})", "int", deadline, 5000, 0, "")
	if x.Outcome != executor.OutcomeTimeout {
		t.Fatalf("outcome %v (cause %v), want timeout", x.Outcome, x.Cause)
	}
	if took > 20*deadline {
		t.Errorf("Run took %v with a %v deadline", took, deadline)
	}
	// Leave the abandoned evaluation time to see its deadline, then
	// measure: an idle process uses next to no CPU; one still running the
	// expression uses a whole core.
	time.Sleep(200 * time.Millisecond)
	const window = 500 * time.Millisecond
	before := cpuTime(t)
	time.Sleep(window)
	if used := cpuTime(t) - before; used > window/3 {
		t.Errorf("the process used %v of CPU in %v after Run returned", used, window)
	}
}

// TestHostileNestedParens loads an expression of 500,000 nested
// parentheses: a clear error at its file:line:col, not a stack overflow.
func TestHostileNestedParens(t *testing.T) {
	src := strings.Repeat("(", 500000) + "1" + strings.Repeat(")", 500000)
	_, err := spec.Parse("deep.yaml", []byte(exprSpec(src, "int")))
	if err == nil {
		t.Fatal("loaded")
	}
	if !errors.Is(err, spec.ErrInvalid) {
		t.Errorf("error is not ErrInvalid: %v", err)
	}
	msg := err.Error()
	if !strings.HasPrefix(msg, "deep.yaml:8:") || len(msg) > 1000 {
		t.Errorf("error %.300q… (%d bytes), want a short one at deep.yaml:8:…", msg, len(msg))
	}
}

// manyExprNodes is a spec with n expr nodes, each reading an input and the
// node before it.
func manyExprNodes(n int) []byte {
	var b strings.Builder
	b.WriteString("version: 1\ninputs:\n  amount: float\nnodes:\n  e0:\n    expr: amount * 2\n    type: float\n")
	for i := 1; i < n; i++ {
		fmt.Fprintf(&b, "  e%d:\n    expr: e%d + amount\n    type: float\n", i, i-1)
	}
	return []byte(b.String())
}

// TestLoadLinearInExprNodes checks that loading grows linearly with the
// number of expr nodes: ten times the nodes take well under a hundred
// times as long (the quadratic loader took ~100x; linear is ~10x).
func TestLoadLinearInExprNodes(t *testing.T) {
	load := func(n int) time.Duration {
		data := manyExprNodes(n)
		best := time.Duration(1<<63 - 1)
		for range 3 {
			start := time.Now()
			s, err := spec.Parse("many.yaml", data)
			took := time.Since(start)
			if err != nil {
				t.Fatal(err)
			}
			s.Close()
			best = min(best, took)
		}
		return best
	}
	small, large := load(1000), load(10000)
	if ratio := float64(large) / float64(small); ratio > 35 {
		t.Errorf("1,000 expr nodes load in %v, 10,000 in %v: %.0fx", small, large, ratio)
	}
}
