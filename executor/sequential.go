package executor

import (
	"context"
	"time"

	"github.com/featgraph/featgraph/graph"
)

// WithSequential makes the Executor run every graph one node at a time, in
// a fixed order — dependencies first, and of the nodes ready together the
// one declared first — with the outcomes, causes, values and [Result] the
// concurrent engine gives wherever those do not depend on timing.
//
// Use it to debug. When a failure goes away with it, it comes from
// concurrency (a data race between bodies, an order assumed between two
// fetches, a shared client that is not safe for concurrent use); when it
// stays, it does not, and it repeats run after run, in the same order. A
// run takes the sum of its nodes' times rather than its longest chain's, so
// it is not for production.
//
// What differs from the concurrent engine is what timing decides there:
//
//   - The engine's bookkeeping runs on the goroutine that called Run. Each
//     call of user code (a body with its retries, a fallback, a chooser)
//     runs on a goroutine of its own that Run waits for, and no other
//     starts meanwhile: so a panic, runtime.Goexit or a body that ignores
//     its context ends its node as in the concurrent engine, and deadlines
//     hold. A body still running at its deadline is abandoned, its context
//     canceled, and the run goes on; such a body is the only one that may
//     still run when the next starts, or after Run returns.
//   - A body that blocks holds up every node after it until it returns or
//     its deadline passes, where the concurrent engine goes on with the
//     others; with no deadline at all (no Timeout, no run deadline) it holds
//     up the run for good. That includes the operands of an And or Or:
//     they are demanded together, then run one by one in the engine's
//     order, and the first that decides it cancels those not started yet.
//   - A node whose dependency failed fails before its other dependencies
//     start: those nothing else needs are canceled.
//   - An Each node fetches its elements one at a time, in order, as with
//     Limit(1): the first that fails ends the node, and the rest do not
//     start. Fetches that package batch would send together are sent one
//     by one.
func WithSequential() Option {
	return func(e *Executor) error {
		e.sequential = true
		return nil
	}
}

// seqRun is one run of the sequential engine. It fills the run state as the
// concurrent engine does, so that [Result] reads it the same way, but from
// the caller's goroutine alone: the goroutines of user code only return
// values to it.
type seqRun struct {
	s       *run
	now     time.Duration  // the last clock reading
	ended   bool           // the run's end swept every node: nothing more happens
	ready   []graph.NodeID // nodes to start: a min-heap, the first declared on top
	settled []graph.NodeID // nodes ended and not announced yet, in the order they ended
	demands []graph.NodeID // scratch of demand
	drops   []graph.NodeID // scratch of dropUnneeded
}

// seqReply is what a call of user code returns to the engine.
type seqReply struct {
	v        any
	err      error
	branch   int
	attempts int32
	goexit   bool // the code called runtime.Goexit instead of returning
}

// How a wait for user code ended.
type seqWait uint8

const (
	replied  seqWait = iota // the code returned
	expired                 // the node's deadline passed first
	runEnded                // the run's context ended first
)

// executeSequential runs the plan as execute does, one node at a time on
// the calling goroutine.
func (s *run) executeSequential(parent context.Context, p *plan) {
	s.begin(parent, p)
	q := &seqRun{s: s}
	for i, id := range p.needed {
		s.ns[id].pending.Store(p.pending[i])
		s.ns[id].st.Store(waiting)
		if p.pending[i] == 0 {
			q.push(id)
		}
	}
	switch {
	case s.ctx.Err() != nil: // canceled or expired already: start nothing
		q.abort()
	case s.doomed(p):
	default:
		q.loop()
	}
	s.cancel()
}

// loop announces the nodes that ended, then starts the first ready one,
// until the run ends.
func (q *seqRun) loop() {
	s := q.s
	for !q.ended {
		switch {
		case s.ctx.Err() != nil:
			q.abort()
		case len(q.settled) > 0:
			n := q.settled[0]
			q.settled = q.settled[1:]
			q.notify(n)
		case len(q.ready) > 0:
			q.step(q.pop())
		default: // nothing can start: the run's deadline or cancellation ends it
			q.awaitEnd()
		}
	}
}

func (q *seqRun) tick() { q.now = time.Since(q.s.start) }

// push adds n to the ready nodes.
func (q *seqRun) push(n graph.NodeID) {
	h := append(q.ready, n)
	for i := len(h) - 1; i > 0; {
		parent := (i - 1) / 2
		if h[parent] <= h[i] {
			break
		}
		h[parent], h[i] = h[i], h[parent]
		i = parent
	}
	q.ready = h
}

