package spec

import (
	"encoding/json"
	"errors"
	"fmt"
	"github.com/featgraph/featgraph/internal/graphdef"
	"github.com/featgraph/featgraph/internal/graphx"
	"maps"
	"reflect"
	"slices"
	"time"

	"github.com/featgraph/featgraph/batch"
	"github.com/featgraph/featgraph/cache"
	"github.com/featgraph/featgraph/fetchers"
	"github.com/featgraph/featgraph/graph"
)

// Meta keys that the spec sets on the nodes it builds, so that Write can
// give a graph back in the same format.
const (
	metaAt       = "spec.at"       // file:line:col of the node
	metaType     = "spec.type"     // declared spec type
	metaHTTP     = "spec.http"     // JSON request of an http node or each element
	metaUpstream = "spec.upstream" // JSON upstream declaration of an http node
	metaPolicies = "spec.policies" // JSON node-level retry, breaker, hedge
	metaExpr     = "spec.expr"     // source of an expr node
	metaGo       = "spec.go"       // fetch or compute, for a go node or a Go each element
	// metaLog is the privacy mark that package decisionlog reads
	// (decisionlog.MetaKey): keep, hash or omit.
	metaLog = "log"
)

// markLog sets the log mark of a node built from a declaration that has one.
func markLog(d *graphdef.Node, mode string) {
	if mode != "" {
		d.Meta[metaLog] = mode
	}
}

// builder turns declarations into graph descriptors.
type builder struct {
	f          *specFile
	c          *config
	errs       ErrorList
	decls      map[string]*nodeDecl
	inputs     map[string]*inputDecl
	ups        map[string]*upstreamDecl
	clients    map[string]*fetchers.Upstream // by upstream, or upstream/node for a node's own policies
	badURLs    map[string]error              // upstreams whose URL failed: nil when reported, the error when deferred to run time
	opened     []*fetchers.Upstream
	types      map[string]Type         // spec type of every input and node
	goTypes    map[string]reflect.Type // Go type of every value at run time
	state      map[string]int8         // type resolution: 1 visiting, 2 done
	unbound    []string
	unresolved []string
	limits     *Limits      // resolved: no zero field
	ownCache   *cache.Cache // made for cache: nodes when Load was given none
	batches    map[string]*batch.Batch[string, any]
}

func (b *builder) failAt(at pos, node, format string, args ...any) {
	b.errs = append(b.errs, &Error{File: b.f.name, Line: at.line, Col: at.col, Node: node, Msg: fmt.Sprintf(format, args...)})
}

func build(f *specFile, c *config) (*Spec, ErrorList) {
	b := &builder{
		f: f, c: c, limits: new(c.limits.resolve()),
		decls: map[string]*nodeDecl{}, inputs: map[string]*inputDecl{}, ups: map[string]*upstreamDecl{},
		clients: map[string]*fetchers.Upstream{}, badURLs: map[string]error{}, types: map[string]Type{}, goTypes: map[string]reflect.Type{}, state: map[string]int8{},
	}
	for _, in := range f.inputs {
		b.inputs[in.name] = in
		b.types[in.name] = in.typ
		b.goTypes[in.name] = in.typ.GoType()
	}
	for _, n := range f.nodes {
		if _, dup := b.inputs[n.name]; dup {
			b.failAt(n.at, n.name, "a node has the name of an input")
			continue
		}
		b.decls[n.name] = n
	}
	b.upstreams()
	for _, name := range slices.Sorted(maps.Keys(c.funcs)) {
		fn := c.funcs[name]
		if d, ok := b.decls[name]; !ok || (d.kind != "go" && !d.goElem) {
			b.errs = append(b.errs, &Error{File: f.name, Node: name, Msg: fmt.Sprintf("Bind(%q): the spec has no go node of that name", name)})
		} else if fn == nil {
			b.failAt(d.at, name, "Bind(%q) with a nil function", name)
		}
	}
	for _, n := range f.nodes {
		b.resolveType(n)
	}
	b.refineBound()
	descs := make([]graphdef.Node, 0, len(f.inputs)+len(f.nodes))
	for _, in := range f.inputs {
		descs = append(descs, graphdef.Node{
			Name: in.name, Kind: graph.KindInput, Type: in.typ.GoType(), Description: in.description,
			Meta: map[string]string{metaAt: b.where(in.at), metaType: in.typ.String()},
		})
		markLog(&descs[len(descs)-1], in.log)
	}
	for _, n := range f.nodes {
		if b.decls[n.name] != n {
			continue
		}
		if d, ok := b.node(n); ok {
			descs = append(descs, d)
		}
	}
	targets := b.targets(descs)
	var g *graph.Graph
	if len(b.errs) == 0 {
		var err error
		if g, err = graphx.New(descs); err != nil {
			b.graphErrors(err)
		}
	}
	if len(b.errs) > 0 {
		for _, up := range b.opened {
			up.Close()
		}
		if b.ownCache != nil {
			b.ownCache.Close()
		}
		closeBatches(b.batches)
		return nil, b.errs
	}
	shared := map[string]*fetchers.Upstream{}
	for _, u := range f.upstreams {
		if up, ok := b.clients[u.Name]; ok {
			shared[u.Name] = up
		}
	}
	return &Spec{file: f, graph: g, targets: targets, unbound: b.unbound, unresolved: b.unresolved, upstreams: b.opened, shared: shared, cache: b.ownCache, batches: b.batches}, nil
}

