package spec

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/sony/gobreaker/v2"
)

// request is one call of an http node, ready to send.
type request struct {
	node   string
	method string
	target string // path and query, appended to the upstream's base URL
	body   []byte // JSON; nil for none
}

// caller sends the requests of http nodes to one upstream and decodes the
// JSON answers. It is the one seam between the spec and the HTTP machinery.
type caller interface {
	call(ctx context.Context, req request) (any, error)
}

// maxBody bounds the size of an upstream's answer.
const maxBody = 8 << 20

// StatusError is the error of a call whose upstream answered with an HTTP
// error status.
type StatusError struct {
	Upstream string
	Code     int
	// Body is the start of the answer, for the message.
	Body string
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("upstream %s answered %d %s: %s", e.Upstream, e.Code, http.StatusText(e.Code), e.Body)
}

// retryable reports whether an http node's error is worth another try:
// connection errors, 5xx and 429, never a context error, a 4xx or a body
// that is not JSON.
func retryable(err error) bool {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, gobreaker.ErrOpenState) {
		return false
	}
	var se *StatusError
	if errors.As(err, &se) {
		return se.Code >= 500 || se.Code == http.StatusTooManyRequests
	}
	var de *decodeError
	return !errors.As(err, &de)
}

type decodeError struct {
	upstream string
	err      error
}

func (e *decodeError) Error() string {
	return fmt.Sprintf("upstream %s: answer is not JSON: %v", e.upstream, e.err)
}
func (e *decodeError) Unwrap() error { return e.err }

// netCaller is the spec's own small HTTP/JSON client: one request per call
// on net/http, a gobreaker circuit breaker per upstream and an optional
// hedge. Retries are the executor's (graph.RetryPolicy), which never start
// one past the node's deadline.
//
// INTERIM: package fetchers (retryablehttp, shared breakers, throttled
// hedges, request cache) replaces this client once it is on main; only
// newCaller changes.
type netCaller struct {
	upstream string
	base     string
	client   *http.Client
	breaker  *gobreaker.CircuitBreaker[any]
	hedge    time.Duration
}

func newNetCaller(name, base string, client *http.Client, p policies) *netCaller {
	c := &netCaller{upstream: name, base: base, client: client}
	if p.Breaker != nil {
		failures := uint32(p.Breaker.Failures)
		c.breaker = gobreaker.NewCircuitBreaker[any](gobreaker.Settings{
			Name:        name,
			Timeout:     time.Duration(p.Breaker.OpenFor),
			ReadyToTrip: func(cn gobreaker.Counts) bool { return cn.ConsecutiveFailures >= failures },
			// A caller that gave up (its deadline) says nothing of the upstream's health.
			IsSuccessful: func(err error) bool {
				return err == nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
			},
		})
	}
	if p.Hedge != nil {
		c.hedge = time.Duration(p.Hedge.After)
	}
	return c
}

func (c *netCaller) call(ctx context.Context, req request) (any, error) {
	if c.breaker == nil {
		return c.hedged(ctx, req)
	}
	v, err := c.breaker.Execute(func() (any, error) { return c.hedged(ctx, req) })
	if errors.Is(err, gobreaker.ErrOpenState) || errors.Is(err, gobreaker.ErrTooManyRequests) {
		return nil, fmt.Errorf("upstream %s: circuit open: %w", c.upstream, err)
	}
	return v, err
}

// hedged sends req and, when no answer came after the hedge delay, one
// backup; the first success wins and the other is cancelled.
func (c *netCaller) hedged(ctx context.Context, req request) (any, error) {
	if c.hedge <= 0 {
		return c.once(ctx, req)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type answer struct {
		v   any
		err error
	}
	answers := make(chan answer, 2) // buffered: the loser never blocks
	send := func() {
		v, err := c.once(ctx, req)
		answers <- answer{v, err}
	}
	go send()
	timer := time.NewTimer(c.hedge)
	defer timer.Stop()
	inflight := 1
	var last error
	for {
		select {
		case <-timer.C:
			if inflight == 1 {
				inflight++
				go send()
			}
		case a := <-answers:
			inflight--
			if a.err == nil {
				return a.v, nil
			}
			last = a.err
			if inflight == 0 {
				return nil, last
			}
		}
	}
}

func (c *netCaller) once(ctx context.Context, req request) (any, error) {
	var body io.Reader
	if req.body != nil {
		body = bytes.NewReader(req.body)
	}
	hr, err := http.NewRequestWithContext(ctx, req.method, c.base+req.target, body)
	if err != nil {
		return nil, fmt.Errorf("upstream %s: %w", c.upstream, err)
	}
	hr.Header.Set("Accept", "application/json")
	if req.body != nil {
		hr.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.client.Do(hr)
	if err != nil {
		return nil, fmt.Errorf("upstream %s: %w", c.upstream, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	if err != nil {
		return nil, fmt.Errorf("upstream %s: reading the answer: %w", c.upstream, err)
	}
	if resp.StatusCode >= 400 {
		snippet := string(data)
		if len(snippet) > 200 {
			snippet = snippet[:200] + "..."
		}
		return nil, &StatusError{Upstream: c.upstream, Code: resp.StatusCode, Body: snippet}
	}
	if len(data) > maxBody {
		return nil, &decodeError{c.upstream, fmt.Errorf("answer larger than %d bytes", maxBody)}
	}
	var v any
	if err := json.Unmarshal(data, &v); err != nil {
		return nil, &decodeError{c.upstream, err}
	}
	return v, nil
}
