package executor_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/featgraph/featgraph/executor"
	"github.com/featgraph/featgraph/graph"
	"github.com/featgraph/featgraph/nodes"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
)

// mixedGraph has a node for every outcome but canceled:
//
//	card (input, ok) -> account (fetch, ok) -> risk (fetch, fails, falls back)
//	account -> big (compute, ok) -> route (if) -> premium (fetch, ok) | basic (fetch, skipped)
//	decision (compute) <- route, risk
//	slow (fetch, times out), broken (fetch, error after 2 attempts)
type mixedGraph struct {
	g           *graph.Graph
	card        graph.Ref[string]
	decision    graph.Ref[string]
	slow        graph.Ref[int]
	broken      graph.Ref[int]
	sawSpan     chan trace.SpanContext // the span context the account fetch saw
	release     chan struct{}          // releases the slow fetch
	slowTimeout time.Duration
}

func newMixedGraph(t testing.TB) *mixedGraph {
	t.Helper()
	m := &mixedGraph{sawSpan: make(chan trace.SpanContext, 1), release: make(chan struct{}), slowTimeout: 20 * time.Millisecond}
	b := graph.NewBuilder()
	m.card = nodes.Input[string](b, "card")
	account := nodes.Fetch1(b, "account", m.card, func(ctx context.Context, c string) (string, error) {
		select {
		case m.sawSpan <- trace.SpanContextFromContext(ctx):
		default:
		}
		return "acct-" + c, nil
	}, nodes.Meta("upstream", "accounts"))
	risk := nodes.Fetch1(b, "risk", account, func(ctx context.Context, a string) (float64, error) {
		return 0, errors.New("risk service down")
	}, nodes.Fallback(0.5))
	big := nodes.Compute1(b, "big", account, func(a string) (bool, error) { return len(a) > 3, nil })
	premium := nodes.Fetch0(b, "premium", func(ctx context.Context) (string, error) { return "premium", nil })
	basic := nodes.Fetch0(b, "basic", func(ctx context.Context) (string, error) { return "basic", nil })
	route := nodes.If(b, "route", big, premium, basic)
	m.decision = nodes.Compute2(b, "decision", route, risk, func(r string, s float64) (string, error) {
		return r + "-approve", nil
	})
	m.slow = nodes.Fetch0(b, "slow", func(ctx context.Context) (int, error) {
		<-m.release // ignores its context: the executor's timeout watcher ends it
		return 1, nil
	}, nodes.Timeout(m.slowTimeout))
	m.broken = nodes.Fetch0(b, "broken", func(ctx context.Context) (int, error) {
		return 0, errors.New("bad gateway")
	}, nodes.Retry(2, time.Millisecond))
	g, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	m.g = g
	t.Cleanup(func() { close(m.release) })
	return m
}

func (m *mixedGraph) run(t testing.TB, e *executor.Executor) (*executor.Result, error) {
	t.Helper()
	return e.Run(context.Background(), []executor.Binding{executor.Bind(m.card, "c1")}, m.decision, m.slow, m.broken)
}

func attrMap(kvs []attribute.KeyValue) map[attribute.Key]attribute.Value {
	out := map[attribute.Key]attribute.Value{}
	for _, kv := range kvs {
		out[kv.Key] = kv.Value
	}
	return out
}

// Both engines write the same spans and metrics.
func TestSpansOfAMixedRun(t *testing.T) {
	for _, eng := range engines {
		t.Run(eng.name, func(t *testing.T) { testSpansOfAMixedRun(t, eng.opts...) })
	}
}

func TestMetricsOfAMixedRun(t *testing.T) {
	for _, eng := range engines {
		t.Run(eng.name, func(t *testing.T) { testMetricsOfAMixedRun(t, eng.opts...) })
	}
}

