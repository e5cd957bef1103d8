// Package grpcserver builds the gRPC server every Chapterhouse service runs:
// OpenTelemetry instrumentation, panic recovery, structured logs with trace
// ids, bearer-token authentication, Idempotency-Key replay, health and
// reflection, and a graceful shutdown that drains before it stops.
package grpcserver

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"time"

	"go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc"
	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/reflection"

	"github.com/tjsia/chapterhouse/platform/auth"
	"github.com/tjsia/chapterhouse/platform/idempotency"
	"github.com/tjsia/chapterhouse/platform/telemetry"
)

// Config configures a server.
type Config struct {
	// Name is the service name used in logs.
	Name      string
	Logger    *slog.Logger
	Telemetry *telemetry.Providers
	Verifier  *auth.Verifier
	// PublicMethods are full method names ("/pkg.Service/Method") callable
	// without a token. Health and reflection are always public.
	PublicMethods []string
	// Idempotency, when set, replays responses for Idempotency-Key.
	Idempotency *idempotency.Store
	// DrainDelay is how long the server reports NOT_SERVING before it stops
	// taking calls, so load balancers and kubelet probes see it go.
	DrainDelay time.Duration
	// StopTimeout bounds GracefulStop; in-flight calls are then cut.
	StopTimeout time.Duration
	// MaxRecvMsgSize bounds request size; default 1 MiB.
	MaxRecvMsgSize int
}

// Server is a configured gRPC server.
type Server struct {
	cfg    Config
	grpc   *grpc.Server
	health *health.Server
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
	public := map[string]bool{}
	for _, m := range cfg.PublicMethods {
		public[m] = true
	}
	isPublic := func(method string) bool {
		return public[method] || strings.HasPrefix(method, "/grpc.health.v1.") || strings.HasPrefix(method, "/grpc.reflection.")
	}
	unary := []grpc.UnaryServerInterceptor{
		recoverUnary(cfg.Logger),
		logUnary(cfg.Logger),
		authUnary(cfg.Verifier, isPublic),
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
		grpc.ChainStreamInterceptor(recoverStream(cfg.Logger), logStream(cfg.Logger), authStream(cfg.Verifier, isPublic)),
		grpc.MaxRecvMsgSize(cfg.MaxRecvMsgSize),
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
	s.setServing(healthpb.HealthCheckResponse_SERVING)
	errc := make(chan error, 1)
	go func() { errc <- s.grpc.Serve(lis) }()
	s.cfg.Logger.InfoContext(ctx, "grpc server listening", "addr", lis.Addr().String())
	select {
	case err := <-errc:
		return fmt.Errorf("grpcserver: serve: %w", err)
	case <-ctx.Done():
	}
	s.setServing(healthpb.HealthCheckResponse_NOT_SERVING)
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

func (s *Server) setServing(st healthpb.HealthCheckResponse_ServingStatus) {
	s.health.SetServingStatus("", st)
	for name := range s.grpc.GetServiceInfo() {
		s.health.SetServingStatus(name, st)
	}
}
