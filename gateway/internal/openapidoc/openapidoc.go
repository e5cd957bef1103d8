// Package openapidoc builds the OpenAPI 3 document the gateway serves at
// /openapi.json. protoc-gen-openapiv2 — the generator of the same project as
// the gateway's mux, so routes, bodies, query parameters and JSON names agree
// with what is served — writes a merged Swagger 2.0 document; kin-openapi's
// openapi2conv converts it; and this package adds what only the product
// knows, each from the place it is declared:
//
//   - readable path parameters ({branch}, {application}) named by the
//     resources' own patterns (google.api.resource), instead of one
//     "{name}" that would have to hold slashes;
//   - bearer authentication, and no token needed for the methods the protos
//     mark public (chapterhouse.api.v1.public);
//   - the gateway's error body (chapterhouse.api.v1.ErrorBody) as the
//     response of every error status;
//   - the headers the gateway honours and sends;
//   - in responses, every field the gateway always writes as required;
//   - each proto oneof as a oneOf that admits one member at most;
//   - the update mask, If-Match and ETag, read from the descriptors;
//   - examples of every request, response and error, made from the protos;
//   - the title, version and description.
package openapidoc

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/getkin/kin-openapi/openapi2"
	"github.com/getkin/kin-openapi/openapi2conv"
	"github.com/getkin/kin-openapi/openapi3"
	"google.golang.org/genproto/googleapis/api/annotations"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	apiv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/api/v1"
)

// Names in the document that clients see.
const (
	Title        = "Chapterhouse API"
	BearerScheme = "bearerAuth"
	// SignInScheme is the OpenID Connect provider people sign in at: the
	// same bearer token, with the discovery document that says how to get
	// one (authorization code with PKCE).
	SignInScheme = "openIdConnect"
	// DiscoveryPlaceholder stands for the provider's discovery URL in the
	// committed document: the provider is each deployment's own, so the
	// gateway writes its configured issuer's URL in its place when it
	// serves the document (WithSignInIssuer). The .invalid domain (RFC
	// 2606) resolves nowhere, so a document served unconfigured cannot
	// send anyone to a stranger's provider.
	DiscoveryPlaceholder = "https://issuer.invalid/.well-known/openid-configuration"
	// ErrorSchema is the error body's schema, generated from
	// chapterhouse.api.v1.ErrorBody.
	ErrorSchema = "ErrorBody"
)

const description = `The REST API of Chapterhouse, the platform a branch of a professional
association runs on: members and their applications, the council and its
elections, activities and their registrations, and standards from proposal
to promotion. Every rule of the branch's charter is enforced, and a refusal
names each rule it breaks (CHARTER_VIOLATION, with the rule codes).

**Authentication.** Sign in at the branch's OpenID Connect provider (the
openIdConnect scheme names its discovery document) with the authorization
code flow and PKCE, and send the access token as
` + "`Authorization: Bearer <token>`" + `. Operations whose security lists an
empty requirement need no token; a token sent to them still identifies the
caller.

**JSON.** Field names are lowerCamelCase. Every field of a response is
present, default values and empty lists included. 64-bit integers are
strings, enums are their value names, times are RFC 3339.

**Errors.** Every error has the ErrorBody shape: branch on ` + "`error.reason`" + `
(one of ErrorReason), show ` + "`error.message`" + `, which is in the language
asked for with Accept-Language (zh-CN or en).

**Retries.** Send an Idempotency-Key header with a POST, PATCH or DELETE; a
retry with the same key returns the first answer instead of running the
write again (Idempotent-Replay: true), and the same key with another body is
422 IDEMPOTENCY_KEY_REUSED.

**Updates.** PATCH takes an update mask (the updateMask query parameter)
naming the fields it changes. A resource's etag comes in its body and in
the ETag header; send it back in If-Match (or the body's etag) to change
only the version you read: a stale If-Match is 412 ETAG_MISMATCH, a stale
etag in the body 409 ETAG_MISMATCH, and neither changes anything.`

// A status the gateway answers with, as a reusable response.
type errorStatus struct {
	code, name, description string
	// body: only operations that take a request body get it.
	body bool
	// authenticated: only operations that need a token get it.
	authenticated bool
}

