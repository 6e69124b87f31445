package executor

import (
	"context"
	"errors"
	"fmt"
	"github.com/featgraph/featgraph/internal/graphx"
	"reflect"
	"runtime"
	"time"
	"unsafe"

	"github.com/featgraph/featgraph/graph"
)

// worker is one goroutine's view of a run: the time it last read the clock
// (so that inline nodes cost one clock read each), the blocking node it has
// claimed to run next, and the nodes it has yet to start or to announce.
type worker struct {
	s        *run
	now      time.Duration
	mayBlock bool // it may run a blocking body: not the caller's goroutine
	// callerGoroutine marks Run's own goroutine, which runs no user code:
	// what it finds ready besides inputs and values goes to s.handoff.
	callerGoroutine bool
	next            graph.NodeID
	// cur is the node whose user code this goroutine is in, or -1; when
	// runtime.Goexit unwinds the goroutine, exit settles it.
	cur         graph.NodeID
	curAttempts int32
	bare        bool      // cur is a compute body called without a recover of its own
	ready       nodeStack // pending count reached zero: to claim and start
	settled     nodeStack // done: to announce to users
	launch      nodeStack // claimed blocking nodes to queue for the run's other goroutines
	demands     []graph.NodeID
	drops       []graph.NodeID
	source      string // the source of the value finish is settling, for commit
	// order holds the nodes an ordered worker (see runOrdered) has yet to
	// step; ordered tells notify that users need no counting down.
	order   []graph.NodeID
	ordered bool
	solo    bool  // the only goroutine of the run that writes node states
	targets int32 // targets not yet done, counted here when ordered
	// began, when beganSet, is the start time of the node that settle takes
	// from waiting: a compute node runs its body unclaimed (see compute).
	began    time.Duration
	beganSet bool
	// batch holds the quick compute nodes run since the clock was last
	// read (see clock).
	batch  [clockBatch]graph.NodeID
	nbatch int32
}

// nodeStack is a stack of node IDs that needs no allocation for its first
// six entries. It stays small: a worker lives on its goroutine's stack.
type nodeStack struct {
	fixed [6]graph.NodeID
	n     int32
	more  []graph.NodeID
}

func (k *nodeStack) push(id graph.NodeID) {
	if int(k.n) < len(k.fixed) {
		k.fixed[k.n] = id
		k.n++
		return
	}
	k.more = append(k.more, id)
}

func (k *nodeStack) pop() (graph.NodeID, bool) {
	if m := len(k.more); m > 0 {
		id := k.more[m-1]
		k.more = k.more[:m-1]
		return id, true
	}
	if k.n == 0 {
		return -1, false
	}
	k.n--
	return k.fixed[k.n], true
}

func (w *worker) tick() {
	w.now = time.Since(w.s.start)
	w.nbatch = 0
}

const (
	// clockBatch is how many quick compute nodes share one clock reading.
	clockBatch = 8
	// quickNode is how long a compute node may take to count as quick.
	quickNode = time.Microsecond
)

// clock reads the clock after compute node n's body, which ran with no
// deadline (so its outcome does not depend on the time), unless n is
// quick — it took under quickNode when last timed on its own — and fewer
// than clockBatch quick nodes have run since the last reading: a quick
// node then ends at the time it started, the last reading. A batch that
// took longer than its quick nodes should have is timed node by node again.
func (w *worker) clock(n graph.NodeID) {
	q := &w.s.e.info[n].quick
	if w.nbatch < clockBatch && q.Load() {
		w.batch[w.nbatch] = n
		w.nbatch++
		return
	}
	prev, k := w.now, w.nbatch
	w.tick()
	took := w.now - prev
	switch {
	case k > 0 && took > time.Duration(k+1)*quickNode:
		for _, id := range w.batch[:k] {
			w.s.e.info[id].quick.Store(false)
		}
		q.Store(false)
	case k == 0 && took < quickNode && !q.Load():
		q.Store(true)
	}
}

