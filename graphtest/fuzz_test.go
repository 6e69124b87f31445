package graphtest_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/featgraph/featgraph/executor"
	"github.com/featgraph/featgraph/graph"
	"github.com/featgraph/featgraph/graphtest"
	"github.com/featgraph/featgraph/nodes"
)

// FuzzExecutor builds a random graph of up to 200 nodes from the input —
// inputs, values, fetches and computes of ints, bools and lists, if, and, or
// and each nodes, with errors, panics, delays, flaky retried fetches, hung
// nodes (ignoring their context) and slow ones (respecting it) under node
// timeouts, fallbacks of three sorts, unbound inputs, and random targets —
// runs it twice with featgraph, and checks every node's outcome, value, cause
// and attempt count against a sequential reference evaluator.
//
// The reference knows what the executor cannot do deterministically: when
// an And/Or decides, its other operands may be finished, canceled or never
// started, so nodes only such operands need ("maybe" nodes) may end as
// skipped or canceled besides their own outcome. Everything a target needs
// for sure ("must" nodes) must end exactly as the reference says; nodes
// nothing needs must be skipped.
//
// Timing is kept far from its thresholds so that the comparison survives a
// noisy machine: only fetches that always hang or are slow get the short
// timeout, each nodes whose elements may hang get a longer one and no
// delayed elements, other delays are short and their nodes have no timeout
// or a long one. In "deadline
// mode" (one bit of the input) hung nodes have no timeout at all and the
// run's deadline ends them; then nothing is delayed.
func FuzzExecutor(f *testing.F) {
	for _, seed := range [][]byte{
		{0, 4, 1, 2, 3},
		[]byte("featgraph: a small graph"),
		[]byte("\x01an and/or heavy graph with hangs\xff\xfe\x07\x06\x05"),
		{0, 60, 2, 1, 5, 2, 2, 6, 1, 7, 3, 8, 4, 9, 5, 10, 6, 11, 7, 12, 8, 13, 9, 0, 3, 3, 3},
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		fz := generate(data)
		release := make(chan struct{})
		t.Cleanup(func() { close(release) })
		g, refs, err := fz.build(release)
		if err != nil {
			t.Fatalf("the generated graph does not build: %v\n%s", err, fz.describe())
		}
		opts := []graphtest.Option{graphtest.ExecutorOptions(executor.WithRunTimeout(fz.runTimeout()))}
		for i, n := range fz.nodes {
			if n.isBlocking() {
				opts = append(opts, graphtest.Allow(graph.Named(fz.name(i))))
			}
		}
		targets := make([]graph.Target, len(fz.targets))
		for i, tg := range fz.targets {
			targets[i] = refs[tg]
		}
		runs := 2
		if fz.deadlineMode {
			runs = 1 // each run waits for the deadline
		}
		for _, sequential := range []bool{false, true} {
			ref := fz.evaluate(sequential)
			engine := "concurrent"
			hopts := opts
			if sequential {
				engine = "sequential"
				hopts = append(slices.Clone(opts), graphtest.ExecutorOptions(executor.WithSequential()))
			}
			h := graphtest.New(t, g, hopts...)
			var first string
			for r := range runs {
				ctx := context.WithValue(context.Background(), attemptsKey{}, newAttempts(len(fz.nodes)))
				run := h.Run(ctx, fz.bindings(refs), targets...)
				if problems := fz.check(run, ref, sequential); len(problems) > 0 {
					t.Fatalf("%s run %d differs from the reference:\n%s\n\ngraph:\n%s\nreference:\n%s\n\nrun:\n%s",
						engine, r+1, strings.Join(problems, "\n"), fz.describe(), fz.describeRef(ref), run.Table())
				}
				// The sequential engine repeats itself: same outcomes, run after run.
				if outcomes := fmt.Sprint(outcomesOf(run)); !sequential || r == 0 {
					first = outcomes
				} else if outcomes != first {
					t.Fatalf("sequential run %d ended otherwise than run 1:\n%s\nthen:\n%s\n\ngraph:\n%s", r+1, first, outcomes, fz.describe())
				}
			}
		}
	})
}

