package executor

import (
	"context"
	"fmt"
	"github.com/featgraph/featgraph/internal/graphx"
	"reflect"
	"time"

	"github.com/featgraph/featgraph/graph"
)

// The rules below decide how a node ends. Both engines — the concurrent one
// (worker.go) and the sequential one (sequential.go) — call them, so that
// the same returns end the same way whichever engine runs the graph; each
// engine only decides when to call them and who records the outcome.

// begin starts the run's clock and context, and marks the targets. It runs
// before anything of the run starts, single-threaded.
func (s *run) begin(parent context.Context, p *plan) {
	s.start = time.Now()
	if s.e.runTimeout > 0 {
		s.ctx, s.cancel = context.WithDeadline(parent, s.start.Add(s.e.runTimeout))
	} else {
		s.ctx, s.cancel = context.WithCancel(parent)
	}
	if dl, ok := s.ctx.Deadline(); ok {
		s.hasDL, s.runDL = true, dl.Sub(s.start)
	}
	s.refs.Store(1)
	for _, id := range p.unique {
		s.ns[id].isTarget = true
	}
	s.targetsLeft.Store(int32(len(p.unique)))
	s.openConds.Store(p.conds)
}

// verdict is how a node ends: its outcome, its value and where the value
// came from (see NodeResult.Source), or the cause it has none.
type verdict struct {
	v      any
	cause  error
	oc     Outcome
	source string
}

// startDeadline sets the deadline of node n, ready to start at now, and
// says what keeps it from starting (see noTimeLeft).
func (s *run) startDeadline(n graph.NodeID, now time.Duration) (runOver bool, late error) {
	ns := &s.ns[n]
	if ns.deadline, ns.hasDL = s.deadlineOf(n, now); ns.hasDL && now >= ns.deadline {
		return s.noTimeLeft(n, now)
	}
	return false, nil
}

// noTimeLeft says what becomes of node n, whose deadline passed before it
// could start at now: runOver is true when the run's deadline has passed
// (the run's end cancels it), else late is its cause (it ends as timed out,
// and may fall back).
func (s *run) noTimeLeft(n graph.NodeID, now time.Duration) (runOver bool, late error) {
	if s.hasDL && now >= s.runDL {
		return true, nil
	}
	return false, s.lateError(n, now)
}

// bodyVerdict is how running node n ends when its body returned v and err
// at now; ctxEnded says that err came with the node's context ended. The
// deadline decides first: a value or an error past it is a timeout. leave
// is true when the run's context ended: the run's end then settles the
// node, as every other, and nothing is to be recorded.
func (s *run) bodyVerdict(n graph.NodeID, v any, err error, now time.Duration, ctxEnded bool) (vd verdict, leave bool) {
	ns := &s.ns[n]
	switch {
	case err != nil && isPanic(err):
		return verdict{cause: err, oc: OutcomeError}, false
	case ns.hasDL && now >= ns.deadline:
		return verdict{cause: s.lateError(n, now), oc: OutcomeTimeout}, false
	case err != nil && ctxEnded:
		return verdict{cause: ErrNotNeeded, oc: OutcomeCanceled}, s.ctx.Err() != nil
	case err != nil:
		return verdict{cause: &NodeError{Node: s.g.Name(n), Err: err}, oc: OutcomeError}, false
	}
	v, source := graphx.Unsource(v)
	if t := s.e.info[n].typ; v != nil && t != nil && reflect.TypeOf(v) != t && !reflect.TypeOf(v).AssignableTo(t) {
		return verdict{cause: &NodeError{Node: s.g.Name(n), Err: fmt.Errorf("returned a %T, want %v", v, t)}, oc: OutcomeError}, false
	}
	return verdict{v: v, oc: OutcomeOK, source: source}, false
}

// withFallback is how a node that failed as vd ends when its fallback
// returned fv and ferr.
func withFallback(vd verdict, fv any, ferr error) verdict {
	if ferr == nil {
		return verdict{v: fv, cause: vd.cause, oc: OutcomeFallback}
	}
	return verdict{cause: fallbackFailed(vd.cause, ferr), oc: vd.oc}
}

// fallbackFailed is the cause of a node that failed with cause and whose
// fallback then failed with ferr.
func fallbackFailed(cause, ferr error) error {
	return fmt.Errorf("%w (and its fallback failed: %w)", cause, ferr)
}

// branchError is the cause of If or Switch n when its chooser returned
// branch and err, or nil when it chose a branch it has.
func (s *run) branchError(n graph.NodeID, branch int, err error) error {
	switch {
	case err != nil:
		return &BranchError{Node: s.g.Name(n), Err: err}
	case branch < 0 || branch >= len(s.g.Lazy(n)):
		return &BranchError{Node: s.g.Name(n), Err: fmt.Errorf("branch %d out of range", branch)}
	}
	return nil
}

// conditionalVerdict is how running conditional p ends given its lazy
// dependencies that have ended: an If or Switch as the branch it chose, an
// And at its first false operand and an Or at its first true one (short:
// the other operands are not needed any more), else when every operand
// ended. decided is false while it cannot tell yet.
func (s *run) conditionalVerdict(p graph.NodeID) (vd verdict, decided, short bool) {
	lazy := s.g.Lazy(p)
	if kind := s.e.info[p].kind; kind == graph.KindIf || kind == graph.KindSwitch {
		c := s.ns[p].chosen.Load() - 1
		if c < 0 {
			return vd, false, false // still choosing; it looks once it has chosen
		}
		b := lazy[c]
		bs := &s.ns[b]
		switch {
		case bs.st.Load() != done:
			return vd, false, false
		case bs.outcome.HasValue():
			return verdict{v: bs.val, oc: OutcomeOK}, true, false
		}
		return verdict{cause: s.dependencyError(p, b), oc: OutcomeError}, true, false
	}
	decisive := s.e.info[p].kind == graph.KindOr
	failed, pending := graph.NodeID(-1), false
	for _, op := range lazy {
		os := &s.ns[op]
		switch {
		case os.st.Load() != done:
			pending = true
		case !os.outcome.HasValue():
			if failed < 0 {
				failed = op
			}
		case asBool(os.val) == decisive:
			return verdict{v: decisive, oc: OutcomeOK}, true, true
		}
	}
	switch {
	case pending:
		return vd, false, false
	case failed >= 0:
		return verdict{cause: s.dependencyError(p, failed), oc: OutcomeError}, true, false
	}
	return verdict{v: !decisive, oc: OutcomeOK}, true, false
}

// droppable reports whether d, waiting or running, is needed by no target
// and no node that has not ended, so that it may be canceled; st is its
// status.
func (s *run) droppable(d graph.NodeID) (st uint32, ok bool) {
	ds := &s.ns[d]
	st = ds.st.Load()
	return st, (st == waiting || st == running) && !ds.isTarget && !s.stillNeeded(d)
}

// record writes how n ended at now and marks it done.
func (s *run) record(n graph.NodeID, vd verdict, attempts int32, now time.Duration) {
	ns := &s.ns[n]
	if vd.oc.HasValue() {
		ns.val = vd.v
	}
	if vd.oc == OutcomeOK && vd.source != "" {
		s.setSource(n, vd.source)
	}
	ns.outcome, ns.endAt = vd.oc, max(now, ns.startAt)
	if vd.cause != nil {
		s.setCause(n, vd.cause)
	}
	if attempts > 0 {
		ns.attempts = attempts
	}
	if s.e.info[n].kind.Conditional() {
		s.openConds.Add(-1)
	}
	ns.st.Store(done)
}