// endBatch reads the clock after a batch of quick nodes, with nothing run
// since, and times them node by node again if the batch took longer than
// quick nodes should: a quick node turned slow is timed on its own from
// its next run on.
func (w *worker) endBatch() {
	prev, k := w.now, w.nbatch
	w.tick()
	if k > 0 && w.now-prev > time.Duration(k)*quickNode {
		for _, id := range w.batch[:k] {
			w.s.e.info[id].quick.Store(false)
		}
	}
}

// loop runs the worker's nodes, then each blocking node it claimed, until
// it has none; it holds one reference to the run, which exit drops.
func (w *worker) loop() {
	defer w.exit()
	for !w.work() {
	}
}

// work is loop's body, under one recover for the compute bodies it calls
// bare (see compute). It reports false when a body panicked, for loop to
// carry on.
func (w *worker) work() (finished bool) {
	defer w.recoverBare()
	for {
		w.drain()
		n := w.next
		if w.nbatch > 0 && (n < 0 || w.s.ns[n].hasDL) {
			w.endBatch() // before the worker ends, or a body it times exactly
		}
		if n < 0 {
			if !w.takeQueued() {
				return true
			}
			continue
		}
		w.next = -1
		w.runBlocking(n)
	}
}

// recoverBare ends the compute node whose body, called bare, panicked, as
// finish would have. A panic anywhere else is the engine's, and goes on.
func (w *worker) recoverBare() {
	if !w.bare {
		return
	}
	r := recover()
	if r == nil {
		return // runtime.Goexit: exit settles the node
	}
	n := w.cur
	w.cur, w.bare = -1, false
	w.clock(n)
	w.finish(n, waiting, nil, w.s.panicError(n, r), 0, false)
	w.beganSet = false
}

// exit ends the worker's goroutine. When runtime.Goexit is unwinding it out
// of user code (t.Fatal in a stub does that), the node that code belonged
// to ends as an error and a new goroutine carries on with the rest of the
// worker's work and its reference to the run.
func (w *worker) exit() {
	if w.cur >= 0 {
		rest := *w
		go rest.afterGoexit()
		return
	}
	w.s.release()
}

func (w *worker) afterGoexit() {
	s, n := w.s, w.cur
	w.cur, w.bare, w.beganSet = -1, false, false
	w.tick()
	var attempts int32 // only a blocking body's calls count as attempts
	if s.e.info[n].kind.Blocking() {
		s.endLive(n)
		attempts = w.curAttempts
	}
	cause := &NodeError{Node: s.g.Name(n), Err: ErrGoexit}
	ns := &s.ns[n]
	for _, from := range [...]uint32{running, waiting} {
		if ns.st.CompareAndSwap(from, busy) {
			if from == waiting {
				ns.startAt = w.now
			}
			w.commit(n, nil, cause, OutcomeError, attempts)
			break
		}
	}
	w.loop()
}

// drain announces the nodes that ended and starts those that became ready,
// until there are none: inline kinds run here, a blocking one is kept as
// next (when this goroutine may block) and the others are queued.
func (w *worker) drain() {
	for {
		if n, ok := w.launch.pop(); ok {
			w.s.enqueue(n)
			continue
		}
		if n, ok := w.settled.pop(); ok {
			w.notify(n)
			continue
		}
		if n, ok := w.ready.pop(); ok {
			w.step(n)
			continue
		}
		if len(w.order) > 0 {
			w.pass()
			continue
		}
		return
	}
}

// pass steps the ordered worker's nodes in order, until one of them leaves
// a node for drain to announce or start (a failure, an input, a value), or
// none is left.
func (w *worker) pass() {
	s := w.s
	for len(w.order) > 0 {
		n := w.order[0]
		w.order = w.order[1:]
		if s.ended.Load() {
			w.order = nil // the run's end sweeps the rest
			return
		}
		st := &s.ns[n].st
		if st.Load() != waiting {
			continue
		}
		w.step(n)
		if st.Load() == waiting {
			// Left for the run's end (its deadline passed): stop, so no
			// later node reads a dependency the sweep is writing.
			w.order = nil
			return
		}
		if w.settled.n > 0 || w.ready.n > 0 || w.launch.n > 0 {
			return
		}
	}
}

