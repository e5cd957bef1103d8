package bootstrap

import (
	"context"
	"fmt"
	"net"
	"os"
	"time"

	"golang.org/x/sync/errgroup"
	"google.golang.org/grpc"

	"github.com/tjsia/chapterhouse/platform/auth"
	"github.com/tjsia/chapterhouse/platform/follow"
	"github.com/tjsia/chapterhouse/platform/grpcclient"
	"github.com/tjsia/chapterhouse/platform/grpcserver"
	"github.com/tjsia/chapterhouse/platform/idempotency"
	"github.com/tjsia/chapterhouse/platform/redisstore"
	"github.com/tjsia/chapterhouse/platform/servicecall"
)

// ServiceConfig is what every gRPC service's Run takes besides its own
// settings.
type ServiceConfig struct {
	Deps
	Listener net.Listener
	// DrainDelay between NOT_SERVING and stop (DRAIN_DELAY, default 5s).
	DrainDelay time.Duration
	// ConsumerName identifies the instance in consumer groups (POD_NAME,
	// default the host name).
	ConsumerName string
	// ClaimIdle is how long an event another consumer of the group took
	// waits before this one takes it over (EVENTS_CLAIM_IDLE; 0, the
	// default, means eventstream.DefaultClaimIdle): how long the events
	// a killed pod held wait. Shorter costs a second run of any handler
	// slower than it.
	ClaimIdle time.Duration
	// Accounts links the identities OpenID Connect issuers vouch for to
	// people and their roles. Left nil, each service's Run sets its own
	// (membership its store, the others membership's client) before
	// Serve; one set already (a test's table, platform/servicetest) is
	// kept.
	Accounts auth.Accounts
}

// ServiceConfigFromEnv listens on LISTEN_ADDR (default defaultAddr) and
// reads DRAIN_DELAY, EVENTS_CLAIM_IDLE and POD_NAME.
func ServiceConfigFromEnv(getenv func(string) string, deps Deps, defaultAddr string) (ServiceConfig, error) {
	drain, err := Duration(getenv, "DRAIN_DELAY", 5*time.Second)
	if err != nil {
		return ServiceConfig{}, err
	}
	claimIdle, err := Duration(getenv, "EVENTS_CLAIM_IDLE", 0)
	if err != nil {
		return ServiceConfig{}, err
	}
	if claimIdle < 0 {
		return ServiceConfig{}, fmt.Errorf("EVENTS_CLAIM_IDLE %v: must not be negative", claimIdle)
	}
	lis, err := net.Listen("tcp", Env(getenv, "LISTEN_ADDR", defaultAddr))
	if err != nil {
		return ServiceConfig{}, fmt.Errorf("listen: %w", err)
	}
	name := getenv("POD_NAME")
	if name == "" {
		name, _ = os.Hostname()
	}
	return ServiceConfig{Deps: deps, Listener: lis, DrainDelay: drain, ConsumerName: name, ClaimIdle: claimIdle}, nil
}

// Main is the whole main() of a service binary: --version, dependencies
// from the environment, run until SIGINT/SIGTERM, flush telemetry last.
func Main(name string, needs Needs, run func(ctx context.Context, getenv func(string) string, deps Deps) error) {
	if PrintVersion(os.Args[1:], name) {
		return
	}
	if err := mainErr(name, needs, run); err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", name, err)
		os.Exit(1)
	}
}

// Serve is the whole main() of a binary whose settings come from the
// environment, as every Chapterhouse binary's do: Main, with fromEnv
// turning the settings and dependencies into its config and run serving
// it. The binaries, and the tests and benchmark that run them as
// processes, all call it, so each runs exactly as its binary does.
func Serve[C any](name string, needs Needs, fromEnv func(getenv func(string) string, deps Deps) (C, error), run func(context.Context, C) error) {
	Main(name, needs, func(ctx context.Context, getenv func(string) string, deps Deps) error {
		cfg, err := fromEnv(getenv, deps)
		if err != nil {
			return err
		}
		return run(ctx, cfg)
	})
}

func mainErr(name string, needs Needs, run func(ctx context.Context, getenv func(string) string, deps Deps) error) error {
	grpcclient.ConfigureProcess()
	ctx, stop := SignalContext()
	defer stop()
	deps, closeDeps, err := FromEnv(ctx, os.Getenv, name, needs)
	if err != nil {
		return err
	}
	defer func() {
		flushCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = closeDeps(flushCtx)
	}()
	return run(ctx, os.Getenv, deps)
}

// Follow is the follow.Config of the service named group: its instance's
// consumer name, its producers' Redis, its logger and tracer. interval is
// how often per-branch streams are looked for (0: follow's default).
func (c ServiceConfig) Follow(group string, interval time.Duration) follow.Config {
	consumer := c.ConsumerName
	if consumer == "" {
		consumer = group
	}
	return follow.Config{
		Group: group, Consumer: consumer, Source: c.EventSource, Logger: c.Logger,
		TracerProvider: c.Telemetry.TracerProvider, ClaimIdle: c.ClaimIdle, Interval: interval,
	}
}

// Dial connects the service named name to another service's API at addr:
// every call carries this service's credential beside its caller's token
// (servicecall), so the callee knows which service asks for whom, and is
// traced.
func (c ServiceConfig) Dial(name, addr, service string) (*grpc.ClientConn, error) {
	conn, err := grpcclient.Dial(addr, grpcclient.Config{
		Telemetry: c.Telemetry, Caller: &servicecall.Caller{Service: name, Keys: c.ServiceCalls}, Services: []string{service}})
	if err != nil {
		return nil, fmt.Errorf("%s: client of %s: %w", name, service, err)
	}
	return conn, nil
}

// Serve runs the service named name until ctx is done: the gRPC server
// every service runs, with the API register adds, and the streams it
// follows. It is ready while its Redis and every producer it follows
// answer; a retried write is answered from its idempotency key, kept 24 h.
func (c ServiceConfig) Serve(ctx context.Context, name string, followed *follow.Followed, register func(*grpc.Server)) error {
	srv, err := grpcserver.New(grpcserver.Config{
		Name: name, Logger: c.Logger, Telemetry: c.Telemetry, Verifier: c.Verifier, Accounts: c.Accounts, ServiceCalls: c.ServiceCalls,
		DrainDelay:  c.DrainDelay,
		Idempotency: idempotency.New(c.Redis, 24*time.Hour),
		Readiness:   append([]grpcserver.Check{{Name: "redis", Probe: redisstore.Ping(c.Redis)}}, followed.Checks()...),
	})
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	register(srv.GRPC())
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return srv.Serve(gctx, c.Listener) })
	g.Go(func() error { return followed.Run(gctx) })
	return g.Wait()
}
