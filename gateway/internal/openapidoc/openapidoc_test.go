package openapidoc_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"google.golang.org/genproto/googleapis/api/annotations"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/tjsia/chapterhouse/gateway/app"
	"github.com/tjsia/chapterhouse/gateway/internal/openapidoc"
	apiv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/api/v1"
	"github.com/tjsia/chapterhouse/proto/gen/go/openapi"
)

// TestServedDocument: the document the gateway serves is valid OpenAPI 3
// (kin-openapi), and tells the truth about the API: every method with an
// HTTP rule is an operation, public methods need no token and the others
// a bearer token, path parameters are ids (no parameter holds a resource
// name with slashes), and every error status answers with the ErrorBody.
func TestServedDocument(t *testing.T) {
	doc, err := openapidoc.Load(context.Background(), openapi.Document())
	if err != nil {
		t.Fatal(err)
	}
	if doc.Info.Title != openapidoc.Title || doc.Info.Version != "v1" || doc.Info.Description == "" {
		t.Errorf("info %+v", doc.Info)
	}
	if s := doc.Components.SecuritySchemes[openapidoc.BearerScheme]; s == nil || s.Value.Type != "http" || s.Value.Scheme != "bearer" {
		t.Fatalf("no bearer security scheme: %+v", s)
	}
	if s := doc.Components.SecuritySchemes[openapidoc.SignInScheme]; s == nil || s.Value.Type != "openIdConnect" || s.Value.OpenIdConnectUrl != openapidoc.DiscoveryPlaceholder {
		t.Fatalf("no OpenID Connect security scheme with the discovery placeholder: %+v", s)
	}
	errorBody := doc.Components.Schemas[openapidoc.ErrorSchema].Value
	for _, field := range []string{"code", "status", "message", "reason", "domain", "metadata", "fieldViolations", "violations", "details"} {
		if errorBody.Properties["error"].Value.Properties[field] == nil {
			t.Errorf("the error schema lacks %s", field)
		}
	}

	ops := map[string]*openapi3.Operation{}
	for path, item := range doc.Paths.Map() {
		if !strings.HasPrefix(path, "/v1/") {
			continue // the gateway's own probes answer in their own shape
		}
		for method, op := range item.Operations() {
			ops[op.OperationID] = op
			for _, p := range op.Parameters {
				if p.Value.In == openapi3.ParameterInPath && (p.Value.Name == "name" || p.Value.Name == "parent" || strings.Contains(p.Value.Name, ".")) {
					t.Errorf("%s %s: path parameter %q would hold a resource name", method, path, p.Value.Name)
				}
			}
			for code, r := range op.Responses.Map() {
				if strings.HasPrefix(code, "2") {
					continue
				}
				media := r.Value.Content.Get("application/json")
				if media == nil || media.Schema.Value != errorBody {
					t.Errorf("%s %s: response %s is not the ErrorBody", method, path, code)
				}
			}
			if op.Responses.Default() == nil {
				t.Errorf("%s %s: no default error response", method, path)
			}
		}
	}
	// Every service the gateway fronts (its own list).
	services, err := app.Services()
	if err != nil {
		t.Fatal(err)
	}
	for _, svc := range services {
		for j := 0; j < svc.Methods().Len(); j++ {
			m := svc.Methods().Get(j)
			if proto.GetExtension(m.Options(), annotations.E_Http).(*annotations.HttpRule) == nil {
				continue
			}
			id := string(svc.Name()) + "_" + string(m.Name())
			op, ok := ops[id]
			if !ok {
				t.Errorf("%s has an HTTP rule but no operation", m.FullName())
				continue
			}
			public, _ := proto.GetExtension(m.Options(), apiv1.E_Public).(bool)
			switch {
			case public && (op.Security == nil || len(*op.Security) != 3 || len((*op.Security)[0]) != 0):
				t.Errorf("%s is public, but its operation asks for a token: %v", id, op.Security)
			case !public && op.Security != nil:
				t.Errorf("%s needs a token, but its operation says %v", id, *op.Security)
			}
		}
	}
	if len(doc.Security) != 2 || doc.Security[0][openapidoc.SignInScheme] == nil || doc.Security[1][openapidoc.BearerScheme] == nil {
		t.Errorf("document security %v, want a token from the provider or the bearer token", doc.Security)
	}
}

