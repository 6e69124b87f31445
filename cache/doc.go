// Package cache keeps the results of long-term feature fetches across runs.
//
// A customer's tenure or a merchant's dispute rate changes over days; a
// transaction's velocity changes every second. Fetching the long-term ones
// on every request spends most of a graph's upstream calls and most of its
// tail latency on values that did not change. A [Cache] is shared by every
// run of a graph (and, with a Redis tier, by every replica); the node option
// [For] makes a fetch or Each node read through it:
//
//	c, _ := cache.New(cache.WithMaxSize(100_000))
//	defer c.Close()
//	tenure := nodes.Fetch1(b, "tenure", customer, fetchTenure,
//		cache.For(c, 10*time.Minute, cache.Stale(time.Hour)))
//
// A cached value is keyed by the node's name and the values of its
// dependencies (an Each node: by its name and the element). Within its TTL
// it is served fresh; in the stale window after the TTL it is served at once
// while one refresh runs in the background within its own budget; after
// that it is gone. Concurrent runs that miss the same key share one fetch,
// each giving up at its own deadline. Errors are never cached, and neither
// are fallbacks (the executor applies them after the body, outside the
// cache). The in-process tier is bounded (otter's S3-FIFO eviction).
//
// With [WithRedis], a miss of the in-process tier asks Redis before the
// upstream, and fetched values are written to Redis in the background, so
// replicas share them. Redis is only ever an optimisation: a slow, broken
// or unreachable Redis is a miss, with a short timeout inside the node's
// budget and a circuit breaker that stops asking while it is down. A run
// never fails because of the cache.
//
// Every served value is counted in [Cache.Stats] as fresh, stale or fetched,
// and reported to the observer given with [WithObserver].
package cache
