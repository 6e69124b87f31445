package executor

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"sync/atomic"
	"time"

	"github.com/featgraph/featgraph/graph"
	"github.com/featgraph/featgraph/timeouts"
	"github.com/sourcegraph/conc/panics"
	"go.opentelemetry.io/otel/trace"
	"golang.org/x/sync/errgroup"
)

// status is where a node is in a run's life cycle.
type status uint8

const (
	idle    status = iota // not demanded (yet)
	waiting               // demanded; waiting for static dependencies
	running               // body in flight, or a conditional waiting on its lazy dependencies
	done                  // outcome recorded; never changes again
)

// nodeState is one node's part of a run, packed so that a node's hot
// fields share a cache line: big graphs stay fast when nodes run in an order
// unrelated to their layout.
type nodeState struct {
	val      any
	cause    error
	startAt  time.Duration
	endAt    time.Duration
	pending  int32 // static dependencies not done yet, while waiting
	chosen   int32 // the branch an If/Switch took, or -1
	attempts int32
	status   status
	outcome  Outcome
	isTarget bool
	bound    bool
}

// live is what a running blocking node needs besides its arguments.
type live struct {
	ctx    context.Context
	cancel context.CancelFunc // nil when the node runs on the run's context
	stop   func() bool        // stops the node's timeout watcher; nil when it has none
	span   trace.Span         // the node's span when the run is traced, else nil
}

// run is the state of one run, pooled per Executor. Every field below mu is
// guarded by it, except what a node's own goroutine reads after the node was
// handed to it (its arguments and its live entry).
type run struct {
	e *Executor
	g *graph.Graph
	// refs counts the holders of this state: the Result, each goroutine a run
	// started, each armed timeout watcher. The state is pooled again only
	// when the last one lets go, so a straggler never writes into a new run.
	refs atomic.Int32

	mu          sync.Mutex
	ctx         context.Context
	cancel      context.CancelFunc
	traced      bool // the run's span is recording: blocking nodes get live spans
	start       time.Time
	budget      timeouts.Budget
	end         time.Duration
	finished    chan struct{}
	ended       bool
	targetsLeft int

	ns    []nodeState
	live  []live
	args  []any
	ready []graph.NodeID
	stack []graph.NodeID
}

func newRun(e *Executor) *run {
	n := e.g.Len()
	s := &run{
		e: e, g: e.g,
		ns: make([]nodeState, n), live: make([]live, n), args: make([]any, len(e.deps)),
	}
	s.resetNodes()
	return s
}

// recycle clears the state and pools it again.
func (s *run) recycle() {
	s.resetNodes()
	clear(s.live)
	clear(s.args)
	s.ready, s.stack = s.ready[:0], s.stack[:0]
	s.ctx, s.cancel, s.finished = nil, nil, nil
	s.ended, s.targetsLeft, s.end, s.traced = false, 0, 0, false
	s.e.pool.Put(s)
}

func (s *run) resetNodes() {
	for i := range s.ns {
		s.ns[i] = nodeState{chosen: -1}
	}
}

// release drops one reference; the last one pools the state.
func (s *run) release() {
	if s.refs.Add(-1) == 0 {
		s.recycle()
	}
}

// bind records the inputs; it runs before the run starts, single-threaded.
func (s *run) bind(inputs []Input) error {
	for _, in := range inputs {
		id, err := in.resolve(s.g)
		if err != nil {
			return err
		}
		if s.ns[id].bound {
			return fmt.Errorf("executor: input %q is bound twice", s.g.Name(id))
		}
		s.ns[id].bound, s.ns[id].val = true, in.value
	}
	return nil
}

