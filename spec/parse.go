package spec

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// parser turns the YAML tree of a spec into declarations, collecting every
// problem with its position instead of stopping at the first.
type parser struct {
	file string
	errs ErrorList
}

func (p *parser) failAt(at pos, node, format string, args ...any) {
	p.errs = append(p.errs, &Error{File: p.file, Line: at.line, Col: at.col, Node: node, Msg: fmt.Sprintf(format, args...)})
}

func (p *parser) fail(n *yaml.Node, node, format string, args ...any) {
	p.failAt(at(n), node, format, args...)
}

func at(n *yaml.Node) pos { return pos{n.Line, n.Column} }

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// parseFile reads data into a file declaration.
func parseFile(name string, data []byte) (f *specFile, errs ErrorList) {
	p := &parser{file: name}
	defer func() {
		// The YAML library is third-party code: whatever it does on hostile
		// input must come back as an error, never as a panic of Load.
		if r := recover(); r != nil {
			f, errs = nil, ErrorList{{File: name, Msg: fmt.Sprintf("cannot parse YAML: %v", r)}}
		}
	}()
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		e := &Error{File: name, Msg: strings.TrimPrefix(err.Error(), "yaml: ")}
		if m := yamlLine.FindStringSubmatch(err.Error()); m != nil {
			e.Line, _ = strconv.Atoi(m[1])
			e.Msg = m[2]
		}
		return nil, ErrorList{e}
	}
	if root.Kind != yaml.DocumentNode || len(root.Content) == 0 {
		return nil, ErrorList{{File: name, Line: 1, Col: 1, Msg: "empty spec: want a mapping with version, inputs and nodes"}}
	}
	f = p.parseTop(root.Content[0])
	return f, p.errs
}

// entry is one key: value pair of a mapping.
type entry struct {
	key   string
	keyN  *yaml.Node
	value *yaml.Node
}

// mapping returns the pairs of a mapping node in file order, reporting a
// node that is not a mapping, non-string keys and duplicate keys.
func (p *parser) mapping(n *yaml.Node, node, what string) ([]entry, bool) {
	if !p.plain(n, node) {
		return nil, false
	}
	if n.Kind != yaml.MappingNode {
		p.fail(n, node, "%s must be a mapping, not %s", what, kindOf(n))
		return nil, false
	}
	out := make([]entry, 0, len(n.Content)/2)
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if !p.plain(k, node) {
			continue
		}
		if k.Kind != yaml.ScalarNode {
			p.fail(k, node, "a key of %s must be a plain string", what)
			continue
		}
		if seen[k.Value] {
			p.fail(k, node, "key %q appears twice in %s", k.Value, what)
			continue
		}
		seen[k.Value] = true
		if !p.plain(v, node) {
			continue
		}
		out = append(out, entry{key: k.Value, keyN: k, value: v})
	}
	return out, true
}

// fields reads a mapping whose keys must be among allowed, reporting
// unknown keys at their position.
func (p *parser) fields(n *yaml.Node, node, what string, allowed ...string) (map[string]entry, bool) {
	entries, ok := p.mapping(n, node, what)
	if !ok {
		return nil, false
	}
	out := make(map[string]entry, len(entries))
	for _, e := range entries {
		if !slices.Contains(allowed, e.key) {
			p.fail(e.keyN, node, "unknown key %q in %s (allowed: %s)", e.key, what, strings.Join(allowed, ", "))
			continue
		}
		out[e.key] = e
	}
	return out, true
}

// plain rejects YAML aliases: expanding them could blow a small file up
// exponentially, and a graph spec has no need of them.
func (p *parser) plain(n *yaml.Node, node string) bool {
	if n.Kind == yaml.AliasNode {
		p.fail(n, node, "YAML aliases (*name) are not supported in a spec")
		return false
	}
	return true
}

func kindOf(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			return "null"
		}
		return fmt.Sprintf("%q", n.Value)
	}
	return "something else"
}

