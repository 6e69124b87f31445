package spec

import (
	"encoding/json"
	"fmt"
	"github.com/featgraph/featgraph/internal/graphdef"
	"github.com/featgraph/featgraph/internal/graphx"
	"io"
	"strconv"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/featgraph/featgraph/graph"
)

// Write writes g in the spec format, with targets as the spec's targets.
// A graph loaded from a spec comes back as it was written (comments and
// layout aside); in a Go-built graph, fetch and compute nodes become go
// nodes (load the result with [Bind] for each), and Go types that the
// format has no name for become any. A fallback given as a Go function
// cannot be written: the node gets a comment saying so.
func Write(w io.Writer, g *graph.Graph, targets ...string) error {
	return write(w, g, "", 0, targets)
}

// Write writes the spec back out; see the package-level [Write].
func (s *Spec) Write(w io.Writer) error {
	return write(w, s.graph, s.file.description, s.file.deadline, s.targets)
}

func write(w io.Writer, g *graph.Graph, description string, deadline time.Duration, targets []string) error {
	if g == nil {
		return fmt.Errorf("spec: Write: nil graph")
	}
	for _, t := range targets {
		if _, err := g.Lookup(t); err != nil {
			return fmt.Errorf("spec: Write: target %q is not a node of the graph", t)
		}
	}
	f, comments, err := declare(g)
	if err != nil {
		return err
	}
	f.description = description
	f.deadline = deadline
	f.targets = targets
	root := encodeFile(f, comments)
	enc := yaml.NewEncoder(w)
	enc.SetIndent(2)
	if err := enc.Encode(root); err != nil {
		return fmt.Errorf("spec: Write: %w", err)
	}
	return enc.Close()
}

// declare turns a graph back into declarations.
func declare(g *graph.Graph) (*specFile, map[string]string, error) {
	f := &specFile{version: 1}
	comments := map[string]string{}
	ups := map[string]*upstreamDecl{}
	for i := range graphx.Nodes(g) {
		n := graphx.Node(g, graph.NodeID(i))
		t, known := TypeOf(n.Type)
		if s, ok := n.Meta[metaType]; ok {
			if pt, err := ParseType(s); err == nil {
				t, known = pt, true
			}
		}
		if n.Kind == graph.KindInput {
			if !known {
				comments[n.Name] = fmt.Sprintf("Go type %v", n.Type)
			}
			f.inputs = append(f.inputs, &inputDecl{name: n.Name, typ: t, description: n.Description, log: n.Meta[metaLog]})
			continue
		}
		d := &nodeDecl{name: n.Name, typ: t, typSet: true, timeout: n.Timeout, description: n.Description, log: n.Meta[metaLog]}
		if !known {
			comments[n.Name] = fmt.Sprintf("Go type %v", n.Type)
		}
		if js, ok := n.Meta[metaPolicies]; ok {
			if err := json.Unmarshal([]byte(js), &d.policies); err != nil {
				return nil, nil, fmt.Errorf("spec: Write: node %q: bad %s annotation: %w", n.Name, metaPolicies, err)
			}
		} else if _, fromSpec := n.Meta[metaHTTP]; !fromSpec && n.Retry.Attempts > 1 {
			d.Retry = &retryPolicy{Attempts: n.Retry.Attempts, Backoff: duration(n.Retry.Backoff)}
		}
		if err := declareCache(n, d); err != nil {
			return nil, nil, fmt.Errorf("spec: Write: node %q: %w", n.Name, err)
		}
		if err := declareBatch(n, d); err != nil {
			return nil, nil, fmt.Errorf("spec: Write: node %q: %w", n.Name, err)
		}
		var err error
		switch n.Kind {
		case graph.KindValue:
			d.kind = "value"
			d.value, err = generic(n.Value)
			d.typSet = inferType(d.value) != t
		case graph.KindFetch, graph.KindEach:
			if src, ok := n.Meta[metaExpr]; ok && n.Kind == graph.KindFetch {
				// An expr node runs as a fetch, so that its deadline holds.
				d.kind, d.expr = "expr", src
				break
			}
			if n.Kind == graph.KindEach {
				if len(n.Deps) != 1 {
					err = fmt.Errorf("an each node with dependencies besides its list (nodes.EachN) has no spec form")
					break
				}
				d.kind, d.list = "each", n.Deps[0]
				d.typSet = false
				if n.Each != nil {
					d.limit = n.Each.Limit
				}
			}
			if js, ok := n.Meta[metaHTTP]; ok {
				if n.Kind == graph.KindFetch {
					d.kind = "http"
				}
				var u *upstreamDecl
				u, err = declareHTTP(n, d, js)
				if err == nil {
					if _, seen := ups[u.Name]; !seen {
						ups[u.Name] = u
						f.upstreams = append(f.upstreams, u)
					}
					if d.timeout == time.Duration(ups[u.Name].Timeout) {
						d.timeout = 0
					}
					d.typSet = d.typSet && t != TypeObject
				}
			} else if n.Kind == graph.KindEach {
				d.goElem = true
			} else {
				d.kind, d.goKind, d.deps = "go", "fetch", n.Deps
			}
		case graph.KindCompute:
			if src, ok := n.Meta[metaExpr]; ok {
				d.kind, d.expr = "expr", src
			} else {
				d.kind, d.goKind, d.deps = "go", "compute", n.Deps
			}
		case graph.KindIf:
			d.kind, d.cond, d.then, d.otherwise = "if", n.Deps[0], n.Lazy[0], n.Lazy[1]
		case graph.KindSwitch:
			d.kind, d.key = "switch", n.Deps[0]
			for i, k := range n.Cases {
				d.cases = append(d.cases, switchCase{key: text(k), node: n.Lazy[i]})
			}
			if len(n.Lazy) > len(n.Cases) {
				d.dflt = n.Lazy[len(n.Lazy)-1]
			}
		case graph.KindAnd, graph.KindOr:
			d.kind, d.operands, d.typSet = n.Kind.String(), n.Lazy, false
		default:
			err = fmt.Errorf("kind %v has no spec form", n.Kind)
		}
		if err != nil {
			return nil, nil, fmt.Errorf("spec: Write: node %q: %w", n.Name, err)
		}
		switch {
		case n.FallbackValue != nil:
			if d.fallback, err = generic(n.FallbackValue); err != nil {
				return nil, nil, fmt.Errorf("spec: Write: node %q: fallback: %w", n.Name, err)
			}
			d.hasFallback = true
		case n.Fallback != nil:
			comments[n.Name] = joinComment(comments[n.Name], "its fallback is a Go function, which a spec cannot hold")
		}
		f.nodes = append(f.nodes, d)
	}
	return f, comments, nil
}