// pop removes and returns the ready node declared first.
func (q *seqRun) pop() graph.NodeID {
	h := q.ready
	top, last := h[0], len(h)-1
	h[0] = h[last]
	h = h[:last]
	for i := 0; ; {
		least := i
		for _, c := range [2]int{2*i + 1, 2*i + 2} {
			if c < len(h) && h[c] < h[least] {
				least = c
			}
		}
		if least == i {
			break
		}
		h[i], h[least] = h[least], h[i]
		i = least
	}
	q.ready = h
	return top
}

// step starts ready node n, unless it ended meanwhile (a dependency failed,
// or nothing needs it any more), and runs it to its end.
func (q *seqRun) step(n graph.NodeID) {
	s := q.s
	ns := &s.ns[n]
	if ns.st.Load() != waiting {
		return
	}
	info := &s.e.info[n]
	q.tick()
	ns.startAt = q.now
	switch info.kind {
	case graph.KindInput: // bound, or unbound with a fallback
		if ns.bound {
			q.commit(n, verdict{v: ns.val, oc: OutcomeOK}, 0)
			return
		}
		ns.st.Store(running)
		q.settle(n, running, verdict{cause: &UnboundInputError{Input: s.g.Name(n)}, oc: OutcomeError}, 0)
		return
	case graph.KindValue:
		q.commit(n, verdict{v: s.e.node(n).Value, oc: OutcomeOK}, 0)
		return
	}
	args, _ := s.fillArgs(n) // every dependency has a value: a failed one failed n already
	if info.kind.Conditional() {
		ns.st.Store(running)
		q.startConditional(n, args)
		return
	}
	if runOver, late := s.startDeadline(n, q.now); runOver {
		q.awaitEnd() // the run's deadline: its end cancels n
		return
	} else if late != nil { // no time left: it does not start
		ns.st.Store(running)
		q.settle(n, running, verdict{cause: late, oc: OutcomeTimeout}, 0)
		return
	}
	ns.st.Store(running)
	if info.kind.Blocking() {
		q.runBlocking(n, args)
		return
	}
	r, how := q.call(nil, 0, func(r *seqReply) { r.v, r.err = s.callCompute(n, args) })
	q.finish(n, r, how, false)
}

// startConditional runs If, Switch, And or Or n: it demands the branch it
// chooses, or its operands, and ends when they decide it.
func (q *seqRun) startConditional(n graph.NodeID, args []any) {
	s := q.s
	lazy := s.g.Lazy(n)
	if kind := s.e.info[n].kind; kind == graph.KindAnd || kind == graph.KindOr {
		for _, op := range lazy {
			q.demand(op)
		}
		q.reconsider(n)
		return
	}
	r, how := q.call(nil, 0, func(r *seqReply) { r.branch, r.err = s.callChoose(n, args) })
	if how != replied {
		q.abort()
		return
	}
	if r.goexit {
		q.goexit(n, 0)
		return
	}
	if err := s.branchError(n, r.branch, r.err); err != nil {
		q.settle(n, running, verdict{cause: err, oc: OutcomeError}, 0)
		return
	}
	s.ns[n].chosen.Store(int32(r.branch) + 1)
	q.demand(lazy[r.branch])
	q.reconsider(n)
}

// runBlocking runs the body of fetch or Each node n, with its retries, on a
// goroutine of its own, and waits for it until its deadline.
func (q *seqRun) runBlocking(n graph.NodeID, args []any) {
	s := q.s
	info := &s.e.info[n]
	ns := &s.ns[n]
	ns.attempts = 1 // at least; the body's goroutine counts retries
	l := live{ctx: s.ctx}
	var expiry <-chan struct{}
	switch {
	case info.timeout > 0:
		l.ctx, l.cancel = context.WithDeadline(s.ctx, s.start.Add(ns.deadline))
		expiry = l.ctx.Done()
	case info.cancelable:
		l.ctx, l.cancel = context.WithCancel(s.ctx)
	}
	if s.traced {
		l.ctx, l.span = s.startNodeSpan(l.ctx, n, s.start.Add(ns.startAt))
	}
	s.setLive(n, l)
	ctx := l.ctx
	r, how := q.call(expiry, ns.deadline, func(r *seqReply) { s.tryBody(ctx, n, args, r) })
	if how == expired && s.ctx.Err() == nil {
		q.tick()
		s.endLive(n) // abandoned: its context is canceled, what it returns is discarded
		q.settle(n, running, verdict{cause: s.lateError(n, q.now), oc: OutcomeTimeout}, 0)
		return
	}
	ctxEnded := r.err != nil && ctx.Err() != nil
	s.endLive(n)
	q.finish(n, r, how, ctxEnded)
}