// str reads a string scalar. Numbers and booleans are refused where a
// string is wanted only when strict; names and templates accept them.
func (p *parser) str(n *yaml.Node, node, what string) (string, bool) {
	if n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		p.fail(n, node, "%s must be a string, not %s", what, kindOf(n))
		return "", false
	}
	return n.Value, true
}

var namePattern = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// name reads a reference to a node or input.
func (p *parser) name(n *yaml.Node, node, what string) (string, bool) {
	s, ok := p.str(n, node, what)
	if !ok {
		return "", false
	}
	if !namePattern.MatchString(s) {
		p.fail(n, node, "%s %q is not a name (letters, digits and _, not starting with a digit)", what, s)
		return "", false
	}
	return s, true
}

func (p *parser) names(n *yaml.Node, node, what string) ([]string, []pos, bool) {
	if n.Kind != yaml.SequenceNode {
		p.fail(n, node, "%s must be a list of names, not %s", what, kindOf(n))
		return nil, nil, false
	}
	var out []string
	var where []pos
	ok := true
	for _, c := range n.Content {
		if !p.plain(c, node) {
			ok = false
			continue
		}
		s, good := p.name(c, node, what)
		if good {
			out = append(out, s)
			where = append(where, at(c))
		}
		ok = ok && good
	}
	return out, where, ok
}

func (p *parser) integer(n *yaml.Node, node, what string, min int) (int, bool) {
	if n.Kind == yaml.ScalarNode && n.Tag == "!!int" {
		if v, err := strconv.Atoi(n.Value); err == nil && v >= min {
			return v, true
		}
	}
	p.fail(n, node, "%s must be an integer >= %d, not %s", what, min, kindOf(n))
	return 0, false
}

func (p *parser) duration(n *yaml.Node, node, what string) (time.Duration, bool) {
	if n.Kind == yaml.ScalarNode {
		if d, err := time.ParseDuration(n.Value); err == nil && d >= 0 {
			return d, true
		}
	}
	p.fail(n, node, "%s must be a duration such as 80ms or 1.5s, not %s", what, kindOf(n))
	return 0, false
}

func (p *parser) typ(n *yaml.Node, node string) (Type, bool) {
	s, ok := p.str(n, node, "type")
	if !ok {
		return 0, false
	}
	t, err := ParseType(s)
	if err != nil {
		p.fail(n, node, "%v", err)
		return 0, false
	}
	return t, true
}

// value reads any YAML value as the Go value a JSON decoder would give:
// string, int, float64, bool, nil, map[string]any, []any.
func (p *parser) value(n *yaml.Node, node string) (any, bool) {
	if !p.plain(n, node) {
		return nil, false
	}
	switch n.Kind {
	case yaml.ScalarNode:
		switch n.Tag {
		case "!!null":
			return nil, true
		case "!!bool", "!!int", "!!float", "!!str":
			var v any
			if err := n.Decode(&v); err != nil {
				p.fail(n, node, "bad value %q: %v", n.Value, err)
				return nil, false
			}
			if i, isInt := v.(int64); isInt { // 32-bit platforms
				v = int(i)
			}
			if u, isUint := v.(uint64); isUint {
				p.fail(n, node, "integer %d is too large", u)
				return nil, false
			}
			return v, true
		}
		p.fail(n, node, "unsupported YAML tag %s", n.Tag)
		return nil, false
	case yaml.SequenceNode:
		out := make([]any, 0, len(n.Content))
		ok := true
		for _, c := range n.Content {
			v, good := p.value(c, node)
			ok = ok && good
			out = append(out, v)
		}
		return out, ok
	case yaml.MappingNode:
		entries, ok := p.mapping(n, node, "an object")
		out := make(map[string]any, len(entries))
		for _, e := range entries {
			v, good := p.value(e.value, node)
			ok = ok && good
			out[e.key] = v
		}
		return out, ok
	}
	p.fail(n, node, "unsupported YAML value")
	return nil, false
}