// errorStatuses are the error statuses of every operation; anything else
// (405, 501, 499, …) is "default", with the same body.
var errorStatuses = []errorStatus{
	{code: "400", name: "BadRequest", description: "The request is malformed, a field breaks its rules (fieldViolations), or the charter or the resource's state refuses it (CHARTER_VIOLATION lists every broken rule; INVALID_STATE_TRANSITION names the state)."},
	{code: "401", name: "Unauthenticated", description: "No valid bearer token: missing, malformed, forged or expired."},
	{code: "403", name: "PermissionDenied", description: "The caller may not do this.", authenticated: true},
	{code: "404", name: "NotFound", description: "No such resource, or the caller may not see it."},
	{code: "409", name: "Conflict", description: "The resource exists already, or changed since it was read (ETAG_MISMATCH)."},
	{code: "413", name: "BodyTooLarge", description: "The request body is larger than the gateway accepts.", body: true},
	{code: "415", name: "UnsupportedMediaType", description: "The request body is not application/json.", body: true},
	{code: "422", name: "IdempotencyKeyReused", description: "The Idempotency-Key was used with another request.", body: true},
	{code: "429", name: "RateLimited", description: "Too many requests from this caller; retry after Retry-After seconds."},
	{code: "500", name: "Internal", description: "An internal error; nothing about it is disclosed."},
	{code: "503", name: "Unavailable", description: "A service or store the request needs is unavailable. DEPENDENCY_UNAVAILABLE: nothing was written; retry later. OUTCOME_UNKNOWN: a write may have been applied; retry with the same Idempotency-Key, which never applies it twice."},
	{code: "504", name: "DeadlineExceeded", description: "The request took too long; whether it took effect is unknown. Retry with the same Idempotency-Key."},
}

// Build converts the Swagger 2.0 document swagger into the served OpenAPI 3
// document (indented JSON), with files holding the API's descriptors (for
// the public option and the resource patterns). The result is loaded and
// validated before it is returned.
func Build(ctx context.Context, swagger []byte, files *protoregistry.Files) ([]byte, error) {
	var doc2 openapi2.T
	if err := json.Unmarshal(swagger, &doc2); err != nil {
		return nil, fmt.Errorf("openapidoc: read swagger: %w", err)
	}
	doc, err := openapi2conv.ToV3(&doc2)
	if err != nil {
		return nil, fmt.Errorf("openapidoc: convert: %w", err)
	}
	api, err := readAPI(files)
	if err != nil {
		return nil, err
	}
	doc.Info = &openapi3.Info{Title: Title, Version: api.version, Description: description,
		Contact: &openapi3.Contact{Name: ContactName, URL: ProjectURL},
		License: &openapi3.License{Name: LicenseName, URL: ProjectURL}}
	doc.Servers = servers()
	if doc.Paths, err = expandPaths(doc.Paths, api.variables); err != nil {
		return nil, err
	}
	if doc.Components.Schemas[ErrorSchema] == nil {
		return nil, fmt.Errorf("openapidoc: no %s schema (proto/openapiv2.yaml references it)", ErrorSchema)
	}
	addComponents(doc)
	if err := addErrorExamples(doc); err != nil {
		return nil, err
	}
	examples := newExampler(files)
	partial := partials{doc: doc, resources: api.resources, made: map[string]string{}}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			m, ok := api.methods[op.OperationID]
			if !ok {
				return nil, fmt.Errorf("openapidoc: %s %s: operation %q is no method of the API", method, path, op.OperationID)
			}
			decorate(op, method, isPublic(m))
			summarize(op)
			if err := addUpdateMask(op, m); err != nil {
				return nil, err
			}
			addPreconditions(op, m)
			addReplayHeader(op, method)
			if err := examples.addExamples(op, m); err != nil {
				return nil, err
			}
			if op.RequestBody != nil && !strings.HasPrefix(string(m.Name()), "Create") {
				partial.body(op)
			}
		}
	}
	present(doc, files)
	modelOneofs(doc, files)
	if err := addOperations(doc); err != nil {
		return nil, err
	}
	raw, err := json.Marshal(doc)
	if err != nil {
		return nil, fmt.Errorf("openapidoc: %w", err)
	}
	if _, err := Load(ctx, raw); err != nil {
		return nil, err
	}
	var pretty bytes.Buffer
	if err := json.Indent(&pretty, raw, "", "  "); err != nil {
		return nil, fmt.Errorf("openapidoc: %w", err)
	}
	pretty.WriteByte('\n')
	return pretty.Bytes(), nil
}

