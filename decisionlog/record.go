package decisionlog

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/featgraph/featgraph/executor"
	"github.com/featgraph/featgraph/graph"
	"github.com/featgraph/featgraph/internal/millis"
)

// SchemaVersion is the version of the record format written by this package.
// Version 2 writes durations as milliseconds (*_ms, floats), as every JSON
// output of featgraph does; version 1 wrote nanoseconds (*_ns).
const SchemaVersion = 2

// ErrSchema is matched (errors.Is) by the error of [Unmarshal] for a record
// that is not valid JSON, has another schema version or breaks the schema.
var ErrSchema = errors.New("decisionlog: not a decision record")

// Record is one decision: how one run of a graph went, as plain data.
type Record struct {
	// Version is the schema version, [SchemaVersion].
	Version int `json:"version"`
	// RunID identifies the run; it keys the record in Kafka and is what
	// readers de-duplicate on (a re-sent record may arrive twice).
	RunID string `json:"run_id"`
	// Time is when the run started.
	Time time.Time `json:"time"`
	// Duration is the run's wall time (JSON: duration_ms).
	Duration time.Duration `json:"-"`
	// Graph and GraphVersion name the graph that ran.
	Graph        string `json:"graph"`
	GraphVersion string `json:"graph_version,omitempty"`
	// Err is the text of the run's error (its root causes), empty when none.
	Err string `json:"error,omitempty"`
	// Inputs holds every input bound to the run, with its value even when
	// the run did not need it (its outcome is then skipped).
	Inputs []LoggedValue `json:"inputs"`
	// Fetches holds every fetch and each node, with its value when the run
	// needed it: what a replay stubs them with.
	Fetches []LoggedValue `json:"fetches"`
	// Targets holds the values of the targets the run was asked for.
	Targets []LoggedValue `json:"targets"`
	// Nodes holds how every node of the graph ended, in graph order.
	Nodes []Node `json:"nodes"`
	// Shadow is the candidate graph's run, for a shadowed run.
	Shadow *Shadow `json:"shadow,omitempty"`
}

// LoggedValue is one input, fetch or target of a decision with its value as
// the privacy marks let it be written (the value itself, its hash, or
// nothing); named apart from a node's value (executor.Result.Value) and a
// constant node (nodes.Value).
type LoggedValue struct {
	Name string     `json:"name"`
	Kind graph.Kind `json:"kind"`
	// Type is the node's Go type (reflect.Type.String).
	Type    string           `json:"type,omitempty"`
	Outcome executor.Outcome `json:"outcome"`
	// Value is the node's value as JSON, when it has one and is kept.
	Value json.RawMessage `json:"value,omitempty"`
	// Hash is "hmac-sha256:" and the hex HMAC of the value's JSON, for a
	// node marked [Hash].
	Hash string `json:"hash,omitempty"`
	// Omitted is true for a node marked [Omit].
	Omitted bool `json:"omitted,omitempty"`
	// Unencodable is the error of a value that does not encode as JSON.
	Unencodable string `json:"unencodable,omitempty"`
	// Cause is the text of the node's cause, when it has one (left out for
	// a node marked hash or omit).
	Cause string `json:"cause,omitempty"`
	// TimedOut is true when the cause was the node's own timeout.
	TimedOut bool `json:"timed_out,omitempty"`
}

// Redacted reports whether the value was hashed, omitted or could not be
// encoded: the record does not hold it.
func (v LoggedValue) Redacted() bool { return v.Hash != "" || v.Omitted || v.Unencodable != "" }

// Node is how one node of the graph ended.
type Node struct {
	Name    string           `json:"name"`
	Kind    graph.Kind       `json:"kind"`
	Outcome executor.Outcome `json:"outcome"`
	Cause   string           `json:"cause,omitempty"`
	// Start and End are offsets from the run's start; zero for a skipped
	// node (JSON: start_ms, end_ms).
	Start    time.Duration `json:"-"`
	End      time.Duration `json:"-"`
	Attempts int           `json:"attempts,omitempty"`
	Branch   string        `json:"branch,omitempty"`
}

// Shadow is a candidate graph's run beside the live one.
type Shadow struct {
	Graph        string `json:"graph"`
	GraphVersion string `json:"graph_version,omitempty"`
	// Duration is the candidate run's wall time (JSON: duration_ms).
	Duration time.Duration `json:"-"`
	// Err is the candidate run's error: its root causes, a panic, or its
	// budget running out.
	Err     string        `json:"error,omitempty"`
	Targets []LoggedValue `json:"targets"`
	Nodes   []Node        `json:"nodes,omitempty"`
	// Diff compares every target the live run and the candidate share.
	Diff []Diff `json:"diff"`
}

