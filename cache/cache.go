package cache

import (
	"context"
	"errors"
	"fmt"
	"github.com/featgraph/featgraph/internal/graphx"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/maypok86/otter/v2"
)

// Cache holds node results across runs. Make one per process (or per
// graph), share it between the nodes and runs that use it, and Close it when
// done. Its methods are safe for concurrent use.
type Cache struct {
	local          *otter.Cache[string, *entry]
	redis          *redisTier
	namespace      string
	refreshTimeout time.Duration
	observer       func(ctx context.Context, node string, s Status)

	bg     sync.WaitGroup // refreshes, Redis writes, otter's tasks
	mu     sync.Mutex     // orders bg.Add before Close's bg.Wait
	closed atomic.Bool
	stats  counters
}

// Option configures a Cache.
type Option func(*config) error

type config struct {
	maxSize        int
	namespace      string
	refreshTimeout time.Duration
	observer       func(ctx context.Context, node string, s Status)
	redis          *redisTier
}

// WithMaxSize bounds the number of values the in-process tier holds
// (default 10,000); the least useful are evicted first.
func WithMaxSize(n int) Option {
	return func(c *config) error {
		if n < 1 {
			return fmt.Errorf("cache: max size %d is not positive", n)
		}
		c.maxSize = n
		return nil
	}
}

// WithNamespace prefixes every key (default "featgraph"): give graph
// versions whose nodes share names but not meanings their own namespace, so
// that they do not read each other's values from Redis.
func WithNamespace(ns string) Option {
	return func(c *config) error {
		c.namespace = ns
		return nil
	}
}

// WithRefreshTimeout is the budget of a background refresh (default 1 s),
// unless the node sets its own with [RefreshTimeout]. A refresh runs apart
// from the run that triggered it, so the run's deadline does not bound it.
func WithRefreshTimeout(d time.Duration) Option {
	return func(c *config) error {
		if d <= 0 {
			return fmt.Errorf("cache: refresh timeout %v is not positive", d)
		}
		c.refreshTimeout = d
		return nil
	}
}

// WithObserver calls fn each time a cached node is served, with the node's
// context, its name and where its value came from. fn must be fast and safe
// for concurrent use.
func WithObserver(fn func(ctx context.Context, node string, s Status)) Option {
	return func(c *config) error {
		c.observer = fn
		return nil
	}
}

// New returns an empty cache.
func New(opts ...Option) (*Cache, error) {
	cfg := config{maxSize: 10_000, namespace: "featgraph", refreshTimeout: time.Second}
	for _, opt := range opts {
		if opt == nil {
			continue
		}
		if err := opt(&cfg); err != nil {
			return nil, err
		}
	}
	c := &Cache{
		redis:          cfg.redis,
		namespace:      cfg.namespace,
		refreshTimeout: cfg.refreshTimeout,
		observer:       cfg.observer,
	}
	local, err := otter.New(&otter.Options[string, *entry]{
		MaximumSize:       cfg.maxSize,
		ExpiryCalculator:  otter.ExpiryWritingFunc(func(e otter.Entry[string, *entry]) time.Duration { return e.Value.expiresIn() }),
		RefreshCalculator: otter.RefreshWritingFunc(func(e otter.Entry[string, *entry]) time.Duration { return e.Value.refreshIn() }),
		Executor:          c.goBackground,
		Logger:            &otter.NoopLogger{}, // failed refreshes are counted in Stats
	})
	if err != nil {
		return nil, fmt.Errorf("cache: %w", err)
	}
	c.local = local
	if c.redis != nil {
		c.redis.start(c)
	}
	return c, nil
}

// goBackground runs fn on a goroutine that Close waits for; after Close it
// runs fn at once (otter's executor must run every task it accepts).
func (c *Cache) goBackground(fn func()) {
	c.mu.Lock()
	if c.closed.Load() {
		c.mu.Unlock()
		fn()
		return
	}
	c.bg.Add(1)
	c.mu.Unlock()
	go func() {
		defer c.bg.Done()
		fn()
	}()
}

