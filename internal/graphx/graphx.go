// Package graphx gives the packages of this module typed access to the
// descriptors inside a public *graph.Builder or *graph.Graph, through the
// hooks package graph sets in package graphdef. See graph/doc.go.
package graphx

import (
	"github.com/featgraph/featgraph/graph"
	"github.com/featgraph/featgraph/internal/graphdef"
)

// Add declares n on b and returns the typed Ref of the new node.
func Add[T any](b *graph.Builder, n graphdef.Node) graph.Ref[T] {
	id := graphdef.Add(b, n)
	var r graph.Ref[T]
	graphdef.StampRef(&r, b, id)
	return r
}

// AddID declares n on b and returns its ID.
func AddID(b *graph.Builder, n graphdef.Node) graph.NodeID {
	return graph.NodeID(graphdef.Add(b, n))
}

// RefAt returns the typed Ref of node id of g. It checks nothing: the
// caller knows the node's type.
func RefAt[T any](g *graph.Graph, id graph.NodeID) graph.Ref[T] {
	var r graph.Ref[T]
	graphdef.StampRef(&r, g, int32(id))
	return r
}

// Fail records err (if not nil) on b; Build reports it.
func Fail(b *graph.Builder, err error) { graphdef.Fail(b, err) }

// Declared returns a copy of the descriptor of a node declared on b, when t
// is a Ref of b.
func Declared(b *graph.Builder, t graph.Target) (graphdef.Node, bool) {
	id, ok := graphdef.RefOf(b, t)
	if !ok {
		return graphdef.Node{}, false
	}
	return graphdef.Declared(b, id)
}

// New builds a graph from descriptors; earlier errors are reported first.
func New(descs []graphdef.Node, earlier ...error) (*graph.Graph, error) {
	g, err := graphdef.New(descs, earlier, nil)
	if err != nil {
		return nil, err
	}
	return g.(*graph.Graph), nil
}

// Rebuild builds a graph from descs, which must keep every node of like at
// its ID and with its name, so that the Refs of like are valid for it.
func Rebuild(like *graph.Graph, descs []graphdef.Node) (*graph.Graph, error) {
	g, err := graphdef.New(descs, nil, like)
	if err != nil {
		return nil, err
	}
	return g.(*graph.Graph), nil
}

// Nodes returns the descriptors of g, indexed by NodeID. They are g's own:
// callers must not modify them.
func Nodes(g *graph.Graph) []graphdef.Node { return graphdef.Nodes(g) }

// Node returns the descriptor of node id of g, which callers must not modify.
func Node(g *graph.Graph, id graph.NodeID) *graphdef.Node { return &graphdef.Nodes(g)[id] }

// Unsource returns v's value and source when v is a [graph.Sourced], and v
// itself with no source otherwise.
func Unsource(v any) (any, string) {
	if s, ok := v.(graph.Sourced); ok {
		return s.Value, s.Source
	}
	return v, ""
}

// At returns a Target for node id of g, for code that walks a graph by ID.
func At(g *graph.Graph, id graph.NodeID) graph.Target { return RefAt[any](g, id) }

// IDOf returns the ID of a Ref; it panics for another Target. It is for
// Targets made by [At] or by package nodes.
func IDOf(t graph.Target) graph.NodeID {
	return t.(interface{ ID() graph.NodeID }).ID()
}
