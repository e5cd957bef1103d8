// Package telemetry builds the OpenTelemetry tracer and meter providers every
// Chapterhouse binary uses, configured from the standard OTEL_* variables.
// Providers are returned, never installed globally, so several services can
// share one process (the devstack) and still report their own service.name.
package telemetry

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"go.opentelemetry.io/otel/exporters/otlp/otlpmetric/otlpmetricgrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlpmetric/otlpmetrichttp"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/exporters/stdout/stdouttrace"
	"go.opentelemetry.io/otel/metric"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	"go.opentelemetry.io/otel/propagation"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.37.0"
	"go.opentelemetry.io/otel/trace"
)

// Config names the service; everything else comes from OTEL_* variables:
//
//	OTEL_TRACES_EXPORTER   otlp | console | none (default: otlp when
//	                       OTEL_EXPORTER_OTLP_ENDPOINT is set, else none)
//	OTEL_METRICS_EXPORTER  otlp | none (same default)
//	OTEL_EXPORTER_OTLP_PROTOCOL  grpc (default) | http/protobuf
//	OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_TRACES_SAMPLER(_ARG),
//	OTEL_RESOURCE_ATTRIBUTES, OTEL_SERVICE_NAME: as the OTel spec says.
type Config struct {
	ServiceName    string
	ServiceVersion string
	// SpanProcessor, when set, is added to the tracer provider. Tests use it
	// to capture spans in memory.
	SpanProcessor sdktrace.SpanProcessor
	// Getenv defaults to os.Getenv.
	Getenv func(string) string
}

// Providers are one service's tracer and meter providers.
type Providers struct {
	TracerProvider trace.TracerProvider
	MeterProvider  metric.MeterProvider
	Propagator     propagation.TextMapPropagator
	shutdown       []func(context.Context) error
}

// Propagator is the W3C trace-context and baggage propagator all
// Chapterhouse components use.
func Propagator() propagation.TextMapPropagator {
	return propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{})
}

// New builds providers for cfg. Call Shutdown to flush them.
func New(ctx context.Context, cfg Config) (*Providers, error) {
	getenv := cfg.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	res, err := resource.New(ctx,
		resource.WithAttributes(semconv.ServiceName(cfg.ServiceName), semconv.ServiceVersion(cfg.ServiceVersion)),
		resource.WithFromEnv(),
		resource.WithTelemetrySDK(),
		resource.WithHost(),
	)
	if err != nil && !errors.Is(err, resource.ErrPartialResource) {
		return nil, fmt.Errorf("telemetry: resource: %w", err)
	}
	p := &Providers{Propagator: Propagator()}

	traceOpts := []sdktrace.TracerProviderOption{sdktrace.WithResource(res)}
	if cfg.SpanProcessor != nil {
		traceOpts = append(traceOpts, sdktrace.WithSpanProcessor(cfg.SpanProcessor))
	}
	endpointSet := getenv("OTEL_EXPORTER_OTLP_ENDPOINT") != "" || getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") != ""
	switch exporter := choose(getenv("OTEL_TRACES_EXPORTER"), endpointSet); exporter {
	case "otlp":
		exp, err := newTraceExporter(ctx, getenv("OTEL_EXPORTER_OTLP_PROTOCOL"))
		if err != nil {
			return nil, err
		}
		traceOpts = append(traceOpts, sdktrace.WithBatcher(exp))
	case "console":
		exp, err := stdouttrace.New(stdouttrace.WithWriter(os.Stderr))
		if err != nil {
			return nil, fmt.Errorf("telemetry: console exporter: %w", err)
		}
		traceOpts = append(traceOpts, sdktrace.WithBatcher(exp))
	case "none":
	default:
		return nil, fmt.Errorf("telemetry: unsupported OTEL_TRACES_EXPORTER %q", exporter)
	}
	// The SDK reads OTEL_TRACES_SAMPLER itself when no sampler is given.
	tp := sdktrace.NewTracerProvider(traceOpts...)
	p.TracerProvider = tp
	p.shutdown = append(p.shutdown, tp.Shutdown)

	metricsEndpointSet := getenv("OTEL_EXPORTER_OTLP_ENDPOINT") != "" || getenv("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT") != ""
	switch exporter := choose(getenv("OTEL_METRICS_EXPORTER"), metricsEndpointSet); exporter {
	case "otlp":
		exp, err := newMetricExporter(ctx, getenv("OTEL_EXPORTER_OTLP_PROTOCOL"))
		if err != nil {
			return nil, err
		}
		mp := sdkmetric.NewMeterProvider(sdkmetric.WithResource(res),
			sdkmetric.WithReader(sdkmetric.NewPeriodicReader(exp, sdkmetric.WithInterval(30*time.Second))))
		p.MeterProvider = mp
		p.shutdown = append(p.shutdown, mp.Shutdown)
	case "none", "console":
		// No console metrics exporter: metrics on stderr drown the logs.
		p.MeterProvider = metricnoop.NewMeterProvider()
	default:
		return nil, fmt.Errorf("telemetry: unsupported OTEL_METRICS_EXPORTER %q", exporter)
	}
	return p, nil
}

func choose(explicit string, endpointSet bool) string {
	if explicit != "" {
		return strings.ToLower(strings.TrimSpace(explicit))
	}
	if endpointSet {
		return "otlp"
	}
	return "none"
}

func newTraceExporter(ctx context.Context, protocol string) (sdktrace.SpanExporter, error) {
	var (
		exp sdktrace.SpanExporter
		err error
	)
	switch protocol {
	case "", "grpc":
		exp, err = otlptracegrpc.New(ctx)
	case "http/protobuf":
		exp, err = otlptracehttp.New(ctx)
	default:
		return nil, fmt.Errorf("telemetry: unsupported OTEL_EXPORTER_OTLP_PROTOCOL %q", protocol)
	}
	if err != nil {
		return nil, fmt.Errorf("telemetry: otlp trace exporter: %w", err)
	}
	return exp, nil
}

func newMetricExporter(ctx context.Context, protocol string) (sdkmetric.Exporter, error) {
	var (
		exp sdkmetric.Exporter
		err error
	)
	switch protocol {
	case "", "grpc":
		exp, err = otlpmetricgrpc.New(ctx)
	case "http/protobuf":
		exp, err = otlpmetrichttp.New(ctx)
	default:
		return nil, fmt.Errorf("telemetry: unsupported OTEL_EXPORTER_OTLP_PROTOCOL %q", protocol)
	}
	if err != nil {
		return nil, fmt.Errorf("telemetry: otlp metric exporter: %w", err)
	}
	return exp, nil
}

// Shutdown flushes and stops the providers.
func (p *Providers) Shutdown(ctx context.Context) error {
	var errs []error
	for _, fn := range p.shutdown {
		if err := fn(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
