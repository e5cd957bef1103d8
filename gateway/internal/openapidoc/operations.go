package openapidoc

import "github.com/getkin/kin-openapi/openapi3"

// The gateway's own routes, beside the API's: health, readiness, the
// backends' health and this document. They need no token.
func addOperations(doc *openapi3.T) {
	status := func(desc string) *openapi3.Schema {
		s := openapi3.NewObjectSchema().WithProperty("status", openapi3.NewStringSchema())
		s.Description, s.Required = desc, []string{"status"}
		return s
	}
	backends := status("The gateway's view of each backend service's gRPC health.")
	backend := openapi3.NewObjectSchema().
		WithProperty("name", openapi3.NewStringSchema()).
		WithProperty("status", openapi3.NewStringSchema())
	backend.Required = []string{"name", "status"}
	backends.WithProperty("backends", openapi3.NewArraySchema().WithItems(backend))
	backends.Required = append(backends.Required, "backends")
	jsonResponse := func(desc string, s *openapi3.Schema) *openapi3.ResponseRef {
		return &openapi3.ResponseRef{Value: openapi3.NewResponse().WithDescription(desc).WithJSONSchema(s)}
	}
	get := func(id, summary string, responses map[string]*openapi3.ResponseRef) *openapi3.PathItem {
		op := openapi3.NewOperation()
		op.OperationID, op.Summary, op.Tags = id, summary, []string{"Operations"}
		op.Security = &openapi3.SecurityRequirements{{}}
		op.Responses = openapi3.NewResponses()
		op.Responses.Delete("default")
		for code, r := range responses {
			op.Responses.Set(code, r)
		}
		return &openapi3.PathItem{Get: op}
	}
	doc.Tags = append(doc.Tags, &openapi3.Tag{Name: "Operations",
		Description: "The gateway's own routes: liveness, readiness, the backends' health, this document and its browsable page. They need no token and draw on no request budget."})
	doc.Paths.Set("/healthz", get("Gateway_Healthz", "The gateway process is alive.", map[string]*openapi3.ResponseRef{
		"200": jsonResponse("Alive.", status("ok")),
	}))
	doc.Paths.Set("/readyz", get("Gateway_Readyz", "The gateway takes traffic: listening and not draining. A backend being down does not make it unready; see /diagz/backends.", map[string]*openapi3.ResponseRef{
		"200": jsonResponse("Ready.", status("ready")),
		"503": jsonResponse("Draining.", status("draining")),
	}))
	doc.Paths.Set("/diagz/backends", get("Gateway_Backends", "Each backend service's gRPC health, as the gateway sees it.", map[string]*openapi3.ResponseRef{
		"200": jsonResponse("Every backend serving.", backends),
		"503": jsonResponse("Some backend not serving.", backends),
	}))
	page := openapi3.NewResponse().WithDescription("Swagger UI for this document, served from the binary.")
	page.Content = openapi3.Content{"text/html": openapi3.NewMediaType().WithSchema(openapi3.NewStringSchema())}
	doc.Paths.Set("/docs", get("Gateway_Docs", "The browsable API reference.", map[string]*openapi3.ResponseRef{
		"200": {Value: page},
	}))
	doc.Paths.Set("/openapi.json", get("Gateway_OpenAPI", "This document.", map[string]*openapi3.ResponseRef{
		"200": jsonResponse("The OpenAPI 3 document.", openapi3.NewObjectSchema()),
	}))
}
