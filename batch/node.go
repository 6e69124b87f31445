package batch

import (
	"context"
	"github.com/featgraph/featgraph/internal/graphx"

	"github.com/featgraph/featgraph/graph"
	"github.com/featgraph/featgraph/nodes"
)

// MetaKey is the node Meta key under which Fetch and Each name their batch.
const MetaKey = "batch"

// Fetch declares a fetch node whose value is bt's value for the key
// computed by dependency key; fetch nodes of the same batch that are ready
// together share a call. Node options (Timeout, Fallback, Retry…) apply.
func Fetch[K comparable, V any](b *graph.Builder, name string, bt *Batch[K, V], key nodes.Ref[K], opts ...nodes.Option) nodes.Ref[V] {
	if bt == nil {
		graphx.Fail(b, &graph.InvalidNodeError{Node: name, Reason: "nil batch"})
		return nodes.Fetch1(b, name, key, func(context.Context, K) (V, error) { var zero V; return zero, ErrClosed }, opts...)
	}
	opts = append([]nodes.Option{nodes.Meta(MetaKey, bt.name)}, opts...)
	return nodes.Fetch1(b, name, key, bt.Load, opts...)
}

// Each declares a fetch node whose value is bt's values for the list of keys
// computed by dependency keys, in order: ceil(len/MaxSize) calls. The node
// fails when any key fails.
func Each[K comparable, V any](b *graph.Builder, name string, bt *Batch[K, V], keys nodes.Ref[[]K], opts ...nodes.Option) nodes.Ref[[]V] {
	if bt == nil {
		graphx.Fail(b, &graph.InvalidNodeError{Node: name, Reason: "nil batch"})
		return nodes.Fetch1(b, name, keys, func(context.Context, []K) ([]V, error) { return nil, ErrClosed }, opts...)
	}
	opts = append([]nodes.Option{nodes.Meta(MetaKey, bt.name)}, opts...)
	return nodes.Fetch1(b, name, keys, bt.LoadMany, opts...)
}
