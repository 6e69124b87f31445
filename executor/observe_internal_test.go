package executor

import (
	"context"
	"testing"

	"github.com/featgraph/featgraph/graph"
	"github.com/featgraph/featgraph/nodes"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	tracenoop "go.opentelemetry.io/otel/trace/noop"
)

// With no SDK installed, or with no-op providers, the hooks around a run
// must not allocate: they run on every request.
func TestObserverHooksDoNotAllocateWhenOff(t *testing.T) {
	b := graph.NewBuilder()
	v := nodes.Value(b, "v", 1)
	g, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	for name, opts := range map[string][]Option{
		"global providers": nil,
		"no-op providers":  {WithTracerProvider(tracenoop.NewTracerProvider()), WithMeterProvider(metricnoop.NewMeterProvider())},
	} {
		t.Run(name, func(t *testing.T) {
			e, err := New(g, opts...)
			if err != nil {
				t.Fatal(err)
			}
			res, err := e.Run(context.Background(), nil, v)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Release()
			ctx := context.Background()
			allocs := testing.AllocsPerRun(100, func() {
				runCtx, span := e.obs.startRun(ctx)
				e.obs.endRun(runCtx, span, res, nil)
			})
			if allocs != 0 {
				t.Errorf("observer hooks allocate %v times per run, want 0", allocs)
			}
			if _, span := e.obs.startRun(ctx); span != nil {
				t.Errorf("a run span %T was started with tracing off", span)
			}
		})
	}
}

// BenchmarkObserverHooksOff measures what the hooks add to every run when
// no SDK is installed: go test ./executor -run '^$' -bench ObserverHooksOff
func BenchmarkObserverHooksOff(b *testing.B) {
	bld := graph.NewBuilder()
	v := nodes.Value(bld, "v", 1)
	g, err := bld.Build()
	if err != nil {
		b.Fatal(err)
	}
	e, err := New(g)
	if err != nil {
		b.Fatal(err)
	}
	res, err := e.Run(context.Background(), nil, v)
	if err != nil {
		b.Fatal(err)
	}
	defer res.Release()
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		runCtx, span := e.obs.startRun(ctx)
		e.obs.endRun(runCtx, span, res, nil)
	}
}
