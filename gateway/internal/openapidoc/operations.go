package openapidoc

import "github.com/getkin/kin-openapi/openapi3"

// Who answers for the API, and where its source and terms are.
const (
	ContactName = "Chapterhouse maintainers"
	ProjectURL  = "https://github.com/tjsia/chapterhouse"
	// LicenseName: the project publishes no open-source licence; its terms
	// are the repository's.
	LicenseName = "Proprietary"
)

// OperationsTag tags the gateway's own routes, which are no part of the
// API an SDK wraps; with InternalExtension set they are described for
// operators and browsers, and left out by generators that honour either
// (oapi-codegen -exclude-tags Operations, Redocly's remove-x-internal,
// @hey-api/openapi-ts's tag filter).
const (
	OperationsTag     = "Operations"
	InternalExtension = "x-internal"
)

// servers: the gateway that serves this document (a relative URL, so a
// client of any deployment resolves it against where it read the
// document), and the devstack's address for make run.
func servers() openapi3.Servers {
	return openapi3.Servers{
		{URL: "/", Description: "The gateway that serves this document."},
		{URL: "http://127.0.0.1:8080", Description: "make run: the devstack on this machine."},
	}
}

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
		op.OperationID, op.Summary, op.Tags = id, summary, []string{OperationsTag}
		op.Extensions = map[string]any{InternalExtension: true}
		op.Security = &openapi3.SecurityRequirements{{}}
		op.Responses = openapi3.NewResponses()
		op.Responses.Delete("default")
		for code, r := range responses {
			op.Responses.Set(code, r)
		}
		summarize(op)
		return &openapi3.PathItem{Get: op}
	}
	doc.Tags = append(doc.Tags, &openapi3.Tag{Name: OperationsTag,
		Description: "The gateway's own routes: liveness, readiness, the backends' health, this document and its browsable page. They need no token and draw on no request budget. " +
			"They are for operators, probes and browsers, not SDKs: each is marked x-internal, and generated clients leave this tag out.",
		Extensions: map[string]any{InternalExtension: true}})
	doc.Paths.Set("/healthz", get("Gateway_Healthz", "The gateway process is alive.", map[string]*openapi3.ResponseRef{
		"200": jsonResponse("Alive.", status("ok")),
	}))
	doc.Paths.Set("/readyz", get("Gateway_Readyz", "The gateway takes traffic: listening and not draining. A backend being down does not make it unready; see /diagz/backends.", map[string]*openapi3.ResponseRef{
		"200": jsonResponse("Ready.", status("ready")),
		"503": jsonResponse("Draining.", status("draining")),
	}))
	doc.Paths.Set("/diagz/backends", get("Gateway_Backends", "Each backend service's gRPC health, as the gateway sees it. "+
		"Anyone who can reach the gateway may read it, without a token: it names the backend services and their health, never an address. "+
		"An operator who wants it private leaves /diagz/ out of the ingress's paths, so only the cluster reaches it.", map[string]*openapi3.ResponseRef{
		"200": jsonResponse("Every backend serving.", backends),
		"503": jsonResponse("Some backend not serving.", backends),
	}))
	page := openapi3.NewResponse().WithDescription("Swagger UI for this document, served from the binary.")
	page.Content = openapi3.Content{"text/html": openapi3.NewMediaType().WithSchema(openapi3.NewStringSchema())}
	unavailable := openapi3.NewResponse().WithDescription("This build carries no Swagger UI files (make docs-ui fetches them); the document is still at /openapi.json.").
		WithContent(openapi3.NewContentWithJSONSchemaRef(openapi3.NewSchemaRef("#/components/schemas/"+ErrorSchema, nil)))
	unavailable.Headers = openapi3.Headers{HeaderContentLanguage: headerRef(HeaderContentLanguage)}
	doc.Paths.Set("/docs", get("Gateway_Docs", "The browsable API reference.", map[string]*openapi3.ResponseRef{
		"200": {Value: page},
		"503": {Value: unavailable},
	}))
	doc.Paths.Set("/openapi.json", get("Gateway_OpenAPI", "This document.", map[string]*openapi3.ResponseRef{
		"200": jsonResponse("The OpenAPI 3 document.", openapi3.NewObjectSchema()),
	}))
}
