package cache

import (
	"context"
	"fmt"
	"reflect"
	"time"
)

// Wrap returns fn cached in c under name for ttl: the same cache, keys and
// policy as [For], for a fetch function rather than a node — for instance
// to cache some of the functions a prebuilt graph is given. name takes the
// place of the node name in keys, statistics and the observer.
func Wrap[K, V any](c *Cache, name string, ttl time.Duration, fn func(context.Context, K) (V, error), opts ...NodeOption) (func(context.Context, K) (V, error), error) {
	if c == nil || fn == nil || ttl <= 0 {
		return nil, fmt.Errorf("cache.Wrap %q: needs a cache, a function and a positive ttl", name)
	}
	p := &policy{node: name, typ: reflect.TypeFor[V](), ttl: ttl, key: DefaultKey, shared: true}
	for _, opt := range opts {
		if opt == nil {
			continue
		}
		if err := opt(p); err != nil {
			return nil, fmt.Errorf("cache.Wrap %q: %w", name, err)
		}
	}
	fetch := func(ctx context.Context, args []any) (any, error) {
		k, _ := args[0].(K)
		return fn(ctx, k)
	}
	return func(ctx context.Context, k K) (V, error) {
		v, _, err := c.get(ctx, p, []any{k}, fetch)
		out, _ := v.(V)
		return out, err
	}, nil
}