// outcomesOf lists how every node of run ended, in declaration order.
func outcomesOf(run *graphtest.Run) []executor.Outcome {
	var out []executor.Outcome
	for _, nr := range run.Result().Nodes() {
		out = append(out, nr.Outcome)
	}
	return out
}

// --- the generated graph ---

type vtype uint8

const (
	tInt vtype = iota
	tBool
	tList
)

func (t vtype) String() string { return [...]string{"int", "bool", "list"}[t] }

type fkind uint8

const (
	kInput fkind = iota
	kValue
	kFetch
	kCompute
	kIf
	kAnd
	kOr
	kEach
)

func (k fkind) String() string {
	return [...]string{"input", "value", "fetch", "compute", "if", "and", "or", "each"}[k]
}

type fault uint8

const (
	fNone  fault = iota
	fDelay       // waits a little (respecting its context), then answers
	fError
	fPanic
	fHang  // ignores its context until the test ends
	fSlow  // waits for its context to end
	fFlaky // fails its first tries; retried
)

func (f fault) String() string {
	return [...]string{"-", "delay", "error", "panic", "hang", "slow", "flaky"}[f]
}

type fallback uint8

const (
	fbNone    fallback = iota
	fbValue            // nodes.Fallback
	fbFunc             // nodes.FallbackFunc: one more when the cause is a timeout
	fbRefuses          // nodes.FallbackFunc that returns an error
)

// fnode is one generated node.
type fnode struct {
	kind    fkind
	typ     vtype
	deps    []int // static dependencies
	lazy    []int // if: then, else; and/or: operands
	c       int   // the node's constant
	fault   fault
	delay   time.Duration
	fails   int // fFlaky: failing tries before the first success
	tries   int // fFlaky: retry attempts (>= 1)
	timeout time.Duration
	fb      fallback
	fbBase  int
	bound   bool    // input: bound by the run
	elems   []fault // each: fault of the element of value e is elems[e % len(elems)]
	limit   int     // each: parallelism limit
}

func (n *fnode) isBlocking() bool { return n.kind == kFetch || n.kind == kEach }

type fuzzGraph struct {
	nodes        []fnode
	targets      []int
	deadlineMode bool
}

const (
	shortTimeout    = 5 * time.Millisecond   // for fetches that always hang or are slow
	eachHangTimeout = 50 * time.Millisecond  // for each nodes with elements that may hang
	longTimeout     = 30 * time.Second       // never reached
	maxDelay        = 500 * time.Microsecond // far below every timeout that can fire
	runDeadline     = 250 * time.Millisecond // deadline mode
	guardTimeout    = 20 * time.Second       // normal mode: only a hung executor reaches it
	modulus         = 1009
)

func (fz *fuzzGraph) runTimeout() time.Duration {
	if fz.deadlineMode {
		return runDeadline
	}
	return guardTimeout
}

func (fz *fuzzGraph) name(i int) string { return fmt.Sprintf("n%d", i) }

// byteReader reads the fuzz input; past its end it reads zeros.
type byteReader struct {
	data []byte
	pos  int
}

func (r *byteReader) byte() byte {
	if r.pos >= len(r.data) {
		r.pos++
		return 0
	}
	b := r.data[r.pos]
	r.pos++
	return b
}

func (r *byteReader) intn(n int) int {
	if n <= 1 {
		return 0
	}
	v := int(r.byte())
	if n > 256 {
		v = v<<8 | int(r.byte())
	}
	return v % n
}