// step claims ready node n and starts it.
func (w *worker) step(n graph.NodeID) {
	s := w.s
	info := &s.e.info[n]
	ns := &s.ns[n]
	if w.callerGoroutine && info.kind != graph.KindValue && (info.kind != graph.KindInput || !ns.bound) {
		if ns.st.Load() == waiting {
			s.handoff = append(s.handoff, n)
		}
		return
	}
	if info.kind == graph.KindCompute && info.timeout <= 0 && !s.hasDL {
		w.compute(n)
		return
	}
	if w.nbatch > 0 && (s.hasDL || info.timeout > 0) {
		w.endBatch() // exact times for nodes with deadlines
	}
	if !ns.st.CompareAndSwap(waiting, busy) {
		return // failed (a dependency did) or swept (the run ended)
	}
	if s.ended.Load() {
		ns.st.Store(waiting) // the run's end sweeps it
		return
	}
	ns.startAt = w.now
	switch info.kind {
	case graph.KindInput:
		if ns.bound {
			w.commit(n, ns.val, nil, OutcomeOK, 0)
		} else {
			ns.st.Store(running)
			w.settle(n, running, nil, &UnboundInputError{Input: s.g.Name(n)}, OutcomeError, 0)
		}
		return
	case graph.KindValue:
		w.commit(n, s.e.node(n).Value, nil, OutcomeOK, 0)
		return
	}
	args, failed := s.fillArgs(n)
	if failed >= 0 { // not reached: a failed dependency fails its users at once
		ns.st.Store(running)
		w.settle(n, running, nil, s.dependencyError(n, failed), OutcomeError, 0)
		return
	}
	if info.kind.Conditional() {
		ns.st.Store(running)
		w.startConditional(n, args)
		return
	}
	ns.deadline, ns.hasDL = s.deadlineOf(n, w.now)
	if ns.hasDL && w.now >= ns.deadline { // no time left: it does not start
		if runOver, late := s.noTimeLeft(n, w.now); !runOver {
			ns.st.Store(running)
			w.settle(n, running, nil, late, OutcomeTimeout, 0)
			return
		}
		ns.st.Store(waiting) // the run's deadline: abort cancels it
		return
	}
	if info.kind.Blocking() {
		w.startBlocking(n)
		return
	}
	ns.st.Store(running)
	w.cur = n
	v, err := s.callCompute(n, args)
	w.cur = -1
	w.tick()
	w.finish(n, running, v, err, 0, false)
}

// compute runs ready compute node n, which has no deadline, without
// claiming it: it stays waiting while its body runs and is settled from
// waiting, one compare-and-swap in all. Only this goroutine starts it (its
// pending count reached zero here); if the run ends or n is dropped
// meanwhile, the settle loses and the value is discarded, as a claimed
// node's would be.
func (w *worker) compute(n graph.NodeID) {
	s := w.s
	if s.ns[n].st.Load() != waiting || s.ended.Load() {
		return
	}
	w.began, w.beganSet = w.now, true
	args, failed := s.fillArgs(n)
	if failed >= 0 { // not reached: a failed dependency fails its users at once
		w.settle(n, waiting, nil, s.dependencyError(n, failed), OutcomeError, 0)
	} else {
		// Called bare: a deferred recover here would cost more than many
		// a compute body; recoverBare, deferred once per worker, catches
		// a panic.
		w.cur, w.bare = n, true
		v, err := s.e.info[n].compute(args)
		w.cur, w.bare = -1, false
		w.clock(n)
		if !w.computed(n, v, err) {
			w.finish(n, waiting, v, err, 0, false)
		}
	}
	w.beganSet = false
}