// execute runs the targets to their end, or to the run's deadline or
// cancellation, and leaves every node with its outcome.
func (s *run) execute(parent context.Context, targets []graph.Target) {
	s.start = time.Now()
	if s.e.runTimeout > 0 {
		s.ctx, s.cancel = context.WithDeadline(parent, s.start.Add(s.e.runTimeout))
	} else {
		s.ctx, s.cancel = context.WithCancel(parent)
	}
	s.budget = timeouts.FromContext(s.ctx)
	s.finished = make(chan struct{})
	s.refs.Store(1)

	s.mu.Lock()
	for _, t := range targets {
		if id := t.ID(); !s.ns[id].isTarget {
			s.ns[id].isTarget = true
			s.targetsLeft++
		}
	}
	for _, t := range targets {
		s.demand(t.ID())
	}
	w := worker{s: s, next: -1}
	w.drain()
	s.mu.Unlock()
	w.startSpawned()

	select {
	case <-s.finished:
	case <-s.ctx.Done():
		s.abort(s.ctx.Err())
	}
	s.cancel()
}

// demand marks n and the static dependencies it waits for as needed,
// pushing those that can start onto the ready stack. s.mu held.
func (s *run) demand(n graph.NodeID) {
	s.stack = append(s.stack[:0], n)
	for len(s.stack) > 0 {
		id := s.stack[len(s.stack)-1]
		s.stack = s.stack[:len(s.stack)-1]
		if s.ns[id].status != idle {
			continue
		}
		s.ns[id].status = waiting
		var pending int32
		for _, d := range s.e.depsOf(id) {
			switch s.ns[d].status {
			case done:
				continue
			case idle:
				s.stack = append(s.stack, d)
			}
			pending++
		}
		s.ns[id].pending = pending
		if pending == 0 {
			s.ready = append(s.ready, id)
		}
	}
}

// worker is one goroutine's view of a run: the time it last looked at the
// clock (so that inline nodes cost one clock read each) and the blocking
// node it has claimed to run next.
type worker struct {
	s        *run
	now      time.Duration
	mayBlock bool
	next     graph.NodeID
	// spawn holds blocking nodes to start on goroutines of their own once
	// s.mu is released, so that they do not queue on the lock at birth.
	spawn    [8]graph.NodeID
	spawnLen int
}

// startSpawned starts the goroutines that drain deferred. s.mu not held.
func (w *worker) startSpawned() {
	for _, n := range w.spawn[:w.spawnLen] {
		w.s.refs.Add(1)
		w.s.e.goroutines.start(w.s, n)
	}
	w.spawnLen = 0
}

func (w *worker) tick() { w.now = time.Since(w.s.start) }

// drain advances every ready node: inline kinds run here, blocking ones are
// claimed (once, when this goroutine may block) or get a goroutine of their
// own. s.mu held; it is released around user code.
func (w *worker) drain() {
	s := w.s
	for len(s.ready) > 0 && !s.ended {
		n := s.ready[len(s.ready)-1]
		s.ready = s.ready[:len(s.ready)-1]
		switch s.ns[n].status {
		case done:
			continue
		case running:
			w.reconsider(n)
			continue
		}
		s.ns[n].status = running
		s.ns[n].startAt = w.now
		args, failed := s.fillArgs(n)
		if failed >= 0 {
			w.settle(n, nil, s.dependencyError(n, failed), Error)
			continue
		}
		info := &s.e.info[n]
		switch info.kind {
		case graph.KindInput:
			if s.ns[n].bound {
				w.settle(n, s.ns[n].val, nil, OK)
			} else {
				w.settle(n, nil, &UnboundInputError{Input: s.g.Name(n)}, Error)
			}
		case graph.KindValue:
			w.settle(n, s.g.Node(n).Value, nil, OK)
		case graph.KindCompute:
			s.mu.Unlock()
			if w.spawnLen > 0 { // a slow compute must not delay a ready fetch
				w.startSpawned()
			}
			v, err := s.callCompute(n, args)
			w.tick()
			s.mu.Lock()
			w.settleBody(n, v, err)
		case graph.KindIf, graph.KindSwitch:
			node := s.g.Node(n)
			s.mu.Unlock()
			w.startSpawned()
			branch, err := callChoose(node, args)
			s.mu.Lock()
			switch {
			case err != nil:
				w.settle(n, nil, &BranchError{Node: node.Name, Err: err}, Error)
			case branch < 0 || branch >= len(node.Lazy):
				w.settle(n, nil, &BranchError{Node: node.Name, Err: fmt.Errorf("branch %d out of range", branch)}, Error)
			default:
				s.ns[n].chosen = int32(branch)
				s.demand(s.g.Lazy(n)[branch])
				w.reconsider(n)
			}
		case graph.KindAnd, graph.KindOr:
			for _, op := range s.g.Lazy(n) {
				s.demand(op)
			}
			w.reconsider(n)
		default: // blocking kinds
			s.prepare(n)
			if w.mayBlock && w.next < 0 {
				w.next = n
				continue
			}
			if w.spawnLen == len(w.spawn) { // start them without holding the lock they will want
				s.mu.Unlock()
				w.startSpawned()
				s.mu.Lock()
			}
			w.spawn[w.spawnLen] = n
			w.spawnLen++
		}
	}
}