// generate decodes a graph from data. Every input gives a valid graph.
func generate(data []byte) *fuzzGraph {
	r := &byteReader{data: data}
	head := r.byte()
	fz := &fuzzGraph{deadlineMode: head&1 == 1}
	count := 1 + r.intn(200)
	byType := map[vtype][]int{}
	pick := func(from []int) int {
		if r.intn(2) == 0 { // recent nodes, for long chains
			w := min(len(from), 6)
			return from[len(from)-1-r.intn(w)]
		}
		return from[r.intn(len(from))]
	}
	pickDistinct := func(from []int, k int) []int {
		var out []int
		for range k {
			x := pick(from)
			dup := false
			for _, y := range out {
				dup = dup || x == y
			}
			if !dup {
				out = append(out, x)
			}
		}
		return out
	}
	var all []int
	inputs := 0
	for i := range count {
		if i > 0 && r.pos >= len(r.data) {
			break // the input is spent: zeros would only add constant nodes
		}
		n := fnode{c: r.intn(modulus)}
		kind := fkind(r.intn(8))
		switch kind {
		case kInput:
			if inputs >= 3 {
				kind = kValue
			}
		case kIf:
			bools := byType[tBool]
			if len(bools) == 0 {
				kind = kCompute
				break
			}
			t := vtype(r.intn(3))
			if len(byType[t]) < 2 {
				kind = kCompute
				break
			}
			a, b := pick(byType[t]), pick(byType[t])
			if a == b {
				kind = kCompute
				break
			}
			n.typ, n.deps, n.lazy = t, []int{pick(bools)}, []int{a, b}
		case kAnd, kOr:
			if len(byType[tBool]) == 0 {
				kind = kFetch
				break
			}
			n.typ, n.lazy = tBool, pickDistinct(byType[tBool], 1+r.intn(4))
		case kEach:
			if len(byType[tList]) == 0 {
				kind = kFetch
				break
			}
			n.typ, n.deps, n.limit = tList, []int{pick(byType[tList])}, r.intn(3)
			n.elems = make([]fault, 1+r.intn(4))
			for j := range n.elems {
				switch r.intn(14) {
				case 0:
					n.elems[j] = fError
				case 1:
					n.elems[j] = fPanic
				case 2:
					n.elems[j] = fHang
				case 3:
					if !fz.deadlineMode {
						n.elems[j] = fDelay
					}
				}
			}
		}
		n.kind = kind
		switch kind {
		case kInput:
			inputs++
			n.typ, n.bound = tInt, r.intn(8) != 0
		case kValue:
			n.typ = tInt
		case kFetch, kCompute:
			n.typ = vtype(r.intn(3))
			if len(all) > 0 {
				n.deps = pickDistinct(all, r.intn(4))
			}
			if kind == kCompute {
				switch r.intn(12) {
				case 0:
					n.fault = fError
				case 1:
					n.fault = fPanic
				}
				break
			}
			switch r.intn(16) {
			case 8:
				if !fz.deadlineMode {
					n.fault = fDelay
				}
			case 9:
				n.fault = fError
			case 10:
				n.fault = fPanic
			case 11:
				n.fault = fHang
			case 12:
				if !fz.deadlineMode {
					n.fault = fSlow // at a run deadline it would race the deadline
				}
			case 13:
				n.fault, n.fails, n.tries = fFlaky, 1+r.intn(2), 1+r.intn(3)
			}
		}
		if n.fault == fDelay {
			n.delay = time.Duration(1+r.intn(int(maxDelay/time.Microsecond))) * time.Microsecond
		}
		if n.isBlocking() {
			hangs := n.fault == fHang || n.fault == fSlow
			eachHangs := false
			for _, e := range n.elems {
				eachHangs = eachHangs || e == fHang
			}
			if eachHangs {
				// Whether an element hangs depends on the list: when none does,
				// the timeout must not fire, so the elements do not wait and
				// the timeout is far from what a noisy machine may add.
				for j, e := range n.elems {
					if e == fDelay {
						n.elems[j] = fNone
					}
				}
			}
			switch {
			case eachHangs && !fz.deadlineMode:
				n.timeout = eachHangTimeout
			case hangs && !fz.deadlineMode:
				n.timeout = shortTimeout
			case !hangs && !eachHangs && r.intn(4) == 0:
				n.timeout = longTimeout
			}
		}
		switch n.kind {
		case kFetch, kCompute, kIf, kEach:
			if x := r.intn(6); x < 3 {
				n.fb, n.fbBase = fallback(x+1), r.intn(modulus)
			}
		}
		fz.nodes = append(fz.nodes, n)
		byType[n.typ] = append(byType[n.typ], i)
		all = append(all, i)
	}
	count = len(fz.nodes)
	for range 1 + r.intn(3) {
		var tg int
		if r.intn(2) == 0 {
			tg = count - 1 - r.intn(min(count, 8))
		} else {
			tg = r.intn(count)
		}
		fz.targets = append(fz.targets, tg)
	}
	return fz
}

