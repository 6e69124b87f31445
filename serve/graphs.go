package serve

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/featgraph/featgraph/internal/graphdef"
	"github.com/featgraph/featgraph/internal/graphx"
	"reflect"
	"regexp"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/featgraph/featgraph/graph"
	"github.com/featgraph/featgraph/spec"
)

// Graph is one graph to serve, with its name, inputs, targets, version and
// run deadline. Make one with LoadSpec, FromSpec or FromGraph.
type Graph struct {
	name        string
	version     string
	description string
	file        string
	g           *graph.Graph
	targets     []string
	inputs      []input
	deadline    time.Duration
	close       func()
}

// input is a declared input and how a JSON value becomes its Go value.
type input struct {
	name        string
	typ         string
	description string
	convert     func(raw json.RawMessage) (any, error)
}

// GraphOption configures a Graph made by FromGraph or a spec.
type GraphOption func(*Graph) error

// GraphDeadline sets the graph's run deadline, replacing a spec's deadline
// key. A caller's X-Request-Deadline-Ms can only shorten it.
func GraphDeadline(d time.Duration) GraphOption {
	return func(g *Graph) error {
		if d <= 0 {
			return fmt.Errorf("serve: GraphDeadline(%v): want > 0", d)
		}
		g.deadline = d
		return nil
	}
}

// GraphDescription sets the description shown by GET /v1/graphs/{name}.
func GraphDescription(s string) GraphOption {
	return func(g *Graph) error {
		g.description = s
		return nil
	}
}

var namePattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$`)

// ErrBadName is matched by the error of a graph name that cannot be a URL
// path segment: it must be 1 to 128 letters, digits, '_', '.' or '-', not
// starting with '_', '.' or '-'.
var ErrBadName = errors.New("serve: bad graph name")

func checkName(name string) error {
	if !namePattern.MatchString(name) {
		return fmt.Errorf("%w %q: want letters, digits, '_', '.' or '-'", ErrBadName, name)
	}
	return nil
}

// LoadSpec loads the spec file at path (spec.Load with opts) and serves it
// as name. Its version is a hash of the file's bytes. The Server that serves
// it closes the spec (its upstreams) once it is replaced and its last run
// has ended; a Graph never served must be closed with Close.
func LoadSpec(name, path string, opts []spec.Option, gopts ...GraphOption) (*Graph, error) {
	if err := checkName(name); err != nil {
		return nil, err
	}
	data, err := spec.ReadFile(path, opts...) // within the spec's file-size limit
	if err != nil {
		return nil, err
	}
	s, err := spec.Parse(path, data, opts...)
	if err != nil {
		return nil, err
	}
	g, err := fromSpec(name, s, hashOf(data), gopts)
	if err != nil {
		s.Close()
		return nil, err
	}
	return g, nil
}

// FromSpec serves a loaded spec as name. Its version is a hash of the spec
// as spec.Write writes it. The Graph takes the spec over: see LoadSpec.
func FromSpec(name string, s *spec.Spec, gopts ...GraphOption) (*Graph, error) {
	if err := checkName(name); err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := s.Write(&buf); err != nil {
		return nil, fmt.Errorf("serve: graph %s: %w", name, err)
	}
	return fromSpec(name, s, hashOf(buf.Bytes()), gopts)
}

func fromSpec(name string, s *spec.Spec, version string, gopts []GraphOption) (*Graph, error) {
	g := &Graph{
		name:        name,
		version:     version,
		description: s.Description(),
		file:        s.File(),
		g:           s.Graph(),
		targets:     s.Targets(),
		deadline:    s.Deadline(),
		close:       s.Close,
	}
	for _, in := range s.Inputs() {
		g.inputs = append(g.inputs, input{name: in.Name, typ: in.Type.String(), description: in.Description, convert: specConverter(in.Type)})
	}
	if err := g.apply(gopts); err != nil {
		return nil, err
	}
	return g, nil
}

// FromGraph serves a Go-built graph as name, computing targets (node
// names). Its inputs are the graph's input nodes: a JSON value is converted
// to a node's Go type as encoding/json decodes it (JSON numbers to int or
// float64 for the spec types, see spec.Type.Convert). Its version is a hash
// of the graph as spec.Write writes it.
func FromGraph(name string, g *graph.Graph, targets []string, gopts ...GraphOption) (*Graph, error) {
	if err := checkName(name); err != nil {
		return nil, err
	}
	if g == nil {
		return nil, fmt.Errorf("serve: graph %s: nil graph", name)
	}
	if len(targets) == 0 {
		return nil, fmt.Errorf("serve: graph %s: no targets", name)
	}
	var buf bytes.Buffer
	if err := spec.Write(&buf, g, targets...); err != nil { // also checks the targets
		return nil, fmt.Errorf("serve: graph %s: %w", name, err)
	}
	sg := &Graph{name: name, version: hashOf(buf.Bytes()), g: g, targets: append([]string(nil), targets...)}
	for i := range g.Len() {
		n := graphx.Node(g, graph.NodeID(i))
		if n.Kind != graph.KindInput {
			continue
		}
		sg.inputs = append(sg.inputs, goInput(n))
	}
	if err := sg.apply(gopts); err != nil {
		return nil, err
	}
	return sg, nil
}

func goInput(n *graphdef.Node) input {
	in := input{name: n.Name, description: n.Description}
	if t, ok := spec.TypeOf(n.Type); ok && n.Type != nil {
		in.typ = t.String()
		in.convert = specConverter(t)
		return in
	}
	rt := n.Type
	if rt == nil {
		in.typ = "any"
		in.convert = specConverter(spec.TypeAny)
		return in
	}
	in.typ = rt.String()
	in.convert = func(raw json.RawMessage) (any, error) {
		p := reflect.New(rt)
		if err := json.Unmarshal(raw, p.Interface()); err != nil {
			return nil, fmt.Errorf("not a %s: %w", rt, err)
		}
		return p.Elem().Interface(), nil
	}
	return in
}

func (g *Graph) apply(gopts []GraphOption) error {
	for _, o := range gopts {
		if err := o(g); err != nil {
			return err
		}
	}
	return nil
}

// Name returns the name the graph is served under.
func (g *Graph) Name() string { return g.name }

// Version returns the graph's content hash.
func (g *Graph) Version() string { return g.version }

// Graph returns the graph that runs.
func (g *Graph) Graph() *graph.Graph { return g.g }

// Close closes the spec of a Graph that was never served. A Server closes
// the graphs it serves itself.
func (g *Graph) Close() {
	if g.close != nil {
		g.close()
	}
}

// hashOf is the version of a graph: the first 16 hex digits of the SHA-256
// of its text.
func hashOf(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:8])
}

// specConverter turns a JSON value into a value of spec type t. Strings,
// numbers and booleans are read directly; objects, lists and any as
// encoding/json decodes them (numbers as float64), which is the shape the
// fetchers give to a spec's nodes.
func specConverter(t spec.Type) func(json.RawMessage) (any, error) {
	switch t {
	case spec.TypeString:
		return func(raw json.RawMessage) (any, error) {
			var s string
			if len(raw) == 0 || raw[0] != '"' || json.Unmarshal(raw, &s) != nil {
				return nil, fmt.Errorf("%s is not a string", excerpt(raw))
			}
			return s, nil
		}
	case spec.TypeInt:
		return func(raw json.RawMessage) (any, error) {
			if isNumber(raw) {
				if i, err := strconv.ParseInt(string(raw), 10, 64); err == nil && i == int64(int(i)) {
					return int(i), nil
				}
				if f, err := strconv.ParseFloat(string(raw), 64); err == nil {
					if v, err := t.Convert(f); err == nil {
						return v, nil
					}
				}
			}
			return nil, fmt.Errorf("%s is not an int", excerpt(raw))
		}
	case spec.TypeFloat:
		return func(raw json.RawMessage) (any, error) {
			if isNumber(raw) {
				if f, err := strconv.ParseFloat(string(raw), 64); err == nil {
					return f, nil
				}
			}
			return nil, fmt.Errorf("%s is not a float", excerpt(raw))
		}
	case spec.TypeBool:
		return func(raw json.RawMessage) (any, error) {
			switch string(raw) {
			case "true":
				return true, nil
			case "false":
				return false, nil
			}
			return nil, fmt.Errorf("%s is not a bool", excerpt(raw))
		}
	}
	return func(raw json.RawMessage) (any, error) {
		var v any
		if err := json.Unmarshal(raw, &v); err != nil {
			return nil, fmt.Errorf("not JSON: %w", err)
		}
		return t.Convert(v)
	}
}

// excerpt is the start of a JSON value (or header), for an error message:
// as it came when it is printable, quoted otherwise.
func excerpt(raw []byte) string {
	const max = 40
	s, more := string(raw), ""
	if len(s) > max {
		s, more = s[:max], "..."
	}
	for _, r := range s {
		if r < ' ' || r == 0x7f || r == utf8.RuneError {
			return strconv.Quote(s) + more
		}
	}
	return s + more
}

// isNumber reports whether raw is a JSON number (not a string, not NaN or
// Inf, which strconv would take).
func isNumber(raw json.RawMessage) bool {
	return len(raw) > 0 && (raw[0] == '-' || raw[0] >= '0' && raw[0] <= '9') && json.Valid(raw)
}
