// Package accesslog writes one structured line per REST request: the
// request id, the trace id, who the token says the caller is, the method,
// the route template, the status, the bytes written and the latency. It
// never writes a token, a query string or a body.
package accesslog

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"go.opentelemetry.io/otel/trace"
)

type routeKey struct{}

// route is filled in by the mux, which alone knows the template that
// matched; the log line is written outside it.
type route struct{ template string }

// SetRoute records the route template of the request (from inside the
// router) for its log line.
func SetRoute(ctx context.Context, template string) {
	if r, ok := ctx.Value(routeKey{}).(*route); ok {
		r.template = template
	}
}

type recorder struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (r *recorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	n, err := r.ResponseWriter.Write(b)
	r.bytes += int64(n)
	return n, err
}

func (r *recorder) Flush() {
	if f, ok := r.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// claimedSubject is the token's sub claim, read without verifying it: the
// gateway does not verify tokens (the services do, and log the verified
// principal under the same trace id), so the line says what was claimed.
func claimedSubject(header string) string {
	raw, ok := strings.CutPrefix(header, "Bearer ")
	if !ok || raw == "" {
		return ""
	}
	claims := jwt.RegisteredClaims{}
	if _, _, err := jwt.NewParser().ParseUnverified(raw, &claims); err != nil {
		return "(malformed token)"
	}
	return claims.Subject
}

// Handler logs every request that reaches next. Put it inside the tracing
// handler, so the line carries the request's trace id, and outside
// everything that may answer on its own (CORS, body limits, recovery), so
// every request has a line.
func Handler(log *slog.Logger, requestIDHeader string) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			start := time.Now()
			rt := &route{}
			rec := &recorder{ResponseWriter: w}
			next.ServeHTTP(rec, r.WithContext(context.WithValue(r.Context(), routeKey{}, rt)))
			template := rt.template
			if template == "" {
				template = r.URL.Path
			}
			if rec.status == 0 {
				rec.status = http.StatusOK
			}
			log.LogAttrs(r.Context(), slog.LevelInfo, "http",
				slog.String("request_id", w.Header().Get(requestIDHeader)),
				slog.String("trace_id", traceID(r.Context())),
				slog.String("subject", claimedSubject(r.Header.Get("Authorization"))),
				slog.String("method", r.Method),
				slog.String("route", template),
				slog.Int("status", rec.status),
				slog.Int64("bytes", rec.bytes),
				slog.Duration("duration", time.Since(start)),
			)
		})
	}
}

func traceID(ctx context.Context) string {
	if sc := trace.SpanContextFromContext(ctx); sc.HasTraceID() {
		return sc.TraceID().String()
	}
	return ""
}