// computed is finish for the common case of compute: a value of the right
// type from a node with no deadline, settled from waiting. It reports false
// for the other cases, which finish handles.
func (w *worker) computed(n graph.NodeID, v any, err error) bool {
	s := w.s
	if err != nil {
		return false
	}
	if _, ok := v.(graph.Sourced); ok {
		return false
	}
	if t := s.e.info[n].typ; v != nil && t != nil && reflect.TypeOf(v) != t {
		return false
	}
	ns := &s.ns[n]
	if w.solo {
		// No other goroutine writes node states (see execute): plain
		// stores, ordered before any reader by the end of the run. An
		// atomic store costs a locked instruction.
		ns.startAt, ns.val, ns.outcome, ns.endAt = w.began, v, OutcomeOK, max(w.now, w.began)
		*(*uint32)(unsafe.Pointer(&ns.st)) = done
	} else {
		if !ns.st.CompareAndSwap(waiting, busy) {
			return true // dropped, or swept by the run's end: the value is discarded
		}
		ns.startAt, ns.val, ns.outcome, ns.endAt = w.began, v, OutcomeOK, max(w.now, w.began)
		ns.st.Store(done)
	}
	if w.ordered {
		// Its users come after it in the pass: only a target counts.
		if ns.isTarget {
			w.targetDone(n)
		}
		return true
	}
	w.settled.push(n)
	return true
}

// targetDone counts target n done, and ends the run with the last one.
func (w *worker) targetDone(n graph.NodeID) bool {
	s := w.s
	if w.ordered {
		w.targets--
		if w.targets > 0 {
			return false
		}
	} else if s.targetsLeft.Add(-1) > 0 {
		return false
	}
	if w.nbatch > 0 {
		w.endBatch() // the run's end time is read, not batched
	}
	s.endRun(w.now, n)
	return true
}

// startConditional starts running If, Switch, And or Or n: it demands the
// branch it chooses, or its operands.
func (w *worker) startConditional(n graph.NodeID, args []any) {
	s := w.s
	node := s.e.node(n)
	lazy := s.g.Lazy(n)
	switch node.Kind {
	case graph.KindIf, graph.KindSwitch:
		w.cur = n
		branch, err := s.callChoose(n, args)
		w.cur = -1
		if err := s.branchError(n, branch, err); err != nil {
			w.settle(n, running, nil, err, OutcomeError, 0)
			return
		}
		s.ns[n].chosen.Store(int32(branch) + 1)
		w.demand(lazy[branch])
		w.reconsider(n)
	default:
		for _, op := range lazy {
			w.demand(op)
		}
		w.reconsider(n)
	}
}

// startBlocking gives claimed blocking node n its context — the run's, or
// one with the node's deadline and a watcher that ends the node promptly
// when it passes, or a cancelable one when an And/Or may cancel it — and
// runs it next on this goroutine or queues it for another. n is held busy.
func (w *worker) startBlocking(n graph.NodeID) {
	s := w.s
	info := &s.e.info[n]
	ns := &s.ns[n]
	ns.attempts = 1 // at least; the body's goroutine counts retries
	ns.stale = int8(w.nbatch)
	if info.timeout > 0 || info.cancelable || s.traced {
		w.startLive(n)
	}
	ns.st.Store(running)
	if w.mayBlock && w.next < 0 {
		w.next = n
		return
	}
	w.launch.push(n)
}

// startLive gives claimed blocking node n a context of its own, a timeout
// watcher or a span; a plain node runs on the run's context and leaves its
// live entry untouched (writing it cost a cache miss per node).
//
//go:noinline
func (w *worker) startLive(n graph.NodeID) {
	s := w.s
	ns := &s.ns[n]
	l := live{ctx: s.ctx}
	switch {
	case s.e.info[n].timeout > 0:
		l.ctx, l.cancel = context.WithDeadline(s.ctx, s.start.Add(ns.deadline))
		s.refs.Add(1)
		l.stop = context.AfterFunc(l.ctx, func() { s.expire(n) })
	case s.e.info[n].cancelable:
		l.ctx, l.cancel = context.WithCancel(s.ctx)
	}
	if s.traced {
		l.ctx, l.span = s.startNodeSpan(l.ctx, n, s.start.Add(ns.startAt))
	}
	s.setLive(n, l)
}