func (b *builder) where(at pos) string { return fmt.Sprintf("%s:%d:%d", b.f.name, at.line, at.col) }

// posOf returns where the node or input called name is declared.
func (b *builder) posOf(name string) pos {
	if d, ok := b.decls[name]; ok {
		return d.at
	}
	if in, ok := b.inputs[name]; ok {
		return in.at
	}
	return pos{}
}

// graphErrors reports what graph.New found, at the nodes concerned.
func (b *builder) graphErrors(err error) {
	var errs []error
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		errs = j.Unwrap()
	} else {
		errs = []error{err}
	}
	for _, e := range errs {
		var cycle *graph.CycleError
		var invalid *graph.InvalidNodeError
		var unknown *graph.UnknownDependencyError
		var dup *graph.DuplicateNodeError
		node := ""
		switch {
		case errors.As(e, &cycle):
			node = cycle.Path[0]
		case errors.As(e, &invalid):
			node = invalid.Node
		case errors.As(e, &unknown):
			node = unknown.Node
		case errors.As(e, &dup):
			node = dup.Name
		}
		at := b.posOf(node)
		b.errs = append(b.errs, &Error{File: b.f.name, Line: at.line, Col: at.col, Node: node, Err: e})
	}
}

func (b *builder) upstreams() {
	for _, u := range b.f.upstreams {
		b.ups[u.Name] = u
		b.checkURL(u)
	}
	for name := range b.c.upstreamURLs {
		if _, ok := b.ups[name]; !ok {
			b.errs = append(b.errs, &Error{File: b.f.name, Node: name, Msg: fmt.Sprintf("no upstream %q to set the URL of (the spec has %s)", name, b.upstreamNames()), match: ErrUnknownUpstream})
		}
	}
}

func (b *builder) upstreamNames() string {
	var names []string
	for _, u := range b.f.upstreams {
		names = append(names, u.Name)
	}
	if len(names) == 0 {
		return "none"
	}
	return fmt.Sprint(names)
}

// upstream returns the fetchers.Upstream of u with the node's policies
// applied over the upstream's: one per upstream, and one more for each node
// with policies of its own (its own breaker, its own hedge budget).
//
// With AllowUnsetEnv, an upstream whose URL needs a variable that is not
// set gets no Upstream: its nodes fail with the returned error when they run.
func (b *builder) upstream(n *nodeDecl, u *upstreamDecl) (client, bool) {
	p := u.policies
	own := n.Retry != nil || n.Breaker != nil || n.Hedge != nil
	if n.Retry != nil {
		p.Retry = n.Retry
	}
	if n.Breaker != nil {
		p.Breaker = n.Breaker
	}
	if n.Hedge != nil {
		p.Hedge = n.Hedge
	}
	key := u.Name
	if own {
		key += "/" + n.name
	}
	if up, ok := b.clients[key]; ok {
		return client{up: up}, true
	}
	if err, bad := b.badURLs[u.Name]; bad { // reported once, at the upstream
		return client{unresolved: err}, err != nil
	}
	raw, overridden := b.c.upstreamURLs[u.Name]
	if !overridden {
		var err error
		if raw, err = expand(u.URL, b.c.getenv); err != nil {
			if b.c.allowUnsetEnv {
				unresolved := fmt.Errorf("upstream %s: url %s: %w", u.Name, fetchers.Redact(u.URL), err)
				b.badURLs[u.Name] = unresolved
				b.unresolved = append(b.unresolved, u.Name)
				return client{unresolved: unresolved}, true
			}
			b.failAt(u.at, u.Name, "url: %v", err)
			b.badURLs[u.Name] = nil
			return client{}, false
		}
	}
	base, err := baseURL(raw)
	if err != nil {
		b.failAt(u.at, u.Name, "url: %v", err)
		b.badURLs[u.Name] = nil
		return client{}, false
	}
	up, err := fetchers.NewUpstream(u.Name, base, append(upstreamOptions(p), b.c.upstreamOpts...)...)
	if err != nil {
		b.failAt(u.at, u.Name, "%v", err)
		b.badURLs[u.Name] = nil
		return client{}, false
	}
	b.clients[key] = up
	b.opened = append(b.opened, up)
	return client{up: up}, true
}