// operations are the document's API operations by id, with their methods
// from the services the gateway fronts.
func apiOperations(t *testing.T, doc *openapi3.T) (map[string]*openapi3.Operation, map[string]protoreflect.MethodDescriptor, map[string]string) {
	t.Helper()
	ops, methods, verbs := map[string]*openapi3.Operation{}, map[string]protoreflect.MethodDescriptor{}, map[string]string{}
	for path, item := range doc.Paths.Map() {
		if !strings.HasPrefix(path, "/v1/") {
			continue
		}
		for verb, op := range item.Operations() {
			ops[op.OperationID], verbs[op.OperationID] = op, verb
		}
	}
	services, err := app.Services()
	if err != nil {
		t.Fatal(err)
	}
	for _, svc := range services {
		for j := 0; j < svc.Methods().Len(); j++ {
			m := svc.Methods().Get(j)
			if _, ok := ops[string(svc.Name())+"_"+string(m.Name())]; ok {
				methods[string(svc.Name())+"_"+string(m.Name())] = m
			}
		}
	}
	if len(methods) != len(ops) {
		t.Fatalf("%d operations, %d of them methods of the services", len(ops), len(methods))
	}
	return ops, methods, verbs
}

func paramRefs(op *openapi3.Operation) map[string]*openapi3.ParameterRef {
	out := map[string]*openapi3.ParameterRef{}
	for _, p := range op.Parameters {
		out[p.Value.Name] = p
	}
	return out
}

// TestUpdateMasks (issue 13): every method whose request has an
// update_mask takes it as the updateMask query parameter, which says its
// syntax; no other operation takes one.
func TestUpdateMasks(t *testing.T) {
	doc, err := openapidoc.Load(context.Background(), openapi.Document())
	if err != nil {
		t.Fatal(err)
	}
	ops, methods, verbs := apiOperations(t, doc)
	updates := 0
	for id, op := range ops {
		p := paramRefs(op)[openapidoc.UpdateMaskParameter]
		if openapidoc.UpdateMask(methods[id]) == nil {
			if p != nil {
				t.Errorf("%s takes an updateMask but its request has none", id)
			}
			continue
		}
		updates++
		switch {
		case p == nil:
			t.Errorf("%s (%s): no updateMask parameter", id, verbs[id])
		case p.Value.In != openapi3.ParameterInQuery || p.Value.Schema.Value.Type.Permits(openapi3.TypeString) == false:
			t.Errorf("%s: updateMask is %s %v, want a query string", id, p.Value.In, p.Value.Schema.Value.Type)
		default:
			for _, says := range []string{"comma-separated", "lowerCamelCase", "snake_case", "`*`"} {
				if !strings.Contains(p.Value.Description, says) {
					t.Errorf("%s: the updateMask description does not say %s", id, says)
				}
			}
			if err := p.Value.Schema.Value.VisitJSON(p.Value.Example); err != nil {
				t.Errorf("%s: updateMask example %v: %v", id, p.Value.Example, err)
			}
			for _, mask := range []string{"*", "displayName", "display_name,parameters.quorum"} {
				if err := p.Value.Schema.Value.VisitJSON(mask); err != nil {
					t.Errorf("%s: updateMask refuses %q: %v", id, mask, err)
				}
			}
		}
	}
	if updates != 11 {
		t.Errorf("%d update methods, want the 11 the API has", updates)
	}
}

