package decisionlog

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/featgraph/featgraph/internal/graphx"
	"os"
	"reflect"
	"slices"

	"github.com/featgraph/featgraph/executor"
	"github.com/featgraph/featgraph/graph"
)

// Recorder turns the runs of one graph into records. It is safe for
// concurrent use.
type Recorder struct {
	g       *graph.Graph
	name    string
	version string
	modes   []Mode // by NodeID
	marks   map[string]Mode
	key     []byte
	keySet  bool
	getenv  func(string) string
}

// Option configures a [Recorder].
type Option func(*Recorder) error

// GraphVersion sets the version of the graph written into every record.
func GraphVersion(v string) Option {
	return func(r *Recorder) error { r.version = v; return nil }
}

// Mark sets how the value of the input or node called name is written,
// overriding its `log` meta annotation.
func Mark(name string, m Mode) Option {
	return func(r *Recorder) error {
		if m > Omit {
			return fmt.Errorf("decisionlog: Mark(%q): unknown mode %v", name, m)
		}
		if r.marks == nil {
			r.marks = map[string]Mode{}
		}
		r.marks[name] = m
		return nil
	}
}

// HashKey sets the HMAC key of hashed values (at least 16 bytes) instead
// of reading it from the environment variable [KeyEnv].
func HashKey(key []byte) Option {
	return func(r *Recorder) error {
		if len(key) < minKeyLen {
			return fmt.Errorf("decisionlog: HashKey: %d bytes, want at least %d", len(key), minKeyLen)
		}
		r.key, r.keySet = slices.Clone(key), true
		return nil
	}
}

// Getenv makes the Recorder read the environment through fn (tests).
func Getenv(fn func(string) string) Option {
	return func(r *Recorder) error {
		if fn == nil {
			return errors.New("decisionlog: Getenv(nil)")
		}
		r.getenv = fn
		return nil
	}
}

// NewRecorder returns a Recorder of the runs of g, named name. A mark
// naming no node of g, a `log` annotation that is not keep, hash or omit,
// and a hash mark with no key (neither [HashKey] nor [KeyEnv] of at least
// 16 bytes) are errors: a value is never hashed without a secret key, which
// would let anyone reverse a card number by trying them all.
func NewRecorder(g *graph.Graph, name string, opts ...Option) (*Recorder, error) {
	if g == nil {
		return nil, errors.New("decisionlog: NewRecorder: nil graph")
	}
	r := &Recorder{g: g, name: name, getenv: os.Getenv, modes: make([]Mode, g.Len())}
	for _, opt := range opts {
		if opt == nil {
			continue
		}
		if err := opt(r); err != nil {
			return nil, err
		}
	}
	var errs []error
	hashed := false
	for i := range r.modes {
		n := graphx.Node(g, graph.NodeID(i))
		if s, ok := n.Meta[MetaKey]; ok {
			m, err := ParseMode(s)
			if err != nil {
				errs = append(errs, fmt.Errorf("node %q: %w", n.Name, err))
			}
			r.modes[i] = m
		}
	}
	for _, name := range sortedKeys(r.marks) {
		id, err := g.Lookup(name)
		if err != nil {
			errs = append(errs, fmt.Errorf("decisionlog: Mark(%q): the graph has no such node", name))
			continue
		}
		r.modes[id] = r.marks[name]
	}
	for _, m := range r.modes {
		hashed = hashed || m == Hash
	}
	if hashed && !r.keySet {
		key := r.getenv(KeyEnv)
		if len(key) < minKeyLen {
			errs = append(errs, fmt.Errorf("decisionlog: a node is marked hash and $%s holds %d bytes, want a secret of at least %d", KeyEnv, len(key), minKeyLen))
		}
		r.key = []byte(key)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return r, nil
}

func sortedKeys(m map[string]Mode) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// Graph returns the graph of the Recorder.
func (r *Recorder) Graph() *graph.Graph { return r.g }

// Name returns the graph's name written into records.
func (r *Recorder) Name() string { return r.name }

// Version returns the graph's version written into records.
func (r *Recorder) Version() string { return r.version }

// ModeOf returns how the node called name is written.
func (r *Recorder) ModeOf(name string) Mode {
	if id, err := r.g.Lookup(name); err == nil {
		return r.modes[id]
	}
	return Keep
}

// NewRunID returns a random run id: 32 hex digits.
func NewRunID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	return hex.EncodeToString(b[:])
}

