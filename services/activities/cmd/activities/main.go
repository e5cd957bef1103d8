// Command activities serves the activities gRPC API.
package main

import (
	"github.com/tjsia/chapterhouse/platform/bootstrap"
	"github.com/tjsia/chapterhouse/services/activities/app"
)

func main() {
	bootstrap.Serve(app.Name, app.Needs, app.ConfigFromEnv, app.Run)
}
