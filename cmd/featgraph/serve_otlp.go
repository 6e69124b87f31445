package main

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"go.opentelemetry.io/otel/exporters/otlp/otlpmetric/otlpmetrichttp"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// otlpEndpointVar names the standard OpenTelemetry variable: the base URL
// of an OTLP/HTTP collector, to which /v1/traces and /v1/metrics are added.
const otlpEndpointVar = "OTEL_EXPORTER_OTLP_ENDPOINT"

// otlpExport is where featgraph serve sends spans and metrics over OTLP
// when OTEL_EXPORTER_OTLP_ENDPOINT is set; its zero value exports nothing.
type otlpExport struct {
	tracer  *sdktrace.TracerProvider
	metrics sdkmetric.Reader
}

// newOTLPExport reads the endpoint through getenv (so tests can set it
// without touching the process's environment) and builds the exporters.
// Nothing is sent until the first span ends or the first metrics interval.
func newOTLPExport(ctx context.Context, getenv func(string) string) (otlpExport, error) {
	base := strings.TrimRight(getenv(otlpEndpointVar), "/")
	if base == "" {
		return otlpExport{}, nil
	}
	if u, err := url.Parse(base); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return otlpExport{}, usagef("%s must be an http or https URL", otlpEndpointVar)
	}
	traces, err := otlptracehttp.New(ctx, otlptracehttp.WithEndpointURL(base+"/v1/traces"))
	if err != nil {
		return otlpExport{}, fmt.Errorf("OTLP traces: %w", err)
	}
	metrics, err := otlpmetrichttp.New(ctx, otlpmetrichttp.WithEndpointURL(base+"/v1/metrics"))
	if err != nil {
		return otlpExport{}, fmt.Errorf("OTLP metrics: %w", err)
	}
	return otlpExport{
		tracer:  sdktrace.NewTracerProvider(sdktrace.WithBatcher(traces)),
		metrics: sdkmetric.NewPeriodicReader(metrics),
	}, nil
}

// shutdown flushes what is left to the collector. The meter provider that
// holds the metrics reader flushes it when it shuts down.
func (o otlpExport) shutdown(ctx context.Context) error {
	if o.tracer == nil {
		return nil
	}
	return errors.Join(o.tracer.Shutdown(ctx))
}
