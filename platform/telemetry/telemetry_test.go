package telemetry

import (
	"context"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
)

func TestNewRecordsSpansWithServiceName(t *testing.T) {
	recorder := tracetest.NewSpanRecorder()
	env := map[string]string{}
	p, err := New(context.Background(), Config{ServiceName: "membership", SpanProcessor: recorder, Getenv: func(k string) string { return env[k] }})
	if err != nil {
		t.Fatal(err)
	}
	_, span := p.TracerProvider.Tracer("test").Start(context.Background(), "op")
	span.End()
	if err := p.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	spans := recorder.Ended()
	if len(spans) != 1 {
		t.Fatalf("got %d spans", len(spans))
	}
	var name string
	for _, kv := range spans[0].Resource().Attributes() {
		if kv.Key == "service.name" {
			name = kv.Value.AsString()
		}
	}
	if name != "membership" {
		t.Fatalf("service.name = %q", name)
	}
	_ = sdktrace.AlwaysSample
}

func TestNewRejectsUnknownExporter(t *testing.T) {
	env := map[string]string{"OTEL_TRACES_EXPORTER": "carrier-pigeon"}
	if _, err := New(context.Background(), Config{ServiceName: "x", Getenv: func(k string) string { return env[k] }}); err == nil {
		t.Fatal("want error")
	}
}
