package serve

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

// Option configures a Server.
type Option func(*config) error

type config struct {
	tokens          [][32]byte // sha256 of each accepted bearer token
	authSet         bool
	maxBody         int64
	maxInFlight     int
	maxBatch        int
	batchParallel   int
	defaultDeadline time.Duration
	retryAfter      time.Duration
	metrics         http.Handler
	tp              trace.TracerProvider
	mp              metric.MeterProvider
	prop            propagation.TextMapPropagator
	logger          *slog.Logger
	observers       []RunObserver
	recent          int
}

func defaults() config {
	return config{
		maxBody:         1 << 20,
		maxInFlight:     256,
		maxBatch:        1000,
		batchParallel:   runtime.GOMAXPROCS(0) * 4,
		defaultDeadline: time.Second,
		retryAfter:      time.Second,
		recent:          5,
	}
}

// WithTokens makes every endpoint but /healthz and /readyz require
// "Authorization: Bearer TOKEN" with one of tokens, compared in constant
// time. Empty tokens are an error. Without it the Server asks for no token.
func WithTokens(tokens ...string) Option {
	return func(c *config) error {
		if len(tokens) == 0 {
			return errors.New("serve: WithTokens: no token")
		}
		for i, t := range tokens {
			if t == "" {
				return fmt.Errorf("serve: WithTokens: token %d is empty", i+1)
			}
			c.tokens = append(c.tokens, hashToken(t))
		}
		c.authSet = true
		return nil
	}
}

// WithMaxBodyBytes limits a request's body (default 1 MiB); a larger one is
// answered 413.
func WithMaxBodyBytes(n int64) Option {
	return func(c *config) error {
		if n <= 0 {
			return fmt.Errorf("serve: WithMaxBodyBytes(%d): want > 0", n)
		}
		c.maxBody = n
		return nil
	}
}

// WithMaxInFlight bounds the decide and decide-batch requests being
// answered at once (default 256); one more is answered 429 at once, with
// Retry-After, without reading its body.
func WithMaxInFlight(n int) Option {
	return func(c *config) error {
		if n <= 0 {
			return fmt.Errorf("serve: WithMaxInFlight(%d): want > 0", n)
		}
		c.maxInFlight = n
		return nil
	}
}

// WithRetryAfter sets the Retry-After of a 429 (default 1s; rounded up to
// whole seconds, as the header counts seconds).
func WithRetryAfter(d time.Duration) Option {
	return func(c *config) error {
		if d <= 0 {
			return fmt.Errorf("serve: WithRetryAfter(%v): want > 0", d)
		}
		c.retryAfter = d
		return nil
	}
}

// WithBatch sets the most rows a decide-batch may carry (default 1000) and
// how many of a batch's rows run at once (default 4 × GOMAXPROCS).
func WithBatch(maxRows, parallel int) Option {
	return func(c *config) error {
		if maxRows <= 0 || parallel <= 0 {
			return fmt.Errorf("serve: WithBatch(%d, %d): want both > 0", maxRows, parallel)
		}
		c.maxBatch, c.batchParallel = maxRows, parallel
		return nil
	}
}

// WithDefaultDeadline is the run deadline of graphs that declare none
// (default 1s). A caller's X-Request-Deadline-Ms can only shorten it.
func WithDefaultDeadline(d time.Duration) Option {
	return func(c *config) error {
		if d <= 0 {
			return fmt.Errorf("serve: WithDefaultDeadline(%v): want > 0", d)
		}
		c.defaultDeadline = d
		return nil
	}
}

// WithMetricsHandler serves h at GET /metrics (behind the same auth), such
// as the handler of an OpenTelemetry Prometheus exporter whose
// MeterProvider is given to WithMeterProvider.
func WithMetricsHandler(h http.Handler) Option {
	return func(c *config) error {
		c.metrics = h
		return nil
	}
}

// WithTracerProvider sets where the request and run spans go (default: the
// global provider).
func WithTracerProvider(tp trace.TracerProvider) Option {
	return func(c *config) error {
		c.tp = tp
		return nil
	}
}

// WithMeterProvider sets where the HTTP and run metrics go (default: the
// global provider).
func WithMeterProvider(mp metric.MeterProvider) Option {
	return func(c *config) error {
		c.mp = mp
		return nil
	}
}

// WithPropagator sets how incoming trace context is read (default: the
// global propagator; propagation.TraceContext{} reads W3C traceparent).
func WithPropagator(p propagation.TextMapPropagator) Option {
	return func(c *config) error {
		c.prop = p
		return nil
	}
}

// WithLogger sets where failures of the server itself (a panic in an
// observer, an answer that could not be written) are logged (default:
// slog.Default()). Tokens and inputs are never logged.
func WithLogger(l *slog.Logger) Option {
	return func(c *config) error {
		c.logger = l
		return nil
	}
}

// WithRecentRuns sets how many runs of each kind (slowest, with fallbacks,
// with errors) the debug page keeps per graph (default 5; 0 keeps none).
func WithRecentRuns(n int) Option {
	return func(c *config) error {
		if n < 0 {
			return fmt.Errorf("serve: WithRecentRuns(%d): want >= 0", n)
		}
		c.recent = n
		return nil
	}
}

func (c *config) fill() {
	if c.tp == nil {
		c.tp = otel.GetTracerProvider()
	}
	if c.mp == nil {
		c.mp = otel.GetMeterProvider()
	}
	if c.prop == nil {
		c.prop = otel.GetTextMapPropagator()
	}
	if c.logger == nil {
		c.logger = slog.Default()
	}
}