// tryBody calls the body of blocking node n until it succeeds, fails for
// good or runs out of tries, checking the context before every try. It
// runs on the body's own goroutine, and counts the tries in r as it goes.
func (s *run) tryBody(ctx context.Context, n graph.NodeID, args []any, r *seqReply) {
	node := s.e.node(n)
	for {
		if err := ctx.Err(); err != nil {
			r.err = err
			return
		}
		if s.ns[n].st.Load() != running {
			r.err = ErrNotNeeded // abandoned: whatever it does is discarded
			return
		}
		r.attempts++
		if node.Kind == graph.KindEach {
			r.v, r.err = callEach(ctx, node, args[0], args[1:], 1) // one element at a time
		} else {
			r.v, r.err = s.callBody(ctx, n, args)
		}
		if r.err == nil || !s.e.info[n].retries {
			return
		}
		again, perr := s.retryAgain(ctx, n, r.attempts, r.err)
		if perr != nil {
			r.err = perr
		}
		if !again {
			return
		}
	}
}

// finish records how the body of running node n ended, by how the wait for
// it ended and what it returned.
func (q *seqRun) finish(n graph.NodeID, r seqReply, how seqWait, ctxEnded bool) {
	if how != replied {
		q.abort()
		return
	}
	q.tick()
	if r.goexit {
		q.goexit(n, r.attempts)
		return
	}
	vd, leave := q.s.bodyVerdict(n, r.v, r.err, q.now, ctxEnded)
	if leave {
		q.awaitEnd()
		return
	}
	q.settle(n, running, vd, r.attempts)
}

// call runs f, user code, on a goroutine of its own and waits until it
// returns, the node's deadline passes (expiry is closed and the clock reads
// at least deadline; a nil expiry never is) or the run's context ends. The
// goroutine holds a reference to the run's state: when it is abandoned, the
// state is not reused until it returns, and its reply is dropped.
func (q *seqRun) call(expiry <-chan struct{}, deadline time.Duration, f func(*seqReply)) (seqReply, seqWait) {
	s := q.s
	if s.ctx.Err() != nil {
		return seqReply{}, runEnded // nothing starts once the run's context ended
	}
	reply := make(chan seqReply, 1)
	s.refs.Add(1)
	go func() {
		var r seqReply
		returned := false
		defer func() {
			r.goexit = !returned
			reply <- r
			s.release()
		}()
		f(&r)
		returned = true
	}()
	for {
		select {
		case r := <-reply:
			return r, replied
		case <-s.ctx.Done():
			select {
			case r := <-reply: // it returned as the run ended: its return counts
				return r, replied
			default:
				return seqReply{}, runEnded
			}
		case <-expiry:
			if time.Since(s.start) >= deadline {
				return seqReply{}, expired
			}
			expiry = nil // not the deadline (it cannot end otherwise): wait on
		}
	}
}

// settle records how n ended if it is still in status from, turning a
// failure into its fallback when it has one, and reports whether it did.
func (q *seqRun) settle(n graph.NodeID, from uint32, vd verdict, attempts int32) bool {
	s := q.s
	if q.ended {
		return false
	}
	if s.hasDL && q.now >= s.runDL {
		// Past the run's deadline the run is over: its end times out what
		// runs and cancels what waits, with no fallback.
		q.awaitEnd()
		return false
	}
	if (vd.oc == OutcomeError || vd.oc == OutcomeTimeout) && s.e.info[n].fallback {
		r, how := q.call(nil, 0, func(r *seqReply) { r.v, r.err = s.callFallback(n, vd.cause) })
		switch {
		case how != replied:
			q.abort()
			return false
		case r.goexit:
			q.goexit(n, attempts)
			return false
		}
		vd = withFallback(vd, r.v, r.err)
	}
	ns := &s.ns[n]
	if ns.st.Load() != from {
		return false
	}
	if from == waiting { // never started: no time of its own
		ns.startAt = q.now
	}
	q.commit(n, vd, attempts)
	return true
}

// goexit ends n, whose code called runtime.Goexit, as an error (with no
// fallback: the concurrent engine's goroutine is gone by then).
func (q *seqRun) goexit(n graph.NodeID, attempts int32) {
	ns := &q.s.ns[n]
	q.tick()
	switch ns.st.Load() {
	case waiting:
		ns.startAt = q.now
	case running:
	default:
		return
	}
	q.commit(n, verdict{cause: &NodeError{Node: q.s.g.Name(n), Err: ErrGoexit}, oc: OutcomeError}, attempts)
}

// commit records the outcome of n and queues it to be announced.
func (q *seqRun) commit(n graph.NodeID, vd verdict, attempts int32) {
	q.s.record(n, vd, attempts, q.now)
	q.settled = append(q.settled, n)
}

