package executor

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/featgraph/featgraph/graph"
	"go.opentelemetry.io/otel/trace"
)

// A node's status in a run, the low word of its state. Every transition is
// a compare-and-swap, so that of two goroutines deciding a node (a body
// returning and its timeout firing, a claim and the run's end) exactly one
// wins and the other changes nothing.
const (
	idle    uint32 = iota // not demanded (yet)
	waiting               // demanded; waiting for static dependencies
	busy                  // held by one goroutine while it writes the node's fields
	running               // started: body in flight, or a conditional deciding
	done                  // outcome recorded; never changes again
)

// nodeState is one node's part of a run. Its plain fields are written only
// by the goroutine holding the node busy (or before the run starts), and
// read by others only after they saw a later status: the atomic status
// orders them.
type nodeState struct {
	st       atomic.Uint32
	pending  atomic.Int32 // static dependencies not yet ended, while waiting
	chosen   atomic.Int32 // 1 + the branch an If/Switch took; 0 before it chose
	attempts int32
	outcome  Outcome
	isTarget bool
	bound    bool
	dyn      bool // demanded during the run (a lazy branch or operand)
	hasDL    bool // deadline is set
	hasLive  bool // its live entry is set: a blocking node with a context of its own, a watcher or a span
	// stale is the number of quick nodes its claimer had run since its last
	// clock reading when it claimed this blocking node (see worker.clock).
	stale    int8
	val      any
	startAt  time.Duration
	endAt    time.Duration
	deadline time.Duration // the node's timeout capped by the run's, from the run's start
}

// live is what a running blocking node needs besides its arguments.
type live struct {
	ctx    context.Context
	cancel context.CancelFunc // nil when the node runs on the run's context
	stop   func() bool        // stops the node's timeout watcher; nil when it has none
	span   trace.Span         // the node's span when the run is traced, else nil
	source string             // where an ok node's value came from (graph.Sourced), else ""
}

// run is the state of one run, pooled per Executor.
type run struct {
	// Set when the run starts (or once, at its end), and read by every
	// node: these share no cache line with what the run's goroutines write
	// as it goes (below), which would cost every read a miss on another core.
	e      *Executor
	g      *graph.Graph
	ctx    context.Context
	cancel context.CancelFunc
	traced bool // the run's span is recording: blocking nodes get live spans
	start  time.Time
	hasDL  bool
	runDL  time.Duration // the run's deadline, from its start, when hasDL
	end    time.Duration

	ended      atomic.Bool   // set once, by the first of endRun and abort
	finished   chan struct{} // endRun's signal to Run; buffered, reused
	dynUsed    atomic.Bool   // some node was demanded during the run: edges are dirty
	liveUsed   atomic.Bool   // some live entry was written: live is dirty
	causesUsed atomic.Bool   // some cause was written: causes is dirty

	ns      []nodeState
	causes  []error // per node: why it has no value (or fell back); apart, as errors are rare
	live    []live
	args    []any
	edges   []atomic.Uint32 // per static edge, for nodes demanded during the run
	handoff []graph.NodeID  // roots' users that the caller's goroutine hands on
	// gen counts the times the state was pooled: a Result remembers it, to
	// catch a use after Release (or through a copy of a released Result).
	gen atomic.Uint64

	_ cacheLinePad
	// refs counts the holders of this state: the Result, each goroutine a run
	// started, each armed timeout watcher. The state is pooled again only
	// when the last one lets go, so a straggler never writes into a new run.
	refs        atomic.Int32
	targetsLeft atomic.Int32
	openConds   atomic.Int32 // conditionals demanded and not done: they may demand more
	demanding   atomic.Int32 // goroutines in demand; the end's sweep waits for none

	_ cacheLinePad
	// The queue of ready nodes no goroutine has taken yet; see run_queue.go.
	qslots       []atomic.Int32 // two per node
	qhead, qtail atomic.Int32
	helperCalled atomic.Bool // a helper was started and has not yet begun
	_            cacheLinePad
}

