// Package app is the activities service's one public entry point: both its
// own binary and the devstack call Run with a Config.
package app

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc"
	"golang.org/x/sync/errgroup"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	// Activity times are shown in IANA zones; a minimal container image
	// has no zoneinfo, so the binary carries its own.
	_ "time/tzdata"

	"github.com/tjsia/chapterhouse/platform/bootstrap"
	"github.com/tjsia/chapterhouse/platform/events"
	"github.com/tjsia/chapterhouse/platform/grpcserver"
	"github.com/tjsia/chapterhouse/platform/idempotency"
	activitiesv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/activities/v1"

	"github.com/tjsia/chapterhouse/services/activities/internal/domain"
	"github.com/tjsia/chapterhouse/services/activities/internal/membership"
	"github.com/tjsia/chapterhouse/services/activities/internal/server"
	"github.com/tjsia/chapterhouse/services/activities/internal/store"
)

// Name is the service name in telemetry and events.
const Name = "activities"

// DefaultAddr is where the binary listens unless LISTEN_ADDR says otherwise.
const DefaultAddr = ":8083"

// Config configures one activities instance.
type Config struct {
	bootstrap.ServiceConfig
	// MembershipAddr is the membership service's gRPC address.
	MembershipAddr string
	// Branches whose calendars this instance keeps (default "ai").
	Branches []string
	// MinExchangeActivities is A1's minimum (default 2).
	MinExchangeActivities int
	// MembershipStreams are the outbox streams of membership to consume
	// (MemberTerminated); default: each branch's.
	MembershipStreams []string
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Run serves until ctx is done, then drains and returns.
func Run(ctx context.Context, cfg Config) error {
	if cfg.Listener == nil || cfg.Redis == nil || cfg.Verifier == nil || cfg.Telemetry == nil || cfg.Logger == nil || cfg.MembershipAddr == "" {
		return errors.New("activities: Config needs Listener, Redis, Verifier, Telemetry, Logger and MembershipAddr")
	}
	if len(cfg.Branches) == 0 {
		cfg.Branches = []string{"ai"}
	}
	if cfg.ConsumerName == "" {
		cfg.ConsumerName = Name
	}
	conn, err := grpc.NewClient(cfg.MembershipAddr,
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithStatsHandler(otelgrpc.NewClientHandler(
			otelgrpc.WithTracerProvider(cfg.Telemetry.TracerProvider),
			otelgrpc.WithMeterProvider(cfg.Telemetry.MeterProvider),
			otelgrpc.WithPropagators(cfg.Telemetry.Propagator))),
		grpc.WithDefaultServiceConfig(membership.ServiceConfig))
	if err != nil {
		return fmt.Errorf("activities: membership client: %w", err)
	}
	defer conn.Close()
	svc := domain.NewService(store.New(cfg.Redis, cfg.Now), membership.New(conn, 3*time.Second),
		domain.Config{Branches: cfg.Branches, Now: cfg.Now, MinExchangeActivities: cfg.MinExchangeActivities})
	srv, err := grpcserver.New(grpcserver.Config{
		Name: Name, Logger: cfg.Logger, Telemetry: cfg.Telemetry, Verifier: cfg.Verifier,
		PublicMethods: server.PublicMethods, DrainDelay: cfg.DrainDelay,
		Idempotency: idempotency.New(cfg.Redis, 24*time.Hour),
	})
	if err != nil {
		return fmt.Errorf("activities: %w", err)
	}
	activitiesv1.RegisterActivitiesServiceServer(srv.GRPC(), server.New(svc))

	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return srv.Serve(gctx, cfg.Listener) })
	streams := cfg.MembershipStreams
	if len(streams) == 0 {
		for _, b := range cfg.Branches {
			// Membership's branch outbox; the key layout is membership's
			// published contract for its consumers.
			streams = append(streams, events.OutboxKey("mbr:br:"+b))
		}
	}
	for _, stream := range streams {
		runner, err := events.NewRunner(events.RunnerConfig{
			Client: cfg.Redis, Stream: stream, Group: Name, Consumer: cfg.ConsumerName,
			Handler: svc.HandleEvent, Logger: cfg.Logger, TracerProvider: cfg.Telemetry.TracerProvider,
		})
		if err != nil {
			return fmt.Errorf("activities: %w", err)
		}
		g.Go(func() error { return runner.Run(gctx) })
	}
	return g.Wait()
}

// ConfigFromEnv reads the activities settings from the environment.
func ConfigFromEnv(getenv func(string) string, deps bootstrap.Deps) (Config, error) {
	base, err := bootstrap.ServiceConfigFromEnv(getenv, deps, DefaultAddr)
	if err != nil {
		return Config{}, fmt.Errorf("activities: %w", err)
	}
	minExchange := 0
	if v := getenv("MIN_EXCHANGE_ACTIVITIES_PER_YEAR"); v != "" {
		if minExchange, err = strconv.Atoi(v); err != nil || minExchange < 1 {
			return Config{}, fmt.Errorf("activities: MIN_EXCHANGE_ACTIVITIES_PER_YEAR must be a positive integer")
		}
	}
	return Config{
		ServiceConfig:         base,
		MembershipAddr:        bootstrap.Env(getenv, "MEMBERSHIP_ADDR", "localhost:8081"),
		Branches:              strings.Split(bootstrap.Env(getenv, "BRANCHES", "ai"), ","),
		MinExchangeActivities: minExchange,
	}, nil
}
