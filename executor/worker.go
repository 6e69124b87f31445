package executor

import (
	"context"
	"errors"
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
	ready       nodeStack // pending count reached zero: to claim and start
	settled     nodeStack // done: to announce to users
	demands     []graph.NodeID
	drops       []graph.NodeID
	source      string // the source of the value finish is settling, for commit
}

// nodeStack is a stack of node IDs that needs no allocation for its first
// eight entries. It stays small: a worker lives on its goroutine's stack,
// which starts at 2 KB.
type nodeStack struct {
	fixed [8]graph.NodeID
	n     int
	more  []graph.NodeID
}

func (k *nodeStack) push(id graph.NodeID) {
	if k.n < len(k.fixed) {
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

func (w *worker) tick() { w.now = time.Since(w.s.start) }

// loop runs the worker's nodes, then each blocking node it claimed, until
// it has none; it holds one reference to the run, which exit drops.
func (w *worker) loop() {
	defer w.exit()
	for {
		w.drain()
		n := w.next
		if n < 0 {
			return
		}
		w.next = -1
		w.runBlocking(n)
	}
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
	w.cur = -1
	w.tick()
	if s.e.info[n].kind.Blocking() {
		s.endLive(n)
	}
	cause := &NodeError{Node: s.g.Name(n), Err: ErrGoexit}
	ns := &s.ns[n]
	for _, from := range [...]uint32{running, waiting} {
		if ns.st.CompareAndSwap(from, busy) {
			if from == waiting {
				ns.startAt = w.now
			}
			w.commit(n, nil, cause, OutcomeError, w.curAttempts)
			break
		}
	}
	w.loop()
}

// drain announces the nodes that ended and starts those that became ready,
// until there are none: inline kinds run here, a blocking one is kept as
// next (when this goroutine may block) and the others get goroutines.
func (w *worker) drain() {
	for {
		if n, ok := w.settled.pop(); ok {
			w.notify(n)
			continue
		}
		if n, ok := w.ready.pop(); ok {
			w.step(n)
			continue
		}
		return
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
		w.commit(n, s.g.Node(n).Value, nil, OutcomeOK, 0)
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
	w.finish(n, v, err, 0, false)
}

// startConditional starts running If, Switch, And or Or n: it demands the
// branch it chooses, or its operands.
func (w *worker) startConditional(n graph.NodeID, args []any) {
	s := w.s
	node := s.g.Node(n)
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
// runs it next on this goroutine or on a new one. n is held busy.
func (w *worker) startBlocking(n graph.NodeID) {
	s := w.s
	info := &s.e.info[n]
	ns := &s.ns[n]
	ns.attempts = 1 // at least; the body's goroutine counts retries
	l := live{ctx: s.ctx}
	switch {
	case info.timeout > 0:
		l.ctx, l.cancel = context.WithDeadline(s.ctx, s.start.Add(ns.deadline))
		s.refs.Add(1)
		l.stop = context.AfterFunc(l.ctx, func() { s.expire(n) })
	case info.cancelable:
		l.ctx, l.cancel = context.WithCancel(s.ctx)
	}
	if s.traced {
		l.ctx, l.span = s.startNodeSpan(l.ctx, n, s.start.Add(ns.startAt))
	}
	s.live[n] = l
	ns.st.Store(running)
	if w.mayBlock && w.next < 0 {
		w.next = n
		return
	}
	s.refs.Add(1)
	if s.e.grows[n].Load() {
		s.e.goroutines.start(s, n) // a warm goroutine, its stack grown
		return
	}
	go s.runClaimed(n)
}

// runClaimed is the goroutine of claimed blocking node n.
func (s *run) runClaimed(n graph.NodeID) {
	s.e.preGrow(n)
	s.runClaimedWarm(n)
}

// runClaimedWarm runs claimed blocking node n and what it makes ready on
// this goroutine, then returns (to the goroutine pool, or to exit).
func (s *run) runClaimedWarm(n graph.NodeID) {
	w := worker{s: s, mayBlock: true, next: -1, cur: -1}
	w.runBlocking(n)
	w.loop()
}

// runBlocking calls the body of running blocking node n, with its retries,
// and records how it ended. The context is checked before every attempt.
func (w *worker) runBlocking(n graph.NodeID) {
	s := w.s
	info := &s.e.info[n]
	ns := &s.ns[n]
	l := &s.live[n]
	args := s.args[info.depStart:info.depEnd]
	var (
		v        any
		err      error
		attempts int32
	)
	for {
		if e := l.ctx.Err(); e != nil {
			err = e
			break
		}
		if ns.st.Load() != running {
			err = ErrNotNeeded // ended meanwhile: whatever it does is discarded
			break
		}
		attempts++
		w.cur, w.curAttempts = n, attempts
		var marker byte
		before := uintptr(unsafe.Pointer(&marker))
		v, err = s.callBody(l.ctx, n, args)
		if uintptr(unsafe.Pointer(&marker)) != before && !s.e.grows[n].Load() {
			s.e.grows[n].Store(true) // the body grew the stack: see preGrow
		}
		if err == nil || !info.retries {
			w.cur = -1
			break
		}
		again, perr := s.retryAgain(l.ctx, n, attempts, err)
		w.cur = -1
		if perr != nil {
			err = perr
		}
		if !again {
			break
		}
	}
	w.tick()
	ctxEnded := err != nil && l.ctx.Err() != nil
	s.endLive(n)
	w.finish(n, v, err, attempts, ctxEnded)
}

// endLive stops n's timeout watcher and cancels its own context.
func (s *run) endLive(n graph.NodeID) {
	l := &s.live[n]
	if l.stop != nil && l.stop() {
		s.release() // the watcher will never run
	}
	if l.cancel != nil {
		l.cancel()
	}
}

// finish records how the body of running node n ended, at w.now. The
// deadline decides: a value or an error past it is a timeout.
func (w *worker) finish(n graph.NodeID, v any, err error, attempts int32, ctxEnded bool) {
	vd, leave := w.s.bodyVerdict(n, v, err, w.now, ctxEnded)
	if leave {
		return // the run's context ended: abort, on Run's goroutine, settles every node alike
	}
	w.source = vd.source
	w.settle(n, running, vd.v, vd.cause, vd.oc, attempts)
	w.source = ""
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
		vd := withFallback(verdict{cause: cause, oc: oc}, fv, err)
		v, cause, oc = vd.v, vd.cause, vd.oc
	}
	if !ns.st.CompareAndSwap(from, busy) {
		return false
	}
	if from == waiting { // never started: no time of its own
		ns.startAt = w.now
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
	if ns.isTarget && s.targetsLeft.Add(-1) == 0 {
		s.endRun(max(w.now, ns.endAt))
		return
	}
	if s.ended.Load() {
		return
	}
	hasValue := ns.outcome.HasValue()
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
		if !s.dynUsed.Load() {
			s.dynUsed.Store(true)
		}
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
		if st == running && s.e.info[d].kind.Blocking() {
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
