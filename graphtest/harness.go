package graphtest

import (
	"context"
	"errors"
	"fmt"
	"github.com/featgraph/featgraph/internal/graphx"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/featgraph/featgraph/executor"
	"github.com/featgraph/featgraph/graph"
)

// Errors returned by stubbed bodies; a test can match them with errors.Is on
// a node's cause.
var (
	// ErrNotStubbed is returned by a fetch node (or an element of an each
	// node) that ran with neither a stub nor an [Allow]. The test fails too.
	ErrNotStubbed = errors.New("graphtest: node is not stubbed")
	// ErrForbidden is returned by a node the test [Forbid]s. The test fails too.
	ErrForbidden = errors.New("graphtest: node is forbidden by the test")
	// ErrReleased is returned by a hung node when the test ends and the
	// harness releases it; the run has long discarded it by then.
	ErrReleased = errors.New("graphtest: hung node released at test end")
)

// Option configures a [Harness]: a stub, an allowance, a fault, the run's
// deadline. A mistake (an unknown node, a value of the wrong type, a stub
// given twice) fails the test when the harness is built, with every such
// mistake listed.
type Option func(*setup) error

// setup is the harness being built, as options see it.
type setup struct {
	h    *Harness
	late []func(*setup) error // replays and drawn faults: applied after the other options
}

// Harness runs one graph in one test with stubbed nodes. Build it with [New];
// it is safe for concurrent runs.
type Harness struct {
	t        testing.TB
	orig     *graph.Graph
	g        *graph.Graph
	ex       *executor.Executor
	stubs    []*nodeStub // by NodeID
	released chan struct{}
	exOpts   []executor.Option
	faults   []Fault
	inputs   []executor.Binding // replayed inputs

	mu    sync.Mutex
	ended bool // the test's cleanups are done with the harness
}

// New returns a harness running a stubbed copy of g. It fails the test (with
// t.Fatal) when an option does not fit g. The harness releases every hung
// stub when the test ends.
func New(t testing.TB, g *graph.Graph, opts ...Option) *Harness {
	t.Helper()
	if g == nil {
		t.Fatalf("graphtest.New: nil graph")
	}
	h := &Harness{t: t, orig: g, stubs: make([]*nodeStub, g.Len()), released: make(chan struct{})}
	t.Cleanup(func() {
		h.mu.Lock()
		h.ended = true
		h.mu.Unlock()
		close(h.released)
	})
	for i := range h.stubs {
		h.stubs[i] = &nodeStub{id: graph.NodeID(i), node: graphx.Node(g, graph.NodeID(i))}
	}
	s := &setup{h: h}
	var errs []error
	for _, opt := range opts {
		if opt == nil {
			continue
		}
		if err := opt(s); err != nil {
			errs = append(errs, err)
		}
	}
	for _, f := range s.late {
		if err := f(s); err != nil {
			errs = append(errs, err)
		}
	}
	slices.SortFunc(h.faults, func(a, b Fault) int {
		ia, _ := g.Lookup(a.Node)
		ib, _ := g.Lookup(b.Node)
		return int(ia - ib)
	})
	if len(errs) == 0 {
		errs = append(errs, h.build())
	}
	if err := errors.Join(errs...); err != nil {
		t.Fatalf("graphtest.New: %v", indent(err.Error()))
	}
	return h
}

// build makes the stubbed copy of the graph and its executor.
func (h *Harness) build() error {
	descs := slices.Clone(graphx.Nodes(h.orig))
	for i := range descs {
		h.stubs[i].rewrite(h, &descs[i])
	}
	g, err := graphx.Rebuild(h.orig, descs) // the caller's Refs stay valid
	if err != nil {
		return fmt.Errorf("building the stubbed graph: %w", err)
	}
	ex, err := executor.New(g, h.exOpts...)
	if err != nil {
		return fmt.Errorf("building the executor: %w", err)
	}
	h.g, h.ex = g, ex
	return nil
}

// Graph returns the stubbed copy of the graph that the harness runs. Its
// nodes have the same IDs and names as the original's, so Refs of either
// work with it.
func (h *Harness) Graph() *graph.Graph { return h.g }

// Executor returns the executor of the stubbed graph.
func (h *Harness) Executor() *executor.Executor { return h.ex }

// Faults returns the faults drawn by [RandomFaults], in node order.
func (h *Harness) Faults() []Fault { return slices.Clone(h.faults) }

