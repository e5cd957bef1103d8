package readiness_test

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/tjsia/chapterhouse/gateway/internal/readiness"
)

func serving(t *testing.T) *grpc.ClientConn {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := grpc.NewServer()
	healthpb.RegisterHealthServer(s, health.NewServer())
	go func() { _ = s.Serve(lis) }()
	t.Cleanup(s.Stop)
	return dial(t, lis.Addr().String())
}

func dial(t *testing.T, addr string) *grpc.ClientConn {
	t.Helper()
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

func get(h http.HandlerFunc) (int, map[string]any) {
	rec := httptest.NewRecorder()
	h(rec, httptest.NewRequest(http.MethodGet, "/", nil))
	var body map[string]any
	_ = json.Unmarshal(rec.Body.Bytes(), &body)
	return rec.Code, body
}

// TestOneBackendDownKeepsTheEdgeReady: with one backend unreachable the
// gateway stays ready (its other routes still serve), the diagnostic view
// names the one that is down, and draining alone unreadies it.
func TestOneBackendDownKeepsTheEdgeReady(t *testing.T) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	down := lis.Addr().String()
	lis.Close()
	c := readiness.New(map[string]grpc.ClientConnInterface{"membership": serving(t), "standards": dial(t, down)}, time.Second, nil)

	if code, body := get(c.ServeHTTP); code != http.StatusOK || body["status"] != "ready" {
		t.Fatalf("/readyz with one backend down = %d %v, want 200 ready", code, body)
	}
	code, body := get(c.Backends)
	if code != http.StatusServiceUnavailable || body["status"] != "degraded" {
		t.Fatalf("/diagz/backends = %d %v", code, body)
	}
	got := map[string]any{}
	for _, b := range body["backends"].([]any) {
		got[b.(map[string]any)["name"].(string)] = b.(map[string]any)["status"]
	}
	if got["membership"] != "SERVING" || got["standards"] != "UNREACHABLE" {
		t.Fatalf("backends %v", got)
	}
	c.Drain()
	if code, body := get(c.ServeHTTP); code != http.StatusServiceUnavailable || body["status"] != "draining" {
		t.Fatalf("/readyz draining = %d %v", code, body)
	}
}

// TestBackendHealthIsAMetric: the gauge reports 1 for a serving backend and
// 0 for an unreachable one, collected through the real OTel SDK.
func TestBackendHealthIsAMetric(t *testing.T) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	down := lis.Addr().String()
	lis.Close()
	c := readiness.New(map[string]grpc.ClientConnInterface{"membership": serving(t), "standards": dial(t, down)}, time.Second, nil)
	reader := sdkmetric.NewManualReader()
	provider := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	if err := c.RegisterMetrics(provider.Meter("test")); err != nil {
		t.Fatal(err)
	}
	var rm metricdata.ResourceMetrics
	if err := reader.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	got := map[string]int64{}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if m.Name != readiness.BackendServingMetric {
				continue
			}
			for _, p := range m.Data.(metricdata.Gauge[int64]).DataPoints {
				backend, _ := p.Attributes.Value("backend")
				got[backend.AsString()] = p.Value
			}
		}
	}
	if got["membership"] != 1 || got["standards"] != 0 || len(got) != 2 {
		t.Fatalf("gauge %v, want membership 1 and standards 0", got)
	}
}

// TestReadinessNeedsItsOwnDependencies: a need of the gateway itself (the
// rate limiter's Redis) failing makes it unready, naming it.
func TestReadinessNeedsItsOwnDependencies(t *testing.T) {
	fail := errors.New("connection refused")
	c := readiness.New(nil, time.Second, map[string]func(context.Context) error{"redis": func(context.Context) error { return fail }})
	if code, body := get(c.ServeHTTP); code != http.StatusServiceUnavailable || body["status"] != "redis unreachable" {
		t.Fatalf("/readyz with its Redis down = %d %v", code, body)
	}
	c = readiness.New(nil, time.Second, map[string]func(context.Context) error{"redis": func(context.Context) error { return nil }})
	if code, _ := get(c.ServeHTTP); code != http.StatusOK {
		t.Fatalf("/readyz with its Redis up = %d", code)
	}
}
