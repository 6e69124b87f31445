package executor

import (
	"github.com/featgraph/featgraph/graph"
)

// A run's goroutines share its queue of nodes that are ready but that no
// goroutine has taken yet: claimed blocking nodes, which another goroutine
// started while it had a body of its own to run, and the run's roots. A
// goroutine whose own work is done takes the oldest.
//
// The queue replaces a goroutine per blocking node. When bodies return at
// once — a cache hit, a loaded service whose upstreams answer from memory —
// one goroutine runs most of a run's nodes in turn, with no hand-off. When
// a body blocks, the nodes queued behind it must not wait for it, so the
// queue keeps one promise: while it holds a node, a helper goroutine is on
// its way (started, not yet taking work). Whoever takes a node and leaves
// others behind calls a helper unless one is on its way already; a helper
// that starts no longer counts as on its way. So when a body blocks, the
// Go scheduler runs the waiting helper, which takes the next node, and
// calls another helper if more are queued: blocking bodies still each get
// a goroutine, one wake-up each, as before.

// The queue is a first-in, first-out array with no lock: a node is queued
// at most twice per run (as a root, unclaimed, then claimed by a goroutine
// that had a node of its own to run), so the run's slots never wrap. A
// slot holds n+1 for claimed node n, -(n+1) for unclaimed root n, and 0
// until its writer, which reserved it by moving the tail, has written it.

// enqueue adds claimed blocking node n to the run's queue.
func (s *run) enqueue(n graph.NodeID) {
	i := s.qtail.Add(1) - 1
	s.qslots[i].Store(int32(n) + 1)
	s.callHelper()
}

// enqueueRoots adds the unclaimed ready nodes of lists to the run's queue.
func (s *run) enqueueRoots(lists ...[]graph.NodeID) {
	k := 0
	for _, list := range lists {
		k += len(list)
	}
	if k == 0 {
		return
	}
	i := s.qtail.Add(int32(k)) - int32(k)
	for _, list := range lists {
		for _, n := range list {
			s.qslots[i].Store(-int32(n) - 1)
			i++
		}
	}
	s.callHelper()
}

// dequeue takes the oldest queued node: n is claimed when n >= 0; else ^n is
// ready and unclaimed. It calls a helper for the nodes it leaves behind. A
// slot reserved but not yet written counts as empty: its writer calls a
// helper once it has written it.
func (s *run) dequeue() (n graph.NodeID, ok bool) {
	for {
		h := s.qhead.Load()
		if h >= s.qtail.Load() {
			return 0, false
		}
		v := s.qslots[h].Load()
		if v == 0 {
			return 0, false
		}
		if !s.qhead.CompareAndSwap(h, h+1) {
			continue
		}
		if h+1 < s.qtail.Load() {
			s.callHelper()
		}
		if v > 0 {
			return graph.NodeID(v - 1), true
		}
		return ^graph.NodeID(-v - 1), true
	}
}

// callHelper starts a helper goroutine for the run unless one is on its way.
func (s *run) callHelper() {
	if s.helperCalled.Load() || !s.helperCalled.CompareAndSwap(false, true) {
		return
	}
	s.refs.Add(1)
	s.e.goroutines.start(s)
}

// help is a helper goroutine's work: the run's queued nodes, and what they
// make ready, until the queue is empty.
func (s *run) help() {
	s.helperCalled.Store(false) // before it takes anything: see the promise above
	w := worker{s: s, mayBlock: true, next: -1, cur: -1}
	w.tick()
	w.loop()
}

// takeQueued gives the worker, which has nothing else to do, the oldest
// queued node, and reports false when there is none.
func (w *worker) takeQueued() bool {
	n, ok := w.s.dequeue()
	if !ok {
		return false
	}
	if n < 0 {
		w.ready.push(^n)
		return true
	}
	// n's clock starts at its start, read by the goroutine that claimed
	// it, and as stale as that goroutine's (see worker.clock).
	w.now = w.s.ns[n].startAt
	w.nbatch = int32(w.s.ns[n].stale)
	for i := range w.nbatch {
		w.batch[i] = n
	}
	w.next = n
	return true
}