// --- values: simple arithmetic, so that every value is checkable ---

func toInt(v any) int {
	switch v := v.(type) {
	case int:
		return v
	case bool:
		if v {
			return 1
		}
		return 0
	case []int:
		s := 0
		for _, x := range v {
			s += x
		}
		return s
	}
	return -1 // a nil from a missing value: shows up as a wrong value
}

func mod(x int) int { return ((x % modulus) + modulus) % modulus }

func project(t vtype, base int) any {
	switch t {
	case tBool:
		return base%2 == 0
	case tList:
		out := make([]int, base%4)
		for j := range out {
			out[j] = base + j
		}
		return out
	}
	return base
}

func (n *fnode) base(args []any) int {
	s := n.c
	for j, a := range args {
		s += (j + 1) * toInt(a)
	}
	return mod(s)
}

func (n *fnode) elem(e int) int { return mod(e*(1+n.c%5) + n.c) }

// elemFault is the fault of the element of value e: elements are told apart
// by value, as the element function does not know its index.
func (n *fnode) elemFault(e int) fault { return n.elems[mod(e)%len(n.elems)] }

func (n *fnode) fallbackValue(timedOut bool) any {
	if n.fb == fbFunc && timedOut {
		return project(n.typ, mod(n.fbBase+1))
	}
	return project(n.typ, n.fbBase)
}

var (
	errFuzz       = errors.New("fuzz: injected error")
	errFlaky      = errors.New("fuzz: flaky failure")
	errFbRefuses  = errors.New("fuzz: fallback refuses")
	errHungReturn = errors.New("fuzz: hung node released")
)

// attempts counts the tries of each node in one run; it travels in the
// run's context so that a straggler of an earlier run counts elsewhere.
type attemptsKey struct{}

type attempts []atomic.Int32

func newAttempts(n int) *attempts { a := make(attempts, n); return &a }

// --- building the graph with the typed API ---

// fuzzRefs holds each node's Ref, whatever its type.
type fuzzRef interface {
	ID() graph.NodeID
	Name() string
}

func (fz *fuzzGraph) build(release <-chan struct{}) (*graph.Graph, []fuzzRef, error) {
	b := graph.NewBuilder()
	refs := make([]fuzzRef, len(fz.nodes))
	for i := range fz.nodes {
		switch fz.nodes[i].typ {
		case tInt:
			refs[i] = declare[int](b, fz, i, refs, release)
		case tBool:
			refs[i] = declare[bool](b, fz, i, refs, release)
		case tList:
			refs[i] = declare[[]int](b, fz, i, refs, release)
		}
	}
	g, err := b.Build()
	return g, refs, err
}

// get reads dependency d's value from args with its type.
func get(a nodes.Args, d fuzzRef) any {
	switch r := d.(type) {
	case graph.Ref[int]:
		return nodes.Arg(a, r)
	case graph.Ref[bool]:
		return nodes.Arg(a, r)
	case graph.Ref[[]int]:
		return nodes.Arg(a, r)
	}
	panic(fmt.Sprintf("fuzz: unexpected ref %T", d))
}