// runBlocking calls the body of running blocking node n, with its retries,
// and records how it ended. The context is checked before every attempt.
func (w *worker) runBlocking(n graph.NodeID) {
	s := w.s
	info := &s.e.info[n]
	ns := &s.ns[n]
	ctx := s.ctx
	if ns.hasLive {
		ctx = s.live[n].ctx
	}
	args := s.args[info.depStart:info.depEnd]
	var (
		v        any
		err      error
		attempts int32
	)
	for {
		if e := ctx.Err(); e != nil {
			err = e
			break
		}
		if ns.st.Load() != running {
			err = ErrNotNeeded // ended meanwhile: whatever it does is discarded
			break
		}
		attempts++
		w.cur, w.curAttempts = n, attempts
		v, err = s.callBody(ctx, n, args)
		if err == nil || !info.retries {
			w.cur = -1
			break
		}
		again, perr := s.retryAgain(ctx, n, attempts, err)
		w.cur = -1
		if perr != nil {
			err = perr
		}
		if !again {
			break
		}
	}
	if ns.hasDL {
		w.tick()
	} else {
		w.clock(n) // with no deadline, its outcome does not depend on the time
	}
	ctxEnded := err != nil && ctx.Err() != nil
	s.endLive(n)
	w.finish(n, running, v, err, attempts, ctxEnded)
}

// endLive stops n's timeout watcher and cancels its own context.
func (s *run) endLive(n graph.NodeID) {
	if !s.ns[n].hasLive {
		return
	}
	l := &s.live[n]
	if l.stop != nil && l.stop() {
		s.release() // the watcher will never run
	}
	if l.cancel != nil {
		l.cancel()
	}
}

// finish records how the body of node n, in status from, ended, at w.now.
// The deadline decides: a value or an error past it is a timeout.
func (w *worker) finish(n graph.NodeID, from uint32, v any, err error, attempts int32, ctxEnded bool) {
	ns := &w.s.ns[n]
	if err != nil || (ns.hasDL && w.now >= ns.deadline) {
		w.finishFailed(n, from, err, attempts, ctxEnded)
		return
	}
	v, w.source = graphx.Unsource(v)
	if t := w.s.e.info[n].typ; v != nil && t != nil && reflect.TypeOf(v) != t {
		if cause := typeError(w.s.g.Name(n), v, t); cause != nil {
			w.source = ""
			w.settle(n, from, nil, cause, OutcomeError, attempts)
			return
		}
	}
	w.settle(n, from, v, nil, OutcomeOK, attempts)
	w.source = ""
}

// finishFailed is finish for a body that failed or ended past its deadline;
// its own function, kept out of the common path's stack frame: a timeout's
// watcher or a Goexit's successor (see exit) runs bodies on a new
// goroutine's 2 KB stack.
//
//go:noinline
func (w *worker) finishFailed(n graph.NodeID, from uint32, err error, attempts int32, ctxEnded bool) {
	vd, leave := w.s.bodyVerdict(n, nil, err, w.now, ctxEnded)
	if leave {
		return // the run's context ended: abort, on Run's goroutine, settles every node alike
	}
	w.settle(n, from, nil, vd.cause, vd.oc, attempts)
}

// typeError is the cause of a node whose body returned v, not assignable
// to its type t, or nil when v is assignable.
//
//go:noinline
func typeError(node string, v any, t reflect.Type) error {
	if reflect.TypeOf(v).AssignableTo(t) {
		return nil
	}
	return &NodeError{Node: node, Err: fmt.Errorf("returned a %T, want %v", v, t)}
}