// Load reads a document as a client would, resolving every reference, and
// validates it.
func Load(ctx context.Context, raw []byte) (*openapi3.T, error) {
	loader := openapi3.NewLoader()
	loader.Context = ctx
	doc, err := loader.LoadFromData(raw)
	if err != nil {
		return nil, fmt.Errorf("openapidoc: load: %w", err)
	}
	if err := doc.Validate(ctx); err != nil {
		return nil, fmt.Errorf("openapidoc: the document is invalid: %w", err)
	}
	return doc, nil
}

// api is what the descriptors say about the API.
type api struct {
	version string
	// methods by operation id ("Service_Method").
	methods map[string]protoreflect.MethodDescriptor
	// variables names each collection's id: "branches" → "branch".
	variables map[string]string
	// resources are the resource messages' schema names ("Activity").
	resources map[string]bool
}

var versionPattern = regexp.MustCompile(`^chapterhouse\.[a-z]+\.(v[0-9]+)$`)

func readAPI(files *protoregistry.Files) (*api, error) {
	a := &api{methods: map[string]protoreflect.MethodDescriptor{}, variables: map[string]string{}, resources: map[string]bool{}}
	var errs []error
	addPattern := func(pattern string) {
		parts := strings.Split(pattern, "/")
		for i := 0; i+1 < len(parts); i += 2 {
			collection, variable := parts[i], strings.Trim(parts[i+1], "{}")
			if prev, ok := a.variables[collection]; ok && prev != variable {
				errs = append(errs, fmt.Errorf("openapidoc: collection %q is {%s} in one resource pattern and {%s} in another", collection, prev, variable))
			}
			a.variables[collection] = variable
		}
	}
	versions := map[string]bool{}
	files.RangeFiles(func(f protoreflect.FileDescriptor) bool {
		if !strings.HasPrefix(string(f.Package()), "chapterhouse.") {
			return true
		}
		if defs, ok := proto.GetExtension(f.Options(), annotations.E_ResourceDefinition).([]*annotations.ResourceDescriptor); ok {
			for _, d := range defs {
				for _, p := range d.GetPattern() {
					addPattern(p)
				}
			}
		}
		for _, md := range messages(f.Messages()) {
			if r, ok := proto.GetExtension(md.Options(), annotations.E_Resource).(*annotations.ResourceDescriptor); ok && r != nil {
				a.resources[string(md.Name())] = true
				for _, p := range r.GetPattern() {
					addPattern(p)
				}
			}
		}
		for i := 0; i < f.Services().Len(); i++ {
			svc := f.Services().Get(i)
			if m := versionPattern.FindStringSubmatch(string(f.Package())); m != nil {
				versions[m[1]] = true
			}
			for j := 0; j < svc.Methods().Len(); j++ {
				md := svc.Methods().Get(j)
				a.methods[string(svc.Name())+"_"+string(md.Name())] = md
			}
		}
		return true
	})
	if len(versions) != 1 {
		errs = append(errs, fmt.Errorf("openapidoc: the services span API versions %v; one document serves one", keys(versions)))
	}
	for v := range versions {
		a.version = v
	}
	if len(errs) > 0 {
		return nil, errs[0]
	}
	return a, nil
}

func messages(ms protoreflect.MessageDescriptors) []protoreflect.MessageDescriptor {
	var out []protoreflect.MessageDescriptor
	for i := 0; i < ms.Len(); i++ {
		out = append(out, ms.Get(i))
		out = append(out, messages(ms.Get(i).Messages())...)
	}
	return out
}

func keys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func isPublic(m protoreflect.MethodDescriptor) bool {
	public, _ := proto.GetExtension(m.Options(), apiv1.E_Public).(bool)
	return public
}

var templateParam = regexp.MustCompile(`\{([^}]+)\}`)

