package graph

import (
	"fmt"
	"reflect"
)

// Ref is a typed handle on a node whose value has type T. Refs are made by
// the constructors of package nodes, or looked up in a built graph with
// [Lookup]; the zero Ref names no node.
type Ref[T any] struct {
	id   NodeID
	name string
}

// NewRef returns the Ref of node id named name. It is meant for front ends
// that declare nodes (package nodes, the YAML spec); it checks nothing.
func NewRef[T any](id NodeID, name string) Ref[T] { return Ref[T]{id: id, name: name} }

// ID returns the node's ID.
func (r Ref[T]) ID() NodeID { return r.id }

// Name returns the node's name.
func (r Ref[T]) Name() string { return r.name }

// String returns the node's name.
func (r Ref[T]) String() string { return r.name }

// Lookup returns the Ref of the node called name in g, checking that its
// value has type T.
func Lookup[T any](g *Graph, name string) (Ref[T], error) {
	id, ok := g.Lookup(name)
	if !ok {
		return Ref[T]{}, fmt.Errorf("graph: no node %q", name)
	}
	want := reflect.TypeFor[T]()
	if got := g.nodes[id].Type; got != nil && got != want && !(want.Kind() == reflect.Interface && got.AssignableTo(want)) {
		return Ref[T]{}, fmt.Errorf("graph: node %q has type %v, not %v", name, got, want)
	}
	return Ref[T]{id: id, name: name}, nil
}
