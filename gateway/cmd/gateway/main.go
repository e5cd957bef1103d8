// Command gateway serves the REST API in front of the gRPC services.
package main

import (
	"github.com/tjsia/chapterhouse/gateway/app"
	"github.com/tjsia/chapterhouse/platform/bootstrap"
)

func main() {
	bootstrap.Serve(app.Name, app.Needs, app.ConfigFromEnv, app.Run)
}