// TestPreconditions (issue 14): If-Match, with its 412, on exactly the
// operations whose request carries an etag (read from the descriptors),
// and the ETag header on every success that is a resource with an etag.
func TestPreconditions(t *testing.T) {
	doc, err := openapidoc.Load(context.Background(), openapi.Document())
	if err != nil {
		t.Fatal(err)
	}
	ops, methods, _ := apiOperations(t, doc)
	takes, returns := 0, 0
	for id, op := range ops {
		m := methods[id]
		ifMatch := paramRefs(op)[openapidoc.HeaderIfMatch]
		stale := op.Responses.Status(412)
		if openapidoc.TakesEtag(m) {
			takes++
			if ifMatch == nil || ifMatch.Value.In != openapi3.ParameterInHeader {
				t.Errorf("%s carries an etag but takes no If-Match header", id)
			}
			if stale == nil || stale.Value.Content.Get("application/json").Schema.Value != doc.Components.Schemas[openapidoc.ErrorSchema].Value {
				t.Errorf("%s takes If-Match but has no 412 with the ErrorBody", id)
			}
		} else if ifMatch != nil || stale != nil {
			t.Errorf("%s carries no etag, but declares If-Match or 412", id)
		}
		for code, r := range op.Responses.Map() {
			if !strings.HasPrefix(code, "2") {
				continue
			}
			h := r.Value.Headers[openapidoc.HeaderETag]
			if openapidoc.ReturnsEtag(m) {
				returns++
				if h == nil || h.Ref != "#/components/headers/"+openapidoc.HeaderETag {
					t.Errorf("%s %s: a resource with an etag, but no ETag header (%v)", id, code, h)
				}
			} else if h != nil {
				t.Errorf("%s %s: ETag header on a response with no etag", id, code)
			}
		}
	}
	// Every update and most custom methods take one; every Get returns one.
	if takes < 40 || returns < 70 {
		t.Errorf("%d operations take an etag and %d return one: too few to be the API", takes, returns)
	}
}

// TestHeadersAreComponents (issue 18): every header of every response is
// a reference to the one declaration in components/headers.
func TestHeadersAreComponents(t *testing.T) {
	doc, err := openapidoc.Load(context.Background(), openapi.Document())
	if err != nil {
		t.Fatal(err)
	}
	check := func(where string, r *openapi3.ResponseRef) {
		for name, h := range r.Value.Headers {
			if h.Ref != "#/components/headers/"+name || doc.Components.Headers[name] == nil {
				t.Errorf("%s: header %s is declared in place (%q), not referenced from components/headers", where, name, h.Ref)
			}
		}
	}
	for name, r := range doc.Components.Responses {
		check("components/responses/"+name, r)
	}
	for path, item := range doc.Paths.Map() {
		for verb, op := range item.Operations() {
			for code, r := range op.Responses.Map() {
				check(verb+" "+path+" "+code, r)
			}
		}
	}
	for _, name := range []string{openapidoc.HeaderContentLanguage, openapidoc.HeaderRetryAfter, openapidoc.HeaderRateLimitLimit,
		openapidoc.HeaderRateLimitRemaining, openapidoc.HeaderRateLimitReset, openapidoc.HeaderETag, openapidoc.HeaderIdempotentReplay} {
		if doc.Components.Headers[name] == nil {
			t.Errorf("components/headers lacks %s", name)
		}
	}
}

// TestSummaries (issue 17): a summary is one sentence on one line, the
// rest of the comment is the description, and every operation has one.
func TestSummaries(t *testing.T) {
	doc, err := openapidoc.Load(context.Background(), openapi.Document())
	if err != nil {
		t.Fatal(err)
	}
	for path, item := range doc.Paths.Map() {
		for verb, op := range item.Operations() {
			first, rest := openapidoc.FirstSentence(op.Summary)
			if rest != "" || first != op.Summary || strings.Contains(op.Summary, "\n") || op.Summary == "" {
				t.Errorf("%s %s: summary is not one sentence on one line: %q", verb, path, op.Summary)
			}
			if op.Description == "" {
				t.Errorf("%s %s: no description", verb, path)
			}
		}
	}
	if r := doc.Paths.Value("/v1/people/{person}").Patch; !strings.HasPrefix(r.Description, "The person themselves may") {
		t.Errorf("UpdatePerson: the comment's second sentence does not open the description: %q", r.Description)
	}
}