// expandPaths rewrites each path parameter that holds a resource name
// ("{name}" with the pattern branches/[^/]+/applications/[^/]+) into the
// path it stands for, with one parameter per id, named by the resource
// pattern: /v1/branches/{branch}/applications/{application}. The URL a
// client sends is the same; the gateway still reads the whole name.
func expandPaths(paths *openapi3.Paths, variables map[string]string) (*openapi3.Paths, error) {
	out := openapi3.NewPaths()
	keys := paths.Keys()
	sort.Strings(keys)
	for _, path := range keys {
		item := paths.Value(path)
		renamed := map[string][]string{} // old parameter → new ones
		var err error
		expanded := templateParam.ReplaceAllStringFunc(path, func(match string) string {
			name := strings.Trim(match, "{}")
			pattern := pathPattern(item, name)
			if !strings.Contains(pattern, "/") {
				return match
			}
			var segs []string
			prev := ""
			// The generator writes each * of the template as [^/]+, whose
			// own slash must not split it.
			for _, seg := range strings.Split(strings.ReplaceAll(pattern, "[^/]+", "*"), "/") {
				if seg != "*" {
					segs, prev = append(segs, seg), seg
					continue
				}
				variable, ok := variables[prev]
				if !ok {
					err = fmt.Errorf("openapidoc: %s: no resource pattern names the ids of %q", path, prev)
					return match
				}
				segs = append(segs, "{"+variable+"}")
				renamed[name] = append(renamed[name], variable)
			}
			return strings.Join(segs, "/")
		})
		if err != nil {
			return nil, err
		}
		for _, op := range item.Operations() {
			var params openapi3.Parameters
			for _, p := range op.Parameters {
				vars, ok := renamed[p.Value.Name]
				if !ok || p.Value.In != openapi3.ParameterInPath {
					params = append(params, p)
					continue
				}
				for _, v := range vars {
					params = append(params, &openapi3.ParameterRef{Value: &openapi3.Parameter{
						Name: v, In: openapi3.ParameterInPath, Required: true,
						Description: "The " + v + "'s id.",
						Schema:      openapi3.NewStringSchema().NewRef(),
					}})
				}
			}
			op.Parameters = params
		}
		if existing := out.Value(expanded); existing != nil {
			for method, op := range item.Operations() {
				if existing.GetOperation(method) != nil {
					return nil, fmt.Errorf("openapidoc: two operations for %s %s", method, expanded)
				}
				existing.SetOperation(method, op)
			}
			continue
		}
		item.Parameters = nil
		out.Set(expanded, item)
	}
	return out, nil
}

// pathPattern is the pattern of path parameter name in any of item's
// operations ("" when none has one).
func pathPattern(item *openapi3.PathItem, name string) string {
	for _, op := range item.Operations() {
		for _, p := range op.Parameters {
			if p.Value != nil && p.Value.In == openapi3.ParameterInPath && p.Value.Name == name && p.Value.Schema != nil && p.Value.Schema.Value != nil {
				return p.Value.Schema.Value.Pattern
			}
		}
	}
	return ""
}

// partials relaxes the resources in the request bodies of methods other
// than Create. A resource's REQUIRED fields (google.api.field_behavior) are
// required when it is created; an update sends only what its mask names,
// and a resource embedded in another request (a promotion's activity) is a
// template the service completes. There the resource is a Partial<Name>
// copy of its schema, with nothing required; the request's own required
// fields stay required.
type partials struct {
	doc       *openapi3.T
	resources map[string]bool
	made      map[string]string // resource → its partial copy
}

func (p partials) body(op *openapi3.Operation) {
	media := op.RequestBody.Value.Content.Get("application/json")
	if media == nil {
		return
	}
	media.Schema = p.relax(media.Schema)
}

// relax returns ref with its resources, and the objects they hold, made
// Partial; a request message keeps its own required fields.
func (p partials) relax(ref *openapi3.SchemaRef) *openapi3.SchemaRef {
	if ref == nil || ref.Value == nil {
		return ref
	}
	name, named := strings.CutPrefix(ref.Ref, "#/components/schemas/")
	resource := named && p.resources[name]
	if resource {
		if partial, ok := p.made[name]; ok {
			return openapi3.NewSchemaRef("#/components/schemas/"+partial, p.doc.Components.Schemas[partial].Value)
		}
	}
	if !needsRelaxing(ref.Value, map[*openapi3.Schema]bool{}) {
		return ref
	}
	copied := *ref.Value
	if resource || !named {
		copied.Required = nil
	}
	out := &openapi3.SchemaRef{Value: &copied}
	if named && !resource {
		// A request message: its own copy, under its own name.
		p.doc.Components.Schemas[name] = out
		out = openapi3.NewSchemaRef(ref.Ref, &copied)
	}
	if resource {
		partial := "Partial" + name
		p.made[name] = partial
		p.doc.Components.Schemas[partial] = out
		out = openapi3.NewSchemaRef("#/components/schemas/"+partial, &copied)
	}
	copied.Properties = openapi3.Schemas{}
	for k, v := range ref.Value.Properties {
		copied.Properties[k] = p.relax(v)
	}
	copied.Items = p.relax(ref.Value.Items)
	return out
}