// work is the goroutine of a blocking node: it runs n, then whatever
// became ready, claiming one more blocking node at a time.
func (s *run) work(n graph.NodeID) {
	defer s.release()
	w := worker{s: s, mayBlock: true}
	for n >= 0 {
		v, attempts, ctxCause, err := s.call(n)
		w.tick()
		s.mu.Lock()
		if !s.ended && s.ns[n].status == running {
			s.ns[n].attempts = attempts
		}
		if err != nil && ctxCause != nil {
			w.settleContextEnd(n, ctxCause)
		} else {
			w.settleBody(n, v, err)
		}
		w.next = -1
		w.drain()
		n = w.next
		if n >= 0 {
			s.ns[n].startAt = w.now
		}
		s.mu.Unlock()
		w.startSpawned()
	}
}

// prepare gives blocking node n its context: the run's, or one with the
// node's timeout (never past the run's deadline), or a cancelable one when an
// And/Or may cancel it. A node with a timeout gets a watcher that ends it
// when the timeout passes, even if its body ignores the context. s.mu held.
func (s *run) prepare(n graph.NodeID) {
	info := &s.e.info[n]
	s.ns[n].attempts = 1 // at least; the body's goroutine reports retries when it returns
	l := live{ctx: s.ctx}
	switch {
	case info.timeout > 0:
		l.ctx, l.cancel = context.WithTimeout(s.ctx, info.timeout)
		ctx := l.ctx
		s.refs.Add(1)
		l.stop = context.AfterFunc(ctx, func() { s.expire(n, ctx) })
	case info.cancelable:
		l.ctx, l.cancel = context.WithCancel(s.ctx)
	}
	if s.traced {
		l.ctx, l.span = s.e.obs.startNodeSpan(l.ctx, s.g.Name(n), s.start.Add(s.ns[n].startAt))
	}
	s.live[n] = l
}

// expire runs when a node's own context ends. If the run itself is still
// going, the node's timeout passed: it ends as timed out, and this goroutine
// carries on with what that made ready.
func (s *run) expire(n graph.NodeID, ctx context.Context) {
	defer s.release()
	if s.ctx.Err() != nil {
		return // the run's end or deadline: abort or endRun handles every node
	}
	w := worker{s: s, mayBlock: true, next: -1}
	w.tick()
	s.mu.Lock()
	if s.ns[n].status == running {
		w.settle(n, nil, s.timeoutError(n, w.now, context.Cause(ctx)), Timeout)
		w.drain()
	}
	next := w.next
	if next >= 0 {
		s.ns[next].startAt = w.now
	}
	s.mu.Unlock()
	w.startSpawned()
	if next >= 0 {
		s.refs.Add(1)
		s.work(next)
	}
}

func (s *run) timeoutError(n graph.NodeID, now time.Duration, cause error) error {
	_, limit := timeouts.NodeDeadline(s.start.Add(s.ns[n].startAt), s.g.Node(n).Timeout, s.budget)
	return &TimeoutError{Node: s.g.Name(n), After: now - s.ns[n].startAt, RunDeadline: limit == timeouts.RunLimit && errors.Is(cause, context.DeadlineExceeded)}
}

