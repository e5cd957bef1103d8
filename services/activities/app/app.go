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

	"golang.org/x/sync/errgroup"

	// Activity times are shown in IANA zones; a minimal container image
	// has no zoneinfo, so the binary carries its own.
	_ "time/tzdata"

	"github.com/tjsia/chapterhouse/platform/bootstrap"
	"github.com/tjsia/chapterhouse/platform/eventstream"
	"github.com/tjsia/chapterhouse/platform/grpcclient"
	"github.com/tjsia/chapterhouse/platform/grpcserver"
	"github.com/tjsia/chapterhouse/platform/idempotency"
	"github.com/tjsia/chapterhouse/platform/redisstore"
	activitiesv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/activities/v1"
	mclient "github.com/tjsia/chapterhouse/services/membership/client"

	"github.com/tjsia/chapterhouse/services/activities/internal/domain"
	"github.com/tjsia/chapterhouse/services/activities/internal/membership"
	"github.com/tjsia/chapterhouse/services/activities/internal/server"
	"github.com/tjsia/chapterhouse/services/activities/internal/store"
	mstreams "github.com/tjsia/chapterhouse/services/membership/streams"
)

// Needs are the dependencies the binary builds from the environment: its
// own Redis, and membership's, whose events it consumes
// (MEMBERSHIP_REDIS_URL; REDIS_URL when unset).
var Needs = bootstrap.Needs{Redis: true, Verifier: true, EventSources: []string{mstreams.Producer}}

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
	conn, err := grpcclient.Dial(cfg.MembershipAddr, grpcclient.Config{
		Telemetry: cfg.Telemetry, Services: []string{mclient.Service}})
	if err != nil {
		return fmt.Errorf("activities: membership client: %w", err)
	}
	defer conn.Close()
	st := store.New(cfg.Redis, cfg.Now)
	for _, b := range cfg.Branches {
		n, err := st.Reindex(ctx, b)
		if err != nil {
			return fmt.Errorf("activities: %w", err)
		}
		if n > 0 {
			cfg.Logger.InfoContext(ctx, "rewrote activity index entries of the old form", "branch", b, "count", n)
		}
	}
	svc := domain.NewService(st, membership.New(conn, 3*time.Second),
		domain.Config{Branches: cfg.Branches, Now: cfg.Now, MinExchangeActivities: cfg.MinExchangeActivities})
	// MemberTerminated arrives on each branch's membership stream, read
	// from membership's Redis (its published contract, see
	// services/membership/streams).
	source := cfg.EventSource(mstreams.Producer)
	var runners []*eventstream.Runner
	for _, b := range cfg.Branches {
		runner, err := eventstream.NewRunner(eventstream.RunnerConfig{
			Client: source, Source: mstreams.Producer, Stream: mstreams.Branch(b), Group: Name, Consumer: cfg.ConsumerName,
			Handler: svc.HandleEvent, Logger: cfg.Logger, TracerProvider: cfg.Telemetry.TracerProvider,
		})
		if err != nil {
			return fmt.Errorf("activities: %w", err)
		}
		runners = append(runners, runner)
	}
	srv, err := grpcserver.New(grpcserver.Config{
		Name: Name, Logger: cfg.Logger, Telemetry: cfg.Telemetry, Verifier: cfg.Verifier,
		DrainDelay:  cfg.DrainDelay,
		Idempotency: idempotency.New(cfg.Redis, 24*time.Hour),
		Readiness: []grpcserver.Check{
			{Name: "redis", Probe: redisstore.Ping(cfg.Redis)},
			{Name: "events source " + mstreams.Producer, Probe: runners[0].Check},
		},
	})
	if err != nil {
		return fmt.Errorf("activities: %w", err)
	}
	activitiesv1.RegisterActivitiesServiceServer(srv.GRPC(), server.New(svc))

	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return srv.Serve(gctx, cfg.Listener) })
	for _, runner := range runners {
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