// Calls returns how many times the stubbed body of n was called over all
// runs of the harness: once per try for a fetch node, once per element for
// an each node with element stubs. It is 0 for a node the harness does not
// know.
func (h *Harness) Calls(n graph.Target) int {
	id, err := h.orig.Lookup(n.Name())
	if err != nil {
		h.t.Helper()
		h.t.Errorf("graphtest: Calls: the graph has no node %q", n.Name())
		return 0
	}
	return int(h.stubs[id].calls.Load())
}

// ExecutorOptions passes options to the executor that runs the stubbed
// graph: the same options production gives executor.New, such as the run's
// deadline (executor.WithRunTimeout, which the harness reads to check that
// hung stubs will be ended), tracing, or executor.WithSequential to run it
// one node at a time and tell whether a failure comes from concurrency.
func ExecutorOptions(opts ...executor.Option) Option {
	return func(s *setup) error {
		s.h.exOpts = append(s.h.exOpts, opts...)
		return nil
	}
}

// Run runs the stubbed graph for targets (Refs of the original graph or of
// h.Graph()) and returns the run to assert on. It fails the test before
// running when a target may need a fetch node that is neither stubbed nor
// allowed, or a hung node with no deadline to end it; and when the executor
// refuses the inputs or targets. A target without a value is not a failure
// by itself: assert on it.
func (h *Harness) Run(ctx context.Context, inputs []executor.Binding, targets ...graph.Target) *Run {
	h.t.Helper()
	for _, tg := range targets {
		if tg == nil {
			h.t.Fatalf("graphtest: Run: nil target")
		}
		if _, err := h.orig.Resolve(tg); err != nil {
			h.t.Fatalf("graphtest: Run: %v", err)
		}
	}
	if err := h.checkStrict(ctx, targets); err != nil {
		h.t.Fatalf("graphtest: Run: %v", err)
	}
	res, err := h.ex.Run(ctx, inputs, targets...)
	if res == nil {
		h.t.Fatalf("graphtest: Run: %v", err)
	}
	h.t.Cleanup(res.Release)
	return &Run{h: h, res: res, err: err, targets: slices.Clone(targets)}
}

// checkStrict lists the fetch and each nodes the targets may need that
// have no stub, and the hung ones nothing would end.
func (h *Harness) checkStrict(ctx context.Context, targets []graph.Target) error {
	var unstubbed, unbounded []string
	_, ctxDeadline := ctx.Deadline()
	bounded := h.ex.RunTimeout() > 0 || ctxDeadline // executor.WithRunTimeout through ExecutorOptions
	ancestors, err := h.orig.Ancestors(targets...)
	if err != nil {
		return err
	}
	for _, id := range ancestors {
		st := h.stubs[id]
		if st.needsStub() {
			unstubbed = append(unstubbed, fmt.Sprintf("%q (%s)", st.node.Name, st.node.Kind))
		}
		if st.mayHang() && st.node.Timeout == 0 && !bounded {
			unbounded = append(unbounded, fmt.Sprintf("%q", st.node.Name))
		}
	}
	var errs []error
	if len(unstubbed) > 0 {
		errs = append(errs, fmt.Errorf("strict mode: the targets may need %d fetch node(s) that are neither stubbed nor allowed: %s; "+
			"stub them (graphtest.Stub, StubNamed, StubError, Forbid...) or let them reach their real service with graphtest.Allow",
			len(unstubbed), strings.Join(unstubbed, ", ")))
	}
	if len(unbounded) > 0 {
		errs = append(errs, fmt.Errorf("node(s) %s may hang and have no timeout, and the run has no deadline: "+
			"give the harness graphtest.ExecutorOptions(executor.WithRunTimeout(d)) or the context a deadline", strings.Join(unbounded, ", ")))
	}
	return errors.Join(errs...)
}

// bodyErrorf fails the test from a node's body, which runs on a goroutine
// of the executor and may run late: a node no longer needed can still start
// after its run returned. Once the test is over, failing it would panic, and
// the node's error outcome is all that is left to say.
func (h *Harness) bodyErrorf(format string, args ...any) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.ended {
		h.t.Errorf(format, args...)
	}
}

// hang blocks until the test ends, ignoring ctx, as a broken service would.
func (h *Harness) hang() error {
	<-h.released
	return ErrReleased
}

// sleep waits d or until ctx ends, as a well-behaved slow service does.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return nil
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// indent puts every line after the first of a multi-line message under it.
func indent(s string) string {
	if !strings.Contains(s, "\n") {
		return s
	}
	return "\n\t" + strings.ReplaceAll(s, "\n", "\n\t")
}
