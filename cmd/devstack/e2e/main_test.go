// Package e2e drives the whole system — four services and the gateway, on a
// real redis-server — through REST the way a mobile client does.
package e2e

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"testing"

	"github.com/go-redis/redis_rate/v10"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/tjsia/chapterhouse/cmd/devstack/stack"
	gateway "github.com/tjsia/chapterhouse/gateway/app"
	"github.com/tjsia/chapterhouse/platform/redistest"
)

var (
	sys   *stack.Stack
	spans = tracetest.NewSpanRecorder()
)

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	srv, err := redistest.StartProcess()
	if errors.Is(err, exec.ErrNotFound) {
		if os.Getenv("CI") != "" {
			fmt.Fprintln(os.Stderr, "e2e: redis-server is required under CI:", err)
			return 1
		}
		fmt.Fprintln(os.Stderr, "e2e: skipping, redis-server not installed:", err)
		return 0
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	defer srv.Stop()
	sys, err = stack.Start(context.Background(), stack.Options{
		RedisURL:       srv.URL(),
		SpanProcessor:  spans,
		AllowedOrigins: []string{"https://app.example.org"},
		Getenv:         func(string) string { return "" },
		// Budgets that the tests and the system benchmark never spend (the
		// limiter still runs on every call); the budgets themselves are
		// tested in gateway/internal/ratelimit.
		RateLimits: gateway.RateLimits{Anonymous: redis_rate.PerSecond(100000), Authenticated: redis_rate.PerSecond(100000),
			Admin: redis_rate.PerSecond(100000), Verify: redis_rate.PerSecond(100000)},
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e: start stack:", err)
		return 1
	}
	defer func() { _ = sys.Stop() }()
	if err := sys.Seed(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, "e2e: seed:", err)
		return 1
	}
	return m.Run()
}
