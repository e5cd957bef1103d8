// Command standards serves the standards gRPC API.
package main

import (
	"github.com/tjsia/chapterhouse/platform/bootstrap"
	"github.com/tjsia/chapterhouse/services/standards/app"
)

func main() {
	bootstrap.Serve(app.Name, app.Needs, app.ConfigFromEnv, app.Run)
}
