// Command standards serves the standards gRPC API.
package main

import (
	"context"

	"github.com/tjsia/chapterhouse/platform/bootstrap"
	"github.com/tjsia/chapterhouse/services/standards/app"
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
