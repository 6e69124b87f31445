package graph

import (
	"fmt"
	"reflect"
)

// NodeID identifies a node inside one Graph: its index in declaration
// order. Per-node data can live in slices indexed by NodeID.
type NodeID int32

// A Target names a node to compute or read: a [Ref], or a name made a
// Target by [Named]. It is the one handle type of featgraph: executor's Run
// and Result, nodes' dependencies (nodes.Dep) and the test harness all take
// it. A Ref is checked to come from the graph it is used with; any other
// Target is looked up by name.
type Target interface {
	Name() string
}

// identity is what makes a Ref belong to one Builder and the graphs built
// from it: a pointer compared by address, so a Ref from another builder (or
// the zero Ref, whose owner is nil) is never mistaken for a node of this one.
type identity struct{ _ byte }

// Ref is a typed handle on a node whose value has type T. Refs are made by
// the constructors of package nodes, or looked up in a built graph with
// [Lookup]. A Ref remembers the builder it was declared on: using it with a
// graph built elsewhere, or using the zero Ref, is an error, never another
// node's value.
type Ref[T any] struct {
	id    NodeID
	name  string
	owner *identity
}

// ID returns the node's ID in its graph.
func (r Ref[T]) ID() NodeID { return r.id }

// Name returns the node's name; "" for the zero Ref.
func (r Ref[T]) Name() string { return r.name }

// String returns the node's name.
func (r Ref[T]) String() string { return r.name }

// handle gives package graph a Ref's fields whatever its T.
func (r Ref[T]) handle() (NodeID, string, *identity) { return r.id, r.name, r.owner }

// stamp makes r the Ref of node id of owner.
func (r *Ref[T]) stamp(id NodeID, name string, owner *identity) {
	r.id, r.name, r.owner = id, name, owner
}

// refHandle is implemented by every Ref[T].
type refHandle interface {
	handle() (NodeID, string, *identity)
}

// Lookup returns the Ref of the node called name in g, checking that its
// value has type T. The error matches [ErrUnknownNode] when g has no such
// node.
func Lookup[T any](g *Graph, name string) (Ref[T], error) {
	id, err := g.Lookup(name)
	if err != nil {
		return Ref[T]{}, err
	}
	want := reflect.TypeFor[T]()
	if got := g.nodes[id].Type; got != nil && got != want && !(want.Kind() == reflect.Interface && got.AssignableTo(want)) {
		return Ref[T]{}, fmt.Errorf("graph: node %q has type %v, not %v", name, got, want)
	}
	return Ref[T]{id: id, name: name, owner: g.self}, nil
}

// Named returns the Target that names the node called name, for callers
// that know nodes by name only (a CLI, a spec, a test). It is looked up
// when used; a name that is no node of the graph is an error matching
// [ErrUnknownNode].
func Named(name string) Target { return named(name) }

type named string

func (n named) Name() string { return string(n) }
