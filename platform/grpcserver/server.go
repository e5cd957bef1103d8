// Package grpcserver builds the gRPC server every Chapterhouse service runs:
// OpenTelemetry instrumentation, panic recovery, structured logs with trace
// ids, one error contract (every error carries a chapterhouse.api.v1
// ErrorReason), bearer-token authentication with public methods declared in
// the protos, protovalidate request validation, Idempotency-Key replay,
// keepalive that makes clients re-resolve, health that separates liveness
// from readiness, reflection, and a graceful shutdown that drains before it
// stops.
package grpcserver

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"time"

	"buf.build/go/protovalidate"
	"go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc"
	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/reflection"

	"github.com/tjsia/chapterhouse/platform/auth"
	"github.com/tjsia/chapterhouse/platform/idempotency"
	"github.com/tjsia/chapterhouse/platform/servicecall"
	"github.com/tjsia/chapterhouse/platform/telemetry"
)

// LivenessService is the health-check service name that reports whether the
// process is alive. It stays SERVING while the server runs, whatever its
// dependencies do, so an orchestrator restarts a stuck process but not one
// that is merely waiting for Redis. The empty name ("") and each registered
// service's name report readiness.
const LivenessService = "liveness"

// Defaults for Config.
const (
	// DefaultMaxConnectionAge bounds how long a client keeps one
	// connection: when it closes, the client resolves the service name
	// again, so pods added since are picked up within this time.
	DefaultMaxConnectionAge = time.Minute
	// DefaultMaxConnectionAgeGrace lets calls in flight on an aged
	// connection finish.
	DefaultMaxConnectionAgeGrace = 20 * time.Second
	// DefaultReadinessInterval is how often readiness checks run.
	DefaultReadinessInterval = 2 * time.Second
)

// Check is one readiness condition: the server reports NOT_SERVING while
// any check fails, and logs which one and why.
type Check struct {
	Name  string
	Probe func(ctx context.Context) error
}

// Config configures a server.
type Config struct {
	// Name is the service name used in logs.
	Name      string
	Logger    *slog.Logger
	Telemetry *telemetry.Providers
	Verifier  *auth.Verifier
	// Accounts, when set, says which person every verified caller is
	// (linked to, for an OpenID Connect identity) and the roles bound to
	// that person; nil leaves OpenID Connect identities unlinked and every
	// caller without a role.
	Accounts auth.Accounts
	// ServiceCalls verifies the service credentials other Chapterhouse
	// services attach to their calls (platform/servicecall); nil refuses
	// every call that presents one.
	ServiceCalls *servicecall.Keys
	// Idempotency, when set, replays responses for Idempotency-Key.
	Idempotency *idempotency.Store
	// DrainDelay is how long the server reports NOT_SERVING before it stops
	// taking calls, so load balancers and kubelet probes see it go.
	DrainDelay time.Duration
	// StopTimeout bounds GracefulStop; in-flight calls are then cut.
	StopTimeout time.Duration
	// MaxRecvMsgSize bounds request size; default 1 MiB.
	MaxRecvMsgSize int
	// MaxConnectionAge and MaxConnectionAgeGrace: see the defaults.
	MaxConnectionAge      time.Duration
	MaxConnectionAgeGrace time.Duration
	// Readiness checks, run every ReadinessInterval.
	Readiness         []Check
	ReadinessInterval time.Duration
}

// Server is a configured gRPC server.
type Server struct {
	cfg    Config
	grpc   *grpc.Server
	health *health.Server

	mu       sync.Mutex
	draining bool
	checked  bool
	ready    bool
}

// New builds the server. Register services on GRPC() before Serve.
func New(cfg Config) (*Server, error) {
	if cfg.Verifier == nil {
		return nil, errors.New("grpcserver: a token verifier is required")
	}
	if cfg.Telemetry == nil {
		return nil, errors.New("grpcserver: telemetry providers are required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.MaxRecvMsgSize == 0 {
		cfg.MaxRecvMsgSize = 1 << 20
	}
	if cfg.StopTimeout == 0 {
		cfg.StopTimeout = 20 * time.Second
	}
	if cfg.MaxConnectionAge == 0 {
		cfg.MaxConnectionAge = DefaultMaxConnectionAge
	}
	if cfg.MaxConnectionAgeGrace == 0 {
		cfg.MaxConnectionAgeGrace = DefaultMaxConnectionAgeGrace
	}
	if cfg.ReadinessInterval == 0 {
		cfg.ReadinessInterval = DefaultReadinessInterval
	}
	validator, err := protovalidate.New()
	if err != nil {
		return nil, fmt.Errorf("grpcserver: protovalidate: %w", err)
	}
	public := newPublicMethods()
	authn := authenticator{verifier: cfg.Verifier, accounts: cfg.Accounts, isPublic: public.isPublic, opensToUnlinked: public.opensToUnlinked,
		services: cfg.ServiceCalls, now: time.Now}
	unary := []grpc.UnaryServerInterceptor{
		logUnary(cfg.Logger),
		normalizeUnary(),
		recoverUnary(cfg.Logger),
		authUnary(authn),
		validateUnary(validator),
		// Inside authentication (it masks for the caller), outside the
		// replay of stored responses (it masks those too).
		maskUnary(),
	}
	if cfg.Idempotency != nil {
		unary = append(unary, idempotencyUnary(cfg.Idempotency))
	}
	gs := grpc.NewServer(
		grpc.StatsHandler(otelgrpc.NewServerHandler(
			otelgrpc.WithTracerProvider(cfg.Telemetry.TracerProvider),
			otelgrpc.WithMeterProvider(cfg.Telemetry.MeterProvider),
			otelgrpc.WithPropagators(cfg.Telemetry.Propagator),
		)),
		grpc.ChainUnaryInterceptor(unary...),
		grpc.ChainStreamInterceptor(logStream(cfg.Logger), normalizeStream(), recoverStream(cfg.Logger), authStream(authn)),
		grpc.MaxRecvMsgSize(cfg.MaxRecvMsgSize),
		grpc.KeepaliveParams(keepalive.ServerParameters{
			MaxConnectionAge:      cfg.MaxConnectionAge,
			MaxConnectionAgeGrace: cfg.MaxConnectionAgeGrace,
		}),
		// Clients ping idle connections (platform/grpcclient); allow it, so
		// a dead peer is noticed without the server closing them for
		// pinging too often.
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{MinTime: 10 * time.Second, PermitWithoutStream: true}),
	)
	hs := health.NewServer()
	healthpb.RegisterHealthServer(gs, hs)
	reflection.Register(gs)
	return &Server{cfg: cfg, grpc: gs, health: hs}, nil
}

