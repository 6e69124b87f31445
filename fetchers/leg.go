package fetchers

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/hashicorp/go-retryablehttp"
	"go.opentelemetry.io/otel/propagation"

	"github.com/featgraph/featgraph/internal/deadline"
)

// legState follows one leg (a request and its retries) through
// retryablehttp's hooks, which see only the request's context.
type legState struct {
	u       *Upstream
	p       *prepared
	repeat  bool
	attempt int   // index of the attempt under way, 0 for the first
	stopped error // why a retryable failure was not retried

	status   int
	header   http.Header
	body     []byte
	bodyRead bool
}

type legStateKey struct{}

func legStateFrom(ctx context.Context) *legState {
	st, _ := ctx.Value(legStateKey{}).(*legState)
	return st
}

// leg sends p with retries and reads the answer.
func (u *Upstream) leg(ctx context.Context, p *prepared) (*Response, error) {
	st := &legState{u: u, p: p, repeat: p.repeat}
	ctx = context.WithValue(ctx, legStateKey{}, st)
	var body any
	if p.body != nil {
		body = p.body
	}
	req, err := retryablehttp.NewRequestWithContext(ctx, p.method, p.url, body)
	if err != nil {
		return nil, u.errorf(p, 0, 0, fmt.Errorf("%w: %w", ErrBadRequest, err))
	}
	for k, vs := range p.header {
		req.Header[k] = append([]string(nil), vs...)
	}
	if req.Header.Get("Accept") == "" {
		req.Header.Set("Accept", "application/json")
	}
	if p.body != nil && req.Header.Get("Content-Type") == "" {
		req.Header.Set("Content-Type", "application/json")
	}
	u.textMapPropagator().Inject(ctx, propagation.HeaderCarrier(req.Header))
	for _, hook := range u.hooks {
		if err := callHook(hook, req.Request); err != nil {
			return nil, u.errorf(p, 0, 0, fmt.Errorf("%w: request hook: %w", ErrBadRequest, redactError(err, p.url, p.shown)))
		}
	}
	req.SetResponseHandler(st.readBody)

	start := time.Now()
	resp, err := u.client.Do(req)
	attempts := st.attempt + 1
	if resp != nil && !st.bodyRead {
		// A retryable status on the last attempt: keep an excerpt for the error.
		st.status = resp.StatusCode
		head, _ := io.ReadAll(io.LimitReader(resp.Body, excerptBytes))
		st.body = head
		resp.Body.Close()
	}
	// Transport errors name the URL: keep its query values and userinfo
	// out of every error, cause and log made from them.
	err = redactError(err, p.url, p.shown)
	switch {
	case err != nil:
		if st.stopped != nil {
			err = st.stopped
		}
		if ctxErr := ctx.Err(); ctxErr != nil && !errors.Is(err, ctxErr) {
			err = fmt.Errorf("%w: %w", ctxErr, err)
		}
		e := u.errorf(p, st.status, attempts, err)
		if !errors.Is(err, ErrTruncated) && !errors.Is(err, ErrTooLarge) {
			e.Detail = excerpt(st.body)
		}
		return nil, e
	case st.status < 200 || st.status > 299:
		var cause error = ErrStatus
		if st.stopped != nil {
			cause = st.stopped
		}
		e := u.errorf(p, st.status, attempts, cause)
		e.Detail = excerpt(st.body)
		return nil, e
	}
	u.latency.observe(time.Since(start))
	return &Response{Status: st.status, Header: st.header, Body: st.body}, nil
}

// callHook calls a request hook, turning its panic into an error: hooks
// may run on a hedge's or a shared call's goroutine, where a panic would
// end the process.
func callHook(hook func(*http.Request) error, r *http.Request) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("panic: %v", v)
		}
	}()
	return hook(r)
}

const excerptBytes = 256

func excerpt(b []byte) string {
	if len(b) > excerptBytes {
		b = b[:excerptBytes]
	}
	return string(b)
}

// readBody reads a final answer's body within the size limit. It runs
// inside retryablehttp's loop, so that a body cut short by the network is
// retried like any transport error.
func (st *legState) readBody(resp *http.Response) error {
	defer resp.Body.Close()
	st.status, st.header, st.bodyRead = resp.StatusCode, resp.Header, true
	limit := st.u.maxBody
	if resp.ContentLength > limit {
		return fmt.Errorf("%w: Content-Length %d exceeds the %d-byte limit", ErrTooLarge, resp.ContentLength, limit)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	st.body = body
	if err != nil {
		if ctxErr := resp.Request.Context().Err(); ctxErr != nil {
			return fmt.Errorf("reading body: %w", ctxErr)
		}
		return fmt.Errorf("%w after %d bytes: %w", ErrTruncated, len(body), err)
	}
	if int64(len(body)) > limit {
		st.body = nil
		return fmt.Errorf("%w: more than %d bytes", ErrTooLarge, limit)
	}
	return nil
}

// beforeAttempt runs before every attempt of a leg (retryablehttp's request
// hook): it counts the attempt and tells the upstream the time left.
func (u *Upstream) beforeAttempt(_ retryablehttp.Logger, req *http.Request, attempt int) {
	u.stats.attempts.Add(1)
	if attempt > 0 {
		u.stats.retries.Add(1)
		// The previous attempt's request may still be read by the
		// transport's writer; give this one its own headers.
		req.Header = req.Header.Clone()
	}
	if st := legStateFrom(req.Context()); st != nil {
		st.attempt = attempt
	}
	if left, ok := deadline.Remaining(req.Context(), time.Now()); ok {
		req.Header.Set(DeadlineHeader, strconv.FormatInt(left.Milliseconds(), 10))
	}
}