// Close stops the cache's goroutines and waits for the refreshes and Redis
// writes under way (each bounded by its own timeout). Nodes still using a
// closed cache fetch every time. Close does not close the Redis client.
func (c *Cache) Close() error {
	c.mu.Lock()
	if c.closed.Swap(true) {
		c.mu.Unlock()
		return nil
	}
	c.mu.Unlock()
	c.bg.Wait()
	c.local.StopAllGoroutines()
	return nil
}

// Invalidate drops the value of node for the given dependency values (the
// element, for an Each node) from the in-process tier, and from Redis when
// there is one.
func (c *Cache) Invalidate(ctx context.Context, node string, args ...any) error {
	k, err := DefaultKey(args)
	if err != nil {
		return err
	}
	key := c.fullKey(node, k)
	c.local.Invalidate(key)
	if c.redis != nil {
		return c.redis.del(ctx, key)
	}
	return nil
}

// fullKey is namespace:node:key; a node name with a colon or a quote is
// quoted, so that no two nodes' keys can meet.
func (c *Cache) fullKey(node, key string) string {
	if strings.ContainsAny(node, ":\"") {
		node = strconv.Quote(node)
	}
	return c.namespace + ":" + node + ":" + key
}

// fetchFunc is a node body with its arguments.
type fetchFunc func(ctx context.Context, args []any) (any, error)

// get serves the node of policy p for args through the cache, and says
// where the value came from (0 when the cache was bypassed).
func (c *Cache) get(ctx context.Context, p *policy, args []any, fetch fetchFunc) (any, Status, error) {
	k, err := p.key(args)
	if err != nil || c.closed.Load() {
		c.stats.bypassed.Add(1)
		v, err := fetch(ctx, args)
		v, _ = graphx.Unsource(v)
		return v, 0, err
	}
	key := c.fullKey(p.node, k)
	start := time.Now().UnixNano()
	if e, ok := c.local.GetIfPresent(key); ok && time.Duration(start-e.written) <= e.ttl {
		// A fresh hit needs no loader: nothing to load or refresh.
		c.stats.fresh.Add(1)
		if c.observer != nil {
			c.observer(ctx, p.node, StatusFresh)
		}
		return e.val, StatusFresh, nil
	}
	ld := &loader{c: c, p: p, args: append([]any(nil), args...), fetch: fetch}
	e, err := c.local.Get(ctx, key, ld)
	if err != nil {
		if errors.Is(err, otter.ErrNotFound) {
			// Only a body that returns otter.ErrNotFound gets here.
			return nil, 0, fmt.Errorf("node %q: %w", p.node, err)
		}
		return nil, 0, err
	}
	now := time.Now().UnixNano()
	st := e.status(start, now)
	switch st {
	case StatusFetched:
		c.stats.fetched.Add(1)
	case StatusFresh:
		c.stats.fresh.Add(1)
	case StatusStale:
		c.stats.stale.Add(1)
		if e.fromRedis && e.loadedAt >= start {
			// A stale value from Redis: refresh it now rather than on the
			// next read (otter joins a refresh already under way).
			c.local.Refresh(ctx, key, ld)
		}
	}
	if c.observer != nil {
		c.observer(ctx, p.node, st)
	}
	return e.val, st, nil
}

// entry is one cached value with the times that classify it.
type entry struct {
	val       any
	written   int64 // wall-clock ns when the upstream answered (shared via Redis)
	loadedAt  int64 // wall-clock ns when this process stored it
	fromRedis bool
	ttl       time.Duration
	stale     time.Duration
}

func (e *entry) age() time.Duration { return time.Duration(time.Now().UnixNano() - e.written) }

func (e *entry) expiresIn() time.Duration {
	return atLeastOne(e.ttl + e.stale - e.age())
}

func (e *entry) refreshIn() time.Duration {
	return atLeastOne(e.ttl - e.age())
}

func atLeastOne(d time.Duration) time.Duration {
	if d <= 0 {
		return time.Nanosecond
	}
	return d
}

