// Package redisstore opens the go-redis v9 client every service stores its
// data through, standalone or Redis Cluster from one URL, with OpenTelemetry
// tracing and metrics.
package redisstore

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/redis/go-redis/extra/redisotel/v9"
	"github.com/redis/go-redis/v9"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"
)

// Config says where Redis is and how to observe it.
type Config struct {
	// URL is redis://[user:password@]host:port/db or rediss:// for TLS, or
	// redis+cluster://[user:password@]host:port?addr=host2:port&addr=... for
	// a Redis Cluster.
	URL            string
	TracerProvider trace.TracerProvider
	MeterProvider  metric.MeterProvider
}

// Open connects and pings. Writes that must not apply twice are made
// idempotent by the callers (see package redistx), so go-redis' default
// retries stay on: they are what lets reads ride out a failover.
func Open(ctx context.Context, cfg Config) (redis.UniversalClient, error) {
	client, err := New(cfg)
	if err != nil {
		return nil, err
	}
	pingCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := client.Ping(pingCtx).Err(); err != nil {
		_ = client.Close()
		return nil, fmt.Errorf("redisstore: ping: %w", err)
	}
	return client, nil
}

// New returns an instrumented client without connecting: for a Redis the
// caller may have to wait for (another service's, holding the events it
// consumes), whose reachability is a readiness check, not a start
// condition.
func New(cfg Config) (redis.UniversalClient, error) {
	client, err := newClient(cfg.URL)
	if err != nil {
		return nil, err
	}
	if cfg.TracerProvider != nil {
		if err := redisotel.InstrumentTracing(client, redisotel.WithTracerProvider(cfg.TracerProvider), redisotel.WithDBStatement(false)); err != nil {
			_ = client.Close()
			return nil, fmt.Errorf("redisstore: tracing: %w", err)
		}
	}
	if cfg.MeterProvider != nil {
		if err := redisotel.InstrumentMetrics(client, redisotel.WithMeterProvider(cfg.MeterProvider)); err != nil {
			_ = client.Close()
			return nil, fmt.Errorf("redisstore: metrics: %w", err)
		}
	}
	return client, nil
}

// Ping is a readiness probe for client.
func Ping(client redis.UniversalClient) func(ctx context.Context) error {
	return func(ctx context.Context) error {
		if err := client.Ping(ctx).Err(); err != nil {
			return fmt.Errorf("redis unreachable: %w", err)
		}
		return nil
	}
}

func newClient(url string) (redis.UniversalClient, error) {
	if rest, ok := strings.CutPrefix(url, "redis+cluster://"); ok {
		opts, err := redis.ParseClusterURL("redis://" + rest)
		if err != nil {
			return nil, fmt.Errorf("redisstore: parse cluster URL: %w", err)
		}
		return redis.NewClusterClient(opts), nil
	}
	opts, err := redis.ParseURL(url)
	if err != nil {
		return nil, fmt.Errorf("redisstore: parse URL: %w", err)
	}
	return redis.NewClient(opts), nil
}