// call runs the body of blocking node n, with retries, outside s.mu. When
// the body failed after its context ended, ctxCause says why it ended.
// Its frame and runBody's are all that sits between a node's goroutine and
// the body, so both stay small: a body that fits the goroutine's initial
// stack never pays for growing it.
func (s *run) call(n graph.NodeID) (v any, attempts int32, ctxCause, err error) {
	l := &s.live[n]
	for {
		attempts++
		v, err = s.runBody(l.ctx, n)
		if err == nil || !s.e.info[n].retries || !s.retryAgain(l.ctx, n, attempts, err) {
			break
		}
	}
	if err != nil {
		ctxCause = context.Cause(l.ctx) // before cancel below ends it anyway
	}
	if l.stop != nil && l.stop() {
		s.release() // the watcher will never run
	}
	if l.cancel != nil {
		l.cancel()
	}
	return v, attempts, ctxCause, err
}

// runBody calls the body of blocking node n once, turning a panic into a
// *PanicError.
func (s *run) runBody(ctx context.Context, n graph.NodeID) (v any, err error) {
	defer s.recoverPanic(n, &err)
	args := s.args[s.e.info[n].depStart:s.e.info[n].depEnd]
	if s.e.info[n].kind == graph.KindEach {
		return callEach(ctx, s.g.Node(n), args[0])
	}
	return s.e.info[n].fetch(ctx, args)
}

func (s *run) recoverPanic(n graph.NodeID, err *error) {
	if r := recover(); r != nil {
		*err = &PanicError{Node: s.g.Name(n), Recovered: panics.NewRecovered(1, r)}
	}
}

// retryAgain waits before another try of n, and reports false when no try
// is left, err is not worth one, or the wait would not fit the deadline.
func (s *run) retryAgain(ctx context.Context, n graph.NodeID, attempts int32, err error) bool {
	node := s.g.Node(n)
	if int(attempts) >= node.Retry.Attempts || !retryable(node, err) {
		return false
	}
	return timeouts.Sleep(ctx, timeouts.Backoff(node.Retry.Backoff, int(attempts), 0))
}

func retryable(node *graph.Node, err error) bool {
	var p *PanicError
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) || errors.As(err, &p) {
		return false
	}
	return node.Retry.Retryable == nil || node.Retry.Retryable(err)
}

// fillArgs copies the values of n's static dependencies into its argument
// slots, or returns the first dependency that has no value. s.mu held.
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

func (s *run) dependencyError(n, dep graph.NodeID) error {
	root, cause := s.g.Name(dep), s.ns[dep].cause
	var de *DependencyError
	if errors.As(cause, &de) {
		root, cause = de.Root, de.Err
	}
	return &DependencyError{Node: s.g.Name(n), Dependency: s.g.Name(dep), Root: root, Err: cause}
}

// settleContextEnd records a blocking node whose body failed after its
// context ended: that is a timeout or a cancellation, not an error of its own.
// s.mu held.
func (w *worker) settleContextEnd(n graph.NodeID, cause error) {
	s := w.s
	if s.ctx.Err() != nil {
		// The run's own deadline or cancellation: the run is over, and abort
		// settles every node alike. Settling here (and letting a fallback
		// feed a target) would race with it.
		return
	}
	switch {
	case errors.Is(cause, context.DeadlineExceeded):
		w.settle(n, nil, s.timeoutError(n, w.now, cause), Timeout)
	case s.ctx.Err() != nil:
		w.settle(n, nil, fmt.Errorf("node %q: run ended before it finished: %w", s.g.Name(n), cause), Canceled)
	default:
		w.settle(n, nil, ErrNotNeeded, Canceled)
	}
}

// settleBody records the result of n's body. s.mu held.
func (w *worker) settleBody(n graph.NodeID, v any, err error) {
	if err != nil {
		var p *PanicError
		if !errors.As(err, &p) {
			err = &NodeError{Node: w.s.g.Name(n), Err: err}
		}
		w.settle(n, nil, err, Error)
		return
	}
	if t := w.s.e.info[n].typ; v != nil && t != nil && reflect.TypeOf(v) != t && !reflect.TypeOf(v).AssignableTo(t) {
		w.settle(n, nil, &NodeError{Node: w.s.g.Name(n), Err: fmt.Errorf("returned a %T, want %v", v, t)}, Error)
		return
	}
	w.settle(n, v, nil, OK)
}