// cacheLinePad keeps the fields before it and after it on different cache
// lines.
type cacheLinePad [64]byte

func newRun(e *Executor) *run {
	n := e.g.Len()
	return &run{
		e: e, g: e.g, finished: make(chan struct{}, 1),
		ns: make([]nodeState, n), causes: make([]error, n), qslots: make([]atomic.Int32, 2*n), live: make([]live, n), args: make([]any, len(e.deps)),
		edges: make([]atomic.Uint32, len(e.deps)),
	}
}

// recycle clears the state and pools it again.
func (s *run) recycle() {
	s.gen.Add(1)
	clear(s.ns)
	if s.causesUsed.Load() {
		clear(s.causes)
		s.causesUsed.Store(false)
	}
	if s.liveUsed.Load() {
		clear(s.live)
		s.liveUsed.Store(false)
	}
	clear(s.args)
	if s.dynUsed.Load() {
		clear(s.edges)
		s.dynUsed.Store(false)
	}
	s.handoff = s.handoff[:0]
	clear(s.qslots[:s.qtail.Load()])
	s.qhead.Store(0)
	s.qtail.Store(0)
	s.ctx, s.cancel, s.traced, s.hasDL, s.runDL, s.end = nil, nil, false, false, 0, 0
	s.ended.Store(false)
	s.targetsLeft.Store(0)
	s.openConds.Store(0)
	if !s.e.spare.CompareAndSwap(nil, s) {
		s.e.pool.Put(s)
	}
}

// setLive sets the live entry of blocking node n, which the caller holds.
func (s *run) setLive(n graph.NodeID, l live) {
	raise(&s.liveUsed)
	s.live[n] = l
	s.ns[n].hasLive = true
}

// setSource records where n's value came from; the caller holds n.
func (s *run) setSource(n graph.NodeID, source string) {
	raise(&s.liveUsed)
	s.live[n].source = source
}

// setCause records why n has no value, or why it fell back; the caller
// holds n.
func (s *run) setCause(n graph.NodeID, cause error) {
	raise(&s.causesUsed)
	s.causes[n] = cause
}

// raise sets a flag that many goroutines may set, writing it only once:
// a store to a shared cache line costs every other core a miss.
func raise(flag *atomic.Bool) {
	if !flag.Load() {
		flag.Store(true)
	}
}

// release drops one reference; the last one pools the state.
func (s *run) release() {
	if s.refs.Add(-1) == 0 {
		s.recycle()
	}
}

// bind records the inputs; it runs before the run starts, single-threaded.
func (s *run) bind(inputs []Binding) error {
	for _, in := range inputs {
		id, err := in.resolve(s.g)
		if err != nil {
			return err
		}
		if s.ns[id].bound {
			return invalidRun("binding input %q: bound twice", s.g.Name(id))
		}
		s.ns[id].bound, s.ns[id].val = true, in.value
	}
	return nil
}

// execute runs the plan to its end, or to the run's deadline or
// cancellation, and leaves every node with its outcome. The caller's
// goroutine settles inputs and values only; user code runs on the run's
// own goroutines, so that Run returns on time whatever that code does.
func (s *run) execute(parent context.Context, p *plan) {
	s.begin(parent, p)
	for i, id := range p.needed {
		// Plain stores: no goroutine of this run exists yet, and those
		// started below see them (a go statement orders them). An atomic
		// store costs a locked instruction per node.
		ns := &s.ns[id]
		*(*int32)(unsafe.Pointer(&ns.pending)) = p.pending[i]
		*(*uint32)(unsafe.Pointer(&ns.st)) = waiting
	}

	switch {
	case s.ctx.Err() != nil: // canceled or expired already: start nothing
		s.abort()
	case s.doomed(p):
	default:
		if p.order != nil {
			// With no deadline and a parent that cannot be canceled, nothing
			// can end the run but its own pass: the pass is then the only
			// goroutine that writes node states until it ends the run.
			solo := !s.hasDL && parent.Done() == nil
			s.refs.Add(1)
			go s.runOrdered(p.order, int32(len(p.unique)), solo)
		} else {
			s.startRoots(p)
		}
		select {
		case <-s.finished:
		case <-s.ctx.Done():
			s.abort()
		}
	}
	s.cancel()
}