func testSpansOfAMixedRun(t *testing.T, engine ...executor.Option) {
	m := newMixedGraph(t)
	spans := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans))
	defer func() { _ = tp.Shutdown(context.Background()) }()
	e, err := executor.New(m.g, append([]executor.Option{executor.WithTracerProvider(tp)}, engine...)...)
	if err != nil {
		t.Fatal(err)
	}
	res, err := m.run(t, e)
	if err == nil {
		t.Fatal("run with a timed-out and a failed target returned no error")
	}
	defer res.Release()

	byName := map[string]sdktrace.ReadOnlySpan{}
	for _, s := range spans.Ended() {
		if _, dup := byName[s.Name()]; dup {
			t.Errorf("two spans named %q", s.Name())
		}
		byName[s.Name()] = s
	}
	runSpan, ok := byName[executor.SpanRun]
	if !ok {
		t.Fatalf("no %q span among %v", executor.SpanRun, keys(byName))
	}
	if runSpan.Parent().IsValid() {
		t.Errorf("run span has parent %v, want a root span", runSpan.Parent())
	}
	if runSpan.Status().Code != codes.Error {
		t.Errorf("run span status %v, want Error", runSpan.Status())
	}
	runAttrs := attrMap(runSpan.Attributes())
	if got := runAttrs[executor.AttrRunOutcome].AsString(); got != "error" {
		t.Errorf("run outcome attribute %q, want error", got)
	}
	if got := runAttrs[executor.AttrNodesRun].AsInt64(); got != 9 {
		t.Errorf("nodes_run = %d, want 9 (all but basic)", got)
	}

	// The fetch body's context carries its node's span, for propagation downstream.
	select {
	case sc := <-m.sawSpan:
		if account, ok := byName["account"]; !ok || sc.SpanID() != account.SpanContext().SpanID() {
			t.Errorf("fetch body saw span %v, want the account node's span", sc.SpanID())
		}
	default:
		t.Error("account fetch did not run")
	}

	want := map[string]struct {
		kind, outcome string
		attempts      int64
		status        codes.Code
	}{
		"card":     {"input", "ok", 0, codes.Unset},
		"account":  {"fetch", "ok", 1, codes.Unset},
		"risk":     {"fetch", "fallback", 1, codes.Unset},
		"big":      {"compute", "ok", 0, codes.Unset},
		"route":    {"if", "ok", 0, codes.Unset},
		"premium":  {"fetch", "ok", 1, codes.Unset},
		"decision": {"compute", "ok", 0, codes.Unset},
		"slow":     {"fetch", "timeout", 0, codes.Error},
		"broken":   {"fetch", "error", 2, codes.Error},
	}
	if _, ok := byName["basic"]; ok {
		t.Error("skipped node basic has a span")
	}
	if len(byName) != len(want)+1 {
		t.Errorf("got spans %v, want the run and %d nodes", keys(byName), len(want))
	}
	for name, w := range want {
		s, ok := byName[name]
		if !ok {
			t.Errorf("no span for node %q", name)
			continue
		}
		if s.Parent().SpanID() != runSpan.SpanContext().SpanID() {
			t.Errorf("%s: parent %v, want the run span", name, s.Parent().SpanID())
		}
		a := attrMap(s.Attributes())
		if got := a[executor.AttrKind].AsString(); got != w.kind {
			t.Errorf("%s: kind %q, want %q", name, got, w.kind)
		}
		if got := a[executor.AttrOutcome].AsString(); got != w.outcome {
			t.Errorf("%s: outcome %q, want %q", name, got, w.outcome)
		}
		if got := a[executor.AttrAttempts].AsInt64(); w.attempts > 0 && got != w.attempts {
			t.Errorf("%s: attempts %d, want %d", name, got, w.attempts)
		}
		if s.Status().Code != w.status {
			t.Errorf("%s: status %v, want %v", name, s.Status(), w.status)
		}
		if w.status == codes.Error && !hasExceptionEvent(s) {
			t.Errorf("%s: failed node has no recorded error", name)
		}
		if s.EndTime().Before(s.StartTime()) || s.StartTime().Before(runSpan.StartTime()) || s.EndTime().After(runSpan.EndTime()) {
			t.Errorf("%s: span [%v, %v] not inside the run's [%v, %v]", name, s.StartTime(), s.EndTime(), runSpan.StartTime(), runSpan.EndTime())
		}
	}
	risk := attrMap(byName["risk"].Attributes())
	if got := risk[executor.AttrFallbackCause].AsString(); !strings.Contains(got, "risk service down") {
		t.Errorf("risk fallback cause %q, want the fetch's error", got)
	}
	if got := attrMap(byName["route"].Attributes())[executor.AttrBranch].AsString(); got != "premium" {
		t.Errorf("route branch %q, want premium", got)
	}
	if got := attrMap(byName["account"].Attributes())[executor.AttrUpstream].AsString(); got != "accounts" {
		t.Errorf("account upstream %q, want accounts", got)
	}
	if d := byName["slow"].EndTime().Sub(byName["slow"].StartTime()); d < m.slowTimeout {
		t.Errorf("slow span lasts %v, less than its %v timeout", d, m.slowTimeout)
	}
}

