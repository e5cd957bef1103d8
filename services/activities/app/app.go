// Package app is the activities service's one public entry point: both its own
// binary and the devstack call Run with a Config.
//
// The service starts, serves health and reflection, verifies tokens, and
// answers UNIMPLEMENTED for every ActivitiesService method until its own issue
// implements them.
package app

import (
	"context"
	"errors"
	"fmt"

	"github.com/tjsia/chapterhouse/platform/bootstrap"
	"github.com/tjsia/chapterhouse/platform/grpcserver"
	activitiesv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/activities/v1"
)

// Name is the service name in telemetry and events.
const Name = "activities"

// DefaultAddr is where the binary listens unless LISTEN_ADDR says otherwise.
const DefaultAddr = ":8083"

// Config configures one activities instance.
type Config struct {
	bootstrap.ServiceConfig
}

// publicMethods need no token (ARCHITECTURE.md: public reads).
var publicMethods = []string{activitiesv1.ActivitiesService_GetActivity_FullMethodName, activitiesv1.ActivitiesService_ListActivities_FullMethodName, activitiesv1.ActivitiesService_VerifyCertificate_FullMethodName}

// Run serves until ctx is done, then drains and returns.
func Run(ctx context.Context, cfg Config) error {
	if cfg.Listener == nil || cfg.Verifier == nil || cfg.Telemetry == nil || cfg.Logger == nil {
		return errors.New("activities: Config needs Listener, Verifier, Telemetry and Logger")
	}
	srv, err := grpcserver.New(grpcserver.Config{
		Name: Name, Logger: cfg.Logger, Telemetry: cfg.Telemetry, Verifier: cfg.Verifier,
		PublicMethods: publicMethods, DrainDelay: cfg.DrainDelay,
	})
	if err != nil {
		return fmt.Errorf("activities: %w", err)
	}
	activitiesv1.RegisterActivitiesServiceServer(srv.GRPC(), activitiesv1.UnimplementedActivitiesServiceServer{})
	return srv.Serve(ctx, cfg.Listener)
}

// ConfigFromEnv reads the activities settings from the environment.
func ConfigFromEnv(getenv func(string) string, deps bootstrap.Deps) (Config, error) {
	base, err := bootstrap.ServiceConfigFromEnv(getenv, deps, DefaultAddr)
	if err != nil {
		return Config{}, fmt.Errorf("activities: %w", err)
	}
	return Config{ServiceConfig: base}, nil
}
