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

// enqueue adds claimed blocking node n to the run's queue.
func (s *run) enqueue(n graph.NodeID) {
	s.qmu.Lock()
	s.queue = append(s.queue, n)
	s.qmu.Unlock()
	s.callHelper()
}

// enqueueRoots adds the unclaimed ready nodes of lists to the run's queue.
func (s *run) enqueueRoots(lists ...[]graph.NodeID) {
	s.qmu.Lock()
	for _, list := range lists {
		for _, n := range list {
			s.queue = append(s.queue, ^n) // negative: not yet claimed
		}
	}
	queued := len(s.queue) > s.qhead
	s.qmu.Unlock()
	if queued {
		s.callHelper()
	}
}

// dequeue takes the oldest queued node: n is claimed when n >= 0; else ^n is
// ready and unclaimed. It calls a helper for the nodes it leaves behind.
func (s *run) dequeue() (n graph.NodeID, ok bool) {
	s.qmu.Lock()
	if s.qhead == len(s.queue) {
		s.qmu.Unlock()
		return 0, false
	}
	n = s.queue[s.qhead]
	s.qhead++
	more := s.qhead < len(s.queue)
	if !more {
		s.queue, s.qhead = s.queue[:0], 0
	}
	s.qmu.Unlock()
	if more {
		s.callHelper()
	}
	return n, true
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