// resolveType fixes the spec type of node n, from its declaration or, for
// if and switch without one, from its branches.
func (b *builder) resolveType(n *nodeDecl) Type {
	if t, done := b.types[n.name]; done && b.state[n.name] == 2 {
		return t
	}
	if b.state[n.name] == 1 { // a cycle, reported by graph.New
		return TypeAny
	}
	b.state[n.name] = 1
	t := TypeAny
	switch {
	case n.typSet:
		t = n.typ
	case n.kind == "http":
		t = TypeObject
	case n.kind == "value":
		t = inferType(n.value)
	case n.kind == "and" || n.kind == "or":
		t = TypeBool
	case n.kind == "each":
		t = TypeList
	case n.kind == "if" || n.kind == "switch":
		branches := []string{n.then, n.otherwise}
		if n.kind == "switch" {
			branches = branches[:0]
			for _, c := range n.cases {
				branches = append(branches, c.node)
			}
			if n.dflt != "" {
				branches = append(branches, n.dflt)
			}
		}
		first := ""
		for _, br := range branches {
			bt, ok := b.typeOfName(br)
			if !ok || bt == TypeAny {
				continue
			}
			if first == "" {
				first, t = br, bt
			} else if bt != t {
				b.failAt(n.at, n.name, "branches %s (%s) and %s (%s) have different types; declare the node's type (any to allow both)", first, t, br, bt)
				break
			}
		}
	}
	b.types[n.name] = t
	b.goTypes[n.name] = t.GoType()
	b.state[n.name] = 2
	return t
}

func (b *builder) typeOfName(name string) (Type, bool) {
	if in, ok := b.inputs[name]; ok {
		return in.typ, true
	}
	if d, ok := b.decls[name]; ok {
		return b.resolveType(d), true
	}
	return TypeAny, false
}

func inferType(v any) Type {
	switch v.(type) {
	case string:
		return TypeString
	case int:
		return TypeInt
	case float64:
		return TypeFloat
	case bool:
		return TypeBool
	case map[string]any:
		return TypeObject
	case []any:
		return TypeList
	}
	return TypeAny
}

// targets returns the declared targets, checked, or the nodes no other node uses.
func (b *builder) targets(descs []graphdef.Node) []string {
	if len(b.f.targets) > 0 {
		for i, t := range b.f.targets {
			if _, ok := b.types[t]; !ok {
				b.failAt(b.f.targetsAt[i], t, "target %q is not a node of the spec", t)
			}
		}
		return slices.Clone(b.f.targets)
	}
	used := map[string]bool{}
	for _, d := range descs {
		for _, dep := range slices.Concat(d.Deps, d.Lazy) {
			used[dep] = true
		}
	}
	var out []string
	for _, d := range descs {
		if d.Kind != graph.KindInput && !used[d.Name] {
			out = append(out, d.Name)
		}
	}
	return out
}

// checkRef reports a reference to a name that is neither a node nor an input.
func (b *builder) checkRef(n *nodeDecl, ref string) bool {
	if _, ok := b.types[ref]; ok {
		return true
	}
	at, ok := n.refs[ref]
	if !ok {
		at = n.at
	}
	b.errs = append(b.errs, &Error{File: b.f.name, Line: at.line, Col: at.col, Node: n.name,
		Msg:   fmt.Sprintf("unknown dependency %q: no node or input has that name", ref),
		match: &graph.UnknownDependencyError{Node: n.name, Dependency: ref}})
	return false
}

// checkFlow reports a dependency whose type does not fit where it is used.
func (b *builder) checkFlow(n *nodeDecl, ref string, want Type, role string) {
	got, ok := b.typeOfName(ref)
	if ok && !want.accepts(got) {
		at := n.refs[ref]
		b.failAt(at, n.name, "%s %q is %s, want %s", role, ref, got.a(), want.a())
	}
}

