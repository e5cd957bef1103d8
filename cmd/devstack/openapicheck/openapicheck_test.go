package openapicheck_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/tjsia/chapterhouse/cmd/devstack/openapicheck"
	"github.com/tjsia/chapterhouse/proto/gen/go/openapi"
)

// TestCheckerCatchesDrift: the checker passes an exchange the document
// describes, and fails a route it lacks, a field it does not list, an
// error body of another shape, and a token the operation needs but did
// not get unless the gateway answered 401.
func TestCheckerCatchesDrift(t *testing.T) {
	ctx := context.Background()
	c, err := openapicheck.New(ctx, openapi.Document())
	if err != nil {
		t.Fatal(err)
	}
	errorBody := `{"error":{"code":404,"status":"NOT_FOUND","message":"x","reason":"NOT_FOUND","domain":"chapterhouse","metadata":{},"fieldViolations":[],"violations":[],"details":[]}}`
	json := http.Header{"Content-Type": {"application/json"}}
	// A person as the gateway writes it: every field without presence.
	person := `"name":"people/li-na","displayName":"李娜","title":"","organization":"","rank":"RANK_UNSPECIFIED","expertise":[],"academicCredentials":"","etag":"e"`
	get := func(path string, token bool) *http.Request {
		r := httptest.NewRequest(http.MethodGet, path, nil)
		if token {
			r.Header.Set("Authorization", "Bearer t")
		}
		return r
	}
	cases := []struct {
		name   string
		x      openapicheck.Exchange
		passes bool
	}{
		{"a person as documented", openapicheck.Exchange{Request: get("/v1/people/li-na", true), Status: 200, Header: json,
			Body: []byte(`{` + person + `}`)}, true},
		{"a field the document lacks", openapicheck.Exchange{Request: get("/v1/people/li-na", true), Status: 200, Header: json,
			Body: []byte(`{` + person + `,"nickname":"x"}`)}, false},
		{"a route the document lacks", openapicheck.Exchange{Request: get("/v1/nowhere", true), Status: 404, Header: json,
			Body: []byte(errorBody)}, false},
		{"the error body", openapicheck.Exchange{Request: get("/v1/people/nobody", true), Status: 404, Header: json,
			Body: []byte(errorBody)}, true},
		{"an error of another shape", openapicheck.Exchange{Request: get("/v1/people/nobody", true), Status: 404, Header: json,
			Body: []byte(`{"message":"not found"}`)}, false},
		{"no token, answered 401", openapicheck.Exchange{Request: get("/v1/people/li-na", false), Status: 401, Header: json,
			Body: []byte(`{"error":{"code":401,"status":"UNAUTHENTICATED","message":"x","reason":"UNAUTHENTICATED","domain":"chapterhouse","metadata":{},"fieldViolations":[],"violations":[],"details":[]}}`)}, true},
		{"no token, answered 200", openapicheck.Exchange{Request: get("/v1/people/li-na", false), Status: 200, Header: json,
			Body: []byte(`{"name":"people/li-na"}`)}, false},
		{"a public read without a token", openapicheck.Exchange{Request: get("/v1/branches/ai", false), Status: 200, Header: json,
			Body: []byte(`{"name":"branches/ai","displayName":"人工智能分会","etag":"e"}`)}, true},
		{"a field the gateway always writes, missing", openapicheck.Exchange{Request: get("/v1/branches/ai", false), Status: 200, Header: json,
			Body: []byte(`{"name":"branches/ai","displayName":"人工智能分会"}`)}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := c.Check(ctx, tc.x)
			if (err == nil) != tc.passes {
				t.Fatalf("check: %v, want passes=%v", err, tc.passes)
			}
		})
	}
	if r := c.Report(); r.Checked != len(cases) || len(r.Failures) != 5 {
		t.Fatalf("report: %d checked, %d failures", r.Checked, len(r.Failures))
	}
}
