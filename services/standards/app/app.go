// Package app is the standards service's one public entry point: both its own
// binary and the devstack call Run with a Config.
//
// The service starts, serves health and reflection, verifies tokens, and
// answers UNIMPLEMENTED for every StandardsService method until its own issue
// implements them.
package app

import (
	"context"
	"errors"
	"fmt"

	"github.com/tjsia/chapterhouse/platform/bootstrap"
	"github.com/tjsia/chapterhouse/platform/grpcserver"
	standardsv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/standards/v1"
)

// Name is the service name in telemetry and events.
const Name = "standards"

// DefaultAddr is where the binary listens unless LISTEN_ADDR says otherwise.
const DefaultAddr = ":8084"

// Config configures one standards instance.
type Config struct {
	bootstrap.ServiceConfig
}

// Run serves until ctx is done, then drains and returns.
func Run(ctx context.Context, cfg Config) error {
	if cfg.Listener == nil || cfg.Verifier == nil || cfg.Telemetry == nil || cfg.Logger == nil {
		return errors.New("standards: Config needs Listener, Verifier, Telemetry and Logger")
	}
	srv, err := grpcserver.New(grpcserver.Config{
		Name: Name, Logger: cfg.Logger, Telemetry: cfg.Telemetry, Verifier: cfg.Verifier,
		DrainDelay: cfg.DrainDelay,
	})
	if err != nil {
		return fmt.Errorf("standards: %w", err)
	}
	standardsv1.RegisterStandardsServiceServer(srv.GRPC(), standardsv1.UnimplementedStandardsServiceServer{})
	return srv.Serve(ctx, cfg.Listener)
}

// ConfigFromEnv reads the standards settings from the environment.
func ConfigFromEnv(getenv func(string) string, deps bootstrap.Deps) (Config, error) {
	base, err := bootstrap.ServiceConfigFromEnv(getenv, deps, DefaultAddr)
	if err != nil {
		return Config{}, fmt.Errorf("standards: %w", err)
	}
	return Config{ServiceConfig: base}, nil
}
