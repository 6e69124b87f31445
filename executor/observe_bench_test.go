package executor_test

import (
	"context"
	"testing"

	"github.com/featgraph/featgraph/executor"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	tracenoop "go.opentelemetry.io/otel/trace/noop"
)

// otelNoopOptions turn OpenTelemetry off explicitly: the cost of the hooks
// themselves, to compare with the default (global, unset) providers.
func otelNoopOptions() []executor.Option {
	return []executor.Option{
		executor.WithTracerProvider(tracenoop.NewTracerProvider()),
		executor.WithMeterProvider(metricnoop.NewMeterProvider()),
	}
}

// otelSDKOptions trace every run with the SDK as a service would (a
// batching span processor, every span sampled, exported nowhere) and
// aggregate its metrics (read by nobody).
func otelSDKOptions(b *testing.B) []executor.Option {
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(tracetest.NewNoopExporter()), sdktrace.WithSampler(sdktrace.AlwaysSample()))
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
	b.Cleanup(func() {
		_ = tp.Shutdown(context.Background())
		_ = mp.Shutdown(context.Background())
	})
	return []executor.Option{executor.WithTracerProvider(tp), executor.WithMeterProvider(mp)}
}