// GRPC is the underlying server, for registering services.
func (s *Server) GRPC() *grpc.Server { return s.grpc }

// Serve serves on lis until ctx is done, then shuts down gracefully:
// NOT_SERVING, wait DrainDelay, GracefulStop (bounded by StopTimeout).
// Flushing telemetry is the caller's last step, after Serve returns.
func (s *Server) Serve(ctx context.Context, lis net.Listener) error {
	s.health.SetServingStatus(LivenessService, healthpb.HealthCheckResponse_SERVING)
	s.checkReadiness(ctx)
	errc := make(chan error, 1)
	go func() { errc <- s.grpc.Serve(lis) }()
	checks, stopChecks := context.WithCancel(ctx)
	defer stopChecks()
	go s.watchReadiness(checks)
	s.cfg.Logger.InfoContext(ctx, "grpc server listening", "addr", lis.Addr().String())
	select {
	case err := <-errc:
		return fmt.Errorf("grpcserver: serve: %w", err)
	case <-ctx.Done():
	}
	stopChecks()
	s.mu.Lock()
	s.draining = true
	s.mu.Unlock()
	s.setReadiness(healthpb.HealthCheckResponse_NOT_SERVING)
	s.cfg.Logger.Info("grpc server draining", "delay", s.cfg.DrainDelay)
	time.Sleep(s.cfg.DrainDelay)
	stopped := make(chan struct{})
	go func() {
		s.grpc.GracefulStop()
		close(stopped)
	}()
	select {
	case <-stopped:
	case <-time.After(s.cfg.StopTimeout):
		s.cfg.Logger.Warn("grpc server: graceful stop timed out; cutting in-flight calls")
		s.grpc.Stop()
		<-stopped
	}
	s.cfg.Logger.Info("grpc server stopped")
	return nil
}

func (s *Server) watchReadiness(ctx context.Context) {
	if len(s.cfg.Readiness) == 0 {
		return
	}
	t := time.NewTicker(s.cfg.ReadinessInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			s.checkReadiness(ctx)
		}
	}
}

// checkReadiness runs every check and sets the readiness status. It logs
// the first result and then only transitions, naming each failing check
// and its error.
func (s *Server) checkReadiness(ctx context.Context) {
	s.mu.Lock()
	first, was := !s.checked, s.ready
	s.mu.Unlock()
	failed := 0
	for _, c := range s.cfg.Readiness {
		probeCtx, cancel := context.WithTimeout(ctx, s.cfg.ReadinessInterval)
		err := c.Probe(probeCtx)
		cancel()
		if err != nil {
			failed++
			if first || was {
				s.cfg.Logger.WarnContext(ctx, "not ready", "check", c.Name, "err", err)
			}
		}
	}
	if ctx.Err() != nil {
		return
	}
	ready := failed == 0
	s.mu.Lock()
	s.checked, s.ready = true, ready
	draining := s.draining
	s.mu.Unlock()
	if draining {
		return
	}
	if ready && !first && !was {
		s.cfg.Logger.InfoContext(ctx, "ready again")
	}
	if ready {
		s.setReadiness(healthpb.HealthCheckResponse_SERVING)
	} else {
		s.setReadiness(healthpb.HealthCheckResponse_NOT_SERVING)
	}
}

func (s *Server) setReadiness(st healthpb.HealthCheckResponse_ServingStatus) {
	s.health.SetServingStatus("", st)
	for name := range s.grpc.GetServiceInfo() {
		if name == healthpb.Health_ServiceDesc.ServiceName {
			continue
		}
		s.health.SetServingStatus(name, st)
	}
}
