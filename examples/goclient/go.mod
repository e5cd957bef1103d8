// A client generated from the gateway's OpenAPI document (README, "For
// client developers"). Outside go.work on purpose: it uses only what a
// client developer would, the generated file and oapi-codegen's runtime.
module github.com/tjsia/chapterhouse/examples/goclient

go 1.26.0

require github.com/oapi-codegen/runtime v1.9.0

require (
	github.com/apapsch/go-jsonmerge/v2 v2.0.0 // indirect
	github.com/google/uuid v1.6.0 // indirect
)
