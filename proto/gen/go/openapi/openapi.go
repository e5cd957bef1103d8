// Package openapi embeds the merged OpenAPI (Swagger 2.0) document that
// protoc-gen-openapiv2 writes for every Chapterhouse API, so the gateway can
// serve exactly the contract it was built from.
package openapi

import _ "embed"

//go:embed chapterhouse.swagger.json
var document []byte

// Document returns the merged OpenAPI document as JSON.
func Document() []byte { return document }