// notify announces that n ended: a user waiting for it counts it down (and
// is ready at zero), or fails at once when n has no value; a conditional
// waiting on it looks again; the run ends with its last target.
func (q *seqRun) notify(n graph.NodeID) {
	s, ns := q.s, &q.s.ns[n]
	if ns.isTarget && s.targetsLeft.Add(-1) == 0 { // the last target
		q.endRun(max(q.now, ns.endAt))
		return
	}
	for _, ue := range s.e.usersOf(n) {
		u := ue.user
		switch {
		case q.ended || s.ns[u].st.Load() != waiting:
		case !ns.outcome.HasValue():
			if q.settle(u, waiting, verdict{cause: s.dependencyError(u, n), oc: OutcomeError}, 0) {
				q.dropUnneeded(s.e.depsOf(u)...)
			}
		case s.ns[u].dyn && !s.edges[ue.edge].CompareAndSwap(0, 1): // demand counted this edge
		case s.ns[u].pending.Add(-1) == 0:
			q.push(u)
		}
	}
	if s.e.info[n].lazyUsers {
		for _, p := range s.g.LazyUsers(n) {
			if !q.ended && s.ns[p].st.Load() == running {
				q.reconsider(p)
			}
		}
	}
}

// reconsider ends running conditional p if what it waits for has ended
// (its branch, or enough operands), and cancels the operands no longer
// needed.
func (q *seqRun) reconsider(p graph.NodeID) {
	if vd, decided, short := q.s.conditionalVerdict(p); decided {
		q.tick()
		if q.settle(p, running, vd, 0) && short {
			q.dropUnneeded(q.s.g.Lazy(p)...)
		}
	}
}

// demand marks root and the static dependencies it needs, not demanded
// yet, as waiting: a branch chosen, an operand of an And or Or. Those whose
// dependencies all have values are ready; those with a failed dependency
// fail now. An edge is counted once, by demand or by notify, whichever
// flips its flag.
func (q *seqRun) demand(root graph.NodeID) {
	s := q.s
	var failed []graph.NodeID // pairs: the failed dependency, then the node
	q.demands = append(q.demands[:0], root)
	for len(q.demands) > 0 {
		id := q.demands[len(q.demands)-1]
		q.demands = q.demands[:len(q.demands)-1]
		ns := &s.ns[id]
		if q.ended || ns.st.Load() != idle {
			continue
		}
		s.dynUsed.Store(true)
		info := &s.e.info[id]
		ns.dyn = true
		if info.kind.Conditional() {
			s.openConds.Add(1)
		}
		ns.st.Store(waiting)
		pending, bad := info.depEnd-info.depStart, graph.NodeID(-1)
		for k, d := range s.e.depsOf(id) {
			ds := &s.ns[d]
			switch st := ds.st.Load(); {
			case st == idle:
				q.demands = append(q.demands, d)
			case st != done:
			case !ds.outcome.HasValue():
				if bad < 0 {
					bad = d
				}
			case s.edges[info.depStart+int32(k)].CompareAndSwap(0, 1):
				pending--
			}
		}
		ns.pending.Store(pending)
		switch {
		case bad >= 0:
			failed = append(failed, bad, id)
		case pending == 0:
			q.push(id)
		}
	}
	for i := 0; i+1 < len(failed); i += 2 {
		q.settle(failed[i+1], waiting, verdict{cause: s.dependencyError(failed[i+1], failed[i]), oc: OutcomeError}, 0)
	}
}

// dropUnneeded cancels each of roots that is waiting or running and that
// nothing needs any more, and then what only they needed.
func (q *seqRun) dropUnneeded(roots ...graph.NodeID) {
	s := q.s
	q.drops = append(q.drops[:0], roots...)
	for len(q.drops) > 0 && !q.ended {
		d := q.drops[len(q.drops)-1]
		q.drops = q.drops[:len(q.drops)-1]
		st, ok := s.droppable(d)
		if !ok {
			continue
		}
		if st == waiting {
			s.ns[d].startAt = q.now
		}
		q.commit(d, verdict{cause: ErrNotNeeded, oc: OutcomeCanceled}, 0)
		q.drops = append(q.drops, s.e.depsOf(d)...)
		q.drops = append(q.drops, s.g.Lazy(d)...)
	}
}

// endRun ends a run whose targets have all ended: what is still waiting is
// no longer needed.
func (q *seqRun) endRun(now time.Duration) {
	q.ended = true
	q.s.ended.Store(true)
	q.s.end = now
	q.s.sweep(now, nil)
}

// abort ends a run whose context ended: the node running times out (or is
// canceled, when the caller canceled), the nodes waiting are canceled.
func (q *seqRun) abort() {
	if q.ended {
		return
	}
	now := time.Since(q.s.start)
	q.ended = true
	q.s.ended.Store(true)
	q.s.end = now
	q.s.sweep(now, context.Cause(q.s.ctx))
}

// awaitEnd waits for the run's context to end, at once or in a moment: the
// clock read the run's deadline, which the context's timer follows.
func (q *seqRun) awaitEnd() {
	<-q.s.ctx.Done()
	q.abort()
}
