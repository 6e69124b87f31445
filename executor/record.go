package executor

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"time"

	"github.com/featgraph/featgraph/graph"
	"github.com/featgraph/featgraph/internal/graphdef"
	"github.com/featgraph/featgraph/internal/graphx"
)

// Record is a finished run written down as plain data: the graph's shape
// (nodes, kinds, edges, timeouts, fallbacks) and how every node ended (outcome,
// cause, times, attempts). It holds no values and no functions, so it can be
// kept after [Result.Release], encoded as JSON, stored and drawn later
// (package viz draws it) with no access to the code that ran.
type Record struct {
	// Started is the wall-clock time the run started.
	Started time.Time `json:"started"`
	// Duration is the run's wall time.
	Duration time.Duration `json:"duration_ns"`
	// Err is the run's error (the joined root causes), empty when none.
	Err string `json:"error,omitempty"`
	// Nodes holds every node of the graph, indexed by NodeID.
	Nodes []NodeRecord `json:"nodes"`
}

// NodeRecord is one node of a [Record].
type NodeRecord struct {
	Name string     `json:"name"`
	Kind graph.Kind `json:"kind"`
	// Deps and Lazy are the node's static and lazy dependencies, by name:
	// the edges of the graph.
	Deps []string `json:"deps,omitempty"`
	Lazy []string `json:"lazy,omitempty"`
	// Cases holds the keys of a Switch's branches, formatted, parallel to Lazy.
	Cases       []string      `json:"cases,omitempty"`
	Timeout     time.Duration `json:"timeout_ns,omitempty"`
	HasFallback bool          `json:"has_fallback,omitempty"`
	// FallbackValue is the fallback constant, formatted; empty for a fallback function.
	FallbackValue string            `json:"fallback_value,omitempty"`
	Retries       int               `json:"retry_attempts,omitempty"`
	Description   string            `json:"description,omitempty"`
	Meta          map[string]string `json:"meta,omitempty"`
	Target        bool              `json:"target,omitempty"`

	Outcome Outcome `json:"outcome"`
	// Cause is the text of the node's cause, empty when it has none.
	Cause string `json:"cause,omitempty"`
	// Start and End are offsets from the run's start; zero for a skipped node.
	Start    time.Duration `json:"start_ns"`
	End      time.Duration `json:"end_ns"`
	Attempts int           `json:"attempts,omitempty"`
	Branch   string        `json:"branch,omitempty"`
	// Source is where the node's value came from (see NodeResult.Source).
	Source string `json:"source,omitempty"`
}

// Duration is End - Start.
func (n NodeRecord) Duration() time.Duration { return n.End - n.Start }

// Record writes the run down as a [Record]. Call it before Release.
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
		}
	}
	return rec
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
		Retries: node.Retry.Attempts, Description: node.Description,
		Meta: maps.Clone(node.Meta),
	}
	for _, c := range node.Cases {
		n.Cases = append(n.Cases, fmt.Sprint(c))
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
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&rec); err != nil {
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