func (e *entry) status(start, now int64) Status {
	if !e.fromRedis && e.loadedAt >= start {
		return StatusFetched
	}
	if time.Duration(now-e.written) > e.ttl {
		return StatusStale
	}
	return StatusFresh
}

// loader fetches a missing value (Load: Redis, then the upstream) or
// refreshes a stale one in the background (Reload: the upstream, within
// the refresh budget).
type loader struct {
	c     *Cache
	p     *policy
	args  []any
	fetch fetchFunc
}

func (l *loader) Load(ctx context.Context, key string) (*entry, error) {
	if r := l.c.redis; r != nil && l.p.shared {
		if e, ok := r.get(ctx, key, l.p); ok {
			return e, nil
		}
	}
	return l.fetchAndStore(ctx, key)
}

func (l *loader) Reload(ctx context.Context, key string, _ *entry) (*entry, error) {
	// otter hands a refresh a context without cancellation: give it its own budget.
	ctx, cancel := context.WithTimeout(ctx, l.p.refreshTimeout(l.c))
	defer cancel()
	l.c.stats.refreshes.Add(1)
	e, err := l.fetchAndStore(ctx, key)
	if err != nil {
		l.c.stats.refreshErrors.Add(1)
	}
	return e, err
}

func (l *loader) fetchAndStore(ctx context.Context, key string) (e *entry, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = newPanicError(l.p.node, r)
		}
	}()
	v, err := l.fetch(ctx, l.args)
	if err != nil {
		l.c.stats.errors.Add(1)
		return nil, err
	}
	v, _ = graphx.Unsource(v) // the value is cached, not where it came from
	now := time.Now().UnixNano()
	e = &entry{val: v, written: now, loadedAt: now, ttl: l.p.ttl, stale: l.p.stale}
	if r := l.c.redis; r != nil && l.p.shared {
		r.setLater(key, e, l.p)
	}
	return e, nil
}

// counters back Stats.
type counters struct {
	fresh, stale, fetched, bypassed  atomic.Int64
	errors, refreshes, refreshErrors atomic.Int64
	redisHits, redisMisses           atomic.Int64
	redisErrors, redisSkipped        atomic.Int64
	redisWrites, redisWriteErrors    atomic.Int64
}

// Stats counts what a Cache served since it was made.
type Stats struct {
	// Fresh, Stale and Fetched count the values served by status.
	Fresh, Stale, Fetched int64
	// Bypassed counts calls that went straight to the body: their key
	// function failed, or the cache was closed.
	Bypassed int64
	// Errors counts fetches that failed (never cached).
	Errors int64
	// Refreshes counts background refreshes started; RefreshErrors those
	// that failed (the stale value stays until it expires).
	Refreshes, RefreshErrors int64
	// RedisHits and RedisMisses count Redis answers; RedisErrors its
	// failures and timeouts, RedisSkipped the reads its open breaker
	// refused; all four are misses for the node.
	RedisHits, RedisMisses, RedisErrors, RedisSkipped int64
	// RedisWrites counts values written to Redis, RedisWriteErrors the
	// writes that failed.
	RedisWrites, RedisWriteErrors int64
	// Size is the number of values held in process.
	Size int
}

// Stats returns the cache's counters.
func (c *Cache) Stats() Stats {
	s := &c.stats
	return Stats{
		Fresh: s.fresh.Load(), Stale: s.stale.Load(), Fetched: s.fetched.Load(),
		Bypassed: s.bypassed.Load(), Errors: s.errors.Load(),
		Refreshes: s.refreshes.Load(), RefreshErrors: s.refreshErrors.Load(),
		RedisHits: s.redisHits.Load(), RedisMisses: s.redisMisses.Load(),
		RedisErrors: s.redisErrors.Load(), RedisSkipped: s.redisSkipped.Load(),
		RedisWrites: s.redisWrites.Load(), RedisWriteErrors: s.redisWriteErrors.Load(),
		Size: c.local.EstimatedSize(),
	}
}