func joinComment(a, b string) string {
	if a == "" {
		return b
	}
	return a + "; " + b
}

func declareHTTP(n *graphdef.Node, d *nodeDecl, js string) (*upstreamDecl, error) {
	d.http = &httpDecl{}
	if err := json.Unmarshal([]byte(js), d.http); err != nil {
		return nil, fmt.Errorf("bad %s annotation: %w", metaHTTP, err)
	}
	u := &upstreamDecl{}
	if err := json.Unmarshal([]byte(n.Meta[metaUpstream]), u); err != nil {
		return nil, fmt.Errorf("bad %s annotation: %w", metaUpstream, err)
	}
	if u.Name != d.http.Upstream {
		return nil, fmt.Errorf("annotations name upstreams %q and %q", u.Name, d.http.Upstream)
	}
	return u, nil
}

// generic returns v as plain data (string, int, float64, bool, nil,
// map[string]any, []any), through JSON for other Go values.
func generic(v any) (any, error) {
	switch x := v.(type) {
	case nil, string, int, float64, bool:
		return v, nil
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			g, err := generic(e)
			if err != nil {
				return nil, err
			}
			out[k] = g
		}
		return out, nil
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			g, err := generic(e)
			if err != nil {
				return nil, err
			}
			out[i] = g
		}
		return out, nil
	}
	js, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("value %T cannot be written: %w", v, err)
	}
	var out any
	if err := json.Unmarshal(js, &out); err != nil {
		return nil, err
	}
	return intsOf(out), nil
}

// intsOf turns whole JSON numbers back into ints.
func intsOf(v any) any {
	switch x := v.(type) {
	case float64:
		if i, err := TypeInt.Convert(x); err == nil {
			return i
		}
	case map[string]any:
		for k, e := range x {
			x[k] = intsOf(e)
		}
	case []any:
		for i, e := range x {
			x[i] = intsOf(e)
		}
	}
	return v
}

// YAML node helpers: the writer builds the tree itself to keep the
// declaration order, which a Go map would lose.

func scalar(s string) *yaml.Node { return &yaml.Node{Kind: yaml.ScalarNode, Value: s} }

func mapping(flow bool) *yaml.Node {
	n := &yaml.Node{Kind: yaml.MappingNode}
	if flow {
		n.Style = yaml.FlowStyle
	}
	return n
}

func add(m *yaml.Node, key string, v *yaml.Node) *yaml.Node {
	m.Content = append(m.Content, scalar(key), v)
	return v
}

func names(list []string) *yaml.Node {
	n := &yaml.Node{Kind: yaml.SequenceNode, Style: yaml.FlowStyle}
	for _, s := range list {
		n.Content = append(n.Content, scalar(s))
	}
	return n
}

func valueNode(v any) *yaml.Node {
	var n yaml.Node
	if err := n.Encode(v); err != nil {
		return scalar(fmt.Sprint(v))
	}
	if n.Kind == yaml.MappingNode || n.Kind == yaml.SequenceNode {
		if len(n.Content) <= 8 {
			n.Style = yaml.FlowStyle
		}
	}
	return &n
}

func durationNode(d time.Duration) *yaml.Node { return scalar(d.String()) }

