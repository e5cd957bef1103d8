package openapidoc_test

import (
	"context"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"google.golang.org/genproto/googleapis/api/annotations"
	"google.golang.org/protobuf/proto"

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
			case public && (op.Security == nil || len(*op.Security) == 0 || len((*op.Security)[0]) != 0):
				t.Errorf("%s is public, but its operation asks for a token: %v", id, op.Security)
			case !public && op.Security != nil:
				t.Errorf("%s needs a token, but its operation says %v", id, *op.Security)
			}
		}
	}
	if len(doc.Security) != 1 || doc.Security[0][openapidoc.BearerScheme] == nil {
		t.Errorf("document security %v, want the bearer token", doc.Security)
	}
}
