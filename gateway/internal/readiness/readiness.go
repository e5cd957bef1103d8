// Package readiness answers whether the gateway should take traffic, and,
// apart from that, how the services behind it are doing.
//
// /readyz is the gateway's own readiness: it is up and not draining. It
// does not depend on the backends, so one failing service never takes the
// whole REST edge out of the load balancer; requests for that service get
// 503 DEPENDENCY_UNAVAILABLE while the others are served.
// /diagz/backends is the diagnostic view of each backend's gRPC health, and
// the gauge chapterhouse.gateway.backend.serving reports it as a metric.
package readiness

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"google.golang.org/grpc"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

// Checker checks named backends.
type Checker struct {
	backends map[string]grpc.ClientConnInterface
	timeout  time.Duration
	draining atomic.Bool
	// needs are what the gateway itself cannot serve without (the rate
	// limiter's Redis), by name.
	needs map[string]func(context.Context) error
}

// New returns a checker over backends (name → connection); needs are the
// gateway's own dependencies, which /readyz does depend on.
func New(backends map[string]grpc.ClientConnInterface, timeout time.Duration, needs map[string]func(context.Context) error) *Checker {
	return &Checker{backends: backends, timeout: timeout, needs: needs}
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

// ServeHTTP is /readyz: ready unless draining or one of the gateway's own
// needs fails (a backend's health is not one: see Backends).
func (c *Checker) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if c.draining.Load() {
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "draining"})
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), c.timeout)
	defer cancel()
	for name, probe := range c.needs {
		if err := probe(ctx); err != nil {
			writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": name + " unreachable"})
			return
		}
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

// BackendServingMetric is the gauge of each backend's health, as the
// gateway sees it: 1 while its gRPC health is SERVING, 0 otherwise, with
// the backend's name in the attribute "backend".
const BackendServingMetric = "chapterhouse.gateway.backend.serving"

// RegisterMetrics reports each backend's health on meter, checked when the
// metrics are collected (so an exporter's interval sets the pace).
func (c *Checker) RegisterMetrics(meter metric.Meter) error {
	_, err := meter.Int64ObservableGauge(BackendServingMetric,
		metric.WithDescription("1 while the backend service's gRPC health is SERVING, as the gateway sees it; 0 otherwise"),
		metric.WithInt64Callback(func(ctx context.Context, o metric.Int64Observer) error {
			statuses, _ := c.Check(ctx)
			for name, st := range statuses {
				v := int64(0)
				if st == healthpb.HealthCheckResponse_SERVING.String() {
					v = 1
				}
				o.Observe(v, metric.WithAttributes(attribute.String("backend", name)))
			}
			return nil
		}))
	if err != nil {
		return fmt.Errorf("readiness: metrics: %w", err)
	}
	return nil
}