// settle records how n ended — turning a failure into its fallback when it
// has one — and wakes the nodes waiting on it. The first settle of a node
// wins; a late one (a body returning after its timeout) is discarded.
// s.mu held.
func (w *worker) settle(n graph.NodeID, v any, cause error, oc Outcome) {
	s := w.s
	switch s.ns[n].status {
	case done:
		return
	case waiting: // settled before it started (an operand no longer needed)
		s.ns[n].startAt = w.now
	}
	if s.ended {
		return
	}
	if oc == Error || oc == Timeout {
		if s.e.info[n].fallback {
			if fv, err := callFallback(s.g.Node(n), cause); err == nil {
				v, oc = fv, Fallback
			} else {
				cause = fmt.Errorf("%w (and its fallback failed: %w)", cause, err)
			}
		}
	}
	s.ns[n].status = done
	if oc.HasValue() {
		s.ns[n].val = v
	}
	s.ns[n].outcome, s.ns[n].cause, s.ns[n].endAt = oc, cause, w.now
	for _, u := range s.e.usersOf(n) {
		if s.ns[u].status == waiting {
			if s.ns[u].pending--; s.ns[u].pending == 0 {
				s.ready = append(s.ready, u)
			}
		}
	}
	if s.e.info[n].lazyUsers {
		for _, p := range s.g.LazyUsers(n) {
			if s.ns[p].status == running {
				s.ready = append(s.ready, p)
			}
		}
	}
	if s.ns[n].isTarget {
		if s.targetsLeft--; s.targetsLeft == 0 {
			w.endRun()
		}
	}
}

// reconsider looks again at a running conditional n after one of its lazy
// dependencies may have ended. s.mu held.
func (w *worker) reconsider(n graph.NodeID) {
	s := w.s
	node := s.g.Node(n)
	lazy := s.g.Lazy(n)
	if node.Kind == graph.KindIf || node.Kind == graph.KindSwitch {
		if s.ns[n].chosen < 0 {
			// Still choosing (its Choose runs with s.mu released); a branch
			// that ended meanwhile is looked at once the choice is made.
			return
		}
		branch := lazy[s.ns[n].chosen]
		switch {
		case s.ns[branch].status != done:
		case s.ns[branch].outcome.HasValue():
			w.settle(n, s.ns[branch].val, nil, OK)
		default:
			w.settle(n, nil, s.dependencyError(n, branch), Error)
		}
		return
	}
	// And stops at the first false, Or at the first true.
	decisive := node.Kind == graph.KindOr
	failed, pending := graph.NodeID(-1), false
	for _, op := range lazy {
		switch {
		case s.ns[op].status != done:
			pending = true
		case !s.ns[op].outcome.HasValue():
			if failed < 0 {
				failed = op
			}
		case asBool(s.ns[op].val) == decisive:
			w.settle(n, decisive, nil, OK)
			w.cancelUnneeded(n)
			return
		}
	}
	switch {
	case pending:
	case failed >= 0:
		w.settle(n, nil, s.dependencyError(n, failed), Error)
	default:
		w.settle(n, !decisive, nil, OK)
	}
}

// cancelUnneeded cancels the operands of a decided And/Or that nothing else
// waits for. s.mu held.
func (w *worker) cancelUnneeded(n graph.NodeID) {
	s := w.s
	for _, op := range s.g.Lazy(n) {
		if s.ns[op].status == done || s.ns[op].isTarget || s.stillNeeded(op, n) {
			continue
		}
		w.settle(op, nil, ErrNotNeeded, Canceled)
		if c := s.live[op].cancel; c != nil {
			c()
		}
	}
}

// stillNeeded reports whether a node other than except may still need op:
// one that has not ended. That includes nodes not demanded yet (an And
// still on the ready stack, a branch chosen later), which would otherwise
// find op canceled and fail with it.
func (s *run) stillNeeded(op, except graph.NodeID) bool {
	for _, u := range s.e.usersOf(op) {
		if s.ns[u].status != done {
			return true
		}
	}
	for _, p := range s.g.LazyUsers(op) {
		if p != except && s.ns[p].status != done {
			return true
		}
	}
	return false
}

