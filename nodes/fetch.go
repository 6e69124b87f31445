package nodes

import (
	"context"

	"github.com/featgraph/featgraph/graph"
	"github.com/featgraph/featgraph/internal/graphdef"
)

// Fetch0 declares a fetch node with 0 typed dependencies: fn gets a context
// that carries the node's deadline. fn may block: a blocked fetch holds up
// no other node.
func Fetch0[T any](b *graph.Builder, name string, fn func(ctx context.Context) (T, error), opts ...Option) Ref[T] {
	n := graphdef.Node{Name: name, Kind: graph.KindFetch, Fetch: func(ctx context.Context, args []any) (any, error) { return fn(ctx) }}
	return declare[T](b, n, nil, opts)
}

// Fetch1 declares a fetch node with 1 typed dependency: fn gets a context
// that carries the node's deadline. fn may block: a blocked fetch holds up
// no other node.
func Fetch1[A, T any](b *graph.Builder, name string, depA Ref[A], fn func(context.Context, A) (T, error), opts ...Option) Ref[T] {
	n := graphdef.Node{Name: name, Kind: graph.KindFetch, Fetch: func(ctx context.Context, args []any) (any, error) { return fn(ctx, as[A](args[0])) }}
	return declare[T](b, n, []Dep{depA}, opts)
}

// Fetch2 declares a fetch node with 2 typed dependencies: fn gets a context
// that carries the node's deadline. fn may block: a blocked fetch holds up
// no other node.
func Fetch2[A, B, T any](b *graph.Builder, name string, depA Ref[A], depB Ref[B], fn func(context.Context, A, B) (T, error), opts ...Option) Ref[T] {
	n := graphdef.Node{Name: name, Kind: graph.KindFetch, Fetch: func(ctx context.Context, args []any) (any, error) { return fn(ctx, as[A](args[0]), as[B](args[1])) }}
	return declare[T](b, n, []Dep{depA, depB}, opts)
}

// Fetch3 declares a fetch node with 3 typed dependencies: fn gets a context
// that carries the node's deadline. fn may block: a blocked fetch holds up
// no other node.
func Fetch3[A, B, C, T any](b *graph.Builder, name string, depA Ref[A], depB Ref[B], depC Ref[C], fn func(context.Context, A, B, C) (T, error), opts ...Option) Ref[T] {
	n := graphdef.Node{Name: name, Kind: graph.KindFetch, Fetch: func(ctx context.Context, args []any) (any, error) {
		return fn(ctx, as[A](args[0]), as[B](args[1]), as[C](args[2]))
	}}
	return declare[T](b, n, []Dep{depA, depB, depC}, opts)
}

// Fetch4 declares a fetch node with 4 typed dependencies: fn gets a context
// that carries the node's deadline. fn may block: a blocked fetch holds up
// no other node.
func Fetch4[A, B, C, D, T any](b *graph.Builder, name string, depA Ref[A], depB Ref[B], depC Ref[C], depD Ref[D], fn func(context.Context, A, B, C, D) (T, error), opts ...Option) Ref[T] {
	n := graphdef.Node{Name: name, Kind: graph.KindFetch, Fetch: func(ctx context.Context, args []any) (any, error) {
		return fn(ctx, as[A](args[0]), as[B](args[1]), as[C](args[2]), as[D](args[3]))
	}}
	return declare[T](b, n, []Dep{depA, depB, depC, depD}, opts)
}

// FetchN declares a fetch node with any number of dependencies; fn reads each
// one with its type through [Arg].
func FetchN[T any](b *graph.Builder, name string, deps []Dep, fn func(ctx context.Context, args Args) (T, error), opts ...Option) Ref[T] {
	deps = append([]Dep(nil), deps...)
	ix := newDepIndex(deps)
	n := graphdef.Node{Name: name, Kind: graph.KindFetch, Fetch: func(ctx context.Context, args []any) (any, error) {
		return fn(ctx, Args{deps: ix, vals: args})
	}}
	return declare[T](b, n, deps, opts)
}

// FetchAll declares a fetch node over many dependencies of one type: fn
// gets their values in the order of deps, in a slice of its own (it may
// keep it).
func FetchAll[T, U any](b *graph.Builder, name string, deps []Ref[T], fn func(context.Context, []T) (U, error), opts ...Option) Ref[U] {
	n := graphdef.Node{Name: name, Kind: graph.KindFetch, Fetch: func(ctx context.Context, args []any) (any, error) {
		return fn(ctx, values[T](args))
	}}
	return declare[U](b, n, asDeps(deps), opts)
}
