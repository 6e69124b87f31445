package nodes

import (
	"context"

	"github.com/featgraph/featgraph/graph"
	"github.com/featgraph/featgraph/internal/graphdef"
)

// Each declares a node that calls fn once per element of list and returns the
// results in the list's order. Calls run concurrently, at most Limit(n) at
// once when that option is given. The node fails when any call fails, with an
// error naming the element's index.
func Each[T, U any](b *graph.Builder, name string, list Ref[[]T], fn func(context.Context, T) (U, error), opts ...Option) Ref[[]U] {
	elem := func(ctx context.Context, e any, _ []any) (any, error) { return fn(ctx, as[T](e)) }
	return declare[[]U](b, eachNode[T, U](name, elem), []Dep{list}, opts)
}

// EachN is [Each] with more dependencies: every call of fn gets, besides its
// element, the values of deps, read with [Arg] or [ArgAt] as in FetchN.
// deps run before the node, like list.
func EachN[T, U any](b *graph.Builder, name string, list Ref[[]T], deps []Dep, fn func(ctx context.Context, elem T, args Args) (U, error), opts ...Option) Ref[[]U] {
	deps = append([]Dep(nil), deps...)
	ix := newDepIndex(deps)
	elem := func(ctx context.Context, e any, extra []any) (any, error) {
		return fn(ctx, as[T](e), Args{deps: ix, vals: extra})
	}
	return declare[[]U](b, eachNode[T, U](name, elem), append([]Dep{list}, deps...), opts)
}

func eachNode[T, U any](name string, elem graphdef.ElemFunc) graphdef.Node {
	return graphdef.Node{Name: name, Kind: graph.KindEach, Each: &graphdef.EachSpec{
		Elem: elem,
		Split: func(list any) []any {
			elems := as[[]T](list)
			out := make([]any, len(elems))
			for i, e := range elems {
				out[i] = e
			}
			return out
		},
		Join: func(results []any) any {
			out := make([]U, len(results))
			for i, r := range results {
				out[i] = as[U](r)
			}
			return out
		},
	}}
}
