package serve

import (
	"context"
	"net/http"
	"strconv"
	"sync"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"
)

// Metric names of the Server (besides the executor's run and node metrics).
const (
	MetricRequestDuration = "http.server.request.duration"
	MetricShed            = "featgraph.serve.shed"
	MetricInFlight        = "featgraph.serve.in_flight"
)

type httpMetrics struct {
	duration metric.Float64Histogram
	shed     metric.Int64Counter
	reg      metric.Registration
	attrs    sync.Map // attrKey -> metric.MeasurementOption
}

type attrKey struct {
	method, route string
	code          int
}

func newHTTPMetrics(mp metric.MeterProvider, s *Server) (*httpMetrics, error) {
	meter := mp.Meter(ScopeName)
	m := &httpMetrics{}
	var err error
	if m.duration, err = meter.Float64Histogram(MetricRequestDuration, metric.WithUnit("s"),
		metric.WithDescription("Duration of HTTP requests answered by featgraph serve."),
		metric.WithExplicitBucketBoundaries(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)); err != nil {
		return nil, err
	}
	if m.shed, err = meter.Int64Counter(MetricShed,
		metric.WithDescription("Requests answered 429 because too many runs were in flight.")); err != nil {
		return nil, err
	}
	inFlight, err := meter.Int64ObservableGauge(MetricInFlight,
		metric.WithDescription("Decide and decide-batch requests being answered."))
	if err != nil {
		return nil, err
	}
	if m.reg, err = meter.RegisterCallback(func(_ context.Context, o metric.Observer) error {
		o.ObserveInt64(inFlight, s.inFlight.Load())
		return nil
	}, inFlight); err != nil {
		return nil, err
	}
	return m, nil
}

func (m *httpMetrics) close() {
	if m.reg != nil {
		_ = m.reg.Unregister() // only fails for a callback already gone
	}
}

// knownMethod bounds the methods named in spans and metrics: any other is
// _OTHER, so that a hostile client cannot make new series.
func knownMethod(m string) string {
	switch m {
	case http.MethodGet, http.MethodPost, http.MethodHead, http.MethodPut, http.MethodDelete,
		http.MethodOptions, http.MethodPatch:
		return m
	}
	return "_OTHER"
}

func (m *httpMetrics) request(ctx context.Context, method, route string, code int, start int64) {
	k := attrKey{knownMethod(method), route, code}
	opt, ok := m.attrs.Load(k)
	if !ok {
		opt, _ = m.attrs.LoadOrStore(k, metric.WithAttributeSet(attribute.NewSet(
			attribute.String("http.request.method", k.method),
			attribute.String("http.route", route),
			attribute.Int("http.response.status_code", code))))
	}
	m.duration.Record(ctx, float64(nowNano()-start)/1e9, opt.(metric.MeasurementOption))
}

var epoch = time.Now()

// nowNano is a monotonic clock reading.
func nowNano() int64 { return int64(time.Since(epoch)) }

func endSpan(span trace.Span, code int) {
	if span.IsRecording() {
		span.SetAttributes(attribute.Int("http.response.status_code", code))
		if code >= 500 {
			span.SetStatus(codes.Error, strconv.Itoa(code)+" "+http.StatusText(code))
		}
	}
	span.End()
}
