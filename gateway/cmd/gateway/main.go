// Command gateway serves the REST API in front of the gRPC services.
package main

import (
	"context"

	"github.com/tjsia/chapterhouse/gateway/app"
	"github.com/tjsia/chapterhouse/platform/bootstrap"
)

func main() {
	bootstrap.Main(app.Name, app.Needs, func(ctx context.Context, getenv func(string) string, deps bootstrap.Deps) error {
		cfg, err := app.ConfigFromEnv(getenv, deps)
		if err != nil {
			return err
		}
		return app.Run(ctx, cfg)
	})
}
