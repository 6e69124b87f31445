package executor

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/featgraph/featgraph/graph"
	"github.com/featgraph/featgraph/internal/graphx"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"
	tracenoop "go.opentelemetry.io/otel/trace/noop"
)

// ScopeName is the OpenTelemetry instrumentation scope of the executor's
// spans and metrics.
const ScopeName = "github.com/featgraph/featgraph/executor"

// Span and metric attribute keys.
const (
	AttrNode          = attribute.Key("featgraph.node")
	AttrKind          = attribute.Key("featgraph.node.kind")
	AttrOutcome       = attribute.Key("featgraph.node.outcome")
	AttrAttempts      = attribute.Key("featgraph.node.attempts")
	AttrFallbackCause = attribute.Key("featgraph.node.fallback_cause")
	AttrBranch        = attribute.Key("featgraph.node.branch")
	AttrUpstream      = attribute.Key("featgraph.node.upstream")
	AttrSource        = attribute.Key("featgraph.node.source") // fresh, stale, fetched: see NodeResult.Source
	AttrRunOutcome    = attribute.Key("featgraph.run.outcome")
	AttrCriticalPath  = attribute.Key("featgraph.run.critical_path")
	AttrNodesRun      = attribute.Key("featgraph.run.nodes_run")
)

// Metric and span names.
const (
	MetricNodeDuration = "featgraph.node.duration"
	MetricNodeOutcomes = "featgraph.node.outcomes"
	MetricRunDuration  = "featgraph.run.duration"
	SpanRun            = "featgraph.run"
)

// unsetGlobalTracerProvider is the global tracer provider as it is before
// anyone sets one: the API's delegating no-op. While it is still the global
// one, runs start no span at all, so that an Executor with default options
// costs nothing (not even an allocation) in a process without an SDK.
var unsetGlobalTracerProvider = func() trace.TracerProvider {
	tp := otel.GetTracerProvider()
	if fmt.Sprintf("%T", tp) != "*global.tracerProvider" {
		return nil // someone set a real provider before this package's init
	}
	return tp
}()

// durationBuckets suit fetch and run latencies, in seconds: 0.5 ms to 5 s.
var durationBuckets = []float64{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5}

// observer holds an Executor's OpenTelemetry instruments.
//
// The run span is started before the run. When it is recording, each
// blocking node's span is started as the node starts, so that its body finds
// it in its context and propagates it downstream; every other node's span is
// written after the run from the recorded start and end times, and all get
// their outcome then. Metrics too are recorded after the run. With no-op
// providers a run costs two pointer comparisons and two Enabled calls.
type observer struct {
	tracerProvider trace.TracerProvider // set by WithTracerProvider
	meterProvider  metric.MeterProvider // set by WithMeterProvider

	tracer       trace.Tracer // nil: tracing off
	globalTracer bool         // tracer comes from the global provider

	nodeDuration metric.Float64Histogram
	nodeOutcomes metric.Int64Counter
	runDuration  metric.Float64Histogram
	runAttrs     [2]measureOptions // ok, error

	attrsOnce sync.Once
	attrs     []atomic.Pointer[measureOptions] // per node and outcome, made on first use
}

// measureOptions are the attributes of one measurement, ready to pass to
// Add and Record without allocating.
type measureOptions struct {
	add []metric.AddOption
	rec []metric.RecordOption
}

func newMeasureOptions(kv ...attribute.KeyValue) measureOptions {
	opt := metric.WithAttributeSet(attribute.NewSet(kv...))
	return measureOptions{add: []metric.AddOption{opt}, rec: []metric.RecordOption{opt}}
}

const numOutcomes = int(OutcomeCanceled) + 1

// WithTracerProvider makes runs write spans to tp instead of the global
// tracer provider (otel.GetTracerProvider). A no-op provider turns spans off.
func WithTracerProvider(tp trace.TracerProvider) Option {
	return func(e *Executor) error {
		if tp == nil {
			return invalidRun("nil tracer provider")
		}
		e.obs.tracerProvider = tp
		return nil
	}
}