// settle records how n ended if it is still in status from, turning a
// failure into its fallback when it has one, and reports whether it did.
// Of two goroutines settling one node, the first wins; the other changes
// nothing (its fallback is not called when the loss is already visible).
func (w *worker) settle(n graph.NodeID, from uint32, v any, cause error, oc Outcome, attempts int32) bool {
	s := w.s
	ns := &s.ns[n]
	if s.hasDL && w.now >= s.runDL {
		// Past the run's deadline the run is over: abort (on Run's
		// goroutine, woken by the same deadline) times out what runs and
		// cancels what waits, with no fallback.
		return false
	}
	if (oc == OutcomeError || oc == OutcomeTimeout) && s.e.info[n].fallback {
		if ns.st.Load() != from || s.ended.Load() {
			return false
		}
		w.cur = n
		fv, err := s.callFallback(n, cause)
		w.cur = -1
		if err == nil {
			v, oc = fv, OutcomeFallback
		} else {
			cause = fallbackFailed(cause, err)
		}
	}
	if !ns.st.CompareAndSwap(from, busy) {
		return false
	}
	if from == waiting { // never started: no time of its own
		ns.startAt = w.now
		if w.beganSet {
			ns.startAt = w.began
		}
	}
	w.commit(n, v, cause, oc, attempts)
	return true
}

// commit writes the outcome of n, which the caller holds busy, and marks
// it done.
func (w *worker) commit(n graph.NodeID, v any, cause error, oc Outcome, attempts int32) {
	w.s.record(n, verdict{v: v, cause: cause, oc: oc, source: w.source}, attempts, w.now)
	w.settled.push(n)
}

// notify announces that n is done: a user waiting for it counts it down
// (and becomes ready at zero), or fails at once when n has no value; a
// conditional waiting on it looks again; the run ends with its last target.
func (w *worker) notify(n graph.NodeID) {
	s := w.s
	ns := &s.ns[n]
	if ns.isTarget && w.targetDone(n) {
		return
	}
	if s.ended.Load() {
		return
	}
	hasValue := ns.outcome.HasValue()
	if hasValue && w.ordered {
		return // the ordered pass comes to its users after it
	}
	for _, ue := range s.e.usersOf(n) {
		u := ue.user
		us := &s.ns[u]
		if us.st.Load() != waiting {
			continue
		}
		if !hasValue {
			if w.settle(u, waiting, nil, s.dependencyError(u, n), OutcomeError, 0) {
				w.dropDeps(u)
			}
			continue
		}
		if us.dyn && !s.edges[ue.edge].CompareAndSwap(0, 1) {
			continue // its demander counted this edge
		}
		if us.pending.Add(-1) == 0 {
			w.ready.push(u)
		}
	}
	if s.e.info[n].lazyUsers {
		for _, p := range s.g.LazyUsers(n) {
			if s.ns[p].st.Load() == running {
				w.reconsider(p)
			}
		}
	}
}

// reconsider looks again at running conditional p after one of its lazy
// dependencies may have ended.
func (w *worker) reconsider(p graph.NodeID) {
	vd, decided, short := w.s.conditionalVerdict(p)
	if !decided {
		return
	}
	w.tick()
	if w.settle(p, running, vd.v, vd.cause, vd.oc, 0) && short {
		for _, op := range w.s.g.Lazy(p) {
			w.dropUnneeded(op)
		}
	}
}

// demand marks root and the static dependencies it needs as waiting, during
// the run (a branch chosen, an operand of an And/Or), pushing those that
// can start onto the ready stack. An edge between a node demanded here and
// a dependency ending meanwhile is counted exactly once: by whichever of the
// demander and the dependency's notifier flips the edge's flag.
func (w *worker) demand(root graph.NodeID) {
	s := w.s
	failed := w.mark(root)
	// Nodes demanded after a dependency of theirs failed fail now, outside
	// mark: a fallback may take its time, and the run's end waits for mark.
	for len(failed) > 0 {
		id, dep := failed[len(failed)-1], failed[len(failed)-2]
		failed = failed[:len(failed)-2]
		w.settle(id, waiting, nil, s.dependencyError(id, dep), OutcomeError, 0)
	}
}