func (p *parser) parseTop(n *yaml.Node) *specFile {
	f := &specFile{name: p.file}
	top, ok := p.fields(n, "", "the spec", "version", "description", "deadline", "upstreams", "inputs", "nodes", "targets")
	if !ok {
		return f
	}
	if v, has := top["version"]; !has {
		p.fail(n, "", "missing version: the first line of a spec is version: 1")
	} else if ver, good := p.integer(v.value, "", "version", 0); good {
		if ver != 1 {
			p.fail(v.value, "", "unsupported version %d: this featgraph reads version 1", ver)
		}
		f.version = ver
	}
	if d, has := top["description"]; has {
		f.description, _ = p.str(d.value, "", "description")
	}
	if d, has := top["deadline"]; has {
		f.deadline, _ = p.duration(d.value, "", "deadline")
	}
	if u, has := top["upstreams"]; has {
		entries, _ := p.mapping(u.value, "", "upstreams")
		for _, e := range entries {
			if d := p.parseUpstream(e); d != nil {
				f.upstreams = append(f.upstreams, d)
			}
		}
	}
	if in, has := top["inputs"]; has {
		entries, _ := p.mapping(in.value, "", "inputs")
		for _, e := range entries {
			if d := p.parseInput(e); d != nil {
				f.inputs = append(f.inputs, d)
			}
		}
	}
	if nd, has := top["nodes"]; !has {
		p.fail(n, "", "missing nodes")
	} else {
		entries, ok := p.mapping(nd.value, "", "nodes")
		if ok && len(entries) == 0 {
			p.fail(nd.value, "", "nodes is empty: a spec needs at least one node")
		}
		for _, e := range entries {
			if d := p.parseNode(e); d != nil {
				f.nodes = append(f.nodes, d)
			}
		}
	}
	if t, has := top["targets"]; has {
		f.targets, f.targetsAt, _ = p.names(t.value, "", "targets")
	}
	return f
}

func (p *parser) checkName(e entry, what string) bool {
	if !namePattern.MatchString(e.key) {
		p.fail(e.keyN, e.key, "%s name %q is not a name (letters, digits and _, not starting with a digit)", what, e.key)
		return false
	}
	return true
}

func (p *parser) parseInput(e entry) *inputDecl {
	if !p.checkName(e, "input") {
		return nil
	}
	d := &inputDecl{name: e.key, at: at(e.keyN)}
	if e.value.Kind == yaml.ScalarNode {
		t, ok := p.typ(e.value, e.key)
		if !ok {
			return nil
		}
		d.typ = t
		return d
	}
	fs, ok := p.fields(e.value, e.key, "an input", "type", "description", "log")
	if !ok {
		return nil
	}
	if t, has := fs["type"]; has {
		d.typ, _ = p.typ(t.value, e.key)
	} else {
		p.fail(e.value, e.key, "input needs a type")
	}
	if t, has := fs["description"]; has {
		d.description, _ = p.str(t.value, e.key, "description")
	}
	if t, has := fs["log"]; has {
		d.log = p.logMode(t.value, e.key)
	}
	return d
}

// logModes are the values of the log key: how a decision log writes a
// value (package decisionlog reads them from the node's "log" meta).
var logModes = []string{"keep", "hash", "omit"}

func (p *parser) logMode(n *yaml.Node, name string) string {
	s, ok := p.str(n, name, "log")
	if ok && !slices.Contains(logModes, s) {
		p.fail(n, name, "log: %q: want keep, hash or omit", s)
		return ""
	}
	return s
}