func TestFirstSentence(t *testing.T) {
	for _, tc := range []struct{ in, first, rest string }{
		{"Admins only.", "Admins only.", ""},
		{"Public (no token needed). Ordered by creation.", "Public (no token needed).", "Ordered by creation."},
		{"Checks a code, e.g. GET /x. Returns it.", "Checks a code, e.g. GET /x.", "Returns it."},
		{"A (see CHARTER.md. Really) b. C.", "A (see CHARTER.md. Really) b.", "C."},
		{"Version 1.2 of it. Then.", "Version 1.2 of it.", "Then."},
		{"No stop at all", "No stop at all", ""},
	} {
		first, rest := openapidoc.FirstSentence(tc.in)
		if first != tc.first || rest != tc.rest {
			t.Errorf("FirstSentence(%q) = %q, %q; want %q, %q", tc.in, first, rest, tc.first, tc.rest)
		}
	}
}

// TestDocumentInfo (issue 17): the document names its servers, licence
// and contact, and marks the gateway's own routes internal, so SDKs leave
// them out; /docs declares its page and the 503 of a build without it.
func TestDocumentInfo(t *testing.T) {
	doc, err := openapidoc.Load(context.Background(), openapi.Document())
	if err != nil {
		t.Fatal(err)
	}
	if len(doc.Servers) == 0 || doc.Info.License == nil || doc.Info.License.Name == "" || doc.Info.Contact == nil || doc.Info.Contact.URL == "" {
		t.Errorf("servers %v, license %+v, contact %+v", doc.Servers, doc.Info.License, doc.Info.Contact)
	}
	for _, path := range []string{"/healthz", "/readyz", "/diagz/backends", "/docs", "/openapi.json"} {
		item := doc.Paths.Value(path)
		if item == nil || item.Get == nil {
			t.Errorf("%s is not described", path)
			continue
		}
		if !slices.Equal(item.Get.Tags, []string{openapidoc.OperationsTag}) || item.Get.Extensions[openapidoc.InternalExtension] != true {
			t.Errorf("%s: tags %v, extensions %v: not marked internal", path, item.Get.Tags, item.Get.Extensions)
		}
	}
	for path, item := range doc.Paths.Map() {
		for _, op := range item.Operations() {
			if strings.HasPrefix(path, "/v1/") && (slices.Contains(op.Tags, openapidoc.OperationsTag) || op.Extensions[openapidoc.InternalExtension] != nil) {
				t.Errorf("%s: an API operation marked internal", path)
			}
		}
	}
	if !strings.Contains(doc.Paths.Value("/diagz/backends").Get.Description, "without a token") {
		t.Errorf("/diagz/backends does not say who may read it")
	}
	docs := doc.Paths.Value("/docs").Get.Responses
	if docs.Status(200) == nil || docs.Status(200).Value.Content.Get("text/html") == nil {
		t.Errorf("/docs: no HTML 200")
	}
	if r := docs.Status(503); r == nil || r.Value.Content.Get("application/json").Schema.Value != doc.Components.Schemas[openapidoc.ErrorSchema].Value {
		t.Errorf("/docs: no 503 with the ErrorBody")
	}
}