// WithMeterProvider makes runs record metrics with mp instead of the global
// meter provider (otel.GetMeterProvider).
func WithMeterProvider(mp metric.MeterProvider) Option {
	return func(e *Executor) error {
		if mp == nil {
			return invalidRun("nil meter provider")
		}
		e.obs.meterProvider = mp
		return nil
	}
}

// init makes the tracer and the instruments, once the options are applied.
func (o *observer) init() error {
	switch tp := o.tracerProvider.(type) {
	case nil:
		o.tracer, o.globalTracer = otel.GetTracerProvider().Tracer(ScopeName), true
	case tracenoop.TracerProvider:
	default:
		o.tracer = tp.Tracer(ScopeName)
	}
	mp := o.meterProvider
	if mp == nil {
		mp = otel.GetMeterProvider()
	}
	meter := mp.Meter(ScopeName)
	var errs [3]error
	o.nodeDuration, errs[0] = meter.Float64Histogram(MetricNodeDuration, metric.WithUnit("s"),
		metric.WithDescription("Time from a node's start to its end, by node and outcome; skipped nodes are not recorded."),
		metric.WithExplicitBucketBoundaries(durationBuckets...))
	o.nodeOutcomes, errs[1] = meter.Int64Counter(MetricNodeOutcomes, metric.WithUnit("{node}"),
		metric.WithDescription("How nodes ended, by node and outcome (ok, fallback, error, timeout, skipped, canceled)."))
	o.runDuration, errs[2] = meter.Float64Histogram(MetricRunDuration, metric.WithUnit("s"),
		metric.WithDescription("Wall time of a run, by outcome (ok: every target has a value)."),
		metric.WithExplicitBucketBoundaries(durationBuckets...))
	if err := errors.Join(errs[:]...); err != nil {
		return fmt.Errorf("executor: making metric instruments: %w", err)
	}
	o.runAttrs = [2]measureOptions{newMeasureOptions(AttrRunOutcome.String("ok")), newMeasureOptions(AttrRunOutcome.String("error"))}
	return nil
}

// startRun starts the run's span, if spans are on. The returned span is nil
// when they are off.
func (o *observer) startRun(ctx context.Context) (context.Context, trace.Span) {
	if o.tracer == nil || (o.globalTracer && unsetGlobalTracerProvider != nil && otel.GetTracerProvider() == unsetGlobalTracerProvider) {
		return ctx, nil
	}
	return o.tracer.Start(ctx, SpanRun, trace.WithSpanKind(trace.SpanKindInternal))
}

// startNodeSpan starts the span of a blocking node as its body starts, so
// that what the body calls (an instrumented HTTP client, the W3C headers a
// fetcher sends) is parented by the node rather than by the run. Outcome and
// attributes are added by writeSpans once the run is over.
func (o *observer) startNodeSpan(ctx context.Context, name string, start time.Time) (context.Context, trace.Span) {
	return o.tracer.Start(ctx, name, trace.WithTimestamp(start), trace.WithSpanKind(trace.SpanKindInternal))
}

// endRun writes the spans of the executed nodes, ends the run's span and
// records the metrics of a finished run.
func (o *observer) endRun(ctx context.Context, span trace.Span, res *Result, err error) {
	if span != nil {
		if span.IsRecording() {
			o.writeSpans(ctx, span, res, err)
		}
		span.End(trace.WithTimestamp(res.Started().Add(res.Duration())))
	}
	if o.nodeOutcomes.Enabled(ctx) || o.nodeDuration.Enabled(ctx) || o.runDuration.Enabled(ctx) {
		o.recordMetrics(ctx, res, err)
	}
}