func hasExceptionEvent(s sdktrace.ReadOnlySpan) bool {
	for _, e := range s.Events() {
		if e.Name == "exception" {
			return true
		}
	}
	return false
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func testMetricsOfAMixedRun(t *testing.T, engine ...executor.Option) {
	m := newMixedGraph(t)
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	defer func() { _ = mp.Shutdown(context.Background()) }()
	e, err := executor.New(m.g, append([]executor.Option{executor.WithMeterProvider(mp)}, engine...)...)
	if err != nil {
		t.Fatal(err)
	}
	const runs = 2
	for range runs {
		res, _ := m.run(t, e)
		res.Release()
	}
	var rm metricdata.ResourceMetrics
	if err := reader.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	got := map[string]metricdata.Aggregation{}
	for _, sm := range rm.ScopeMetrics {
		if sm.Scope.Name != executor.ScopeName {
			continue
		}
		for _, mt := range sm.Metrics {
			got[mt.Name] = mt.Data
		}
	}

	outcomes, ok := got[executor.MetricNodeOutcomes].(metricdata.Sum[int64])
	if !ok {
		t.Fatalf("%s: %T, want a Sum[int64] (metrics: %v)", executor.MetricNodeOutcomes, got[executor.MetricNodeOutcomes], keys(got))
	}
	wantOutcome := map[string]string{
		"card": "ok", "account": "ok", "risk": "fallback", "big": "ok", "route": "ok",
		"premium": "ok", "basic": "skipped", "decision": "ok", "slow": "timeout", "broken": "error",
	}
	if len(outcomes.DataPoints) != len(wantOutcome) {
		t.Errorf("%d outcome points, want one per node (%d)", len(outcomes.DataPoints), len(wantOutcome))
	}
	for _, dp := range outcomes.DataPoints {
		node, _ := dp.Attributes.Value(executor.AttrNode)
		oc, _ := dp.Attributes.Value(executor.AttrOutcome)
		if w := wantOutcome[node.AsString()]; w != oc.AsString() || dp.Value != runs {
			t.Errorf("outcome point %s=%s value %d, want %s=%s value %d", node.AsString(), oc.AsString(), dp.Value, node.AsString(), w, runs)
		}
	}

	durations, ok := got[executor.MetricNodeDuration].(metricdata.Histogram[float64])
	if !ok {
		t.Fatalf("%s: %T, want a Histogram[float64]", executor.MetricNodeDuration, got[executor.MetricNodeDuration])
	}
	if len(durations.DataPoints) != len(wantOutcome)-1 {
		t.Errorf("%d duration points, want one per executed node (%d)", len(durations.DataPoints), len(wantOutcome)-1)
	}
	for _, dp := range durations.DataPoints {
		node, _ := dp.Attributes.Value(executor.AttrNode)
		if node.AsString() == "basic" {
			t.Error("skipped node basic has a duration")
		}
		if dp.Count != runs {
			t.Errorf("%s: %d durations, want %d", node.AsString(), dp.Count, runs)
		}
		if min, _ := dp.Min.Value(); node.AsString() == "slow" && min*float64(time.Second) < float64(m.slowTimeout) {
			t.Errorf("slow: min duration %vs below its timeout %v", min, m.slowTimeout)
		}
	}

	runDur, ok := got[executor.MetricRunDuration].(metricdata.Histogram[float64])
	if !ok || len(runDur.DataPoints) != 1 {
		t.Fatalf("%s: %#v, want one histogram point", executor.MetricRunDuration, got[executor.MetricRunDuration])
	}
	if dp := runDur.DataPoints[0]; dp.Count != runs {
		t.Errorf("run durations: %d, want %d", dp.Count, runs)
	} else if oc, _ := dp.Attributes.Value(executor.AttrRunOutcome); oc.AsString() != "error" {
		t.Errorf("run outcome %q, want error", oc.AsString())
	}
}

func TestNilProvidersAreRejected(t *testing.T) {
	g := newMixedGraph(t).g
	if _, err := executor.New(g, executor.WithTracerProvider(nil)); err == nil {
		t.Error("WithTracerProvider(nil) accepted")
	}
	if _, err := executor.New(g, executor.WithMeterProvider(nil)); err == nil {
		t.Error("WithMeterProvider(nil) accepted")
	}
}
