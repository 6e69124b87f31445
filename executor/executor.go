package executor

import (
	"context"
	"errors"
	"reflect"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/featgraph/featgraph/graph"
	"github.com/featgraph/featgraph/internal/graphdef"
	"github.com/featgraph/featgraph/internal/graphx"
)

// Executor runs one graph, many times, from any number of goroutines.
type Executor struct {
	g          *graph.Graph
	runTimeout time.Duration
	nodes      []graphdef.Node // the graph's descriptors, shared: read only
	info       []nodeInfo      // what the hot path needs of each descriptor, compactly
	deps       []graph.NodeID  // every node's static dependencies, one after another
	users      []userEdge      // every node's static users, one after another
	pool       sync.Pool
	obs        observer // OpenTelemetry; see observe.go
	plans      sync.Map // hash of a target list -> *plan
	nplans     atomic.Int32
	goroutines goroutinePool
	sequential bool // WithSequential: runs go one node at a time; see sequential.go
	// spare keeps one run state out of the pool, which every GC empties:
	// a big graph's state (megabytes) is then not made again after each GC.
	spare atomic.Pointer[run]
}

// userEdge is one static edge seen from its dependency: the user, and the
// index of the edge in deps (the user's argument slot).
type userEdge struct {
	user graph.NodeID
	edge int32
}

// nodeInfo is the part of a node's descriptor that every run reads, kept
// small so that the descriptors themselves stay out of the cache.
type nodeInfo struct {
	kind       graph.Kind
	fallback   bool // has a fallback
	cancelable bool // a blocking operand of an And/Or, which may cancel it
	retries    bool // tries more than once
	timeout    time.Duration
	typ        reflect.Type
	compute    graphdef.ComputeFunc
	fetch      graphdef.FetchFunc
	// The node's static dependencies (and its argument slots in a run) are
	// deps[depStart:depEnd], its static users users[userStart:userEnd]:
	// kept here, beside what a run reads anyway, rather than in separate
	// offset arrays that cost a cache miss each on big graphs.
	depStart, depEnd   int32
	userStart, userEnd int32
	lazyUsers          bool // some If, Switch, And or Or has it as a lazy dependency
	// quick is set while the compute node's body takes under quickNode: it
	// then shares clock readings with others (see worker.clock).
	quick atomic.Bool
}

// Option configures an Executor.
type Option func(*Executor) error

// WithRunTimeout gives every run a deadline d after it starts (the SLA),
// in addition to the deadline of the context passed to Run, if any.
func WithRunTimeout(d time.Duration) Option {
	return func(e *Executor) error {
		if d <= 0 {
			return invalidRun("run timeout %v is not positive", d)
		}
		e.runTimeout = d
		return nil
	}
}

// New returns an Executor for g.
func New(g *graph.Graph, opts ...Option) (*Executor, error) {
	if g == nil {
		return nil, invalidRun("nil graph")
	}
	e := &Executor{g: g, nodes: graphx.Nodes(g), info: make([]nodeInfo, g.Len())}
	for i := 0; i < g.Len(); i++ {
		id := graph.NodeID(i)
		node := e.node(id)
		e.info[i] = nodeInfo{kind: node.Kind, typ: node.Type, compute: node.Compute, fetch: node.Fetch,
			fallback: node.Fallback != nil, retries: node.Retry.Attempts > 1, timeout: node.Timeout,
			lazyUsers: len(g.LazyUsers(id)) > 0}
		e.info[i].depStart = int32(len(e.deps))
		e.deps = append(e.deps, g.Deps(id)...)
		e.info[i].depEnd = int32(len(e.deps))
		for _, u := range g.LazyUsers(id) {
			if k := e.node(u).Kind; (k == graph.KindAnd || k == graph.KindOr) && node.Kind.Blocking() {
				e.info[i].cancelable = true
			}
		}
	}
	// Users from the dependency lists, one entry per edge, so that a node
	// listed twice as a dependency is counted twice, as it is waited for.
	count := make([]int32, g.Len()+1)
	for _, d := range e.deps {
		count[d+1]++
	}
	for i := 1; i < len(count); i++ {
		count[i] += count[i-1]
	}
	e.users = make([]userEdge, len(e.deps))
	fill := slices.Clone(count)
	for u := range e.info {
		for k := e.info[u].depStart; k < e.info[u].depEnd; k++ {
			d := e.deps[k]
			e.users[fill[d]] = userEdge{user: graph.NodeID(u), edge: k}
			fill[d]++
		}
	}
	for i := range e.info {
		e.info[i].userStart, e.info[i].userEnd = count[i], count[i+1]
	}
	for _, opt := range opts {
		if err := opt(e); err != nil {
			return nil, err
		}
	}
	if err := e.obs.init(); err != nil {
		return nil, err
	}
	e.pool.New = func() any { return newRun(e) }
	return e, nil
}