// needsRelaxing: s or an object it holds requires a field.
func needsRelaxing(s *openapi3.Schema, seen map[*openapi3.Schema]bool) bool {
	if s == nil || seen[s] {
		return false
	}
	seen[s] = true
	if len(s.Required) > 0 {
		return true
	}
	for _, v := range s.Properties {
		if v != nil && needsRelaxing(v.Value, seen) {
			return true
		}
	}
	return s.Items != nil && needsRelaxing(s.Items.Value, seen)
}

// Header parameters the gateway honours.
var (
	acceptLanguage = &openapi3.Parameter{Name: "Accept-Language", In: openapi3.ParameterInHeader,
		Description: "zh-CN or en: the language of error messages. Without it, the gateway's default language.",
		Schema:      openapi3.NewStringSchema().NewRef()}
	requestID = &openapi3.Parameter{Name: "X-Request-Id", In: openapi3.ParameterInHeader,
		Description: "A client's id for the request, echoed and logged; the gateway makes one when it is missing.",
		Schema:      openapi3.NewStringSchema().NewRef()}
	idempotencyKey = &openapi3.Parameter{Name: "Idempotency-Key", In: openapi3.ParameterInHeader,
		Description: "Makes a retry of this write return the first answer instead of writing again (kept 24 hours).",
		Schema:      openapi3.NewStringSchema().WithMaxLength(255).NewRef()}
	ifMatch = &openapi3.Parameter{Name: HeaderIfMatch, In: openapi3.ParameterInHeader,
		Description: `Change only the version read: the ETag of the resource as it was read ("<etag>"), or * for whatever version is current. ` +
			"A stale one is 412 ETAG_MISMATCH and changes nothing. It stands for the request's etag field; the two must not disagree (400).",
		Schema: openapi3.NewStringSchema().NewRef()}
)

func addComponents(doc *openapi3.T) {
	if doc.Components == nil {
		doc.Components = &openapi3.Components{}
	}
	c := doc.Components
	if c.SecuritySchemes == nil {
		c.SecuritySchemes = openapi3.SecuritySchemes{}
	}
	c.SecuritySchemes[SignInScheme] = &openapi3.SecuritySchemeRef{Value: openapi3.NewOIDCSecurityScheme(DiscoveryPlaceholder).
		WithDescription("The branch's OpenID Connect provider. Sign in with the authorization code flow and PKCE (S256) and send the access token as a bearer token. The identity is linked to a person by an invitation; roles are granted in Chapterhouse, never taken from the token.")}
	c.SecuritySchemes[BearerScheme] = &openapi3.SecuritySchemeRef{Value: openapi3.NewJWTSecurityScheme().
		WithDescription("The same access token, or a token signed with a key the operator configured (tests and automation).")}
	doc.Security = signedIn()
	if c.Parameters == nil {
		c.Parameters = openapi3.ParametersMap{}
	}
	for _, p := range []*openapi3.Parameter{acceptLanguage, requestID, idempotencyKey, ifMatch} {
		c.Parameters[componentName(p.Name)] = &openapi3.ParameterRef{Value: p}
	}
	if c.Headers == nil {
		c.Headers = openapi3.Headers{}
	}
	header := func(desc string, schema *openapi3.Schema) *openapi3.HeaderRef {
		return &openapi3.HeaderRef{Value: &openapi3.Header{Parameter: openapi3.Parameter{Description: desc, Schema: schema.NewRef()}}}
	}
	c.Headers[HeaderContentLanguage] = header("The language of the message: zh-CN or en.", openapi3.NewStringSchema().WithEnum("zh-CN", "en"))
	c.Headers[HeaderRetryAfter] = header("Seconds to wait before retrying.", openapi3.NewIntegerSchema().WithMin(0))
	c.Headers[HeaderRateLimitLimit] = header("Requests allowed per window for this caller.", openapi3.NewIntegerSchema().WithMin(0))
	c.Headers[HeaderRateLimitRemaining] = header("Requests left in the window.", openapi3.NewIntegerSchema().WithMin(0))
	c.Headers[HeaderRateLimitReset] = header("Seconds until the window is whole again.", openapi3.NewIntegerSchema().WithMin(0))
	c.Headers[HeaderETag] = header(`The resource's etag (the body's etag field) as a strong entity tag, quoted: "<etag>". Send it back in If-Match to change only this version.`, openapi3.NewStringSchema())
	c.Headers[HeaderIdempotentReplay] = header("true when this is the stored answer of an earlier request with the same Idempotency-Key, which was not run again.", openapi3.NewStringSchema().WithEnum("true"))
	if c.Responses == nil {
		c.Responses = openapi3.ResponseBodies{}
	}
	body := openapi3.NewContentWithJSONSchemaRef(openapi3.NewSchemaRef("#/components/schemas/"+ErrorSchema, nil))
	headers := func(names ...string) openapi3.Headers {
		h := openapi3.Headers{}
		for _, n := range names {
			h[n] = &openapi3.HeaderRef{Ref: "#/components/headers/" + n}
		}
		return h
	}
	for _, s := range errorStatuses {
		r := openapi3.NewResponse().WithDescription(s.description).WithContent(body)
		r.Headers = headers("Content-Language")
		if s.code == "429" {
			r.Headers = headers("Content-Language", "Retry-After", "RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset")
		}
		c.Responses[s.name] = &openapi3.ResponseRef{Value: r}
	}
	stale := openapi3.NewResponse().WithDescription("If-Match names a version that is no longer current (ETAG_MISMATCH): read the resource again. Nothing was changed.").WithContent(body)
	stale.Headers = headers("Content-Language")
	c.Responses[PreconditionFailed] = &openapi3.ResponseRef{Value: stale}
	def := openapi3.NewResponse().WithDescription("Any other error (405, 499, 501, …), in the same body.").WithContent(body)
	def.Headers = headers("Content-Language")
	c.Responses["DefaultError"] = &openapi3.ResponseRef{Value: def}
}

