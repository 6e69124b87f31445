package executor

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"time"

	"github.com/featgraph/featgraph/graph"
	"github.com/featgraph/featgraph/internal/graphdef"
	"github.com/featgraph/featgraph/internal/graphx"
	"github.com/featgraph/featgraph/internal/millis"
)

// Record is a finished run written down as plain data: the graph's shape
// (nodes, kinds, edges, timeouts, fallbacks) and how every node ended (outcome,
// cause, times, attempts), and, when made by [Result.RecordValues], the
// values of its inputs and fetches. It holds no functions, so it can be kept
// after [Result.Release], written as JSON ([Record.WriteJSON], read back by
// [ReadRecord]), stored, drawn later (package viz draws it) with no access to
// the code that ran, and replayed with no backend (graphtest.Replay).
//
// In JSON, like every JSON featgraph writes, durations are milliseconds (a
// float, exact to the nanosecond) in fields named *_ms.
type Record struct {
	// Started is the wall-clock time the run started.
	Started time.Time `json:"started"`
	// Duration is the run's wall time (JSON: duration_ms).
	Duration time.Duration `json:"-"`
	// Err is the run's error (the joined root causes), empty when none.
	Err string `json:"error,omitempty"`
	// Nodes holds every node of the graph, indexed by NodeID.
	Nodes []NodeRecord `json:"nodes"`
}

// NodeRecord is one node of a [Record].
type NodeRecord struct {
	Name string     `json:"name"`
	Kind graph.Kind `json:"kind"`
	// Type is the Go type of the node's value (reflect.Type.String), empty
	// when it has none; a replay checks it.
	Type string `json:"type,omitempty"`
	// Deps and Lazy are the node's static and lazy dependencies, by name:
	// the edges of the graph.
	Deps []string `json:"deps,omitempty"`
	Lazy []string `json:"lazy,omitempty"`
	// Cases holds the keys of a Switch's branches, formatted, parallel to Lazy.
	Cases []string `json:"cases,omitempty"`
	// Timeout is the node's own timeout (JSON: timeout_ms).
	Timeout     time.Duration `json:"-"`
	HasFallback bool          `json:"has_fallback,omitempty"`
	// FallbackValue is the fallback constant, formatted; empty for a fallback function.
	FallbackValue string `json:"fallback_value,omitempty"`
	// MaxAttempts is how many tries nodes.Retry allows the node (0 or 1: one).
	MaxAttempts int               `json:"max_attempts,omitempty"`
	Description string            `json:"description,omitempty"`
	Meta        map[string]string `json:"meta,omitempty"`
	Target      bool              `json:"target,omitempty"`

	Outcome Outcome `json:"outcome"`
	// Cause is the text of the node's cause, empty when it has none.
	Cause string `json:"cause,omitempty"`
	// TimedOut is true when the cause was the node's own timeout (of a node
	// that then fell back, say), so that a replay times out again.
	TimedOut bool `json:"timed_out,omitempty"`
	// Start and End are offsets from the run's start; zero for a skipped
	// node (JSON: start_ms, end_ms).
	Start time.Duration `json:"-"`
	End   time.Duration `json:"-"`
	// Attempts is how many tries the node made.
	Attempts int    `json:"attempts,omitempty"`
	Branch   string `json:"branch,omitempty"`
	// Source is where the node's value came from (see NodeResult.Source).
	Source string `json:"source,omitempty"`
	// Recorded is the node's value as JSON, for an input, fetch or each
	// node with a value, in a record made by [Result.RecordValues].
	Recorded json.RawMessage `json:"value,omitempty"`
}

// Duration is End - Start.
func (n NodeRecord) Duration() time.Duration { return n.End - n.Start }

type plainRecord Record

type recordJSON struct {
	*plainRecord
	Duration millis.Duration `json:"duration_ms"`
}

// MarshalJSON writes the record with its duration in milliseconds.
func (rec Record) MarshalJSON() ([]byte, error) {
	return json.Marshal(recordJSON{(*plainRecord)(&rec), millis.Duration(rec.Duration)})
}

// UnmarshalJSON reads what MarshalJSON writes, refusing unknown fields.
func (rec *Record) UnmarshalJSON(b []byte) error {
	v := recordJSON{plainRecord: (*plainRecord)(rec)}
	if err := strictDecode(b, &v); err != nil {
		return err
	}
	rec.Duration = time.Duration(v.Duration)
	return nil
}

type plainNode NodeRecord

type nodeJSON struct {
	*plainNode
	Timeout millis.Duration `json:"timeout_ms,omitempty"`
	Start   millis.Duration `json:"start_ms"`
	End     millis.Duration `json:"end_ms"`
}

// MarshalJSON writes the node with its times in milliseconds.
func (n NodeRecord) MarshalJSON() ([]byte, error) {
	return json.Marshal(nodeJSON{(*plainNode)(&n), millis.Duration(n.Timeout), millis.Duration(n.Start), millis.Duration(n.End)})
}

// UnmarshalJSON reads what MarshalJSON writes, refusing unknown fields.
func (n *NodeRecord) UnmarshalJSON(b []byte) error {
	v := nodeJSON{plainNode: (*plainNode)(n)}
	if err := strictDecode(b, &v); err != nil {
		return err
	}
	n.Timeout, n.Start, n.End = time.Duration(v.Timeout), time.Duration(v.Start), time.Duration(v.End)
	return nil
}