// writeSpans writes one child span of the run span per executed node, from
// its recorded times, and the run span's attributes.
func (o *observer) writeSpans(ctx context.Context, runSpan trace.Span, res *Result, err error) {
	s := res.state()
	ran := 0
	for i := range s.ns {
		if s.ns[i].outcome == OutcomeSkipped {
			continue
		}
		ran++
		nr := res.nodeAt(graph.NodeID(i))
		node := s.e.node(nr.ID)
		attrs := make([]attribute.KeyValue, 0, 6)
		attrs = append(attrs, AttrKind.String(nr.Kind.String()), AttrOutcome.String(nr.Outcome.String()))
		if nr.Attempts > 0 {
			attrs = append(attrs, AttrAttempts.Int(nr.Attempts))
		}
		if nr.Branch != "" {
			attrs = append(attrs, AttrBranch.String(nr.Branch))
		}
		if nr.Source != "" {
			attrs = append(attrs, AttrSource.String(nr.Source))
		}
		if up, ok := node.Meta["upstream"]; ok {
			attrs = append(attrs, AttrUpstream.String(up))
		}
		if nr.Outcome == OutcomeFallback && nr.Cause != nil {
			attrs = append(attrs, AttrFallbackCause.String(nr.Cause.Error()))
		}
		span := s.live[i].span // a blocking node's span is started live, for its body's calls
		if span == nil {
			_, span = o.tracer.Start(ctx, nr.Name,
				trace.WithTimestamp(s.start.Add(nr.Start)), trace.WithSpanKind(trace.SpanKindInternal))
		}
		span.SetAttributes(attrs...)
		switch {
		case nr.Cause == nil, errors.Is(nr.Cause, ErrNotNeeded):
		case nr.Outcome == OutcomeFallback:
			span.RecordError(nr.Cause) // handled: an event, but the span is not failed
		default:
			span.RecordError(nr.Cause)
			span.SetStatus(codes.Error, nr.Outcome.String()+": "+nr.Cause.Error())
		}
		span.End(trace.WithTimestamp(s.start.Add(nr.End)))
	}
	runOutcome := "ok"
	if err != nil {
		runOutcome = "error"
		runSpan.RecordError(err)
		runSpan.SetStatus(codes.Error, err.Error())
	}
	path := res.CriticalPath()
	names := make([]string, len(path))
	for i, p := range path {
		names[i] = p.Node
	}
	runSpan.SetAttributes(AttrRunOutcome.String(runOutcome), AttrNodesRun.Int(ran),
		AttrCriticalPath.String(strings.Join(names, " > ")))
}

// recordMetrics records every node's outcome (skipped ones included), the
// duration of every executed node, and the run's duration.
func (o *observer) recordMetrics(ctx context.Context, res *Result, err error) {
	s := res.state()
	o.attrsOnce.Do(func() { o.attrs = make([]atomic.Pointer[measureOptions], s.g.Len()*numOutcomes) })
	for i := range s.ns {
		ns := &s.ns[i]
		opts := o.nodeAttrs(s.g, graph.NodeID(i), ns.outcome)
		o.nodeOutcomes.Add(ctx, 1, opts.add...)
		if ns.outcome != OutcomeSkipped {
			o.nodeDuration.Record(ctx, (ns.endAt - ns.startAt).Seconds(), opts.rec...)
		}
	}
	run := o.runAttrs[0]
	if err != nil {
		run = o.runAttrs[1]
	}
	o.runDuration.Record(ctx, s.end.Seconds(), run.rec...)
}

// nodeAttrs returns the measurement attributes of node id ending as oc,
// making them on first use: a graph may have many nodes that rarely run.
func (o *observer) nodeAttrs(g *graph.Graph, id graph.NodeID, oc Outcome) *measureOptions {
	slot := &o.attrs[int(id)*numOutcomes+int(oc)]
	if p := slot.Load(); p != nil {
		return p
	}
	opts := newMeasureOptions(AttrNode.String(g.Name(id)), AttrKind.String(graphx.Node(g, id).Kind.String()), AttrOutcome.String(oc.String()))
	slot.CompareAndSwap(nil, &opts)
	return slot.Load()
}
