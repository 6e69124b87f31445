package fetchers

import (
	"context"
	"sync"
	"time"
)

// WithRequestCache returns a context that carries a new request cache:
// pass it to executor Run so that, within that run, fetch nodes asking the
// same upstream for the same thing make one call and share its answer.
//
// The same thing is the same method, URL, body and request headers
// (Request.Header) of an idempotent request: requests that differ in a
// header of their own (an end user's token, say) never share an answer.
// Headers that request hooks add (WithHeader, WithBearerToken) are the
// upstream's, the same for every request, and not part of the key.
//
// Answers are kept for the life of the cache; failures are not kept. A
// shared call is a singleflight with a context of its own: it keeps the
// values (trace context) of the caller that started it, lives as long as
// some caller still waits for it, up to the latest deadline among them (or
// none, when one of them has none), and is canceled when the last waiter
// leaves. Each caller waits with its own context and gives up at its own
// deadline, without ending the call for the others. Make one cache per run:
// the executor knows nothing of HTTP, so the cache travels in the context.
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
	mu      sync.Mutex
	answers map[string]*Response
	flights map[string]*flight
}

// flight is a call under way and the callers waiting for it.
type flight struct {
	ctx     *flightContext
	waiters int // guarded by requestCache.mu
	done    chan struct{}
	resp    *Response // set before done is closed
	err     error
}

func (c *requestCache) do(ctx context.Context, u *Upstream, p *prepared) (*Response, error) {
	if err := ctx.Err(); err != nil {
		return nil, u.errorf(p, 0, 0, context.Cause(ctx))
	}
	key := p.cacheKey(u.name)
	c.mu.Lock()
	if resp, ok := c.answers[key]; ok {
		c.mu.Unlock()
		u.stats.cacheHits.Add(1)
		return resp, nil
	}
	f := c.flights[key]
	if f != nil && f.ctx.join(ctx) {
		u.stats.cacheHits.Add(1)
	} else {
		f = &flight{ctx: newFlightContext(ctx), done: make(chan struct{})}
		c.flights[key] = f
		u.legs.Add(1)
		go c.fly(u, p, key, f)
	}
	f.waiters++
	c.mu.Unlock()

	select {
	case <-f.done:
		c.leave(key, f)
		if f.err != nil {
			return nil, withNode(f.err, p.node)
		}
		return f.resp, nil
	case <-ctx.Done():
		c.leave(key, f)
		return nil, u.errorf(p, 0, 0, context.Cause(ctx))
	}
}

// fly makes the shared call and hands its outcome to the waiters.
func (c *requestCache) fly(u *Upstream, p *prepared, key string, f *flight) {
	defer u.legs.Done()
	resp, err := u.call(f.ctx, p)
	f.ctx.cancel(context.Canceled)
	c.mu.Lock()
	if err == nil {
		c.answers[key] = resp
	}
	if c.flights[key] == f {
		delete(c.flights, key)
	}
	f.resp, f.err = resp, err
	c.mu.Unlock()
	close(f.done)
}

// leave drops a waiter; the last one out cancels the call if it still runs.
func (c *requestCache) leave(key string, f *flight) {
	c.mu.Lock()
	defer c.mu.Unlock()
	f.waiters--
	if f.waiters > 0 {
		return
	}
	f.ctx.cancel(context.Canceled)
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

// flightContext is the context of a shared call: the values of the caller
// that started it, none of its cancellation, and a deadline that each
// caller joining the call may push later.
type flightContext struct {
	context.Context // values only (context.WithoutCancel)

	mu       sync.Mutex
	deadline time.Time // zero: none
	timer    *time.Timer
	done     chan struct{}
	err      error
}

func newFlightContext(ctx context.Context) *flightContext {
	f := &flightContext{Context: context.WithoutCancel(ctx), done: make(chan struct{})}
	if d, ok := ctx.Deadline(); ok {
		f.mu.Lock() // the timer may fire before it is stored
		f.deadline = d
		f.timer = time.AfterFunc(time.Until(d), f.expire)
		f.mu.Unlock()
	}
	return f
}

// join extends the call's deadline to ctx's, if later (or drops it, if
// ctx has none), and reports whether the call is still live to be joined.
func (f *flightContext) join(ctx context.Context) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return false
	}
	if f.deadline.IsZero() {
		return true
	}
	d, ok := ctx.Deadline()
	switch {
	case !ok:
		f.deadline = time.Time{}
		f.timer.Stop()
	case d.After(f.deadline):
		f.deadline = d
		f.timer.Reset(time.Until(d))
	}
	return true
}

// expire ends the call when its deadline has passed; a timer that fired
// just before a joiner pushed the deadline later finds it has not.
func (f *flightContext) expire() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.deadline.IsZero() || time.Now().Before(f.deadline) {
		return
	}
	f.end(context.DeadlineExceeded)
}

func (f *flightContext) cancel(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.end(err)
}

func (f *flightContext) end(err error) {
	if f.err != nil {
		return
	}
	f.err = err
	if f.timer != nil {
		f.timer.Stop()
	}
	close(f.done)
}

// Deadline returns the latest deadline of the callers so far.
func (f *flightContext) Deadline() (time.Time, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.deadline, !f.deadline.IsZero()
}

// Done is closed when the call ends, its deadline passes or its last
// waiter leaves.
func (f *flightContext) Done() <-chan struct{} { return f.done }

// Err returns context.DeadlineExceeded or context.Canceled once Done is
// closed.
func (f *flightContext) Err() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.err
}
