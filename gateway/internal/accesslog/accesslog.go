// Package accesslog writes one structured line per REST request: the
// request id, the trace id, the principal (the person a token the gateway
// verified is linked to; empty for a caller without a valid token or
// whose identity is linked to no one), the method,
// the route template, the status, the bytes written and the latency. It
// never writes a token, a query string or a body.
package accesslog

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"go.opentelemetry.io/otel/trace"
)

type routeKey struct{}

// route is filled in from inside: the template by the mux, which alone
// knows which matched, and the principal by the rate limiter, which
// verifies the token and asks membership whose it is; the log line is
// written outside them.
type route struct {
	template  fmt.Stringer
	principal string
}

// SetRoute records the route template of the request (from inside the
// router) for its log line; it is rendered only when a line is written.
func SetRoute(ctx context.Context, template fmt.Stringer) {
	if r, ok := ctx.Value(routeKey{}).(*route); ok {
		r.template = template
	}
}

// SetPrincipal records who made the request for its log line: the person
// its verified token is linked to.
func SetPrincipal(ctx context.Context, person string) {
	if r, ok := ctx.Value(routeKey{}).(*route); ok {
		r.principal = person
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
			if !log.Enabled(r.Context(), slog.LevelInfo) {
				return
			}
			template := r.URL.Path
			if rt.template != nil {
				template = rt.template.String()
			}
			if rec.status == 0 {
				rec.status = http.StatusOK
			}
			log.LogAttrs(r.Context(), slog.LevelInfo, "http",
				slog.String("request_id", w.Header().Get(requestIDHeader)),
				slog.String("trace_id", traceID(r.Context())),
				slog.String("principal", rt.principal),
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
