package fetchers

import (
	"context"
	"fmt"
	"github.com/featgraph/featgraph/internal/graphx"

	"github.com/featgraph/featgraph/graph"
	"github.com/featgraph/featgraph/nodes"
)

// MetaUpstream is the node annotation (set with nodes.Meta) that names the
// upstream of an HTTP fetch node, for pictures and specs.
const MetaUpstream = "upstream"

// JSON declares a fetch node that builds a Request from its dependencies
// (read with nodes.Arg), sends it to up and decodes the JSON answer into a
// T. Node options (nodes.Timeout, nodes.Fallback…) apply as to any fetch
// node; the node's Meta names the upstream. Errors are *Error values naming
// the upstream and the node.
func JSON[T any](b *graph.Builder, name string, up *Upstream, deps []nodes.Dep, build func(nodes.Args) (Request, error), opts ...nodes.Option) nodes.Ref[T] {
	checkUpstream(b, name, up)
	return nodes.FetchN(b, name, deps, func(ctx context.Context, args nodes.Args) (T, error) {
		return requestJSON[T](ctx, up, name, func() (Request, error) { return build(args) })
	}, withUpstreamMeta(up, opts)...)
}

// JSON0 declares a fetch node without dependencies that sends req to up
// and decodes the JSON answer into a T.
func JSON0[T any](b *graph.Builder, name string, up *Upstream, req Request, opts ...nodes.Option) nodes.Ref[T] {
	checkUpstream(b, name, up)
	return nodes.Fetch0(b, name, func(ctx context.Context) (T, error) {
		return requestJSON[T](ctx, up, name, func() (Request, error) { return req, nil })
	}, withUpstreamMeta(up, opts)...)
}

// JSON1 declares a fetch node that builds a Request from one dependency,
// sends it to up and decodes the JSON answer into a T. T comes first so
// that it is the only type argument to write: JSON1[Account](...) infers A
// from depA.
func JSON1[T, A any](b *graph.Builder, name string, up *Upstream, depA nodes.Ref[A], build func(A) (Request, error), opts ...nodes.Option) nodes.Ref[T] {
	checkUpstream(b, name, up)
	return nodes.Fetch1(b, name, depA, func(ctx context.Context, a A) (T, error) {
		return requestJSON[T](ctx, up, name, func() (Request, error) { return build(a) })
	}, withUpstreamMeta(up, opts)...)
}

// JSON2 declares a fetch node that builds a Request from two
// dependencies, sends it to up and decodes the JSON answer into a T:
// JSON2[Account](...) infers A and B from depA and depB.
func JSON2[T, A, B any](b *graph.Builder, name string, up *Upstream, depA nodes.Ref[A], depB nodes.Ref[B], build func(A, B) (Request, error), opts ...nodes.Option) nodes.Ref[T] {
	checkUpstream(b, name, up)
	return nodes.Fetch2(b, name, depA, depB, func(ctx context.Context, a A, bv B) (T, error) {
		return requestJSON[T](ctx, up, name, func() (Request, error) { return build(a, bv) })
	}, withUpstreamMeta(up, opts)...)
}

// FetchJSON sends req to up and decodes the JSON answer into a T: the body
// of the JSON nodes, for use in hand-written fetch or Each bodies.
func FetchJSON[T any](ctx context.Context, up *Upstream, req Request) (T, error) {
	return requestJSON[T](ctx, up, "", func() (Request, error) { return req, nil })
}

func requestJSON[T any](ctx context.Context, up *Upstream, node string, build func() (Request, error)) (T, error) {
	var zero T
	if up == nil {
		return zero, fmt.Errorf("node %q: no upstream", node)
	}
	req, err := build()
	if err != nil {
		return zero, &Error{Upstream: up.name, Node: node, Method: req.method(), Path: req.Path, Err: fmt.Errorf("%w: %w", ErrBadRequest, err)}
	}
	resp, err := up.do(ctx, node, req)
	if err != nil {
		return zero, err
	}
	v, err := DecodeJSON[T](resp.Body)
	if err != nil {
		e := &Error{Upstream: up.name, Node: node, Method: req.method(), Path: req.Path, Status: resp.Status, Err: err}
		e.Detail = excerpt(resp.Body)
		up.stats.failures.Add(1)
		return zero, e
	}
	return v, nil
}

func checkUpstream(b *graph.Builder, name string, up *Upstream) {
	if up == nil {
		graphx.Fail(b, &graph.InvalidNodeError{Node: name, Reason: "fetch node needs an upstream, got nil"})
	}
}

func withUpstreamMeta(up *Upstream, opts []nodes.Option) []nodes.Option {
	if up == nil {
		return opts
	}
	return append([]nodes.Option{nodes.Meta(MetaUpstream, up.name)}, opts...)
}