// doomed ends a run that needs an unbound input without a fallback before
// anything starts, and reports whether it did.
func (s *run) doomed(p *plan) bool {
	var missing error
	for _, id := range p.inputs {
		if !s.ns[id].bound && !s.e.info[id].fallback {
			err := &UnboundInputError{Input: s.g.Name(id)}
			if missing == nil {
				missing = err
			}
			ns := &s.ns[id]
			ns.st.Store(busy)
			ns.outcome = OutcomeError
			s.setCause(id, err)
			ns.st.Store(done)
		}
	}
	if missing == nil {
		return false
	}
	s.ended.Store(true)
	for _, id := range p.needed {
		ns := &s.ns[id]
		if ns.st.Load() == waiting {
			ns.outcome = OutcomeCanceled
			s.setCause(id, fmt.Errorf("node %q not run: %w", s.g.Name(id), missing))
			ns.st.Store(done)
		}
	}
	return true
}

// startRoots settles the inputs and values on the caller's goroutine and
// queues everything else that is ready for the run's goroutines.
func (s *run) startRoots(p *plan) {
	w := worker{s: s, next: -1, cur: -1, callerGoroutine: true}
	for _, id := range p.valueRoots {
		w.ready.push(id)
	}
	w.drain()
	// s.handoff holds the users of inputs and values, last declared first
	// (the ready stack is last in, first out): they start in declaration
	// order.
	slices.Reverse(s.handoff)
	s.enqueueRoots(p.blockingRoots, s.handoff, p.inlineRoots)
}

// runOrdered runs a plan of inputs, values and compute nodes: one pass in
// topological order, so that every node finds its dependencies done and
// none needs a pending count or a ready stack.
func (s *run) runOrdered(order []graph.NodeID, targets int32, solo bool) {
	w := worker{s: s, mayBlock: true, next: -1, cur: -1, order: order, ordered: true, targets: targets, solo: solo}
	w.tick()
	w.loop()
}

// endRun ends a run whose targets are all done: what is still in flight is
// no longer needed, what never started was skipped.
func (s *run) endRun(now time.Duration, last graph.NodeID) {
	if !s.ended.CompareAndSwap(false, true) {
		return
	}
	// The last target ends with the run: when its end time came from a
	// batch of quick nodes (see worker.clock), it catches up with the
	// reading taken for the run's end. No one else writes it, and Run reads
	// it after the finished signal.
	ns := &s.ns[last]
	now = max(now, ns.endAt)
	ns.endAt = now
	s.end = now
	s.waitDemands()
	s.sweep(now, nil)
	s.finished <- struct{}{}
}

// abort ends a run whose context ended first: nodes in flight time out (or
// are canceled, when the caller canceled), nodes waiting are canceled. It
// runs on Run's goroutine.
func (s *run) abort() {
	now := time.Since(s.start)
	if !s.ended.CompareAndSwap(false, true) {
		<-s.finished // endRun won: wait for its sweep to finish
		return
	}
	s.end = now
	s.waitDemands()
	s.sweep(now, context.Cause(s.ctx))
}

// sweep ends every node still waiting or running: as not needed when why
// is nil, else as timed out (running at the deadline) or canceled.
func (s *run) sweep(now time.Duration, why error) {
	deadline := errors.Is(why, context.DeadlineExceeded)
	for i := range s.ns {
		ns := &s.ns[i]
		for {
			st := ns.st.Load()
			if st == idle || st == done {
				break
			}
			if st == busy || !ns.st.CompareAndSwap(st, busy) {
				runtime.Gosched() // its holder is writing a few fields
				continue
			}
			n := graph.NodeID(i)
			switch {
			case why == nil:
				ns.outcome = OutcomeCanceled
				s.setCause(n, ErrNotNeeded)
			case st == running && deadline:
				ns.outcome = OutcomeTimeout
				s.setCause(n, s.timeoutError(n, now, !(ns.hasDL && ns.deadline < s.runDL)))
			default:
				ns.outcome = OutcomeCanceled
				s.setCause(n, fmt.Errorf("node %q: run ended before it finished: %w", s.g.Name(n), why))
			}
			if st == waiting { // never started: no time of its own
				ns.startAt = now
			}
			ns.endAt = now
			ns.st.Store(done)
			break
		}
	}
}

