package fetchers

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-retryablehttp"
	"github.com/sony/gobreaker/v2"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/propagation"

	"github.com/featgraph/featgraph/internal/hedge"
	"github.com/featgraph/featgraph/timeouts"
)

// DeadlineHeader is the request header that tells the upstream how many
// milliseconds the caller still waits for this attempt, so that it can give
// up on work nobody will read.
const DeadlineHeader = "X-Request-Deadline-Ms"

// Defaults of an Upstream.
const (
	DefaultMaxBodyBytes = 1 << 20
	DefaultAttempts     = 3
	DefaultRetryWaitMin = 5 * time.Millisecond
	DefaultRetryWaitMax = 200 * time.Millisecond
	// DefaultMinAttempt is the least time an attempt must have left for a
	// retry to start, before enough latencies are known to use the median.
	DefaultMinAttempt = time.Millisecond
)

// Upstream is one upstream service, shared by every run: its base URL, an
// HTTP client with retries (go-retryablehttp), a circuit breaker
// (gobreaker), a hedging policy, hooks that every request goes through, and
// live statistics. It is safe for concurrent use. Close it when done.
type Upstream struct {
	name string
	base *url.URL

	client    *retryablehttp.Client
	transport http.RoundTripper // what the breaker wraps
	owned     *http.Transport   // closed by Close when the Upstream made it
	breaker   *gobreaker.TwoStepCircuitBreaker[struct{}]

	hedge       timeouts.HedgePolicy
	hedgeBudget *hedge.Budget

	hooks      []func(*http.Request) error
	redirects  RedirectPolicy
	propagator propagation.TextMapPropagator
	maxBody    int64
	retries    int
	minAttempt time.Duration
	breakerSet *gobreaker.Settings

	stats   counters
	latency *latencyRing // successful legs: hedge delays, Stats
	// attemptTimes holds the durations of attempts however they ended
	// (answers of any status, transport errors, timeouts): retry floors.
	attemptTimes *latencyRing
	legs         sync.WaitGroup // hedge legs that may outlive their call
}

// Option configures an Upstream.
type Option func(*Upstream) error

// NewUpstream returns the Upstream called name at baseURL: an absolute
// http or https URL with a host, and an optional path prefix; a base URL
// with another scheme, no host, a query or a fragment is an error. Userinfo
// in it is sent as basic auth and never shown in errors.
func NewUpstream(name, baseURL string, opts ...Option) (*Upstream, error) {
	if name == "" {
		return nil, errors.New("fetchers: an upstream needs a name")
	}
	base, err := url.Parse(baseURL)
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Hostname() == "" {
		return nil, fmt.Errorf("fetchers: upstream %q: base URL %q is not an absolute http or https URL with a host", name, Redact(baseURL))
	}
	if base.RawQuery != "" || base.Fragment != "" || base.ForceQuery {
		return nil, fmt.Errorf("fetchers: upstream %q: base URL %q has a query or fragment (give query values per request)", name, Redact(baseURL))
	}
	u := &Upstream{
		name:         name,
		base:         base,
		redirects:    RedirectPolicy{MaxHops: DefaultMaxRedirects},
		maxBody:      DefaultMaxBodyBytes,
		retries:      DefaultAttempts - 1,
		minAttempt:   DefaultMinAttempt,
		latency:      newLatencyRing(latencyWindow),
		attemptTimes: newLatencyRing(latencyWindow),
	}
	u.client = &retryablehttp.Client{
		RetryWaitMin:   DefaultRetryWaitMin,
		RetryWaitMax:   DefaultRetryWaitMax,
		CheckRetry:     u.checkRetry,
		Backoff:        retryablehttp.DefaultBackoff,
		RequestLogHook: u.beforeAttempt,
		ErrorHandler:   retryablehttp.PassthroughErrorHandler,
	}
	for _, opt := range opts {
		if opt == nil {
			continue
		}
		if err := opt(u); err != nil {
			return nil, fmt.Errorf("fetchers: upstream %q: %w", name, err)
		}
	}
	if u.transport == nil {
		u.owned = newTransport()
		u.transport = u.owned
	}
	u.client.RetryMax = u.retries
	settings := gobreaker.Settings{}
	if u.breakerSet != nil {
		settings = *u.breakerSet
	}
	settings.Name = name
	if settings.IsExcluded == nil {
		// A call canceled by its caller (or a hedge that lost) says nothing
		// about the upstream's health.
		settings.IsExcluded = func(err error) bool { return errors.Is(err, context.Canceled) }
	}
	u.breaker = gobreaker.NewTwoStepCircuitBreaker[struct{}](settings)
	u.hedgeBudget = hedge.For(u.hedge)
	// The client sees a transport without CloseIdleConnections on purpose:
	// retryablehttp closes the idle connections of its client after every
	// failed call, which for a shared Upstream would drop the warm pool of
	// every concurrent run each time one hedge loses.
	u.client.HTTPClient = &http.Client{Transport: breakerTransport{u}, CheckRedirect: u.checkRedirect}
	return u, nil
}

func newTransport() *http.Transport {
	return &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          256,
		MaxIdleConnsPerHost:   64,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   5 * time.Second,
		ExpectContinueTimeout: time.Second,
	}
}

// Name returns the upstream's name, as errors, stats and pictures show it.
func (u *Upstream) Name() string { return u.name }

// Close waits for the hedged requests still being canceled and the shared
// calls of request caches still under way (each ends at its latest
// caller's deadline, or when its last caller leaves), then closes the idle
// connections of the transport the Upstream made. It does not
// close a transport given with WithTransport.
func (u *Upstream) Close() {
	u.legs.Wait()
	if u.owned != nil {
		u.owned.CloseIdleConnections()
	}
}