func (p *parser) parseUpstream(e entry) *upstreamDecl {
	if !p.checkName(e, "upstream") {
		return nil
	}
	d := &upstreamDecl{Name: e.key, at: at(e.keyN)}
	fs, ok := p.fields(e.value, e.key, "an upstream", "url", "timeout", "retry", "breaker", "hedge")
	if !ok {
		return nil
	}
	if u, has := fs["url"]; has {
		d.URL, _ = p.str(u.value, e.key, "url")
		if err := checkExpand(d.URL); err != nil {
			p.fail(u.value, e.key, "url: %v", err)
		}
	} else {
		p.fail(e.value, e.key, "upstream needs a url")
	}
	if t, has := fs["timeout"]; has {
		v, _ := p.duration(t.value, e.key, "timeout")
		d.Timeout = duration(v)
	}
	p.parsePolicies(fs, e.key, &d.policies)
	return d
}

func (p *parser) parsePolicies(fs map[string]entry, node string, into *policies) {
	if r, has := fs["retry"]; has {
		rf, ok := p.fields(r.value, node, "retry", "attempts", "backoff")
		if ok {
			rp := &retryPolicy{Attempts: 1}
			if a, has := rf["attempts"]; has {
				rp.Attempts, _ = p.integer(a.value, node, "retry attempts", 1)
			}
			if b, has := rf["backoff"]; has {
				v, _ := p.duration(b.value, node, "retry backoff")
				rp.Backoff = duration(v)
			}
			into.Retry = rp
		}
	}
	if b, has := fs["breaker"]; has {
		bf, ok := p.fields(b.value, node, "breaker", "failures", "open_for")
		if ok {
			bp := &breakerPolicy{Failures: 5, OpenFor: duration(time.Second)}
			if a, has := bf["failures"]; has {
				bp.Failures, _ = p.integer(a.value, node, "breaker failures", 1)
			}
			if o, has := bf["open_for"]; has {
				v, _ := p.duration(o.value, node, "breaker open_for")
				bp.OpenFor = duration(v)
			}
			into.Breaker = bp
		}
	}
	if h, has := fs["hedge"]; has {
		hf, ok := p.fields(h.value, node, "hedge", "after", "quantile")
		if ok {
			hp := &hedgePolicy{}
			if a, has := hf["after"]; has {
				v, _ := p.duration(a.value, node, "hedge after")
				hp.After = duration(v)
			} else {
				p.fail(h.value, node, "hedge needs after: the delay before the backup request (the least delay with quantile)")
			}
			if q, has := hf["quantile"]; has {
				v, err := strconv.ParseFloat(q.value.Value, 64)
				if q.value.Kind != yaml.ScalarNode || err != nil || v <= 0 || v >= 1 {
					p.fail(q.value, node, "hedge quantile must be a number between 0 and 1 such as 0.95, not %s", kindOf(q.value))
				} else {
					hp.Quantile = v
				}
			}
			into.Hedge = hp
		}
	}
}

// nodeKinds are the keys that give a node its kind; a node has exactly one.
var nodeKinds = []string{"http", "value", "expr", "if", "switch", "and", "or", "each", "go"}

// keysOf lists the keys allowed in a node of each kind, besides the common ones.
var keysOf = map[string][]string{
	"http":   {"http", "retry", "breaker", "hedge", "cache", "batch"},
	"value":  {"value"},
	"expr":   {"expr"},
	"if":     {"if", "then", "else"},
	"switch": {"switch", "cases", "default"},
	"and":    {"and"},
	"or":     {"or"},
	"each":   {"each", "http", "go", "limit", "retry", "breaker", "hedge", "cache"},
	"go":     {"go", "deps", "retry", "cache"},
}

var commonKeys = []string{"type", "timeout", "fallback", "description", "log"}

