// Package openapi embeds the OpenAPI 3 document of every Chapterhouse REST
// operation (make generate: protoc-gen-openapiv2, then
// gateway/cmd/openapi-gen), so the gateway serves exactly the contract it
// was built from.
package openapi

import _ "embed"

//go:embed chapterhouse.openapi.json
var document []byte

// Document returns the OpenAPI 3 document as JSON.
func Document() []byte { return document }
