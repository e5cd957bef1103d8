// Package app is the governance service's one public entry point: both its own
// binary and the devstack call Run with a Config.
//
// The service starts, serves health and reflection, verifies tokens, and
// answers UNIMPLEMENTED for every GovernanceService method until its own issue
// implements them.
package app

import (
	"context"
	"errors"
	"fmt"

	"github.com/tjsia/chapterhouse/platform/bootstrap"
	"github.com/tjsia/chapterhouse/platform/grpcserver"
	governancev1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/governance/v1"
)

// Name is the service name in telemetry and events.
const Name = "governance"

// DefaultAddr is where the binary listens unless LISTEN_ADDR says otherwise.
const DefaultAddr = ":8082"

// Config configures one governance instance.
type Config struct {
	bootstrap.ServiceConfig
}

// Run serves until ctx is done, then drains and returns.
func Run(ctx context.Context, cfg Config) error {
	if cfg.Listener == nil || cfg.Verifier == nil || cfg.Telemetry == nil || cfg.Logger == nil {
		return errors.New("governance: Config needs Listener, Verifier, Telemetry and Logger")
	}
	srv, err := grpcserver.New(grpcserver.Config{
		Name: Name, Logger: cfg.Logger, Telemetry: cfg.Telemetry, Verifier: cfg.Verifier,
		DrainDelay: cfg.DrainDelay,
	})
	if err != nil {
		return fmt.Errorf("governance: %w", err)
	}
	governancev1.RegisterGovernanceServiceServer(srv.GRPC(), governancev1.UnimplementedGovernanceServiceServer{})
	return srv.Serve(ctx, cfg.Listener)
}

// ConfigFromEnv reads the governance settings from the environment.
func ConfigFromEnv(getenv func(string) string, deps bootstrap.Deps) (Config, error) {
	base, err := bootstrap.ServiceConfigFromEnv(getenv, deps, DefaultAddr)
	if err != nil {
		return Config{}, fmt.Errorf("governance: %w", err)
	}
	return Config{ServiceConfig: base}, nil
}
