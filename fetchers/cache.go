package fetchers

import (
	"context"
	"errors"
	"sync"

	"golang.org/x/sync/singleflight"
)

// WithRequestCache returns a context that carries a new request cache:
// pass it to executor Run so that, within that run, fetch nodes asking the
// same upstream for the same thing (method, URL and body of an idempotent
// request) make one call and share its answer. Answers are kept for the
// life of the cache, failures are not kept, and a caller that gives up
// (its node timed out or was canceled) does not cancel the call for the
// others waiting on it. Make one cache per run: the executor knows nothing
// of HTTP, so the cache travels in the context.
func WithRequestCache(ctx context.Context) context.Context {
	return context.WithValue(ctx, cacheKey{}, &requestCache{
		answers: map[string]*Response{},
		flights: map[string]*flight{},
	})
}

type cacheKey struct{}

func cacheFrom(ctx context.Context) *requestCache {
	c, _ := ctx.Value(cacheKey{}).(*requestCache)
	return c
}

// requestCache shares calls within one run.
type requestCache struct {
	group singleflight.Group

	mu      sync.Mutex
	answers map[string]*Response
	flights map[string]*flight
}

// flight is a call under way and the callers waiting for it. The call runs
// on a context of its own, detached from the caller that started it, and is
// canceled only when its last waiter leaves.
type flight struct {
	ctx     context.Context
	cancel  context.CancelFunc
	waiters int
}

func (c *requestCache) do(ctx context.Context, u *Upstream, p *prepared) (*Response, error) {
	key := p.cacheKey(u.name)
	c.mu.Lock()
	if resp, ok := c.answers[key]; ok {
		c.mu.Unlock()
		u.stats.cacheHits.Add(1)
		return resp, nil
	}
	f := c.flights[key]
	if f == nil {
		f = newFlight(ctx)
		c.flights[key] = f
	} else {
		u.stats.cacheHits.Add(1)
	}
	f.waiters++
	c.mu.Unlock()
	defer c.leave(key, f)

	for try := 0; ; try++ {
		ch := c.group.DoChan(key, func() (any, error) {
			resp, err := u.call(f.ctx, p)
			if err == nil {
				c.mu.Lock()
				c.answers[key] = resp
				c.mu.Unlock()
			}
			return resp, err
		})
		select {
		case r := <-ch:
			if r.Err != nil && try == 0 && errors.Is(r.Err, context.Canceled) && ctx.Err() == nil && f.ctx.Err() == nil {
				// We joined a call whose own waiters had all left; it
				// was canceled for them, not for us: ask again.
				c.group.Forget(key)
				continue
			}
			if r.Err != nil {
				return nil, withNode(r.Err, p.node)
			}
			return r.Val.(*Response), nil
		case <-ctx.Done():
			return nil, u.errorf(p, 0, 0, context.Cause(ctx))
		}
	}
}

// newFlight gives a shared call the starting caller's values (trace
// context) and deadline, but not its cancellation.
func newFlight(ctx context.Context) *flight {
	detached := context.WithoutCancel(ctx)
	var fctx context.Context
	var cancel context.CancelFunc
	if deadline, ok := ctx.Deadline(); ok {
		fctx, cancel = context.WithDeadline(detached, deadline)
	} else {
		fctx, cancel = context.WithCancel(detached)
	}
	return &flight{ctx: fctx, cancel: cancel}
}

// leave drops a waiter; the last one out cancels the call if it still runs.
func (c *requestCache) leave(key string, f *flight) {
	c.mu.Lock()
	defer c.mu.Unlock()
	f.waiters--
	if f.waiters > 0 {
		return
	}
	f.cancel()
	if c.flights[key] == f {
		delete(c.flights, key)
	}
}

// withNode names node in a shared call's error, which names the node that
// started the call.
func withNode(err error, node string) error {
	e, ok := err.(*Error)
	if !ok || e.Node == node {
		return err
	}
	cp := *e
	cp.Node = node
	return &cp
}