// node builds the descriptor of n.
func (b *builder) node(n *nodeDecl) (graphdef.Node, bool) {
	t := b.types[n.name]
	d := graphdef.Node{
		Name: n.name, Type: t.GoType(), Timeout: n.timeout, Description: n.description,
		Meta: map[string]string{metaAt: b.where(n.at), metaType: t.String()},
	}
	markLog(&d, n.log)
	before := len(b.errs)
	refsOK := true
	for ref := range n.refs {
		if n.kind == "each" && ref == "item" {
			continue
		}
		refsOK = b.checkRef(n, ref) && refsOK
	}
	if !refsOK {
		return d, false
	}
	switch n.kind {
	case "value":
		d.Kind = graph.KindValue
		v, err := t.Convert(n.value)
		if err != nil {
			b.failAt(n.at, n.name, "value: %v", err)
		}
		d.Value = v
	case "http":
		if n.batch != nil {
			b.batchNode(n, &d)
		} else {
			b.httpNode(n, &d)
		}
	case "expr":
		b.exprNode(n, &d)
	case "if":
		d.Kind = graph.KindIf
		d.Deps, d.Lazy = []string{n.cond}, []string{n.then, n.otherwise}
		b.checkFlow(n, n.cond, TypeBool, "condition")
		b.checkFlow(n, n.then, t, "branch")
		b.checkFlow(n, n.otherwise, t, "branch")
		d.Choose = func(args []any) (int, error) {
			c, ok := args[0].(bool)
			if !ok {
				return -1, fmt.Errorf("condition %q is %s, not a bool", n.cond, describe(args[0]))
			}
			if c {
				return 0, nil
			}
			return 1, nil
		}
	case "switch":
		b.switchNode(n, &d, t)
	case "and", "or":
		d.Kind = graph.KindAnd
		if n.kind == "or" {
			d.Kind = graph.KindOr
		}
		d.Lazy = slices.Clone(n.operands)
		for _, op := range n.operands {
			b.checkFlow(n, op, TypeBool, "operand")
		}
		if t != TypeBool {
			b.failAt(n.typAt, n.name, "an %s node is a bool, not %s", n.kind, t.a())
		}
	case "each":
		b.eachNode(n, &d)
	case "go":
		b.goNode(n, &d)
	}
	if n.hasFallback {
		v, err := t.Convert(n.fallback)
		if err != nil {
			b.failAt(n.fallbackAt, n.name, "fallback: %v", err)
		} else {
			d.FallbackValue = v
			d.Fallback = func(error) (any, error) { return v, nil }
		}
	}
	b.applyCache(n, &d)
	return d, len(b.errs) == before
}

func (b *builder) retry(n *nodeDecl, up *retryPolicy) graphdef.RetryPolicy {
	r := n.Retry
	if r == nil {
		r = up
	}
	if r == nil {
		return graphdef.RetryPolicy{}
	}
	return graphdef.RetryPolicy{Attempts: r.Attempts, Backoff: time.Duration(r.Backoff)}
}

func (b *builder) setPolicies(n *nodeDecl, d *graphdef.Node) {
	if n.Retry != nil || n.Breaker != nil || n.Hedge != nil {
		js, _ := json.Marshal(n.policies)
		d.Meta[metaPolicies] = string(js)
	}
}

func (b *builder) switchNode(n *nodeDecl, d *graphdef.Node, t Type) {
	d.Kind = graph.KindSwitch
	d.Deps = []string{n.key}
	keyType, _ := b.typeOfName(n.key)
	if keyType != TypeAny && keyType != TypeString && keyType != TypeInt && keyType != TypeBool {
		b.failAt(n.refs[n.key], n.name, "switch key %q is %s; want a string, int or bool", n.key, keyType.a())
		return
	}
	index := map[any]int{}
	for i, c := range n.cases {
		k, err := caseKey(keyType, c.key)
		if err != nil {
			b.failAt(c.at, n.name, "case %q: %v", c.key, err)
			continue
		}
		if _, dup := index[k]; dup {
			b.failAt(c.at, n.name, "case %v appears twice", k)
		}
		index[k] = i
		d.Lazy = append(d.Lazy, c.node)
		d.Cases = append(d.Cases, k)
		b.checkFlow(n, c.node, t, "branch")
	}
	if n.dflt != "" {
		d.Lazy = append(d.Lazy, n.dflt)
		b.checkFlow(n, n.dflt, t, "branch")
	}
	cases, hasDefault, name := len(n.cases), n.dflt != "", n.key
	d.Choose = func(args []any) (int, error) {
		k := args[0]
		if keyType == TypeAny {
			k = text(k)
		} else if conv, err := keyType.Convert(k); err == nil {
			k = conv
		}
		if i, ok := index[k]; ok {
			return i, nil
		}
		if hasDefault {
			return cases, nil
		}
		return -1, fmt.Errorf("no case for %s = %v and no default", name, args[0])
	}
}

// caseKey converts a case as written to the type of the switch key.
func caseKey(t Type, s string) (any, error) {
	if t == TypeAny {
		return s, nil
	}
	return t.ParseValue(s)
}
