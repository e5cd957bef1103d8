package openapidoc

import (
	"net/http"

	"github.com/getkin/kin-openapi/openapi3"
	"google.golang.org/grpc/codes"

	apiv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/api/v1"
)

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
// operators and browsers, and left out by generators that filter by tag
// (oapi-codegen -exclude-tags Operations, as the README's Go client does)
// or honour x-internal (Redocly's remove-x-internal decorator).
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
func addOperations(doc *openapi3.T) error {
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
	jsonResponse := func(desc string, s *openapi3.Schema, example any) *openapi3.ResponseRef {
		r := openapi3.NewResponse().WithDescription(desc).WithJSONSchema(s)
		r.Content.Get("application/json").Example = example
		return &openapi3.ResponseRef{Value: r}
	}
	backendsExample := func(status, membership string) map[string]any {
		var list []any
		for _, name := range []string{"activities", "governance", "membership", "standards"} {
			st := "SERVING"
			if name == "membership" {
				st = membership
			}
			list = append(list, map[string]any{"name": name, "status": st})
		}
		return map[string]any{"status": status, "backends": list}
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
			"They are for operators, probes and browsers, not SDKs: each is marked x-internal, and a client generator should leave this tag out (oapi-codegen: -exclude-tags Operations).",
		Extensions: map[string]any{InternalExtension: true}})
	doc.Paths.Set("/healthz", get("Gateway_Healthz", "The gateway process is alive.", map[string]*openapi3.ResponseRef{
		"200": jsonResponse("Alive.", status("ok"), map[string]any{"status": "ok"}),
	}))
	doc.Paths.Set("/readyz", get("Gateway_Readyz", "The gateway takes traffic: listening and not draining. A backend being down does not make it unready; see /diagz/backends.", map[string]*openapi3.ResponseRef{
		"200": jsonResponse("Ready.", status("ready"), map[string]any{"status": "ready"}),
		"503": jsonResponse("Draining.", status("draining"), map[string]any{"status": "draining"}),
	}))
	doc.Paths.Set("/diagz/backends", get("Gateway_Backends", "Each backend service's gRPC health, as the gateway sees it. "+
		"Anyone who can reach the gateway may read it, without a token: it names the backend services and their health, never an address. "+
		"An operator who wants it private leaves /diagz/ out of the ingress's paths, so only the cluster reaches it.", map[string]*openapi3.ResponseRef{
		"200": jsonResponse("Every backend serving.", backends, backendsExample("serving", "SERVING")),
		"503": jsonResponse("Some backend not serving.", backends, backendsExample("degraded", "NOT_SERVING")),
	}))
	page := openapi3.NewResponse().WithDescription("Swagger UI for this document, served from the binary.")
	html := openapi3.NewMediaType().WithSchema(openapi3.NewStringSchema())
	html.Example = `<!doctype html><html lang="en"><head><title>Chapterhouse API</title></head><body><div id="ui"></div></body></html>`
	page.Content = openapi3.Content{"text/html": html}
	unavailable := openapi3.NewResponse().WithDescription("This build carries no Swagger UI files (make docs-ui fetches them); the document is still at /openapi.json.").
		WithContent(openapi3.NewContentWithJSONSchemaRef(openapi3.NewSchemaRef("#/components/schemas/"+ErrorSchema, nil)))
	unavailable.Headers = openapi3.Headers{HeaderContentLanguage: headerRef(HeaderContentLanguage)}
	noUI, err := errorExample{code: codes.Unavailable, reason: apiv1.ErrorReason_DEPENDENCY_UNAVAILABLE,
		message: "this build has no Swagger UI; the document is at /openapi.json"}.body(http.StatusServiceUnavailable)
	if err != nil {
		return err
	}
	unavailable.Content.Get("application/json").Example = noUI
	doc.Paths.Set("/docs", get("Gateway_Docs", "The browsable API reference.", map[string]*openapi3.ResponseRef{
		"200": {Value: page},
		"503": {Value: unavailable},
	}))
	doc.Paths.Set("/openapi.json", get("Gateway_OpenAPI", "This document.", map[string]*openapi3.ResponseRef{
		"200": jsonResponse("The OpenAPI 3 document.", openapi3.NewObjectSchema(), map[string]any{"openapi": "3.0.3", "info": map[string]any{"title": Title, "version": "v1"}, "paths": map[string]any{}}),
	}))
	return nil
}
