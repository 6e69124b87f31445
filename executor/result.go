package executor

import (
	"errors"
	"fmt"
	"time"

	"github.com/featgraph/featgraph/graph"
)

// Result is a finished run: every node's outcome, cause, timing and value.
// It is safe for concurrent reads, and nothing writes into it once Run has
// returned. Call Release when done with it to let the Executor reuse its
// memory. After Release, every method but Release panics with
// "featgraph: Result used after Release" — also through a copy of the
// Result made before — rather than read another run's values. Values read
// before Release (from Get, Value, Node, Record, ...) stay valid: keep those.
type Result struct {
	run *run
	gen uint64 // the run state's generation when Run returned it
}

// errUsedAfterRelease is the panic of a Result used after Release.
const errUsedAfterRelease = "featgraph: Result used after Release"

// state returns the run behind r, or panics when r was released.
func (r *Result) state() *run {
	if r == nil || r.run == nil || r.run.gen.Load() != r.gen {
		panic(errUsedAfterRelease)
	}
	return r.run
}

// NodeResult is how one node ended in a run.
type NodeResult struct {
	ID      graph.NodeID
	Name    string
	Kind    graph.Kind
	Outcome Outcome
	// Cause says why a node fell back, failed, timed out or was canceled.
	Cause error
	// Start and End are offsets from the run's start; both are zero for a
	// skipped node. Quick nodes without a deadline share clock readings
	// (see the package documentation, Times): theirs may be equal.
	Start, End time.Duration
	// Attempts counts the tries of a blocking node's body (1 without retries).
	Attempts int
	// Branch names the branch an If or Switch took, if it took one.
	Branch string
	// Source says where an ok node's value came from, when its body said
	// so by returning a [graph.Sourced]: package cache says "fresh",
	// "stale" or "fetched"; an Each node whose elements differ says
	// "mixed". Empty otherwise.
	Source string
}

// Duration is End - Start.
func (n NodeResult) Duration() time.Duration { return n.End - n.Start }

// Graph returns the graph that ran.
func (r *Result) Graph() *graph.Graph { return r.state().g }

// Started returns the wall-clock time the run started.
func (r *Result) Started() time.Time { return r.state().start }

// Duration returns the run's wall time: from its start until its last
// target ended, or its deadline passed.
func (r *Result) Duration() time.Duration { return r.state().end }

// Node returns how node t ended. t must be a node of the graph that ran (a
// Ref declared on the builder the graph was built by, or a name of one of
// its nodes): Node panics, naming t, for the zero Ref, a Ref of another
// graph or an unknown name, rather than answer for another node. Use
// [Result.Lookup] to ask about a name that may not be there.
func (r *Result) Node(t graph.Target) NodeResult {
	id, err := r.state().g.Resolve(t)
	if err != nil {
		panic("executor: Result.Node: " + err.Error())
	}
	return r.nodeAt(id)
}

// nodeAt returns how node id ended.
func (r *Result) nodeAt(id graph.NodeID) NodeResult {
	s := r.state()
	nr := NodeResult{
		ID: id, Name: s.g.Name(id), Kind: s.e.node(id).Kind,
		Outcome: s.ns[id].outcome, Cause: s.causes[id],
		Start: s.ns[id].startAt, End: s.ns[id].endAt, Attempts: int(s.ns[id].attempts),
		Source: s.live[id].source,
	}
	if nr.Kind == graph.KindIf || nr.Kind == graph.KindSwitch {
		if s.chosenValid(id) {
			nr.Branch = s.e.node(id).Lazy[s.ns[id].chosen.Load()-1]
		}
	}
	return nr
}

// Lookup returns how the node called name ended. Like every Lookup of this
// module it returns an error matching graph.ErrUnknownNode when the graph
// has no such node.
func (r *Result) Lookup(name string) (NodeResult, error) {
	id, err := r.state().g.Lookup(name)
	if err != nil {
		return NodeResult{}, err
	}
	return r.nodeAt(id), nil
}

// Nodes returns how every node of the graph ended, indexed by NodeID.
func (r *Result) Nodes() []NodeResult {
	out := make([]NodeResult, r.state().g.Len())
	for i := range out {
		out[i] = r.nodeAt(graph.NodeID(i))
	}
	return out
}

// Value returns the value of node t, or an error saying why it has none.
func (r *Result) Value(t graph.Target) (any, error) {
	s := r.state()
	id, err := s.g.Resolve(t)
	if err != nil {
		if t == nil {
			return nil, invalidRun("nil target")
		}
		return nil, unresolved("node "+targetName(t), err)
	}
	switch o := s.ns[id].outcome; {
	case o.HasValue():
		return s.ns[id].val, nil
	case o == OutcomeSkipped:
		return nil, fmt.Errorf("executor: node %q was skipped", s.g.Name(id))
	default:
		return nil, s.causes[id]
	}
}

// Get returns the value of ref in r with its type, or an error saying why
// the node has no value.
func Get[T any](r *Result, ref graph.Ref[T]) (T, error) {
	var zero T
	v, err := r.Value(ref)
	if err != nil {
		return zero, err
	}
	if v == nil {
		return zero, nil
	}
	t, ok := v.(T)
	if !ok {
		return zero, invalidRun("node %q holds a %T, not a %T", ref.Name(), v, zero)
	}
	return t, nil
}

// Err joins the root causes of the run's failures: the errors and timeouts
// of nodes that failed by themselves, not because a dependency did. Nodes
// that fell back are not failures. It is nil when nothing failed.
func (r *Result) Err() error {
	s := r.state()
	var errs []error
	for id := range s.ns {
		if o := s.ns[id].outcome; o != OutcomeError && o != OutcomeTimeout {
			continue
		}
		var de *DependencyError
		if !errors.As(s.causes[id], &de) {
			errs = append(errs, s.causes[id])
		}
	}
	return errors.Join(errs...)
}

// Release gives the run's memory back to the Executor. It is safe on a nil
// Result (so that defer res.Release() may come before the error check) and
// when called again. Nodes still running past the deadline keep the memory
// until they return. What was read from the Result before — values from Get
// and Value, NodeResults and their causes, a Record, the critical path —
// may be kept after Release; the Result itself, and any copy of it, may not.
func (r *Result) Release() {
	if r == nil || r.run == nil {
		return
	}
	s := r.state() // a copy of a released Result panics here
	r.run = nil
	s.release()
}
