package e2e

import (
	"strings"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

func serviceName(s sdktrace.ReadOnlySpan) string {
	for _, kv := range s.Resource().Attributes() {
		if kv.Key == attribute.Key("service.name") {
			return kv.Value.AsString()
		}
	}
	return ""
}

// TestOneRESTCallIsOneTrace: a REST write yields a single trace that runs
// from the gateway's HTTP span through its gRPC client span to the
// membership service's server span and on to the Redis commands it ran.
func TestOneRESTCallIsOneTrace(t *testing.T) {
	r := as(adminToken()).with("X-Request-Id", "trace-test").do(t, "POST", "/v1/people?personId=traced-person",
		map[string]any{"displayName": "Traced", "birthDate": map[string]any{"year": 1990, "month": 1, "day": 1}})
	if r.status != 200 {
		t.Fatalf("create = %d %s", r.status, r.raw)
	}
	var root sdktrace.ReadOnlySpan
	for _, s := range spans.Ended() {
		if s.SpanKind() == trace.SpanKindServer && serviceName(s) == "gateway" && s.Name() == "POST /v1/people" {
			root = s
		}
	}
	if root == nil {
		t.Fatal("no gateway server span for POST /v1/people")
	}
	if root.Parent().IsValid() {
		t.Fatalf("the gateway span should be the trace's root, has parent %v", root.Parent())
	}
	traceID := root.SpanContext().TraceID()
	byID := map[trace.SpanID]sdktrace.ReadOnlySpan{}
	var inTrace []sdktrace.ReadOnlySpan
	for _, s := range spans.Ended() {
		if s.SpanContext().TraceID() == traceID {
			inTrace = append(inTrace, s)
			byID[s.SpanContext().SpanID()] = s
		}
	}
	var gatewayClient, membershipServer, redisCmd bool
	for _, s := range inTrace {
		// Every span chains back to the root: one trace, not fragments.
		for cur := s; cur != root; {
			parent, ok := byID[cur.Parent().SpanID()]
			if !ok {
				t.Fatalf("span %q (%s) does not chain to the gateway span", s.Name(), serviceName(s))
			}
			cur = parent
		}
		switch {
		case serviceName(s) == "gateway" && s.SpanKind() == trace.SpanKindClient && strings.Contains(s.Name(), "MembershipService/CreatePerson"):
			gatewayClient = true
		case serviceName(s) == "membership" && s.SpanKind() == trace.SpanKindServer && strings.Contains(s.Name(), "MembershipService/CreatePerson"):
			membershipServer = true
		case serviceName(s) == "membership" && s.InstrumentationScope().Name != "" && strings.Contains(s.InstrumentationScope().Name, "redisotel"):
			redisCmd = true
		}
	}
	if !gatewayClient || !membershipServer || !redisCmd {
		var names []string
		for _, s := range inTrace {
			names = append(names, serviceName(s)+":"+s.Name()+":"+s.InstrumentationScope().Name)
		}
		t.Fatalf("trace lacks a hop: gateway client %v, membership server %v, redis %v; spans %v", gatewayClient, membershipServer, redisCmd, names)
	}
}