// endRun ends a run whose targets are all done: what is still in flight is
// no longer needed, what never started was skipped. s.mu held.
func (w *worker) endRun() {
	s := w.s
	s.ended, s.end = true, w.now
	for n := range s.ns {
		switch s.ns[n].status {
		case waiting: // never started: no time of its own
			s.ns[n].startAt = w.now
			fallthrough
		case running:
			s.ns[n].status, s.ns[n].outcome, s.ns[n].cause, s.ns[n].endAt = done, Canceled, ErrNotNeeded, w.now
		}
	}
	close(s.finished)
}

// abort ends a run whose context ended first: nodes in flight time out (or
// are canceled, when the caller canceled), nodes waiting are canceled.
func (s *run) abort(err error) {
	now := time.Since(s.start)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ended {
		return
	}
	s.ended, s.end = true, now
	for i := range s.ns {
		n, st := graph.NodeID(i), s.ns[i].status
		switch {
		case st == running && errors.Is(err, context.DeadlineExceeded):
			s.ns[n].outcome, s.ns[n].cause = Timeout, s.timeoutError(n, now, err)
		case st == running || st == waiting:
			s.ns[n].outcome, s.ns[n].cause = Canceled, fmt.Errorf("node %q: run ended before it finished: %w", s.g.Name(n), err)
		default:
			continue
		}
		if st == waiting {
			s.ns[n].startAt = now
		}
		s.ns[n].status, s.ns[n].endAt = done, now
	}
}

// callCompute runs the body of compute node n, turning a panic into a
// *PanicError.
func (s *run) callCompute(n graph.NodeID, args []any) (v any, err error) {
	defer s.recoverPanic(n, &err)
	return s.e.info[n].compute(args)
}

func callChoose(node *graph.Node, args []any) (branch int, err error) {
	defer recoverInto(node.Name, &err)
	return node.Choose(args)
}

func callFallback(node *graph.Node, cause error) (v any, err error) {
	defer recoverInto(node.Name+" (fallback)", &err)
	return node.Fallback(cause)
}

// callEach fetches every element of list, at most Limit at once, keeping
// the order; the first failure cancels the others.
func callEach(ctx context.Context, node *graph.Node, list any) (v any, err error) {
	defer recoverInto(node.Name, &err)
	elems := node.Each.Split(list)
	results := make([]any, len(elems))
	group, ctx := errgroup.WithContext(ctx)
	if node.Each.Limit > 0 {
		group.SetLimit(node.Each.Limit)
	}
	for i, elem := range elems {
		group.Go(func() (err error) {
			defer recoverInto(fmt.Sprintf("%s[%d]", node.Name, i), &err)
			r, err := node.Each.Elem(ctx, elem)
			if err != nil {
				return fmt.Errorf("element %d: %w", i, err)
			}
			results[i] = r
			return nil
		})
	}
	if err := group.Wait(); err != nil {
		return nil, err
	}
	return node.Each.Join(results), nil
}

func asBool(v any) bool {
	b, _ := v.(bool)
	return b
}

// recoverInto turns a panic of the calling function into a *PanicError.
func recoverInto(node string, err *error) {
	if r := recover(); r != nil {
		*err = &PanicError{Node: node, Recovered: panics.NewRecovered(1, r)}
	}
}

// chosenValid reports whether If/Switch n chose a branch in this run.
func (s *run) chosenValid(n graph.NodeID) bool {
	c := s.ns[n].chosen
	return c >= 0 && int(c) < len(s.g.Lazy(n)) && s.ns[s.g.Lazy(n)[c]].status != idle
}

// growStack grows a new node goroutine's stack from its initial 2 KB to
// 8 KB while the stack is one frame deep and copying it is cheap. Fetch
// bodies (HTTP clients, decoders, the services they wrap) outgrow 2 KB
// almost always; left to the runtime, that growth happens deep inside the
// body, where copying the stack costs a frame-by-frame walk: profiles of the
// card-authorization benchmark showed it as 40% of the engine's CPU.
//
//go:noinline
func growStack(seed int) byte {
	var buf [4096]byte
	buf[seed&4095] = byte(seed) // indexes the compiler cannot know keep buf on the stack
	return buf[(seed*7)&4095]
}