// TestOneofs (issue 16): each proto oneof of a message is a oneOf of its
// schemas (the response's and the request's copy) that admits one member
// or none, never two.
func TestOneofs(t *testing.T) {
	doc, err := openapidoc.Load(context.Background(), openapi.Document())
	if err != nil {
		t.Fatal(err)
	}
	services, err := app.Services()
	if err != nil {
		t.Fatal(err)
	}
	seen := map[protoreflect.FullName]bool{}
	var visit func(md protoreflect.MessageDescriptor)
	checked := 0
	visit = func(md protoreflect.MessageDescriptor) {
		if seen[md.FullName()] || !strings.HasPrefix(string(md.FullName()), "chapterhouse.") {
			return
		}
		seen[md.FullName()] = true
		for i := 0; i < md.Fields().Len(); i++ {
			if f := md.Fields().Get(i); f.Message() != nil {
				visit(f.Message())
			}
		}
		for i := 0; i < md.Oneofs().Len(); i++ {
			o := md.Oneofs().Get(i)
			if o.IsSynthetic() {
				continue
			}
			for _, name := range []string{string(md.Name()), string(md.Name()) + "Input"} {
				s := doc.Components.Schemas[name]
				if s == nil {
					continue
				}
				checked++
				for j := 0; j < o.Fields().Len(); j++ {
					member := o.Fields().Get(j).JSONName()
					one := map[string]any{member: withRequired(s.Value.Properties[member].Value, nil)}
					if err := s.Value.VisitJSON(withRequired(s.Value, one), openapi3.MultiErrors()); err != nil {
						t.Errorf("%s: %s alone is refused: %v", name, o.Fields().Get(j).JSONName(), err)
					}
				}
				all := map[string]any{}
				for j := 0; j < o.Fields().Len(); j++ {
					member := o.Fields().Get(j).JSONName()
					all[member] = withRequired(s.Value.Properties[member].Value, nil)
				}
				if err := s.Value.VisitJSON(withRequired(s.Value, all)); err == nil {
					t.Errorf("%s: oneof %s takes every member at once", name, o.Name())
				}
			}
		}
	}
	for _, svc := range services {
		for j := 0; j < svc.Methods().Len(); j++ {
			visit(svc.Methods().Get(j).Input())
			visit(svc.Methods().Get(j).Output())
		}
	}
	if checked < 2 {
		t.Errorf("%d oneof schemas checked; the Application's two at least", checked)
	}
}

// withRequired fills v with an empty value of each property s requires
// that v lacks, so a check sees only what it means to test.
func withRequired(s *openapi3.Schema, v map[string]any) map[string]any {
	out := map[string]any{}
	for _, r := range s.Required {
		p := s.Properties[r].Value
		switch {
		case p.Type.Is(openapi3.TypeString) && len(p.Enum) > 0:
			out[r] = p.Enum[len(p.Enum)-1]
		case p.Type.Is(openapi3.TypeString):
			out[r] = ""
		case p.Type.Is(openapi3.TypeArray):
			out[r] = []any{}
		case p.Type.Is(openapi3.TypeBoolean):
			out[r] = false
		case p.Type.Is(openapi3.TypeInteger), p.Type.Is(openapi3.TypeNumber):
			out[r] = 0
		default:
			out[r] = withRequired(p, nil)
		}
	}
	for k, x := range v {
		out[k] = x
	}
	return out
}

// TestWithSignInIssuer: the served document names the configured
// provider's discovery document, whatever the issuer's trailing slash, and
// an issuer that is not an http(s) URL is refused.
func TestWithSignInIssuer(t *testing.T) {
	for _, issuer := range []string{"https://sso.example.org/realms/tjsia", "https://sso.example.org/realms/tjsia/"} {
		served, err := openapidoc.WithSignInIssuer(openapi.Document(), issuer)
		if err != nil {
			t.Fatal(err)
		}
		doc, err := openapidoc.Load(context.Background(), served)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := doc.Components.SecuritySchemes[openapidoc.SignInScheme].Value.OpenIdConnectUrl, "https://sso.example.org/realms/tjsia/.well-known/openid-configuration"; got != want {
			t.Errorf("issuer %s: discovery %q, want %q", issuer, got, want)
		}
	}
	for _, issuer := range []string{"", "sso.example.org", "ftp://sso.example.org", "https://sso.example.org/?x=1", "https://sso.example.org/#x"} {
		if _, err := openapidoc.WithSignInIssuer(openapi.Document(), issuer); err == nil {
			t.Errorf("issuer %q accepted", issuer)
		}
	}
	if _, err := openapidoc.WithSignInIssuer([]byte(`{}`), "https://sso.example.org"); err == nil {
		t.Error("a document without the placeholder accepted")
	}
}
