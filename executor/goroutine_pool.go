package executor

import (
	"sync"
	"time"
)

const (
	// workerIdleTimeout is how long an idle helper goroutine waits for more
	// work before it exits: long enough to carry a busy service from one run
	// to the next, short enough that an idle process (or a test checking for
	// leaked goroutines) soon has none left.
	workerIdleTimeout = 50 * time.Millisecond
	// maxIdleWorkers bounds the goroutines kept idle per Executor. Past it,
	// a helper whose run has no more work simply exits.
	maxIdleWorkers = 64
)

// goroutinePool keeps an Executor's idle helper goroutines (see run.help)
// for the next runs that call for one. A reused goroutine costs a wake-up
// instead of a new goroutine, and its stack has already grown to what
// fetch bodies need. One timer per Executor, not one per goroutine,
// retires the idle ones.
type goroutinePool struct {
	mu     sync.Mutex
	idle   []*parked // most recently parked last
	reaper *time.Timer
	armed  bool
	tick   uint64 // counts the reaper's rounds
}

// parked is an idle goroutine: the run it is to help arrives on next; a nil
// run tells it to exit.
type parked struct {
	next  chan *run
	since uint64 // the reaper's round when it parked
}

// start runs s.help on an idle goroutine, or on a new one.
func (p *goroutinePool) start(s *run) {
	p.mu.Lock()
	if k := len(p.idle); k > 0 {
		w := p.idle[k-1]
		p.idle[k-1] = nil
		p.idle = p.idle[:k-1]
		p.mu.Unlock()
		w.next <- s // never blocks: next has room for one, and only the popper sends
		return
	}
	p.mu.Unlock()
	go p.loop(s)
}

// loop helps runs until it is told to exit, or there are enough idle
// goroutines without this one.
func (p *goroutinePool) loop(s *run) {
	growStack(0)
	var w *parked
	for s != nil {
		s.help()
		if w = p.park(w); w == nil {
			return
		}
		s = <-w.next
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
		w = &parked{next: make(chan *run, 1)}
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
		p.idle[stale].next <- nil
		stale++
	}
	p.idle = append(p.idle[:0], p.idle[stale:]...)
	p.armed = len(p.idle) > 0
	if p.armed {
		p.reaper.Reset(workerIdleTimeout)
	}
}