func strictDecode(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}

// Record writes the run down as a [Record], without values: what may be
// kept and shown anywhere the graph's shape may. Call it before Release.
func (r *Result) Record() *Record {
	s := r.state()
	rec := &Record{Started: s.start, Duration: s.end, Nodes: make([]NodeRecord, s.g.Len())}
	if err := r.Err(); err != nil {
		rec.Err = err.Error()
	}
	for i := range rec.Nodes {
		id := graph.NodeID(i)
		rec.Nodes[i] = shapeOf(s.e.node(id))
		nr := r.nodeAt(id)
		n := &rec.Nodes[i]
		n.Target = s.ns[id].isTarget
		n.Outcome, n.Start, n.End, n.Attempts, n.Branch, n.Source = nr.Outcome, nr.Start, nr.End, nr.Attempts, nr.Branch, nr.Source
		if nr.Cause != nil {
			n.Cause = nr.Cause.Error()
			var te *TimeoutError
			n.TimedOut = errors.As(nr.Cause, &te) && te.Node == nr.Name
		}
	}
	return rec
}

// RecordValues is [Result.Record] with the value, as JSON, of every input,
// fetch and each node that has one: what graphtest.Replay needs to run the
// decision again with no backend. Values may be personal data: keep such a
// record where the inputs may be kept. A value that does not encode as JSON
// is an error naming its node. Call it before Release.
func (r *Result) RecordValues() (*Record, error) {
	rec := r.Record()
	var errs []error
	for i := range rec.Nodes {
		n := &rec.Nodes[i]
		if n.Kind != graph.KindInput && !n.Kind.Blocking() || !n.Outcome.HasValue() {
			continue
		}
		v := r.state().ns[i].val
		raw, err := json.Marshal(v)
		if err != nil {
			errs = append(errs, fmt.Errorf("executor: recording node %q: %w", n.Name, err))
			continue
		}
		n.Recorded = raw
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return rec, nil
}

// ShapeOf returns the run-independent part of the record of node id of g:
// name, kind, edges, timeout, fallback and annotations, in a copy of the
// node's own. Package viz uses it to draw a graph that has not run. It
// panics if id is not a node of g, like a slice index.
func ShapeOf(g *graph.Graph, id graph.NodeID) NodeRecord {
	return shapeOf(graphx.Node(g, id))
}

func shapeOf(node *graphdef.Node) NodeRecord {
	n := NodeRecord{
		Name: node.Name, Kind: node.Kind,
		Deps: slices.Clone(node.Deps), Lazy: slices.Clone(node.Lazy),
		Timeout: node.Timeout, HasFallback: node.Fallback != nil,
		MaxAttempts: node.Retry.Attempts, Description: node.Description,
		Meta: maps.Clone(node.Meta),
	}
	for _, c := range node.Cases {
		n.Cases = append(n.Cases, fmt.Sprint(c))
	}
	if node.Type != nil {
		n.Type = node.Type.String()
	}
	if node.FallbackValue != nil {
		n.FallbackValue = fmt.Sprint(node.FallbackValue)
	}
	return n
}

// WriteJSON writes the record as indented JSON.
func (rec *Record) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(rec); err != nil {
		return fmt.Errorf("executor: writing run record: %w", err)
	}
	return nil
}

// ReadRecord reads a record written by [Record.WriteJSON] and checks that
// its edges name nodes of the record.
func ReadRecord(r io.Reader) (*Record, error) {
	var rec Record
	if err := json.NewDecoder(r).Decode(&rec); err != nil {
		return nil, fmt.Errorf("executor: reading run record: %w", err)
	}
	if err := rec.Validate(); err != nil {
		return nil, err
	}
	return &rec, nil
}

// Validate reports a record whose node names are empty or repeated, whose
// edges name unknown nodes, or whose times run backwards.
func (rec *Record) Validate() error {
	index := make(map[string]bool, len(rec.Nodes))
	for i, n := range rec.Nodes {
		if n.Name == "" {
			return fmt.Errorf("executor: run record: node #%d has no name", i)
		}
		if index[n.Name] {
			return fmt.Errorf("executor: run record: node %q appears twice", n.Name)
		}
		index[n.Name] = true
	}
	for _, n := range rec.Nodes {
		for _, d := range append(append([]string(nil), n.Deps...), n.Lazy...) {
			if !index[d] {
				return fmt.Errorf("executor: run record: node %q depends on unknown node %q", n.Name, d)
			}
		}
		if n.End < n.Start || n.Start < 0 {
			return fmt.Errorf("executor: run record: node %q ends (%v) before it starts (%v)", n.Name, n.End, n.Start)
		}
	}
	return nil
}

// Lookup returns the record of the node called name. Like every Lookup of
// featgraph, it returns an error matching graph.ErrUnknownNode when there is
// no such node.
func (rec *Record) Lookup(name string) (NodeRecord, error) {
	for i := range rec.Nodes {
		if rec.Nodes[i].Name == name {
			return rec.Nodes[i], nil
		}
	}
	return NodeRecord{}, &graph.UnknownNodeError{Name: name}
}
