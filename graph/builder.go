package graph

import (
	"errors"
	"fmt"

	"github.com/featgraph/featgraph/internal/graphdef"
)

// Builder collects node declarations and builds an immutable [Graph].
// Nodes are declared by the constructors of package nodes (and by the other
// front ends of this module); mistakes are collected, not panicked on, and
// reported together by Build. A Builder is not safe for concurrent use.
type Builder struct {
	nodes []graphdef.Node
	errs  []error
	self  *identity // made on first use, so that the zero Builder works
}

// NewBuilder returns an empty Builder.
func NewBuilder() *Builder {
	return &Builder{self: new(identity)}
}

func (b *Builder) identity() *identity {
	if b.self == nil {
		b.self = new(identity)
	}
	return b.self
}

// add declares a node and returns its ID. A duplicate name is reported by Build.
func (b *Builder) add(n graphdef.Node) NodeID {
	id := NodeID(len(b.nodes))
	b.nodes = append(b.nodes, n)
	return id
}

// fail records an error found by a front end while declaring nodes; Build
// returns it with the others.
func (b *Builder) fail(err error) {
	if err != nil {
		b.errs = append(b.errs, err)
	}
}

// Build validates the nodes and returns the graph. The error joins every
// problem found, each matching errors.Is(err, ErrInvalid). Refs declared on b
// are valid for every graph b builds.
func (b *Builder) Build() (*Graph, error) {
	return build(b.nodes, b.errs, b.identity())
}

// build builds a graph from descriptors. earlier holds errors already found
// by the caller; they are reported first. Refs whose owner is self belong to
// the graph.
func build(descriptors []graphdef.Node, earlier []error, self *identity) (*Graph, error) {
	g := &Graph{
		nodes: make([]graphdef.Node, len(descriptors)),
		index: make(map[string]NodeID, len(descriptors)),
		self:  self,
	}
	copy(g.nodes, descriptors)
	errs := append([]error(nil), earlier...)
	for i, n := range g.nodes {
		if n.Name == "" {
			errs = append(errs, &InvalidNodeError{Node: fmt.Sprintf("#%d", i), Reason: "empty name"})
		}
		if _, dup := g.index[n.Name]; !dup {
			g.index[n.Name] = NodeID(i)
		} else {
			errs = append(errs, &DuplicateNodeError{Name: n.Name})
		}
		if err := checkShape(&n); err != nil {
			errs = append(errs, err)
		}
	}
	g.deps = g.resolve(func(n *graphdef.Node) []string { return n.Deps }, &errs)
	g.lazy = g.resolve(func(n *graphdef.Node) []string { return n.Lazy }, &errs)
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	g.users = g.deps.reverse(len(g.nodes))
	g.lazyUsers = g.lazy.reverse(len(g.nodes))
	order, cycle := g.topoSort()
	if cycle != nil {
		return nil, cycle
	}
	g.order = order
	return g, nil
}

// checkShape reports a descriptor whose body or arity does not fit its kind.
func checkShape(n *graphdef.Node) error {
	bad := func(format string, args ...any) error {
		return &InvalidNodeError{Node: n.Name, Reason: fmt.Sprintf(format, args...)}
	}
	switch n.Kind {
	case KindInput, KindValue:
		if len(n.Deps)+len(n.Lazy) > 0 {
			return bad("a %s node has no dependencies", n.Kind)
		}
	case KindFetch:
		if n.Fetch == nil {
			return bad("fetch node without a body")
		}
	case KindCompute:
		if n.Compute == nil {
			return bad("compute node without a body")
		}
	case KindIf:
		if n.Choose == nil || len(n.Deps) != 1 || len(n.Lazy) != 2 {
			return bad("an if node needs a condition and two branches")
		}
	case KindSwitch:
		if n.Choose == nil || len(n.Deps) != 1 || len(n.Lazy) == 0 {
			return bad("a switch node needs a key and at least one branch")
		}
	case KindAnd, KindOr:
		if len(n.Lazy) == 0 || len(n.Deps) != 0 {
			return bad("an %s node needs at least one operand and no other dependency", n.Kind)
		}
	case KindEach:
		if n.Each == nil || n.Each.Elem == nil || n.Each.Split == nil || n.Each.Join == nil || len(n.Deps) < 1 {
			return bad("an each node needs a list dependency and an element fetch")
		}
		if n.Each.Limit < 0 {
			return bad("negative parallelism limit %d", n.Each.Limit)
		}
	default:
		return bad("unknown kind %v", n.Kind)
	}
	if n.Timeout < 0 {
		return bad("negative timeout %v", n.Timeout)
	}
	if n.Retry.Attempts < 0 || n.Retry.Backoff < 0 {
		return bad("negative retry policy")
	}
	// Options that would be accepted and ignored are rejected: a timeout or
	// a retry means something only to a node that may block (fetch, Each),
	// a fallback only to a node that can fail.
	if n.Timeout > 0 && !n.Kind.Blocking() {
		return bad("a timeout has no effect on %s node (only fetch and each nodes run long enough to time out)", graphdef.Article(n.Kind))
	}
	if (n.Retry.Attempts > 1 || n.Retry.Backoff > 0 || n.Retry.Retryable != nil) && !n.Kind.Blocking() {
		return bad("a retry has no effect on %s node (only fetch and each nodes are retried)", graphdef.Article(n.Kind))
	}
	if n.Fallback != nil && n.Kind == KindValue {
		return bad("a fallback has no effect on a value node, which cannot fail")
	}
	if len(n.Cases) > 0 && n.Kind != KindSwitch {
		return bad("cases have no effect on %s node", graphdef.Article(n.Kind))
	}
	return nil
}