func declare[T any](b *graph.Builder, fz *fuzzGraph, i int, refs []fuzzRef, release <-chan struct{}) graph.Ref[T] {
	n := &fz.nodes[i]
	name := fz.name(i)
	var opts []nodes.Option
	if n.timeout > 0 {
		opts = append(opts, nodes.Timeout(n.timeout))
	}
	switch n.fb {
	case fbValue:
		opts = append(opts, nodes.Fallback(project(n.typ, n.fbBase).(T)))
	case fbFunc:
		opts = append(opts, nodes.FallbackFunc(func(cause error) (T, error) {
			// Its own timeout, not a dependency's: which of several failed
			// dependencies fails a node first depends on timing.
			var de *executor.DependencyError
			return n.fallbackValue(!errors.As(cause, &de) && errors.Is(cause, context.DeadlineExceeded)).(T), nil
		}))
	case fbRefuses:
		opts = append(opts, nodes.FallbackFunc(func(error) (T, error) {
			var zero T
			return zero, errFbRefuses
		}))
	}
	if n.fault == fFlaky {
		opts = append(opts, nodes.Retry(n.tries, 0))
	}
	deps := make([]nodes.Dep, len(n.deps))
	for j, d := range n.deps {
		deps[j] = refs[d]
	}
	args := func(a nodes.Args) []any {
		out := make([]any, len(deps))
		for j, d := range deps {
			out[j] = get(a, d.(fuzzRef))
		}
		return out
	}
	switch n.kind {
	case kInput:
		return nodes.Input[T](b, name)
	case kValue:
		return nodes.Value(b, name, project(n.typ, n.c).(T))
	case kCompute:
		return nodes.ComputeN(b, name, deps, func(a nodes.Args) (T, error) {
			var zero T
			switch n.fault {
			case fError:
				return zero, errFuzz
			case fPanic:
				panic("fuzz: compute panics")
			}
			return project(n.typ, n.base(args(a))).(T), nil
		}, opts...)
	case kFetch:
		return nodes.FetchN(b, name, deps, func(ctx context.Context, a nodes.Args) (T, error) {
			var zero T
			try := (*ctx.Value(attemptsKey{}).(*attempts))[i].Add(1)
			switch n.fault {
			case fDelay:
				if err := sleepCtx(ctx, n.delay); err != nil {
					return zero, err
				}
			case fError:
				return zero, errFuzz
			case fPanic:
				panic("fuzz: fetch panics")
			case fHang:
				<-release
				return zero, errHungReturn
			case fSlow:
				<-ctx.Done()
				return zero, ctx.Err()
			case fFlaky:
				if int(try) <= n.fails {
					return zero, errFlaky
				}
			}
			return project(n.typ, n.base(args(a))).(T), nil
		}, opts...)
	case kIf:
		return nodes.If(b, name, refs[n.deps[0]].(graph.Ref[bool]), refs[n.lazy[0]].(graph.Ref[T]), refs[n.lazy[1]].(graph.Ref[T]), opts...)
	case kAnd, kOr:
		ops := make([]graph.Ref[bool], len(n.lazy))
		for j, l := range n.lazy {
			ops[j] = refs[l].(graph.Ref[bool])
		}
		var r graph.Ref[bool]
		if n.kind == kAnd {
			r = nodes.And(b, name, ops)
		} else {
			r = nodes.Or(b, name, ops)
		}
		return any(r).(graph.Ref[T])
	case kEach:
		if n.limit > 0 {
			opts = append(opts, nodes.Limit(n.limit))
		}
		each := nodes.Each(b, name, refs[n.deps[0]].(graph.Ref[[]int]), func(ctx context.Context, e int) (int, error) {
			switch n.elemFault(e) {
			case fDelay:
				if err := sleepCtx(ctx, n.delay+maxDelay/2); err != nil {
					return 0, err
				}
			case fError:
				return 0, errFuzz
			case fPanic:
				panic("fuzz: element panics")
			case fHang:
				<-release
				return 0, errHungReturn
			}
			return n.elem(e), nil
		}, opts...)
		return any(each).(graph.Ref[T])
	}
	panic("fuzz: unknown kind")
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
