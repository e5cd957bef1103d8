// Command openapi-gen writes the OpenAPI 3 document the gateway serves from
// the Swagger 2.0 intermediate protoc-gen-openapiv2 writes (make generate).
package main

import (
	"context"
	"flag"
	"fmt"
	"os"

	"google.golang.org/protobuf/reflect/protoregistry"

	"github.com/tjsia/chapterhouse/gateway/internal/openapidoc"

	// The API's descriptors, for the public option and resource patterns.
	_ "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/activities/v1"
	_ "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/governance/v1"
	_ "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/membership/v1"
	_ "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/standards/v1"
)

func main() {
	in := flag.String("in", "", "the Swagger 2.0 document")
	out := flag.String("out", "", "where to write the OpenAPI 3 document")
	flag.Parse()
	if err := run(*in, *out); err != nil {
		fmt.Fprintln(os.Stderr, "openapi-gen:", err)
		os.Exit(1)
	}
}

func run(in, out string) error {
	if in == "" || out == "" {
		return fmt.Errorf("usage: openapi-gen -in chapterhouse.swagger.json -out chapterhouse.openapi.json")
	}
	swagger, err := os.ReadFile(in) //nolint:gosec // G304: the build's own file, named on make's command line
	if err != nil {
		return err
	}
	doc, err := openapidoc.Build(context.Background(), swagger, protoregistry.GlobalFiles)
	if err != nil {
		return err
	}
	return os.WriteFile(out, doc, 0o600) //nolint:gosec // G703: the build's own file, named on make's command line
}