// deadlineOf returns the deadline of node n starting at now: its timeout
// capped by the run's deadline.
func (s *run) deadlineOf(n graph.NodeID, now time.Duration) (time.Duration, bool) {
	dl, has := s.runDL, s.hasDL
	if t := s.e.info[n].timeout; t > 0 && (!has || now+t < dl) {
		dl, has = now+t, true
	}
	return dl, has
}

func (s *run) timeoutError(n graph.NodeID, now time.Duration, runDeadline bool) error {
	return &TimeoutError{Node: s.g.Name(n), After: now - s.ns[n].startAt, RunDeadline: runDeadline}
}

// lateError is the cause of node n that ended (at now) past its deadline.
func (s *run) lateError(n graph.NodeID, now time.Duration) error {
	t := s.e.info[n].timeout
	return s.timeoutError(n, now, s.hasDL && (t <= 0 || s.ns[n].startAt+t >= s.runDL))
}

// fillArgs copies the values of n's static dependencies into its argument
// slots, or returns the first dependency that has no value.
func (s *run) fillArgs(n graph.NodeID) (args []any, failed graph.NodeID) {
	info := &s.e.info[n]
	args = s.args[info.depStart:info.depEnd]
	for i, d := range s.e.deps[info.depStart:info.depEnd] {
		if !s.ns[d].outcome.HasValue() {
			return nil, d
		}
		args[i] = s.ns[d].val
	}
	return args, -1
}

// dependencyError is the cause of n, which cannot run because dep ended
// without a value.
func (s *run) dependencyError(n, dep graph.NodeID) error {
	root, cause := s.g.Name(dep), s.causes[dep]
	var de *DependencyError
	if errors.As(cause, &de) {
		root, cause = de.Root, de.Err
	}
	return &DependencyError{Node: s.g.Name(n), Dependency: s.g.Name(dep), Root: root, Err: cause}
}

// stillNeeded reports whether a node that has not ended may still need d:
// a static or lazy user of d that is not done. A user not demanded (yet)
// counts only while some conditional is undecided, since only a
// conditional can demand it later.
func (s *run) stillNeeded(d graph.NodeID) bool {
	open := s.openConds.Load() > 0
	needs := func(u graph.NodeID) bool {
		switch s.ns[u].st.Load() {
		case done:
			return false
		case idle:
			return open
		}
		return true
	}
	for _, ue := range s.e.usersOf(d) {
		if needs(ue.user) {
			return true
		}
	}
	if s.e.info[d].lazyUsers {
		for _, p := range s.g.LazyUsers(d) {
			if needs(p) {
				return true
			}
		}
	}
	return false
}

// chosenValid reports whether If/Switch n chose a branch in this run.
func (s *run) chosenValid(n graph.NodeID) bool {
	c := s.ns[n].chosen.Load() - 1
	return c >= 0 && int(c) < len(s.g.Lazy(n)) && s.ns[s.g.Lazy(n)[c]].st.Load() != idle
}

// growStack grows a new helper goroutine's stack from its initial 2 KB to
// 8 KB while the stack is one frame deep and copying it is cheap. Fetch
// bodies (HTTP clients, decoders, the services they wrap) outgrow 2 KB
// almost always; left to the runtime, that growth happens deep inside the
// body, where copying the stack costs a frame-by-frame walk.
//
//go:noinline
func growStack(seed int) byte {
	var buf [4096]byte
	buf[seed&4095] = byte(seed) // indexes the compiler cannot know keep buf on the stack
	return buf[(seed*7)&4095]
}
