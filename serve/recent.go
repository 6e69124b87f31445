package serve

import (
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/featgraph/featgraph/executor"
)

// recentRun is a run kept for the debug page.
type recentRun struct {
	RunID    string
	Version  string
	When     time.Time
	Duration time.Duration
	Status   int
	Record   *executor.Record
}

// recentRuns keeps a graph's runs worth a look: the slowest, and the
// latest with fallbacks and with failures. Only a run that qualifies pays
// for its Record.
type recentRuns struct {
	n         int
	floor     atomic.Int64 // duration a run must beat to be among the slowest
	mu        sync.Mutex
	slowest   []recentRun // slowest first
	fallbacks []recentRun // latest last
	failures  []recentRun // latest last
}

// recentFor returns the recent runs of the graph called name, kept across
// swaps.
func (s *Server) recentFor(name string) *recentRuns {
	s.recentMu.Lock()
	defer s.recentMu.Unlock()
	rr := s.recent[name]
	if rr == nil {
		rr = &recentRuns{n: s.cfg.recent}
		s.recent[name] = rr
	}
	return rr
}

// noteRun keeps the run if it is worth a look.
func (s *Server) noteRun(sv *served, res *executor.Result, ans *Answer, k runKinds) {
	rr := sv.recent
	if rr == nil || rr.n == 0 {
		return
	}
	d := res.Duration()
	slow := int64(d) > rr.floor.Load()
	if !slow && !k.fallback && !k.failed && ans.Status == http.StatusOK {
		return
	}
	run := recentRun{RunID: ans.RunID, Version: sv.version, When: res.Started(), Duration: d, Status: ans.Status, Record: res.Record()}
	rr.mu.Lock()
	defer rr.mu.Unlock()
	if slow {
		i, _ := slices.BinarySearchFunc(rr.slowest, d, func(r recentRun, d time.Duration) int {
			switch {
			case r.Duration > d:
				return -1
			case r.Duration < d:
				return 1
			}
			return 0
		})
		if i < rr.n {
			rr.slowest = slices.Insert(rr.slowest, i, run)
			if len(rr.slowest) > rr.n {
				rr.slowest = rr.slowest[:rr.n]
			}
			if len(rr.slowest) == rr.n {
				rr.floor.Store(int64(rr.slowest[rr.n-1].Duration))
			}
		}
	}
	if k.fallback {
		rr.fallbacks = keepLast(rr.fallbacks, run, rr.n)
	}
	if k.failed || ans.Status != http.StatusOK {
		rr.failures = keepLast(rr.failures, run, rr.n)
	}
}

func keepLast(runs []recentRun, r recentRun, n int) []recentRun {
	runs = append(runs, r)
	if len(runs) > n {
		runs = slices.Delete(runs, 0, len(runs)-n)
	}
	return runs
}

// snapshot copies the kept runs.
func (rr *recentRuns) snapshot() (slowest, fallbacks, failures []recentRun) {
	rr.mu.Lock()
	defer rr.mu.Unlock()
	return slices.Clone(rr.slowest), slices.Clone(rr.fallbacks), slices.Clone(rr.failures)
}
