package executor

import (
	"fmt"
	"reflect"

	"github.com/featgraph/featgraph/graph"
	"github.com/featgraph/featgraph/internal/graphx"
)

// Binding binds a value to an input node for one run. Make one with [Bind]
// (typed) or [BindNamed] (by name, type-checked at run time).
type Binding struct {
	ref   graph.Target // nil when bound by name
	name  string
	value any
	typ   reflect.Type
}

// Bind binds v to the input node ref.
func Bind[T any](ref graph.Ref[T], v T) Binding {
	return Binding{ref: ref, name: ref.Name(), value: v, typ: reflect.TypeFor[T]()}
}

// BindNamed binds v to the input node called name; the run fails if there is
// no such input or v's type does not fit it. It is meant for callers that
// only know names, such as a CLI.
func BindNamed(name string, v any) Binding {
	return Binding{name: name, value: v, typ: reflect.TypeOf(v)}
}

// resolve returns the node the input binds, checking kind and type.
func (in Binding) resolve(g *graph.Graph) (graph.NodeID, error) {
	var t graph.Target = in.ref
	if t == nil {
		t = graph.Named(in.name)
	}
	id, err := g.Resolve(t)
	if err != nil {
		return 0, unresolved(fmt.Sprintf("binding input %q", in.name), err)
	}
	n := graphx.Node(g, id)
	if n.Kind != graph.KindInput {
		return 0, invalidRun("binding input %q: it is a %s node, not an input", n.Name, n.Kind)
	}
	if n.Type != nil && in.typ != n.Type && (in.typ == nil || !in.typ.AssignableTo(n.Type)) {
		return 0, invalidRun("binding input %q: value of type %v, want %v", n.Name, in.typ, n.Type)
	}
	return id, nil
}
