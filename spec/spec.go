package spec

import (
	"fmt"
	"github.com/featgraph/featgraph/internal/graphx"
	"io"
	"os"
	"slices"
	"time"

	"github.com/featgraph/featgraph/batch"
	"github.com/featgraph/featgraph/cache"
	"github.com/featgraph/featgraph/fetchers"
	"github.com/featgraph/featgraph/graph"
)

// Spec is a loaded spec: its runnable graph and what the file declares
// around it.
type Spec struct {
	file       *specFile
	graph      *graph.Graph
	targets    []string
	unbound    []string
	unresolved []string
	upstreams  []*fetchers.Upstream
	shared     map[string]*fetchers.Upstream
	cache      *cache.Cache // the spec's own, when it made one
	batches    map[string]*batch.Batch[string, any]
}

// Input is an input a spec declares.
type Input struct {
	Name        string
	Type        Type
	Description string
}

// Option configures Load and Parse.
type Option func(*config)

type config struct {
	getenv        func(string) string
	funcs         map[string]any
	upstreamURLs  map[string]string
	upstreamOpts  []fetchers.Option
	allowUnbound  bool
	allowUnsetEnv bool
	limits        Limits
	cache         *cache.Cache
}

// Bind supplies the Go code of the go node called name (or of the element
// fetch of the each node called name). fn must be a function whose
// parameters are the node's dependencies in order, preceded by a
// context.Context for a fetch, and that returns the node's value and an
// error:
//
//	go: fetch, deps: [account, amount], type: float  ->  func(context.Context, map[string]any, float64) (float64, error)
//	go: compute, deps: [score], type: string          ->  func(float64) (string, error)
//	each: ids, go: fetch                              ->  func(context.Context, E) (U, error)
//
// A dependency or result declared as any accepts any Go type; its value is
// checked when the node runs. Load reports a function of the wrong shape
// with the node's position.
func Bind(name string, fn any) Option {
	return func(c *config) {
		if c.funcs == nil {
			c.funcs = map[string]any{}
		}
		c.funcs[name] = fn
	}
}

// Getenv sets how ${VAR} in upstream URLs is read; the default is os.Getenv.
func Getenv(fn func(string) string) Option {
	return func(c *config) { c.getenv = fn }
}

// UpstreamURL replaces the base URL of the upstream called name. Load fails
// when the spec has no such upstream.
func UpstreamURL(name, url string) Option {
	return func(c *config) {
		if c.upstreamURLs == nil {
			c.upstreamURLs = map[string]string{}
		}
		c.upstreamURLs[name] = url
	}
}

// UpstreamOptions adds fetchers options to every upstream the spec makes,
// after those its policies give: a transport, a request hook that adds an
// auth token, a propagator, a body size limit.
func UpstreamOptions(opts ...fetchers.Option) Option {
	return func(c *config) { c.upstreamOpts = append(c.upstreamOpts, opts...) }
}

// AllowUnbound lets go nodes without a Bind load: their body fails with
// [ErrUnbound] when it runs. For tools that check or draw a spec without
// its Go code, such as featgraph validate and dot.
func AllowUnbound() Option {
	return func(c *config) { c.allowUnbound = true }
}

// AllowUnsetEnv lets an upstream whose URL reads an environment variable
// that is not set (${VAR} without a default) load without a URL: its nodes
// fail, saying so, when they run. For tools that check or draw a spec where
// the production environment is not set, such as featgraph validate and dot.
func AllowUnsetEnv() Option {
	return func(c *config) { c.allowUnsetEnv = true }
}

// Load reads and builds the spec in the file at path. The error is an
// [ErrorList] of every problem found, each with its file:line:col.
//
// Load reads at most [Limits].FileSize bytes (8 MB by default): a larger
// file, or an endless one such as /dev/zero, is an error matching ErrLimit.
func Load(path string, opts ...Option) (*Spec, error) {
	c := newConfig(opts)
	data, err := readFile(path, c)
	if err != nil {
		return nil, err
	}
	return parse(path, data, c)
}

// ReadFile reads the spec file at path as Load does, at most
// [Limits].FileSize bytes of it (see [WithLimits]): for callers that need
// the bytes too, to hash them say, before they Parse them.
func ReadFile(path string, opts ...Option) ([]byte, error) {
	return readFile(path, newConfig(opts))
}