// mark does demand's marking, and returns (dependency, node) pairs of nodes
// that cannot start because that dependency failed.
func (w *worker) mark(root graph.NodeID) (failedPairs []graph.NodeID) {
	s := w.s
	s.demanding.Add(1)
	defer s.demanding.Add(-1)
	w.demands = append(w.demands[:0], root)
	for len(w.demands) > 0 {
		id := w.demands[len(w.demands)-1]
		w.demands = w.demands[:len(w.demands)-1]
		if s.ended.Load() {
			continue
		}
		ns := &s.ns[id]
		if !ns.st.CompareAndSwap(idle, busy) {
			continue
		}
		raise(&s.dynUsed)
		info := &s.e.info[id]
		deps := s.e.deps[info.depStart:info.depEnd]
		ns.dyn = true
		ns.pending.Store(int32(len(deps)) + 1) // + 1 until every edge is looked at
		if info.kind.Conditional() {
			s.openConds.Add(1)
		}
		ns.st.Store(waiting)
		failed := graph.NodeID(-1)
		for k, d := range deps {
			ds := &s.ns[d]
			switch ds.st.Load() {
			case idle:
				w.demands = append(w.demands, d)
			case done:
				if !ds.outcome.HasValue() {
					if failed < 0 {
						failed = d
					}
				} else if s.edges[info.depStart+int32(k)].CompareAndSwap(0, 1) {
					ns.pending.Add(-1)
				}
			}
		}
		if failed >= 0 {
			failedPairs = append(failedPairs, failed, id)
			continue
		}
		if ns.pending.Add(-1) == 0 {
			w.ready.push(id)
		}
	}
	return failedPairs
}

// dropDeps cancels the dependencies of u, which failed without them, that
// nothing else needs.
func (w *worker) dropDeps(u graph.NodeID) {
	for _, d := range w.s.e.depsOf(u) {
		w.dropUnneeded(d)
	}
}

// dropUnneeded cancels d, when it is waiting or running and nothing needs
// it any more, and then what only it needed.
func (w *worker) dropUnneeded(d graph.NodeID) {
	s := w.s
	w.drops = append(w.drops[:0], d)
	for len(w.drops) > 0 {
		d := w.drops[len(w.drops)-1]
		w.drops = w.drops[:len(w.drops)-1]
		st, ok := s.droppable(d)
		if !ok {
			continue
		}
		ds := &s.ns[d]
		if !ds.st.CompareAndSwap(st, busy) {
			continue
		}
		if st == waiting {
			ds.startAt = w.now
		}
		w.commit(d, nil, ErrNotNeeded, OutcomeCanceled, 0)
		if st == running && ds.hasLive {
			if c := s.live[d].cancel; c != nil {
				c()
			}
		}
		w.drops = append(w.drops, s.e.depsOf(d)...)
		w.drops = append(w.drops, s.g.Lazy(d)...)
	}
}

// expire runs when the context of node n with a timeout ends. If the run is
// still going and the node's deadline has passed, it ends the node as timed
// out now, rather than when its body returns, and carries on with what that
// made ready. It never decides otherwise than the body's return would.
func (s *run) expire(n graph.NodeID) {
	if s.ended.Load() || s.ctx.Err() != nil {
		s.release() // the run's end or deadline: endRun or abort handles every node
		return
	}
	w := worker{s: s, mayBlock: true, next: -1, cur: -1}
	w.tick()
	ns := &s.ns[n]
	if ns.st.Load() != running || w.now < ns.deadline {
		s.release()
		return
	}
	w.settle(n, running, nil, s.lateError(n, w.now), OutcomeTimeout, 0)
	w.loop()
}

// isPanic reports whether err is a *PanicError; its own function, so that
// the target of errors.As is allocated only when there is an error.
func isPanic(err error) bool {
	var pe *PanicError
	return errors.As(err, &pe)
}

func asBool(v any) bool {
	b, _ := v.(bool)
	return b
}

// waitDemands waits until no goroutine is demanding nodes: after the run's
// end flag is set, none starts again, so a sweep that follows sees every
// node that will ever be waiting.
func (s *run) waitDemands() {
	for s.demanding.Load() > 0 {
		runtime.Gosched()
	}
}
