package openapicheck_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/tjsia/chapterhouse/cmd/devstack/openapicheck"
	"github.com/tjsia/chapterhouse/proto/gen/go/openapi"
)

type checkCase struct {
	name   string
	x      openapicheck.Exchange
	passes bool
}

// TestCheckerCatchesDrift: the checker passes an exchange the document
// describes, and fails a route it lacks, a field it does not list, an
// error body of another shape, and a token the operation needs but did
// not get unless the gateway answered 401, and an application naming
// both members of its applicant oneof.
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
	cases := []checkCase{
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
	// An application names its applicant once: unit or individual (a
	// proto oneof), never both.
	post := func(path, body string) (*http.Request, []byte) {
		r := httptest.NewRequest(http.MethodPost, path, strings.NewReader(body))
		r.Header.Set("Authorization", "Bearer t")
		r.Header.Set("Content-Type", "application/json")
		return r, []byte(body)
	}
	application := `"name":"branches/ai/applications/binhai-2026","kind":"APPLICATION_KIND_UNIT","statement":"s","state":"APPLICATION_STATE_SUBMITTED","submitter":"people/chen-jie","reviewer":"","decisionReason":"","member":"","etag":"e"`
	unit := `"unit":{"organization":"organizations/binhai-robotics","representative":"people/chen-jie"}`
	individual := `"individual":{"person":"people/li-na","academicCredentials":"PhD","expertise":["NLP"]}`
	oneUnit, oneUnitBody := post("/v1/branches/ai/applications?applicationId=binhai-2026", `{`+unit+`,"statement":"s"}`)
	both, bothBody := post("/v1/branches/ai/applications?applicationId=binhai-2026", `{`+unit+`,`+individual+`}`)
	cases = append(cases,
		checkCase{"an application for a unit", openapicheck.Exchange{Request: oneUnit, RequestBody: oneUnitBody, Status: 200, Header: json,
			Body: []byte(`{` + application + `,` + unit + `}`)}, true},
		checkCase{"an application naming unit and individual", openapicheck.Exchange{Request: both, RequestBody: bothBody, Status: 200, Header: json,
			Body: []byte(`{` + application + `,` + unit + `}`)}, false},
		checkCase{"an application answered with unit and individual", openapicheck.Exchange{Request: oneUnit, RequestBody: oneUnitBody, Status: 200, Header: json,
			Body: []byte(`{` + application + `,` + unit + `,` + individual + `}`)}, false},
	)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := c.Check(ctx, tc.x)
			if (err == nil) != tc.passes {
				t.Fatalf("check: %v, want passes=%v", err, tc.passes)
			}
		})
	}
	if r := c.Report(); r.Checked != len(cases) || len(r.Failures) != 7 {
		t.Fatalf("report: %d checked, %d failures", r.Checked, len(r.Failures))
	}
}