func (p *parser) parseNode(e entry) *nodeDecl {
	if !p.checkName(e, "node") {
		return nil
	}
	name := e.key
	d := &nodeDecl{name: name, at: at(e.keyN), refs: map[string]pos{}}
	entries, ok := p.mapping(e.value, name, "a node")
	if !ok {
		return nil
	}
	has := func(k string) bool { return slices.ContainsFunc(entries, func(x entry) bool { return x.key == k }) }
	if has("each") {
		d.kind = "each" // whose element fetch is an http or go key
	}
	for _, k := range nodeKinds {
		if has(k) {
			if d.kind == "each" && (k == "each" || k == "http" || k == "go") {
				continue
			}
			if d.kind != "" {
				p.fail(e.keyN, name, "a node has one kind, this one has both %s and %s", d.kind, k)
				return nil
			}
			d.kind = k
		}
	}
	if d.kind == "" {
		p.fail(e.keyN, name, "node has no kind: give one of %s", strings.Join(nodeKinds, ", "))
		return nil
	}
	fs, _ := p.fields(e.value, name, "a "+d.kind+" node", append(slices.Clone(commonKeys), keysOf[d.kind]...)...)
	if t, has := fs["type"]; has {
		d.typ, d.typSet = p.typ(t.value, name)
		d.typAt = at(t.value)
	}
	if t, has := fs["timeout"]; has {
		d.timeout, _ = p.duration(t.value, name, "timeout")
	}
	if f, has := fs["fallback"]; has {
		d.fallback, d.hasFallback = p.value(f.value, name)
		d.fallbackAt = at(f.value)
	}
	if t, has := fs["description"]; has {
		d.description, _ = p.str(t.value, name, "description")
	}
	if t, has := fs["log"]; has {
		d.log = p.logMode(t.value, name)
	}
	ref := func(key, what string) string {
		f, has := fs[key]
		if !has {
			p.fail(e.keyN, name, "a %s node needs %s", d.kind, key)
			return ""
		}
		s, _ := p.name(f.value, name, what)
		if _, seen := d.refs[s]; s != "" && !seen {
			d.refs[s] = at(f.value)
		}
		return s
	}
	refList := func(key, what string) []string {
		f := fs[key]
		names, where, _ := p.names(f.value, name, what)
		for i, s := range names {
			if _, seen := d.refs[s]; !seen {
				d.refs[s] = where[i]
			}
		}
		return names
	}
	switch d.kind {
	case "http":
		d.http = p.parseHTTP(fs["http"].value, name, d)
		p.parsePolicies(fs, name, &d.policies)
	case "value":
		d.value, _ = p.value(fs["value"].value, name)
	case "expr":
		d.expr, _ = p.str(fs["expr"].value, name, "expr")
		en := fs["expr"].value
		d.exprAt = at(en)
		switch {
		case strings.Contains(d.expr, "\n") || en.Style&(yaml.LiteralStyle|yaml.FoldedStyle) != 0:
			d.exprShift = -1
		case en.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle) != 0:
			d.exprShift = 1
		}
		if !d.typSet {
			p.fail(e.keyN, name, "an expr node needs a type: the type its expression must have")
		}
	case "if":
		d.cond = ref("if", "condition")
		d.then = ref("then", "branch")
		d.otherwise = ref("else", "branch")
	case "switch":
		d.key = ref("switch", "key")
		if c, has := fs["cases"]; has {
			cases, _ := p.mapping(c.value, name, "cases")
			for _, ce := range cases {
				s, ok := p.name(ce.value, name, "case branch")
				if ok {
					d.cases = append(d.cases, switchCase{key: ce.key, node: s, at: at(ce.keyN)})
					if _, seen := d.refs[s]; !seen {
						d.refs[s] = at(ce.value)
					}
				}
			}
		} else {
			p.fail(e.keyN, name, "a switch node needs cases")
		}
		if _, has := fs["default"]; has {
			d.dflt = ref("default", "default branch")
		}
	case "and", "or":
		d.operands = refList(d.kind, "operands")
		if len(d.operands) == 0 {
			p.fail(fs[d.kind].value, name, "an %s node needs at least one operand", d.kind)
		}
	case "each":
		d.list = ref("each", "list")
		if l, has := fs["limit"]; has {
			d.limit, _ = p.integer(l.value, name, "limit", 1)
		}
		h, hasHTTP := fs["http"]
		g, hasGo := fs["go"]
		switch {
		case hasHTTP && hasGo:
			p.fail(e.keyN, name, "an each node fetches its elements with http or go, not both")
		case hasHTTP:
			d.http = p.parseHTTP(h.value, name, d)
		case hasGo:
			if s, ok := p.str(g.value, name, "go"); ok && s != "fetch" {
				p.fail(g.value, name, "the go element of an each node is a fetch: write go: fetch")
			}
			d.goElem = true
		default:
			p.fail(e.keyN, name, "an each node needs http (a request per element, {item} in templates) or go: fetch")
		}
		p.parsePolicies(fs, name, &d.policies)
	case "go":
		if s, ok := p.str(fs["go"].value, name, "go"); ok {
			if s != "fetch" && s != "compute" {
				p.fail(fs["go"].value, name, "go must be fetch (Go code that gets a context and may block) or compute (pure Go code), not %q", s)
			}
			d.goKind = s
		}
		if _, has := fs["deps"]; has {
			d.deps = refList("deps", "dependency")
		}
		if !d.typSet {
			p.fail(e.keyN, name, "a go node needs a type (any when it is a Go type)")
		}
		p.parsePolicies(fs, name, &d.policies)
	}
	p.parseCache(fs, name, d)
	p.parseBatch(fs, name, d)
	return d
}

