package readiness_test

import (
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

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