func readFile(path string, c *config) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("spec: %w", err)
	}
	defer f.Close()
	limit := c.limits.resolve().FileSize
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, fmt.Errorf("spec: %w", err)
	}
	if int64(len(data)) > limit {
		return nil, ErrorList{fileTooLarge(path, limit)}
	}
	return data, nil
}

// fileTooLarge is the error of a spec file over its size limit.
func fileTooLarge(name string, limit int64) *Error {
	return &Error{File: name, Msg: "the file is too large", Err: &limitError{what: "spec file size", limit: limit}}
}

func newConfig(opts []Option) *config {
	c := &config{getenv: os.Getenv}
	for _, opt := range opts {
		if opt != nil {
			opt(c)
		}
	}
	return c
}

// Parse builds a spec from data; name is the file name used in errors.
// Data larger than [Limits].FileSize is an error matching ErrLimit.
func Parse(name string, data []byte, opts ...Option) (*Spec, error) {
	return parse(name, data, newConfig(opts))
}

func parse(name string, data []byte, c *config) (*Spec, error) {
	if limit := c.limits.resolve().FileSize; int64(len(data)) > limit {
		return nil, ErrorList{fileTooLarge(name, limit)}
	}
	f, errs := parseFile(name, data)
	if f == nil {
		return nil, errs.err()
	}
	s, buildErrs := build(f, c)
	errs = append(errs, buildErrs...)
	if len(errs) > 0 {
		if s != nil {
			s.Close() // built despite errors in the file: let go of its upstreams, cache and batches
		}
		slices.SortStableFunc(errs, func(a, b *Error) int {
			if a.Line != b.Line {
				return a.Line - b.Line
			}
			return a.Col - b.Col
		})
		return nil, errs
	}
	return s, nil
}

// Close closes the spec's upstreams (their idle connections). The graph
// must not run afterwards.
func (s *Spec) Close() {
	for _, up := range s.upstreams {
		up.Close()
	}
	if s.cache != nil {
		s.cache.Close()
	}
	closeBatches(s.batches)
}

// Upstream returns the fetchers.Upstream made for the upstream called name
// (for its Stats), or nil when no node uses it. Nodes with retry, breaker
// or hedge policies of their own have an Upstream of their own, not this one.
func (s *Spec) Upstream(name string) *fetchers.Upstream {
	return s.shared[name]
}

// Graph returns the runnable graph.
func (s *Spec) Graph() *graph.Graph { return s.graph }

// File returns the file name the spec was loaded from.
func (s *Spec) File() string { return s.file.name }

// Description returns the spec's description.
func (s *Spec) Description() string { return s.file.description }

// Deadline returns the spec's run deadline (its top-level deadline key, the
// decision's SLA), or 0 when it declares none. The spec package does not
// apply it: a runner passes it to executor.WithRunTimeout, and featgraph
// serve takes the smaller of it and the caller's deadline.
func (s *Spec) Deadline() time.Duration { return s.file.deadline }

// Targets returns the names of the nodes a run computes: the spec's
// targets, or, when it declares none, every node that no other node uses.
func (s *Spec) Targets() []string { return slices.Clone(s.targets) }

// Inputs returns the declared inputs, in file order.
func (s *Spec) Inputs() []Input {
	out := make([]Input, len(s.file.inputs))
	for i, in := range s.file.inputs {
		out[i] = Input{Name: in.name, Type: in.typ, Description: in.description}
	}
	return out
}

// Unresolved returns the upstreams whose URL could not be resolved from the
// environment (see [AllowUnsetEnv]).
func (s *Spec) Unresolved() []string { return slices.Clone(s.unresolved) }

// Unbound returns the go nodes that were loaded without Go code (see
// [AllowUnbound]).
func (s *Spec) Unbound() []string { return slices.Clone(s.unbound) }

// CallsOut reports whether node id of g, a spec's graph, may call out of the
// process (an http node, a Go fetch or each node) rather than compute its
// value from its dependencies. An expr node runs as a fetch node, so that
// its deadline holds, but calls nothing: a replay that stubs what was
// fetched runs it for real.
func CallsOut(g *graph.Graph, id graph.NodeID) bool {
	n := graphx.Node(g, id)
	_, isExpr := n.Meta[metaExpr]
	return n.Kind.Blocking() && !isExpr
}
