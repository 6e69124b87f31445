package nodes

import (
	"fmt"
	"reflect"

	"github.com/featgraph/featgraph/graph"
)

// Ref is a typed handle on a node; see [graph.Ref].
type Ref[T any] = graph.Ref[T]

// Dep is any Ref, whatever its type: the dependencies of FetchN and ComputeN.
type Dep interface {
	ID() graph.NodeID
	Name() string
}

// declare adds n to b after applying opts and checking that deps were
// declared on b, and returns the typed Ref of the new node.
func declare[T any](b *graph.Builder, n graph.Node, deps []Dep, opts []Option) Ref[T] {
	n.Type = reflect.TypeFor[T]()
	for _, d := range deps {
		n.Deps = append(n.Deps, d.Name())
		b.Fail(checkDep(b, n.Name, d))
	}
	for _, opt := range opts {
		if opt != nil {
			b.Fail(opt(&n))
		}
	}
	id := b.Add(n)
	return graph.NewRef[T](id, n.Name)
}

func checkDep(b *graph.Builder, node string, d Dep) error {
	if d.Name() == "" {
		return &graph.InvalidNodeError{Node: node, Reason: "depends on an unset (zero) Ref"}
	}
	if declared, ok := b.Node(d.ID()); !ok || declared.Name != d.Name() {
		return &graph.InvalidNodeError{Node: node, Reason: fmt.Sprintf("depends on %q, which was declared on another builder", d.Name())}
	}
	return nil
}

// as converts a dependency's value to its declared type. The executor only
// stores values of the declared type, so the assertion fails only for a nil
// interface value, which becomes T's zero value.
func as[T any](v any) T {
	t, _ := v.(T)
	return t
}

// Args gives the body of a FetchN or ComputeN node the values of its
// dependencies; read them with [Arg].
type Args struct {
	deps []Dep
	vals []any
}

// Arg returns the value of dependency r. r must be one of the dependencies
// the node was declared with; otherwise Arg panics, which the executor turns
// into an error outcome naming the node.
func Arg[T any](a Args, r Ref[T]) T {
	for i, d := range a.deps {
		if d.ID() == r.ID() {
			return as[T](a.vals[i])
		}
	}
	panic(fmt.Sprintf("nodes.Arg: %q is not a declared dependency of this node", r.Name()))
}