// WithTransport makes the Upstream send its requests through rt (for a
// custom TLS setup, an instrumented transport, a test double). The caller
// keeps ownership of rt.
func WithTransport(rt http.RoundTripper) Option {
	return func(u *Upstream) error {
		if rt == nil {
			return errors.New("WithTransport needs a transport")
		}
		u.transport = rt
		return nil
	}
}

// WithAttempts sets how many attempts a call may make in all (1 for no
// retry; the default is DefaultAttempts) and the exponential backoff between
// them, from minWait doubling up to maxWait. Like nodes.Retry, it counts
// tries, not retries. A 429 or 503 answer's Retry-After header overrides the
// backoff; one longer than maxWait is not waited for: the call fails at once
// with ErrRetryBudget. Only idempotent requests are retried (see
// Request.Idempotent), and never when the wait and one more attempt no
// longer fit the deadline.
func WithAttempts(attempts int, minWait, maxWait time.Duration) Option {
	return func(u *Upstream) error {
		if attempts < 1 || minWait < 0 || maxWait < minWait {
			return fmt.Errorf("WithAttempts(%d, %v, %v): need attempts >= 1 and 0 <= minWait <= maxWait", attempts, minWait, maxWait)
		}
		u.retries = attempts - 1
		u.client.RetryWaitMin, u.client.RetryWaitMax = minWait, maxWait
		return nil
	}
}

// WithMinAttempt sets the least time an attempt must have left before its
// deadline for a retry to start. Once enough attempts were seen, their
// observed median duration is used when it is larger (failed and timed-out
// attempts count too, so an upstream that always fails slowly is not
// retried into a timeout).
func WithMinAttempt(d time.Duration) Option {
	return func(u *Upstream) error {
		if d < 0 {
			return fmt.Errorf("WithMinAttempt(%v): negative", d)
		}
		u.minAttempt = d
		return nil
	}
}

// WithBreaker sets the circuit breaker's settings (trip rule, open period,
// half-open probes). Name is always the upstream's name; a nil IsExcluded
// ignores canceled calls. Without it, gobreaker's defaults apply: open after
// more than 5 consecutive failures, half-open after 60 s.
func WithBreaker(s gobreaker.Settings) Option {
	return func(u *Upstream) error {
		u.breakerSet = &s
		return nil
	}
}

// WithHedging sets when idempotent calls send a backup request (see
// timeouts.HedgePolicy). Hedges pause while the breaker is not closed.
func WithHedging(p timeouts.HedgePolicy) Option {
	return func(u *Upstream) error {
		if p.Quantile < 0 || p.Quantile >= 1 || p.Delay < 0 || p.MaxExtra < 0 || p.MaxExtra > 1 {
			return fmt.Errorf("WithHedging: invalid policy %+v", p)
		}
		u.hedge = p
		return nil
	}
}

// WithRequestHook adds fn, called on every request before it is first
// sent (and on every hedge): to add an auth token, fixed headers, a
// signature. An error from fn fails the call without sending it.
func WithRequestHook(fn func(*http.Request) error) Option {
	return func(u *Upstream) error {
		if fn == nil {
			return errors.New("WithRequestHook needs a function")
		}
		u.hooks = append(u.hooks, fn)
		return nil
	}
}

// WithHeader sets a fixed header on every request.
func WithHeader(key, value string) Option {
	return WithRequestHook(func(r *http.Request) error {
		r.Header.Set(key, value)
		return nil
	})
}

// WithBearerToken adds "Authorization: Bearer <token>" to every request,
// asking token for it each time (so a token source may refresh it).
func WithBearerToken(token func(ctx context.Context) (string, error)) Option {
	return WithRequestHook(func(r *http.Request) error {
		t, err := token(r.Context())
		if err != nil {
			return fmt.Errorf("auth token: %w", err)
		}
		r.Header.Set("Authorization", "Bearer "+t)
		return nil
	})
}

// WithPropagator sets how the trace context travels to the upstream.
// Without it the global otel propagator is used (a no-op until the program
// sets one, e.g. otel.SetTextMapPropagator(propagation.TraceContext{})).
func WithPropagator(p propagation.TextMapPropagator) Option {
	return func(u *Upstream) error {
		u.propagator = p
		return nil
	}
}

// WithMaxBodyBytes bounds the size of a response body; a larger one fails
// the call with ErrTooLarge.
func WithMaxBodyBytes(n int64) Option {
	return func(u *Upstream) error {
		if n <= 0 {
			return fmt.Errorf("WithMaxBodyBytes(%d): not positive", n)
		}
		u.maxBody = n
		return nil
	}
}

func (u *Upstream) textMapPropagator() propagation.TextMapPropagator {
	if u.propagator != nil {
		return u.propagator
	}
	return otel.GetTextMapPropagator()
}

// resolve returns the URL of path (escaped and checked) with query under
// the base URL.
func (u *Upstream) resolve(path string, query url.Values) string {
	ref := *u.base
	ref.RawPath = strings.TrimSuffix(u.base.EscapedPath(), "/") + "/" + strings.TrimPrefix(path, "/")
	ref.Path, _ = url.PathUnescape(ref.RawPath) // checked by escapedPath
	ref.RawQuery = query.Encode()
	return ref.String()
}

// shownURL is the URL of a templated path as errors show it: the upstream's
// origin and base path, the template as written, the query with its values
// redacted.
func (u *Upstream) shownURL(template string, query url.Values) string {
	s := u.base.Scheme + "://" + u.base.Host + strings.TrimSuffix(u.base.EscapedPath(), "/") + "/" + strings.TrimPrefix(template, "/")
	if len(query) > 0 {
		s += "?" + Redact("?" + query.Encode())[1:]
	}
	return s
}