// node returns the descriptor of n; it must not be modified.
func (e *Executor) node(n graph.NodeID) *graphdef.Node { return &e.nodes[n] }

func (e *Executor) depsOf(n graph.NodeID) []graph.NodeID {
	return e.deps[e.info[n].depStart:e.info[n].depEnd]
}

func (e *Executor) usersOf(n graph.NodeID) []userEdge {
	return e.users[e.info[n].userStart:e.info[n].userEnd]
}

// RunTimeout returns the deadline WithRunTimeout gives every run, or 0.
func (e *Executor) RunTimeout() time.Duration { return e.runTimeout }

// Graph returns the graph the Executor runs.
func (e *Executor) Graph() *graph.Graph { return e.g }

// Run computes targets and returns the run's result. Only the targets and
// what they need run. Run returns when every target has ended, or when the
// run's deadline passes or ctx is canceled, whichever comes first; the
// package documentation lists what it promises about outcomes, deadlines,
// cancellation and what runs after it returns.
//
// The error contract, in full:
//
//   - res == nil, err != nil: the run did not start, because of the caller's
//     mistake — no target, a nil target or one from another graph, a binding
//     that does not fit the graph. err matches [ErrInvalidRun].
//   - res != nil, err == nil: every target has a value.
//   - res != nil, err != nil: some target has no value. err joins the root
//     causes ([Result.Err]) and, when the run was canceled or ran out of
//     time, the cancellation; every node's outcome and cause are in res. An
//     input the run needed but that was not bound is such a root cause (an
//     [*UnboundInputError], which also matches [ErrInvalidRun]).
//
// So: check err for whether the targets have values, and release a non-nil
// res whatever err is ([Result.Release] is safe on nil):
//
//	res, err := ex.Run(ctx, bindings, target)
//	defer res.Release()
//	if err != nil {
//		return err // res, when not nil, says which node failed and why
//	}
func (e *Executor) Run(ctx context.Context, inputs []Binding, targets ...graph.Target) (*Result, error) {
	if len(targets) == 0 {
		return nil, invalidRun("no target")
	}
	var buf [8]graph.NodeID
	ids := buf[:0]
	for i, t := range targets {
		if t == nil {
			return nil, invalidRun("target #%d is nil", i)
		}
		id, err := e.g.Resolve(t)
		if err != nil {
			return nil, unresolved("target "+targetName(t), err)
		}
		ids = append(ids, id)
	}
	p := e.planFor(ids)
	s := e.spare.Swap(nil)
	if s == nil {
		s = e.pool.Get().(*run)
	}
	if err := s.bind(inputs); err != nil {
		s.recycle()
		return nil, err
	}
	ctx, span := e.startRunSpan(ctx)
	s.traced = span != nil && span.IsRecording()
	if e.sequential {
		s.executeSequential(ctx, p)
	} else {
		s.execute(ctx, p)
	}
	res := &Result{run: s, gen: s.gen.Load()}
	err := runError(res, p.unique)
	e.endRunSpan(ctx, span, res, err)
	return res, err
}

// targetName names t for an error.
func targetName(t graph.Target) string { return strconv.Quote(t.Name()) }

// runError is Run's error: nil when every target has a value.
func runError(res *Result, targets []graph.NodeID) error {
	var firstCause, canceled error
	s := res.state()
	for _, t := range targets {
		ns := &s.ns[t]
		if ns.outcome.HasValue() {
			continue
		}
		if firstCause == nil {
			firstCause = s.causes[t]
		}
		if ns.outcome == OutcomeCanceled && canceled == nil {
			canceled = s.causes[t] // a canceled run has no root failure: say so once
		}
	}
	if firstCause == nil {
		return nil
	}
	if ue := (*UnboundInputError)(nil); errors.As(canceled, &ue) {
		canceled = nil // canceled because an input is unbound: Err says so already
	}
	if err := errors.Join(res.Err(), canceled); err != nil {
		return err
	}
	return firstCause // a target without a value never comes with a nil error
}

// Run is a shortcut for New(g) then Run, for one-off runs; a service running
// the same graph repeatedly should keep an Executor.
func Run(ctx context.Context, g *graph.Graph, inputs []Binding, targets ...graph.Target) (*Result, error) {
	e, err := New(g)
	if err != nil {
		return nil, err
	}
	return e.Run(ctx, inputs, targets...)
}
