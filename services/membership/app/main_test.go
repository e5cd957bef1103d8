package app_test

import (
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
			bootstrap.Serve(app.Name, app.Needs, app.ConfigFromEnv, app.Run)
		},
	})
	os.Exit(m.Run())
}
