package app_test

import (
	"context"
	"os"
	"testing"

	"github.com/tjsia/chapterhouse/platform/bootstrap"
	"github.com/tjsia/chapterhouse/platform/proctest"

	"github.com/tjsia/chapterhouse/services/membership/app"
)

// TestMain runs the service as its binary does (cmd/membership) when
// proctest starts this test binary as the service's process, and the
// tests otherwise.
func TestMain(m *testing.M) {
	proctest.Main(map[string]func(){
		app.Name: func() {
			bootstrap.Main(app.Name, app.Needs, func(ctx context.Context, getenv func(string) string, deps bootstrap.Deps) error {
				cfg, err := app.ConfigFromEnv(getenv, deps)
				if err != nil {
					return err
				}
				return app.Run(ctx, cfg)
			})
		},
	})
	os.Exit(m.Run())
}
