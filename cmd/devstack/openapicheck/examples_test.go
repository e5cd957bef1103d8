package openapicheck_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/tjsia/chapterhouse/cmd/devstack/openapicheck"
	"github.com/tjsia/chapterhouse/proto/gen/go/openapi"
)

// TestDocumentExamples (issue 15): every operation has a request example
// (when it takes a body) and an example of each response it declares,
// errors included; each goes through the checker as an exchange, so it
// matches its schema as strictly as the gateway's traffic does (closed
// objects, the oneOf of a oneof, formats and enums).
func TestDocumentExamples(t *testing.T) {
	ctx := context.Background()
	raw := openapi.Document()
	c, err := openapicheck.New(ctx, raw)
	if err != nil {
		t.Fatal(err)
	}
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(raw)
	if err != nil {
		t.Fatal(err)
	}
	exchanges := 0
	for _, path := range doc.Paths.InMatchingOrder() {
		item := doc.Paths.Value(path)
		for verb, op := range item.Operations() {
			target, query := path, url.Values{}
			header := http.Header{"Authorization": {"Bearer t"}}
			for _, p := range op.Parameters {
				v := p.Value
				if v.Example == nil {
					if v.Required {
						t.Errorf("%s %s: required parameter %s has no example", verb, path, v.Name)
					}
					continue
				}
				s := fmt.Sprint(v.Example)
				switch v.In {
				case openapi3.ParameterInPath:
					target = strings.Replace(target, "{"+v.Name+"}", url.PathEscape(s), 1)
				case openapi3.ParameterInQuery:
					query.Set(v.Name, s)
				case openapi3.ParameterInHeader:
					header.Set(v.Name, s)
				}
			}
			if len(query) > 0 {
				target += "?" + query.Encode()
			}
			var body []byte
			if op.RequestBody != nil {
				media := op.RequestBody.Value.Content.Get("application/json")
				if media == nil || media.Example == nil {
					t.Errorf("%s %s: no request example", verb, path)
					continue
				}
				body, _ = json.Marshal(media.Example)
				header.Set("Content-Type", "application/json")
			}
			codes := op.Responses.Map()
			keys := make([]string, 0, len(codes))
			for code := range codes {
				keys = append(keys, code)
			}
			sort.Strings(keys)
			for _, code := range keys {
				r := codes[code]
				for mediaType, media := range r.Value.Content {
					if media.Example == nil {
						t.Errorf("%s %s %s: no %s example", verb, path, code, mediaType)
						continue
					}
					status := 0
					if _, err := fmt.Sscan(code, &status); err != nil {
						// default: the example's own status.
						status = int(media.Example.(map[string]any)["error"].(map[string]any)["code"].(float64))
					}
					if mediaType != "application/json" {
						// The checker decodes JSON only: /docs's page is held to its
						// schema here.
						if err := media.Schema.Value.VisitJSON(media.Example); err != nil {
							t.Errorf("%s %s %s: %s example: %v", verb, path, code, mediaType, err)
						}
						continue
					}
					out, _ := json.Marshal(media.Example)
					req := httptest.NewRequest(verb, target, bytes.NewReader(body))
					req.Header = header.Clone()
					err := c.Check(ctx, openapicheck.Exchange{Request: req, RequestBody: body, Status: status,
						Header: http.Header{"Content-Type": {mediaType}}, Body: out})
					if err != nil {
						t.Errorf("%s %s → %s: the examples do not match the document: %v", verb, path, code, err)
					}
					exchanges++
				}
			}
		}
	}
	if exchanges < 1000 {
		t.Errorf("%d example exchanges checked; the document has more", exchanges)
	}
}