// Diff compares one target of the live run and the candidate.
type Diff struct {
	Target string `json:"target"`
	// Agree is true when both have a value and the values are equal as JSON,
	// or when neither has a value.
	Agree            bool             `json:"agree"`
	LiveOutcome      executor.Outcome `json:"live_outcome"`
	CandidateOutcome executor.Outcome `json:"candidate_outcome"`
	// Live and Candidate are the two values, as the privacy marks let them
	// be written (a hashed value shows its hash).
	Live      json.RawMessage `json:"live,omitempty"`
	Candidate json.RawMessage `json:"candidate,omitempty"`
}

type plainRecord Record

type recordJSON struct {
	*plainRecord
	Duration millis.Duration `json:"duration_ms"`
}

// MarshalJSON writes the record with its duration in milliseconds.
func (rec Record) MarshalJSON() ([]byte, error) {
	return json.Marshal(recordJSON{(*plainRecord)(&rec), millis.Duration(rec.Duration)})
}

// UnmarshalJSON reads what MarshalJSON writes.
func (rec *Record) UnmarshalJSON(b []byte) error {
	v := recordJSON{plainRecord: (*plainRecord)(rec)}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	rec.Duration = time.Duration(v.Duration)
	return nil
}

type plainNode Node

type nodeJSON struct {
	*plainNode
	Start millis.Duration `json:"start_ms"`
	End   millis.Duration `json:"end_ms"`
}

// MarshalJSON writes the node with its times in milliseconds.
func (n Node) MarshalJSON() ([]byte, error) {
	return json.Marshal(nodeJSON{(*plainNode)(&n), millis.Duration(n.Start), millis.Duration(n.End)})
}

// UnmarshalJSON reads what MarshalJSON writes.
func (n *Node) UnmarshalJSON(b []byte) error {
	v := nodeJSON{plainNode: (*plainNode)(n)}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	n.Start, n.End = time.Duration(v.Start), time.Duration(v.End)
	return nil
}

type plainShadow Shadow

type shadowJSON struct {
	*plainShadow
	Duration millis.Duration `json:"duration_ms"`
}

// MarshalJSON writes the shadow run with its duration in milliseconds.
func (sh Shadow) MarshalJSON() ([]byte, error) {
	return json.Marshal(shadowJSON{(*plainShadow)(&sh), millis.Duration(sh.Duration)})
}

// UnmarshalJSON reads what MarshalJSON writes.
func (sh *Shadow) UnmarshalJSON(b []byte) error {
	v := shadowJSON{plainShadow: (*plainShadow)(sh)}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	sh.Duration = time.Duration(v.Duration)
	return nil
}

// Marshal encodes rec as one line of JSON (no newline).
func Marshal(rec *Record) ([]byte, error) {
	if rec == nil {
		return nil, errors.New("decisionlog: Marshal of a nil record")
	}
	b, err := json.Marshal(rec)
	if err != nil {
		return nil, fmt.Errorf("decisionlog: encoding record %q: %w", rec.RunID, err)
	}
	return b, nil
}

// Unmarshal decodes a record written by [Marshal]. It refuses (matching
// [ErrSchema]) what is not one JSON object, a record of another schema
// version, and one with no run id.
func Unmarshal(data []byte) (*Record, error) {
	var rec Record
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&rec); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrSchema, err)
	}
	if dec.More() {
		return nil, fmt.Errorf("%w: more than one JSON value", ErrSchema)
	}
	if rec.Version != SchemaVersion {
		return nil, fmt.Errorf("%w: schema version %d, want %d", ErrSchema, rec.Version, SchemaVersion)
	}
	if rec.RunID == "" {
		return nil, fmt.Errorf("%w: no run_id", ErrSchema)
	}
	return &rec, nil
}

// Lookup returns the value of the input, fetch or target called name. Like
// every Lookup of featgraph, it returns an error matching
// graph.ErrUnknownNode when the record has no such value.
func (rec *Record) Lookup(name string) (LoggedValue, error) {
	for _, vs := range [][]LoggedValue{rec.Inputs, rec.Fetches, rec.Targets} {
		for _, v := range vs {
			if v.Name == name {
				return v, nil
			}
		}
	}
	return LoggedValue{}, &graph.UnknownNodeError{Name: name}
}