// Record writes res down as a record with run id runID (a new one when
// empty). res must be a run of the Recorder's graph (or of a copy with the
// same node names, such as a graphtest harness's); call Record before
// res.Release.
func (r *Recorder) Record(runID string, res *executor.Result) (*Record, error) {
	if res == nil {
		return nil, errors.New("decisionlog: Record of a nil result")
	}
	if err := r.fits(res.Graph()); err != nil {
		return nil, err
	}
	if runID == "" {
		runID = NewRunID()
	}
	rec := &Record{
		Version: SchemaVersion, RunID: runID, Time: res.Started().UTC(), Duration: res.Duration(),
		Graph: r.name, GraphVersion: r.version,
	}
	if err := res.Err(); err != nil {
		rec.Err = err.Error()
	}
	nrs := res.Nodes()
	rec.Nodes = make([]Node, len(nrs))
	for i, nr := range nrs {
		n := Node{Name: nr.Name, Kind: nr.Kind, Outcome: nr.Outcome, Start: nr.Start, End: nr.End, Attempts: nr.Attempts, Branch: nr.Branch}
		if nr.Cause != nil && r.modes[i] == Keep {
			n.Cause = nr.Cause.Error()
		}
		rec.Nodes[i] = n
		switch {
		case nr.Kind == graph.KindInput:
			if _, bound := res.Bound(graphx.At(res.Graph(), nr.ID)); bound || nr.Cause != nil {
				rec.Inputs = append(rec.Inputs, r.value(res, nr))
			}
		case nr.Kind.Blocking():
			rec.Fetches = append(rec.Fetches, r.value(res, nr))
		}
	}
	for _, t := range res.Targets() {
		rec.Targets = append(rec.Targets, r.value(res, res.Node(t)))
	}
	if rec.Inputs == nil {
		rec.Inputs = []LoggedValue{}
	}
	if rec.Fetches == nil {
		rec.Fetches = []LoggedValue{}
	}
	if rec.Targets == nil {
		rec.Targets = []LoggedValue{}
	}
	return rec, nil
}

// fits checks that g is the Recorder's graph or has the same node names.
func (r *Recorder) fits(g *graph.Graph) error {
	if g == r.g {
		return nil
	}
	if g.Len() != r.g.Len() {
		return fmt.Errorf("decisionlog: the run's graph has %d nodes, the recorder's %d", g.Len(), r.g.Len())
	}
	for i := range g.Len() {
		if a, b := g.Name(graph.NodeID(i)), r.g.Name(graph.NodeID(i)); a != b {
			return fmt.Errorf("decisionlog: the run's graph has node %q where the recorder's has %q", a, b)
		}
	}
	return nil
}

// value writes down the value of node nr of res.
func (r *Recorder) value(res *executor.Result, nr executor.NodeResult) LoggedValue {
	v := LoggedValue{Name: nr.Name, Kind: nr.Kind, Type: typeName(graphx.Node(res.Graph(), nr.ID).Type), Outcome: nr.Outcome}
	mode := r.modes[nr.ID]
	if nr.Cause != nil {
		var te *executor.TimeoutError
		v.TimedOut = errors.As(nr.Cause, &te) && te.Node == nr.Name
		if mode == Keep {
			v.Cause = nr.Cause.Error()
		}
	}
	x, bound := res.Bound(graphx.At(res.Graph(), nr.ID)) // an input nothing needed is skipped, and still has its value
	if !bound {
		if !nr.Outcome.HasValue() {
			return v
		}
		x, _ = res.Value(graphx.At(res.Graph(), nr.ID))
	}
	if mode == Omit {
		v.Omitted = true
		return v
	}
	raw, err := json.Marshal(x)
	if err != nil {
		v.Unencodable = err.Error()
		if mode != Keep {
			v.Unencodable = "the value does not encode as JSON"
		}
		return v
	}
	r.put(&v, raw, mode)
	return v
}

// put stores raw into v as mode says.
func (r *Recorder) put(v *LoggedValue, raw []byte, mode Mode) {
	switch mode {
	case Hash:
		v.Hash = hasher{r.key}.sum(raw)
	case Omit:
		v.Omitted = true
	default:
		v.Value = raw
	}
}

func typeName(t reflect.Type) string {
	if t == nil {
		return ""
	}
	return t.String()
}
