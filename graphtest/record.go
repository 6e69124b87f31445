package graphtest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/featgraph/featgraph/internal/graphdef"
	"github.com/featgraph/featgraph/internal/graphx"
	"reflect"

	"github.com/featgraph/featgraph/executor"
	"github.com/featgraph/featgraph/graph"
)

// ErrRecordMismatch is matched (errors.Is) by every error that says a run
// record does not fit the graph it is replayed on.
var ErrRecordMismatch = errors.New("graphtest: run record does not fit the graph")

// ErrNotRecorded is the error of a replayed node that has no value in the
// record (it was skipped, canceled or failed there).
var ErrNotRecorded = errors.New("graphtest: no value in the run record")

// Replay stubs every fetch and each node of the graph with what the run
// record holds — one made by executor.Result.RecordValues, read back by
// executor.ReadRecord — and makes the recorded inputs available through
// [Harness.Inputs]:
//   - a node that had a value (ok) returns it, decoded into its Go type;
//   - a node that failed (error, or fallback) fails again with an error of
//     the recorded cause's text, so that its fallback applies again;
//   - a node that timed out (then maybe fell back) hangs when it has a
//     timeout of its own, and otherwise fails with an error matching
//     context.DeadlineExceeded;
//   - a node skipped or canceled in the record fails with ErrNotRecorded
//     if the replay needs it.
//
// A record that does not fit the graph — an input or fetch the graph lacks,
// a fetch the record lacks, another kind or type — fails the harness with
// every mismatch listed, each matching ErrRecordMismatch.
//
// Stubs, [Allow] and [Forbid] given to the same harness take precedence over
// the record: replay a production run and change one answer to see what
// the decision would have been.
func Replay(rec *executor.Record) Option {
	return func(s *setup) error {
		if rec == nil {
			return errors.New("Replay: nil run record")
		}
		stubs, inputs, err := decodeRecord(rec, s.h.orig)
		if err != nil {
			return fmt.Errorf("Replay: %w", err)
		}
		s.h.inputs = inputs
		// The record fills in what the test's own stubs leave, whatever
		// the order of the options.
		s.late = append(s.late, func(s *setup) error {
			for _, rs := range stubs {
				if st := s.h.stubs[rs.id]; st.policy == unset {
					if err := st.set(rs.b); err != nil {
						return fmt.Errorf("Replay: %w", err)
					}
				}
			}
			return nil
		})
		return nil
	}
}

// Inputs returns the inputs of the run record given to [Replay], to pass to
// [Harness.Run]; nil without a replay.
func (h *Harness) Inputs() []executor.Binding { return h.inputs }

type replayStub struct {
	id graph.NodeID
	b  *behavior
}

// decodeRecord checks the run record against g and turns it into stubs and
// inputs. Only its inputs and fetch and each nodes matter: the graph's own
// code computes the rest again.
func decodeRecord(rec *executor.Record, g *graph.Graph) ([]replayStub, []executor.Binding, error) {
	var errs []error
	mismatch := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("%w: %s", ErrRecordMismatch, fmt.Sprintf(format, args...)))
	}
	seen := make([]bool, g.Len())
	check := func(rn executor.NodeRecord) (*graphdef.Node, bool) {
		id, err := g.Lookup(rn.Name)
		if err != nil {
			mismatch("the record has node %q (%s), the graph has none", rn.Name, rn.Kind)
			return nil, false
		}
		n := graphx.Node(g, id)
		if seen[id] {
			mismatch("node %q is recorded twice", rn.Name)
			return nil, false
		}
		seen[id] = true
		if n.Kind != rn.Kind {
			mismatch("node %q was recorded as a %s node, the graph has a %s node", rn.Name, rn.Kind, n.Kind)
			return nil, false
		}
		if got := typeName(n.Type); rn.Type != "" && got != rn.Type {
			mismatch("node %q was recorded with type %s, the graph's node has type %s", rn.Name, rn.Type, got)
			return nil, false
		}
		return n, true
	}
	var inputs []executor.Binding
	for _, rn := range rec.Nodes {
		if rn.Kind != graph.KindInput {
			continue
		}
		n, ok := check(rn)
		if !ok || !rn.Outcome.HasValue() {
			continue
		}
		v, err := decodeValue(n, rn.Recorded)
		if err != nil {
			mismatch("%v", err)
			continue
		}
		inputs = append(inputs, executor.BindNamed(n.Name, v))
	}
	var stubs []replayStub
	for _, rn := range rec.Nodes {
		if !rn.Kind.Blocking() {
			continue
		}
		n, ok := check(rn)
		if !ok {
			continue
		}
		id, _ := g.Lookup(rn.Name)
		b, err := replayBehavior(n, rn)
		if err != nil {
			mismatch("%v", err)
			continue
		}
		stubs = append(stubs, replayStub{id: id, b: b})
	}
	for i := range g.Len() {
		n := graphx.Node(g, graph.NodeID(i))
		if n.Kind.Blocking() && !seen[i] {
			mismatch("the graph has %s node %q, the record does not", n.Kind, n.Name)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, nil, err
	}
	return stubs, inputs, nil
}

// replayBehavior is the stub that reproduces recorded node rn of n.
func replayBehavior(n *graphdef.Node, rn executor.NodeRecord) (*behavior, error) {
	switch {
	case rn.Outcome == executor.OutcomeOK:
		v, err := decodeValue(n, rn.Recorded)
		if err != nil {
			return nil, err
		}
		return &behavior{desc: "replayed value " + short(v), value: v}, nil
	case rn.Outcome == executor.OutcomeTimeout || rn.TimedOut && rn.Outcome == executor.OutcomeFallback:
		if n.Timeout > 0 {
			return &behavior{desc: "replayed timeout (hang)", hang: true}, nil
		}
		return &behavior{desc: "replayed timeout", err: &replayedError{cause: rn.Cause, is: context.DeadlineExceeded}}, nil
	case rn.Outcome == executor.OutcomeError || rn.Outcome == executor.OutcomeFallback:
		return &behavior{desc: "replayed error", err: &replayedError{cause: rn.Cause}}, nil
	}
	return &behavior{desc: "not recorded (" + rn.Outcome.String() + ")", err: fmt.Errorf("node %q was %s in the run record: %w", n.Name, rn.Outcome, ErrNotRecorded)}, nil
}

// replayedError is a recorded failure: its text, and the sentinel it
// matched when that matters to the executor.
type replayedError struct {
	cause string
	is    error
}

func (e *replayedError) Error() string { return "replayed: " + e.cause }

// Is lets a replayed timeout match context.DeadlineExceeded.
func (e *replayedError) Is(target error) bool { return e.is != nil && target == e.is }

// decodeValue decodes raw into n's Go type.
func decodeValue(n *graphdef.Node, raw json.RawMessage) (any, error) {
	if n.Type == nil {
		return nil, fmt.Errorf("node %q has no Go type to decode its recorded value into", n.Name)
	}
	if len(raw) == 0 {
		return nil, fmt.Errorf("node %q has no recorded value (record it with Result.RecordValues)", n.Name)
	}
	p := reflect.New(n.Type)
	if err := json.Unmarshal(raw, p.Interface()); err != nil {
		return nil, fmt.Errorf("node %q: recorded value %s does not decode into %v: %w", n.Name, short(string(raw)), n.Type, err)
	}
	return p.Elem().Interface(), nil
}

func typeName(t reflect.Type) string {
	if t == nil {
		return ""
	}
	return t.String()
}
