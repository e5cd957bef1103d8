// Package readiness answers whether the gateway should take traffic, and,
// apart from that, how the services behind it are doing.
//
// /readyz is the gateway's own readiness: it is up and not draining. It
// does not depend on the backends, so one failing service never takes the
// whole REST edge out of the load balancer; requests for that service get
// 503 DEPENDENCY_UNAVAILABLE while the others are served.
// /diagz/backends is the diagnostic view of each backend's gRPC health.
package readiness

import (
	"context"
	"encoding/json"
	"net/http"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/grpc"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

// Checker checks named backends.
type Checker struct {
	backends map[string]grpc.ClientConnInterface
	timeout  time.Duration
	draining atomic.Bool
}

// New returns a checker over backends (name → connection).
func New(backends map[string]grpc.ClientConnInterface, timeout time.Duration) *Checker {
	return &Checker{backends: backends, timeout: timeout}
}

// Drain makes /readyz fail from now on, so load balancers stop sending
// traffic before the server shuts down.
func (c *Checker) Drain() { c.draining.Store(true) }

// Check returns each backend's status ("SERVING", or the failure).
func (c *Checker) Check(ctx context.Context) (map[string]string, bool) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	var mu sync.Mutex
	var wg sync.WaitGroup
	out := map[string]string{}
	allOK := true
	for name, conn := range c.backends {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{})
			status := resp.GetStatus().String()
			if err != nil {
				status = "UNREACHABLE"
			}
			mu.Lock()
			defer mu.Unlock()
			out[name] = status
			if status != healthpb.HealthCheckResponse_SERVING.String() {
				allOK = false
			}
		}()
	}
	wg.Wait()
	return out, allOK
}

// Liveness is /healthz: the process is up.
func Liveness(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write([]byte(`{"status":"ok"}` + "\n"))
}

func writeJSON(w http.ResponseWriter, code int, body any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(body)
}

// ServeHTTP is /readyz: ready unless draining.
func (c *Checker) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	if c.draining.Load() {
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "draining"})
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
}

// Backends is /diagz/backends: each backend's gRPC health; 200 when every
// one is SERVING, 503 otherwise, for scripts and people, never for a
// load balancer's probe.
func (c *Checker) Backends(w http.ResponseWriter, r *http.Request) {
	type backend struct {
		Name   string `json:"name"`
		Status string `json:"status"`
	}
	statuses, ok := c.Check(r.Context())
	body := struct {
		Status   string    `json:"status"`
		Backends []backend `json:"backends"`
	}{Status: "serving"}
	for name, st := range statuses {
		body.Backends = append(body.Backends, backend{name, st})
	}
	sort.Slice(body.Backends, func(i, j int) bool { return body.Backends[i].Name < body.Backends[j].Name })
	code := http.StatusOK
	if !ok {
		body.Status, code = "degraded", http.StatusServiceUnavailable
	}
	writeJSON(w, code, body)
}