// signedIn is the requirement of an operation that needs a token: either
// scheme, since both carry the same bearer token.
func signedIn() openapi3.SecurityRequirements {
	return openapi3.SecurityRequirements{{SignInScheme: []string{}}, {BearerScheme: []string{}}}
}

// WithSignInIssuer returns doc, a document Build made, with issuer's
// discovery URL in the sign-in scheme in place of DiscoveryPlaceholder.
func WithSignInIssuer(doc []byte, issuer string) ([]byte, error) {
	u, err := url.Parse(issuer)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("openapidoc: sign-in issuer %q is not an http(s) URL without query or fragment", issuer)
	}
	placeholder, _ := json.Marshal(DiscoveryPlaceholder)
	discovery, err := json.Marshal(strings.TrimSuffix(issuer, "/") + "/.well-known/openid-configuration")
	if err != nil {
		return nil, fmt.Errorf("openapidoc: %w", err)
	}
	if n := bytes.Count(doc, placeholder); n != 1 {
		return nil, fmt.Errorf("openapidoc: the document holds the discovery placeholder %d times, want once", n)
	}
	return bytes.Replace(doc, placeholder, discovery, 1), nil
}

// componentName turns a header name into a component key: Accept-Language
// → AcceptLanguage.
func componentName(header string) string { return strings.ReplaceAll(header, "-", "") }

// decorate adds to op its security, headers and error responses.
func decorate(op *openapi3.Operation, method string, public bool) {
	if public {
		// No token needed; one that is sent still identifies the caller.
		op.Security = &openapi3.SecurityRequirements{{}}
		*op.Security = append(*op.Security, signedIn()...)
	}
	ref := func(p *openapi3.Parameter) *openapi3.ParameterRef {
		return &openapi3.ParameterRef{Ref: "#/components/parameters/" + componentName(p.Name)}
	}
	op.Parameters = append(op.Parameters, ref(acceptLanguage), ref(requestID))
	writes := slices.Contains([]string{"POST", "PATCH", "PUT", "DELETE"}, method)
	if writes {
		op.Parameters = append(op.Parameters, ref(idempotencyKey))
	}
	op.Responses.Delete("default")
	for _, s := range errorStatuses {
		if (s.body && op.RequestBody == nil) || (s.authenticated && public) {
			continue
		}
		op.Responses.Set(s.code, &openapi3.ResponseRef{Ref: "#/components/responses/" + s.name})
	}
	op.Responses.Set("default", &openapi3.ResponseRef{Ref: "#/components/responses/DefaultError"})
}