func encodePolicies(m *yaml.Node, p policies) {
	if p.Retry != nil {
		r := add(m, "retry", mapping(true))
		add(r, "attempts", scalar(strconv.Itoa(p.Retry.Attempts)))
		if p.Retry.Backoff > 0 {
			add(r, "backoff", durationNode(time.Duration(p.Retry.Backoff)))
		}
	}
	if p.Breaker != nil {
		b := add(m, "breaker", mapping(true))
		add(b, "failures", scalar(strconv.Itoa(p.Breaker.Failures)))
		add(b, "open_for", durationNode(time.Duration(p.Breaker.OpenFor)))
	}
	if p.Hedge != nil {
		h := add(m, "hedge", mapping(true))
		add(h, "after", durationNode(time.Duration(p.Hedge.After)))
		if p.Hedge.Quantile > 0 {
			add(h, "quantile", scalar(strconv.FormatFloat(p.Hedge.Quantile, 'f', -1, 64)))
		}
	}
}

func encodeFile(f *specFile, comments map[string]string) *yaml.Node {
	root := mapping(false)
	add(root, "version", scalar("1"))
	if f.description != "" {
		add(root, "description", scalar(f.description))
	}
	if f.deadline > 0 {
		add(root, "deadline", durationNode(f.deadline))
	}
	if len(f.upstreams) > 0 {
		ups := add(root, "upstreams", mapping(false))
		for _, u := range f.upstreams {
			m := add(ups, u.Name, mapping(false))
			add(m, "url", scalar(u.URL))
			if u.Timeout > 0 {
				add(m, "timeout", durationNode(time.Duration(u.Timeout)))
			}
			encodePolicies(m, u.policies)
		}
	}
	if len(f.inputs) > 0 {
		ins := add(root, "inputs", mapping(false))
		for _, in := range f.inputs {
			var v *yaml.Node
			if in.description == "" && in.log == "" {
				v = scalar(in.typ.String())
			} else {
				v = mapping(true)
				add(v, "type", scalar(in.typ.String()))
				if in.description != "" {
					add(v, "description", scalar(in.description))
				}
				if in.log != "" {
					add(v, "log", scalar(in.log))
				}
			}
			add(ins, in.name, v)
			ins.Content[len(ins.Content)-2].HeadComment = comments[in.name]
		}
	}
	nodes := add(root, "nodes", mapping(false))
	for _, d := range f.nodes {
		m := add(nodes, d.name, encodeNode(d))
		_ = m
		nodes.Content[len(nodes.Content)-2].HeadComment = comments[d.name]
	}
	if len(f.targets) > 0 {
		add(root, "targets", names(f.targets))
	}
	return root
}

func encodeNode(d *nodeDecl) *yaml.Node {
	m := mapping(false)
	switch d.kind {
	case "value":
		add(m, "value", valueNode(d.value))
	case "http":
		add(m, "http", encodeHTTP(d.http))
	case "expr":
		add(m, "expr", scalar(d.expr))
	case "if":
		add(m, "if", scalar(d.cond))
		add(m, "then", scalar(d.then))
		add(m, "else", scalar(d.otherwise))
	case "switch":
		add(m, "switch", scalar(d.key))
		cases := add(m, "cases", mapping(false))
		for _, c := range d.cases {
			k := scalar(c.key)
			k.Style = yaml.DoubleQuotedStyle // a case key is text: "1" and "true" stay strings
			cases.Content = append(cases.Content, k, scalar(c.node))
		}
		if d.dflt != "" {
			add(m, "default", scalar(d.dflt))
		}
	case "and", "or":
		add(m, d.kind, names(d.operands))
	case "each":
		add(m, "each", scalar(d.list))
		if d.goElem {
			add(m, "go", scalar("fetch"))
		} else {
			add(m, "http", encodeHTTP(d.http))
		}
		if d.limit > 0 {
			add(m, "limit", scalar(strconv.Itoa(d.limit)))
		}
	case "go":
		add(m, "go", scalar(d.goKind))
		if len(d.deps) > 0 {
			add(m, "deps", names(d.deps))
		}
	}
	if d.typSet {
		add(m, "type", scalar(d.typ.String()))
	}
	if d.timeout > 0 {
		add(m, "timeout", durationNode(d.timeout))
	}
	encodePolicies(m, d.policies)
	encodeCache(m, d.cache)
	encodeBatch(m, d.batch)
	if d.hasFallback {
		add(m, "fallback", valueNode(d.fallback))
	}
	if d.description != "" {
		add(m, "description", scalar(d.description))
	}
	if d.log != "" {
		add(m, "log", scalar(d.log))
	}
	return m
}

func encodeHTTP(h *httpDecl) *yaml.Node {
	m := mapping(false)
	add(m, "upstream", scalar(h.Upstream))
	if h.Method != "" && h.Method != "GET" {
		add(m, "method", scalar(h.Method))
	}
	if h.Path != "" {
		add(m, "path", scalar(h.Path))
	}
	if len(h.Query) > 0 {
		q := add(m, "query", mapping(false))
		for _, p := range h.Query {
			add(q, p.Name, scalar(p.Value))
		}
	}
	if h.Body != nil {
		add(m, "body", valueNode(h.Body))
	}
	if h.Idempotent {
		add(m, "idempotent", scalar("true"))
	}
	return m
}
