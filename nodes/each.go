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
	n := graphdef.Node{Name: name, Kind: graph.KindEach, Each: &graphdef.EachSpec{
		Elem: func(ctx context.Context, elem any) (any, error) { return fn(ctx, as[T](elem)) },
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
	return declare[[]U](b, n, []Dep{list}, opts)
}
