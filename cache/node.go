package cache

import (
	"context"
	"fmt"
	"github.com/featgraph/featgraph/internal/graphdef"
	"reflect"
	"time"

	"github.com/featgraph/featgraph/graph"
	"github.com/featgraph/featgraph/nodes"
)

// MetaKey is the node Meta key under which [For] describes a node's cache
// policy ("ttl=10m0s stale=1h0m0s"), for pictures and specs.
const MetaKey = "cache"

// NodeOption configures how one node is cached.
type NodeOption func(*policy) error

// policy is how one node is cached.
type policy struct {
	node    string
	typ     reflect.Type // the cached value's type, for decoding from Redis
	ttl     time.Duration
	stale   time.Duration
	key     KeyFunc
	refresh time.Duration // 0: the cache's default
	shared  bool          // use the Redis tier, if the cache has one
}

func (p *policy) refreshTimeout(c *Cache) time.Duration {
	if p.refresh > 0 {
		return p.refresh
	}
	return c.refreshTimeout
}

// Stale serves a value for d past its TTL while one background refresh
// replaces it (default 0: an expired value is fetched again in the run).
func Stale(d time.Duration) NodeOption {
	return func(p *policy) error {
		if d < 0 {
			return fmt.Errorf("stale window %v is negative", d)
		}
		p.stale = d
		return nil
	}
}

// Key keys the node's dependency values with fn instead of [DefaultKey]:
// for values that do not encode to JSON, or whose JSON leaves out what tells
// them apart (unexported fields).
func Key(fn KeyFunc) NodeOption {
	return func(p *policy) error {
		if fn == nil {
			return fmt.Errorf("nil key function")
		}
		p.key = fn
		return nil
	}
}

// RefreshTimeout is the budget of this node's background refreshes.
func RefreshTimeout(d time.Duration) NodeOption {
	return func(p *policy) error {
		if d <= 0 {
			return fmt.Errorf("refresh timeout %v is not positive", d)
		}
		p.refresh = d
		return nil
	}
}

// LocalOnly keeps this node's values in process, out of Redis (values that
// do not encode, or that must not leave the process).
func LocalOnly() NodeOption {
	return func(p *policy) error {
		p.shared = false
		return nil
	}
}

// For caches the results of a fetch node (keyed by its dependency values)
// or of each element of an Each node (keyed by the element) in c for ttl.
// Errors are never cached; a fallback is never cached either, since the
// executor applies it after the body. Timeouts and retries of the node
// apply to the body as before: a retry asks the cache again.
func For(c *Cache, ttl time.Duration, opts ...NodeOption) nodes.Option {
	return graphdef.NewOption(func(n *graphdef.Node) error {
		fail := func(reason string) error { return &graph.InvalidNodeError{Node: n.Name, Reason: "cache: " + reason} }
		if c == nil {
			return fail("nil cache")
		}
		if ttl <= 0 {
			return fail(fmt.Sprintf("ttl %v is not positive", ttl))
		}
		p := &policy{node: n.Name, typ: n.Type, ttl: ttl, key: DefaultKey, shared: true}
		for _, opt := range opts {
			if opt == nil {
				continue
			}
			if err := opt(p); err != nil {
				return fail(err.Error())
			}
		}
		switch {
		case n.Kind == graph.KindFetch && n.Fetch != nil:
			body := n.Fetch
			n.Fetch = func(ctx context.Context, args []any) (any, error) {
				return sourced(c.get(ctx, p, args, fetchFunc(body)))
			}
		case n.Kind == graph.KindEach && n.Each != nil && n.Each.Elem != nil:
			if n.Type != nil && n.Type.Kind() == reflect.Slice {
				p.typ = n.Type.Elem()
			}
			elem := n.Each.Elem
			// The key is the element and the node's other dependencies, if any.
			fetch := func(ctx context.Context, args []any) (any, error) { return elem(ctx, args[0], args[1:]) }
			n.Each.Elem = func(ctx context.Context, e any, extra []any) (any, error) {
				return sourced(c.get(ctx, p, append([]any{e}, extra...), fetch))
			}
		default:
			return fail(fmt.Sprintf("applies to fetch and Each nodes, not %v nodes", n.Kind))
		}
		if n.Meta == nil {
			n.Meta = map[string]string{}
		}
		n.Meta[MetaKey] = fmt.Sprintf("ttl=%v stale=%v", ttl, p.stale)
		return nil
	}).(nodes.Option)
}

// sourced tells the executor where a cached node's value came from, for
// its result, record, pictures and span.
func sourced(v any, st Status, err error) (any, error) {
	if err != nil || st == 0 {
		return v, err
	}
	return graph.WithSource(v, st.String()), nil
}
