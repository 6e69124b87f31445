package nodes

import (
	"github.com/featgraph/featgraph/graph"
	"github.com/featgraph/featgraph/internal/graphdef"
)

// Input declares a node whose value the caller binds at run time
// (executor.Bind). A run that needs an unbound input fails with an error
// naming it.
func Input[T any](b *graph.Builder, name string, opts ...Option) Ref[T] {
	return declare[T](b, graphdef.Node{Name: name, Kind: graph.KindInput}, nil, opts)
}

// Value declares a constant node.
func Value[T any](b *graph.Builder, name string, v T, opts ...Option) Ref[T] {
	return declare[T](b, graphdef.Node{Name: name, Kind: graph.KindValue, Value: v}, nil, opts)
}
