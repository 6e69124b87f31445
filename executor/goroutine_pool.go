package executor

import (
	"sync"
	"time"

	"github.com/featgraph/featgraph/graph"
)

const (
	// workerIdleTimeout is how long an idle node goroutine waits for more
	// work before it exits: long enough to carry a busy service from one run
	// to the next, short enough that an idle process (or a test checking for
	// leaked goroutines) soon has none left.
	workerIdleTimeout = 50 * time.Millisecond
	// maxIdleWorkers bounds the goroutines kept idle per Executor. Past it,
	// a goroutine whose node is done simply exits.
	maxIdleWorkers = 64
)

// goroutinePool keeps a few of an Executor's idle node goroutines for the next
// blocking nodes to start on. A reused goroutine costs a wake-up instead of
// a new goroutine, and its stack has already grown to what fetch bodies need.
// One timer per Executor, not one per goroutine, retires the idle ones.
//
// It serves only the nodes whose bodies were seen to grow their stack (see
// preGrow): for those a warm goroutine saves a new one and a stack copy,
// which is worth the pool's lock and hand-off; small bodies get a plain go.
type goroutinePool struct {
	mu     sync.Mutex
	idle   []*parked // most recently parked last
	reaper *time.Timer
	armed  bool
	tick   uint64 // counts the reaper's rounds
}

// parked is an idle goroutine: the task handed to it arrives on next; a task
// without a run tells it to exit.
type parked struct {
	next  chan task
	since uint64 // the reaper's round when it parked
}

type task struct {
	s     *run
	n     graph.NodeID
	claim bool // n is ready, not yet claimed
}

// start runs blocking node n of s on an idle goroutine, or on a new one.
func (p *goroutinePool) start(s *run, n graph.NodeID) { p.startTask(task{s: s, n: n}) }

// startTask runs t on an idle goroutine, or on a new one.
func (p *goroutinePool) startTask(t task) {
	s, n := t.s, t.n
	p.mu.Lock()
	if k := len(p.idle); k > 0 {
		w := p.idle[k-1]
		p.idle[k-1] = nil
		p.idle = p.idle[:k-1]
		p.mu.Unlock()
		w.next <- t // never blocks: next has room for one, and only the popper sends
		return
	}
	p.mu.Unlock()
	go p.loop(task{s: s, n: n, claim: t.claim})
}

// startClaims starts the ready (unclaimed) nodes of list, each on an idle
// goroutine or a new one, taking the idle ones under one lock: a run's
// roots start together, and the lock is shared by every concurrent run.
func (p *goroutinePool) startClaims(s *run, list []graph.NodeID) {
	var buf [16]*parked
	p.mu.Lock()
	k := min(len(p.idle), len(list), len(buf))
	got := buf[:k]
	copy(got, p.idle[len(p.idle)-k:])
	clear(p.idle[len(p.idle)-k:])
	p.idle = p.idle[:len(p.idle)-k]
	p.mu.Unlock()
	for i, n := range list {
		t := task{s: s, n: n, claim: true}
		if i < k {
			got[i].next <- t // never blocks, as in startTask
			continue
		}
		go p.loop(t)
	}
}

// loop runs tasks until it is told to exit, or there are enough idle
// goroutines without this one.
func (p *goroutinePool) loop(t task) {
	growStack(int(t.n))
	var w *parked
	for t.s != nil {
		if t.claim {
			t.s.startOne(t.n)
		} else {
			t.s.runClaimedWarm(t.n)
		}
		if w = p.park(w); w == nil {
			return
		}
		t = <-w.next
	}
}

// park adds the calling goroutine to the idle ones, making its record on
// first use; nil means there are enough idle goroutines already.
func (p *goroutinePool) park(w *parked) *parked {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.idle) >= maxIdleWorkers {
		return nil
	}
	if w == nil {
		w = &parked{next: make(chan task, 1)}
	}
	w.since = p.tick
	p.idle = append(p.idle, w)
	if !p.armed {
		p.armed = true
		if p.reaper == nil {
			p.reaper = time.AfterFunc(workerIdleTimeout, p.reap)
		} else {
			p.reaper.Reset(workerIdleTimeout)
		}
	}
	return w
}

// reap tells the goroutines parked since before the previous round (idle
// for at least workerIdleTimeout) to exit; the oldest are first in the list.
func (p *goroutinePool) reap() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.tick++
	stale := 0
	for stale < len(p.idle) && p.idle[stale].since+1 < p.tick {
		p.idle[stale].next <- task{}
		stale++
	}
	p.idle = append(p.idle[:0], p.idle[stale:]...)
	p.armed = len(p.idle) > 0
	if p.armed {
		p.reaper.Reset(workerIdleTimeout)
	}
}