func (p *parser) parseHTTP(n *yaml.Node, node string, d *nodeDecl) *httpDecl {
	fs, ok := p.fields(n, node, "http", "upstream", "method", "path", "query", "body", "idempotent")
	if !ok {
		return nil
	}
	h := &httpDecl{Method: "GET", at: at(n)}
	if u, has := fs["upstream"]; has {
		h.Upstream, _ = p.name(u.value, node, "upstream")
	} else {
		p.fail(n, node, "http needs an upstream")
	}
	if m, has := fs["method"]; has {
		if s, ok := p.str(m.value, node, "method"); ok {
			h.Method = strings.ToUpper(s)
			if !slices.Contains([]string{"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"}, h.Method) {
				p.fail(m.value, node, "unsupported method %q", s)
			}
		}
	}
	template := func(v *yaml.Node, what string) string {
		s, ok := p.str(v, node, what)
		if !ok {
			return ""
		}
		t, err := parseTemplate(s)
		if err != nil {
			p.fail(v, node, "%s: %v", what, err)
			return "" // reported once, here
		}
		for _, r := range t.refs() {
			if _, seen := d.refs[r]; !seen {
				d.refs[r] = at(v)
			}
		}
		return s
	}
	if v, has := fs["path"]; has {
		h.Path = template(v.value, "path")
	}
	if q, has := fs["query"]; has {
		entries, _ := p.mapping(q.value, node, "query")
		for _, e := range entries {
			h.Query = append(h.Query, param{Name: e.key, Value: template(e.value, "query "+e.key)})
		}
	}
	if i, has := fs["idempotent"]; has {
		if i.value.Kind != yaml.ScalarNode || i.value.Tag != "!!bool" {
			p.fail(i.value, node, "idempotent must be true or false, not %s", kindOf(i.value))
		} else {
			h.Idempotent = i.value.Value == "true"
		}
	}
	if b, has := fs["body"]; has {
		h.Body, _ = p.value(b.value, node)
		p.bodyRefs(h.Body, b.value, node, d)
	}
	return h
}

// bodyRefs checks the templates in the strings of a body and records their references.
func (p *parser) bodyRefs(v any, n *yaml.Node, node string, d *nodeDecl) {
	switch b := v.(type) {
	case string:
		t, err := parseTemplate(b)
		if err != nil {
			p.fail(n, node, "body: %v", err)
			return
		}
		for _, r := range t.refs() {
			if _, seen := d.refs[r]; !seen {
				d.refs[r] = at(n)
			}
		}
	case map[string]any:
		for _, x := range b {
			p.bodyRefs(x, n, node, d)
		}
	case []any:
		for _, x := range b {
			p.bodyRefs(x, n, node, d)
		}
	}
}
