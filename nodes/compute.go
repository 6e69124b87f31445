package nodes

import (
	"github.com/featgraph/featgraph/graph"
	"github.com/featgraph/featgraph/internal/graphdef"
)

// Compute1 declares a pure node with 1 typed dependency: fn gets no
// context and runs inline, so it must not block; put blocking work in a fetch.
func Compute1[A, T any](b *graph.Builder, name string, depA Ref[A], fn func(A) (T, error), opts ...Option) Ref[T] {
	n := graphdef.Node{Name: name, Kind: graph.KindCompute, Compute: func(args []any) (any, error) { return fn(as[A](args[0])) }}
	return declare[T](b, n, []Dep{depA}, opts)
}

// Compute2 declares a pure node with 2 typed dependencies: fn gets no
// context and runs inline, so it must not block; put blocking work in a fetch.
func Compute2[A, B, T any](b *graph.Builder, name string, depA Ref[A], depB Ref[B], fn func(A, B) (T, error), opts ...Option) Ref[T] {
	n := graphdef.Node{Name: name, Kind: graph.KindCompute, Compute: func(args []any) (any, error) { return fn(as[A](args[0]), as[B](args[1])) }}
	return declare[T](b, n, []Dep{depA, depB}, opts)
}

// Compute3 declares a pure node with 3 typed dependencies: fn gets no
// context and runs inline, so it must not block; put blocking work in a fetch.
func Compute3[A, B, C, T any](b *graph.Builder, name string, depA Ref[A], depB Ref[B], depC Ref[C], fn func(A, B, C) (T, error), opts ...Option) Ref[T] {
	n := graphdef.Node{Name: name, Kind: graph.KindCompute, Compute: func(args []any) (any, error) { return fn(as[A](args[0]), as[B](args[1]), as[C](args[2])) }}
	return declare[T](b, n, []Dep{depA, depB, depC}, opts)
}

// Compute4 declares a pure node with 4 typed dependencies: fn gets no
// context and runs inline, so it must not block; put blocking work in a fetch.
func Compute4[A, B, C, D, T any](b *graph.Builder, name string, depA Ref[A], depB Ref[B], depC Ref[C], depD Ref[D], fn func(A, B, C, D) (T, error), opts ...Option) Ref[T] {
	n := graphdef.Node{Name: name, Kind: graph.KindCompute, Compute: func(args []any) (any, error) {
		return fn(as[A](args[0]), as[B](args[1]), as[C](args[2]), as[D](args[3]))
	}}
	return declare[T](b, n, []Dep{depA, depB, depC, depD}, opts)
}

// ComputeN declares a pure node with any number of dependencies; fn reads
// each one with its type through [Arg].
func ComputeN[T any](b *graph.Builder, name string, deps []Dep, fn func(args Args) (T, error), opts ...Option) Ref[T] {
	deps = append([]Dep(nil), deps...)
	ix := newDepIndex(deps)
	n := graphdef.Node{Name: name, Kind: graph.KindCompute, Compute: func(args []any) (any, error) {
		return fn(Args{deps: ix, vals: args})
	}}
	return declare[T](b, n, deps, opts)
}

// ComputeAll declares a pure node over many dependencies of one type: fn
// gets their values in the order of deps, in a slice of its own (it may
// keep it).
func ComputeAll[T, U any](b *graph.Builder, name string, deps []Ref[T], fn func([]T) (U, error), opts ...Option) Ref[U] {
	n := graphdef.Node{Name: name, Kind: graph.KindCompute, Compute: func(args []any) (any, error) {
		return fn(values[T](args))
	}}
	return declare[U](b, n, asDeps(deps), opts)
}

// asDeps returns refs as a []Dep.
func asDeps[T any](refs []Ref[T]) []Dep {
	deps := make([]Dep, len(refs))
	for i, r := range refs {
		deps[i] = r
	}
	return deps
}

// values copies args into a new []T.
func values[T any](args []any) []T {
	out := make([]T, len(args))
	for i, v := range args {
		out[i] = as[T](v)
	}
	return out
}
