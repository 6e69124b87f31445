package spec

import (
	"time"
)

// The declarations below are what a spec file says, before anything is
// built. Load fills them from YAML; Write fills them from a graph; both
// directions go through them so that the format has one definition.

// pos is where something is in the file.
type pos struct{ line, col int }

// inputDecl is one entry of inputs.
type inputDecl struct {
	name        string
	at          pos
	typ         Type
	description string
	log         string // keep, hash or omit: how a decision log writes its value
}

// retryPolicy says how often a call is tried.
type retryPolicy struct {
	Attempts int      `json:"attempts"`
	Backoff  duration `json:"backoff,omitempty"`
}

// breakerPolicy says when an upstream's circuit opens and for how long.
type breakerPolicy struct {
	// Failures is the number of consecutive failures that opens the circuit.
	Failures int `json:"failures"`
	// OpenFor is how long the circuit stays open before a probe.
	OpenFor duration `json:"open_for"`
}

// hedgePolicy says when a backup request is sent: after a fixed delay, or
// after the upstream's observed latency at a quantile (at least After).
type hedgePolicy struct {
	After    duration `json:"after"`
	Quantile float64  `json:"quantile,omitempty"`
}

// policies are the resilience settings of an upstream, which an http node
// may override.
type policies struct {
	Retry   *retryPolicy   `json:"retry,omitempty"`
	Breaker *breakerPolicy `json:"breaker,omitempty"`
	Hedge   *hedgePolicy   `json:"hedge,omitempty"`
}

// upstreamDecl is one entry of upstreams.
type upstreamDecl struct {
	Name    string   `json:"name"`
	URL     string   `json:"url"`
	Timeout duration `json:"timeout,omitempty"`
	policies
	at pos
}

// param is one templated query parameter, kept in file order.
type param struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// httpDecl is the request of an http node (or of each element of an each node).
type httpDecl struct {
	Upstream string  `json:"upstream"`
	Method   string  `json:"method,omitempty"`
	Path     string  `json:"path,omitempty"`
	Query    []param `json:"query,omitempty"`
	Body     any     `json:"body,omitempty"`
	// Idempotent lets a POST be retried, hedged and shared like a GET.
	Idempotent bool `json:"idempotent,omitempty"`
	at         pos
}

// switchCase is one case of a switch node.
type switchCase struct {
	key  string // as written; converted to the key's type at build
	node string
	at   pos
}

// nodeDecl is one entry of nodes.
type nodeDecl struct {
	name string
	at   pos
	// kind is the spec kind: http, value, expr, if, switch, and, or, each, go.
	kind string

	typ     Type
	typSet  bool
	typAt   pos
	timeout time.Duration

	fallback    any
	hasFallback bool
	fallbackAt  pos
	description string
	log         string // keep, hash or omit: how a decision log writes its value

	policies            // http and each nodes
	cache    *cacheDecl // cache: {ttl, stale} of a fetching node
	batch    *batchDecl // batch: of an http node

	value  any       // value
	http   *httpDecl // http; each with an http element
	expr   string    // expr
	exprAt pos
	// exprShift is the column of the expression's first character relative
	// to exprAt (1 inside quotes), or -1 when it spans lines.
	exprShift int

	cond, then, otherwise string // if
	key                   string // switch
	cases                 []switchCase
	dflt                  string

	operands []string // and, or

	list   string // each
	limit  int
	goElem bool // each whose element fetch is Go code

	goKind string   // go: "fetch" or "compute"
	deps   []string // go

	// refs locates every name this node refers to, for unknown-dependency errors.
	refs map[string]pos
}

// specFile is a whole spec as declared.
type specFile struct {
	name        string
	version     int
	description string
	deadline    time.Duration
	upstreams   []*upstreamDecl
	inputs      []*inputDecl
	nodes       []*nodeDecl
	targets     []string
	targetsAt   []pos
}

// duration is a time.Duration written as "80ms" in JSON meta annotations.
type duration time.Duration

// MarshalText implements encoding.TextMarshaler.
func (d duration) MarshalText() ([]byte, error) { return []byte(time.Duration(d).String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (d *duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	*d = duration(v)
	return err
}
