package graphtest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/featgraph/featgraph/internal/graphdef"
	"github.com/featgraph/featgraph/internal/graphx"
	"os"
	"reflect"

	"github.com/featgraph/featgraph/executor"
	"github.com/featgraph/featgraph/graph"
)

// ErrRecordingMismatch is matched (errors.Is) by every error that says a
// recording does not fit the graph it is replayed on.
var ErrRecordingMismatch = errors.New("recording does not fit the graph")

// ErrNotRecorded is the error of a replayed node that has no value in the
// recording (it was skipped, canceled or failed there).
var ErrNotRecorded = errors.New("graphtest: no value in the recording")

// recordingVersion is the format version written by Record.
const recordingVersion = 1

// Recording is what a run fetched: the value of every input, fetch and
// each node, with its outcome. It is written as JSON ([Recording.WriteFile])
// and replayed as stubs ([Replay]).
type Recording struct {
	Version int            `json:"version"`
	Inputs  []RecordedNode `json:"inputs"`
	Nodes   []RecordedNode `json:"nodes"`
}

// RecordedNode is one node of a [Recording].
type RecordedNode struct {
	Name string     `json:"name"`
	Kind graph.Kind `json:"kind"`
	// Type is the Go type of the node's value (reflect.Type.String), checked
	// when the recording is replayed.
	Type    string           `json:"type"`
	Outcome executor.Outcome `json:"outcome"`
	// Value is the node's value, when its outcome has one.
	Value json.RawMessage `json:"value,omitempty"`
	// Cause is the text of the node's cause, when it has one.
	Cause string `json:"cause,omitempty"`
	// TimedOut is true when the cause was a timeout (of a node that then
	// fell back, say), so that the replay times out again.
	TimedOut bool `json:"timed_out,omitempty"`
}

// Record takes from res the value of every input, fetch and each node, so
// that the run can be replayed with no backends. A value that does not
// encode as JSON is an error naming its node.
func Record(res *executor.Result) (*Recording, error) {
	if res == nil {
		return nil, errors.New("graphtest.Record: nil result")
	}
	rec := &Recording{Version: recordingVersion}
	var errs []error
	for _, nr := range res.Nodes() {
		if nr.Kind != graph.KindInput && !nr.Kind.Blocking() {
			continue
		}
		rn := RecordedNode{Name: nr.Name, Kind: nr.Kind, Type: typeName(graphx.Node(res.Graph(), nr.ID).Type), Outcome: nr.Outcome}
		if nr.Cause != nil {
			rn.Cause = nr.Cause.Error()
			var te *executor.TimeoutError
			rn.TimedOut = errors.As(nr.Cause, &te) && te.Node == nr.Name
		}
		if nr.Outcome.HasValue() {
			v, _ := res.Value(graphx.At(res.Graph(), nr.ID))
			raw, err := json.Marshal(v)
			if err != nil {
				errs = append(errs, fmt.Errorf("graphtest.Record: node %q: %w", nr.Name, err))
				continue
			}
			rn.Value = raw
		}
		if nr.Kind == graph.KindInput {
			rec.Inputs = append(rec.Inputs, rn)
		} else {
			rec.Nodes = append(rec.Nodes, rn)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return rec, nil
}

// WriteFile writes the recording to path as indented JSON.
func (rec *Recording) WriteFile(path string) error {
	data, err := json.MarshalIndent(rec, "", "  ")
	if err != nil {
		return fmt.Errorf("graphtest: writing recording %s: %w", path, err)
	}
	if err := os.WriteFile(path, append(data, '\n'), 0o644); err != nil {
		return fmt.Errorf("graphtest: writing recording: %w", err)
	}
	return nil
}

// ReadRecording reads a recording written by [Recording.WriteFile].
func ReadRecording(path string) (*Recording, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("graphtest: reading recording: %w", err)
	}
	var rec Recording
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&rec); err != nil {
		return nil, fmt.Errorf("graphtest: reading recording %s: %w", path, err)
	}
	if rec.Version != recordingVersion {
		return nil, fmt.Errorf("graphtest: recording %s has version %d, want %d", path, rec.Version, recordingVersion)
	}
	return &rec, nil
}

// Replay stubs every fetch and each node of the graph with what the
// recording holds, and makes the recorded inputs available through
// [Harness.Inputs]:
//   - a node that had a value (ok) returns it, decoded into its Go type;
//   - a node that failed (error, or fallback) fails again with an error of
//     the recorded cause's text, so that its fallback applies again;
//   - a node that timed out (then maybe fell back) hangs when it has a
//     timeout of its own, and otherwise fails with an error matching
//     context.DeadlineExceeded;
//   - a node skipped or canceled in the recording fails with ErrNotRecorded
//     if the replay needs it.
//
// A recording that does not fit the graph — a node the graph lacks, a node
// the recording lacks, another kind or type — fails the harness with every
// mismatch listed, each matching ErrRecordingMismatch.
//
// Stubs, [Allow] and [Forbid] given to the same harness take precedence over
// the recording: replay a production run and change one answer to see what
// the decision would have been.
func Replay(rec *Recording) Option {
	return func(s *setup) error {
		if rec == nil {
			return errors.New("Replay: nil recording")
		}
		stubs, inputs, err := rec.decode(s.h.orig)
		if err != nil {
			return fmt.Errorf("Replay: %w", err)
		}
		s.h.inputs = inputs
		// The recording fills in what the test's own stubs leave, whatever
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

// Inputs returns the inputs of the recording given to [Replay], to pass to
// [Harness.Run]; nil without a replay.
func (h *Harness) Inputs() []executor.Binding { return h.inputs }

type replayStub struct {
	id graph.NodeID
	b  *behavior
}

// decode checks the recording against g and turns it into stubs and inputs.
func (rec *Recording) decode(g *graph.Graph) ([]replayStub, []executor.Binding, error) {
	var errs []error
	mismatch := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("%w: %s", ErrRecordingMismatch, fmt.Sprintf(format, args...)))
	}
	seen := make([]bool, g.Len())
	check := func(rn RecordedNode) (*graphdef.Node, bool) {
		id, err := g.Lookup(rn.Name)
		if err != nil {
			mismatch("the recording has node %q (%s), the graph has none", rn.Name, rn.Kind)
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
		if got := typeName(n.Type); got != rn.Type {
			mismatch("node %q was recorded with type %s, the graph's node has type %s", rn.Name, rn.Type, got)
			return nil, false
		}
		return n, true
	}
	var inputs []executor.Binding
	for _, rn := range rec.Inputs {
		n, ok := check(rn)
		if !ok || !rn.Outcome.HasValue() {
			continue
		}
		v, err := decodeValue(n, rn.Value)
		if err != nil {
			mismatch("%v", err)
			continue
		}
		inputs = append(inputs, executor.BindNamed(n.Name, v))
	}
	var stubs []replayStub
	for _, rn := range rec.Nodes {
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
			mismatch("the graph has %s node %q, the recording does not", n.Kind, n.Name)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, nil, err
	}
	return stubs, inputs, nil
}

// replayBehavior is the stub that reproduces recorded node rn of n.
func replayBehavior(n *graphdef.Node, rn RecordedNode) (*behavior, error) {
	switch {
	case rn.Outcome == executor.OutcomeOK:
		v, err := decodeValue(n, rn.Value)
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
	return &behavior{desc: "not recorded (" + rn.Outcome.String() + ")", err: fmt.Errorf("node %q was %s in the recording: %w", n.Name, rn.Outcome, ErrNotRecorded)}, nil
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
		return nil, fmt.Errorf("node %q has no recorded value", n.Name)
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
