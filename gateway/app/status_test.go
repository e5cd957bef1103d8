package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/tjsia/chapterhouse/gateway/app"
	"github.com/tjsia/chapterhouse/gateway/internal/docs"
	"github.com/tjsia/chapterhouse/gateway/internal/openapidoc"
	"github.com/tjsia/chapterhouse/platform/apierr"
	apiv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/api/v1"
	membershipv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/membership/v1"
	"github.com/tjsia/chapterhouse/proto/gen/go/openapi"
)

// people answers GetPerson by the id asked for: each id is one way a
// backend fails. It serves no other service, so every other route's
// backend answers UNIMPLEMENTED.
type people struct {
	membershipv1.UnimplementedMembershipServiceServer
}

func (people) GetPerson(ctx context.Context, req *membershipv1.GetPersonRequest) (*membershipv1.Person, error) {
	switch strings.TrimPrefix(req.GetName(), "people/") {
	case "unauthenticated":
		return nil, apierr.Unauthenticated("no valid token")
	case "denied":
		return nil, apierr.PermissionDenied("membership.own_record")
	case "missing":
		return nil, apierr.NotFound(req.GetName())
	case "stale":
		return nil, apierr.EtagMismatch(req.GetName())
	case "reused":
		return nil, apierr.New(codes.InvalidArgument, apiv1.ErrorReason_IDEMPOTENCY_KEY_REUSED, nil)
	case "broken":
		return nil, status.Error(codes.Internal, "the store's disk is full") // never shown
	case "down":
		return nil, apierr.Unavailable("membership's Redis", nil)
	case "slow", "waiting":
		<-ctx.Done()
		return nil, ctx.Err()
	}
	return &membershipv1.Person{Name: req.GetName(), DisplayName: "x"}, nil
}

func (people) UpdatePerson(_ context.Context, req *membershipv1.UpdatePersonRequest) (*membershipv1.Person, error) {
	return nil, apierr.EtagMismatch(req.GetPerson().GetName())
}

func ifMatch(r *http.Request, etag string) *http.Request {
	r.Header.Set("If-Match", etag)
	return r
}

// TestEveryStatusHasTheDocumentedBody: every status the gateway answers
// with, through the real gateway handler in front of a real gRPC backend,
// carries the documented error body (checked against the OpenAPI
// document's ErrorBody schema) with its reason and domain.
func TestEveryStatusHasTheDocumentedBody(t *testing.T) {
	ctx := context.Background()
	h, signer := startGateway(t, people{})
	doc, err := openapidoc.Load(ctx, openapi.Document())
	if err != nil {
		t.Fatal(err)
	}
	errorBody := doc.Components.Schemas[openapidoc.ErrorSchema].Value

	token, err := signer.Sign("people/li-na", nil, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	request := func(method, path, contentType, body string) *http.Request {
		r := httptest.NewRequest(method, path, strings.NewReader(body))
		r.Header.Set("Authorization", "Bearer "+token)
		if contentType != "" {
			r.Header.Set("Content-Type", contentType)
		}
		return r
	}
	// Builds without and with Swagger UI's files (make docs-ui) for /docs.
	withDocs := func(files fstest.MapFS) http.Handler {
		cfg, _ := gatewayConfig(t, people{})
		cfg.DocsUI = files
		h, err := app.NewHandler(ctx, cfg)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = h.Close() })
		return h
	}
	noDocsUI := withDocs(fstest.MapFS{})
	docsUI := fstest.MapFS{}
	for _, f := range docs.Files {
		docsUI[f] = &fstest.MapFile{Data: []byte("/* Swagger UI */")}
	}
	withDocsUI := withDocs(docsUI)

	// The first verification takes the anonymous caller's one-a-minute
	// budget (and meets UNIMPLEMENTED: no ActivitiesService here).
	firstVerify := httptest.NewRequest(http.MethodGet, "/v1/certificates:verify?verificationCode=X", nil)
	cases := []struct {
		status int
		reason apiv1.ErrorReason
		req    *http.Request
		cancel bool         // the client goes away while the backend works
		h      http.Handler // nil: the gateway above
	}{
		{400, apiv1.ErrorReason_MALFORMED_REQUEST, request("POST", "/v1/organizations", "application/json", `{"displayName": `), false, nil},
		{401, apiv1.ErrorReason_UNAUTHENTICATED, request("GET", "/v1/people/unauthenticated", "", ""), false, nil},
		{403, apiv1.ErrorReason_PERMISSION_DENIED, request("GET", "/v1/people/denied", "", ""), false, nil},
		{404, apiv1.ErrorReason_NOT_FOUND, request("GET", "/v1/people/missing", "", ""), false, nil},
		{404, apiv1.ErrorReason_NO_SUCH_PATH, request("GET", "/v1/nowhere", "", ""), false, nil},
		{405, apiv1.ErrorReason_METHOD_NOT_ALLOWED, request("DELETE", "/v1/people/li-na", "", ""), false, nil},
		{409, apiv1.ErrorReason_ETAG_MISMATCH, request("GET", "/v1/people/stale", "", ""), false, nil},
		{412, apiv1.ErrorReason_ETAG_MISMATCH, ifMatch(request("PATCH", "/v1/people/li-na", "application/json", `{"displayName": "x"}`), `"stale"`), false, nil},
		{413, apiv1.ErrorReason_BODY_TOO_LARGE, request("POST", "/v1/organizations", "application/json", `{"displayName": "`+strings.Repeat("x", 2048)+`"}`), false, nil},
		{415, apiv1.ErrorReason_UNSUPPORTED_MEDIA_TYPE, request("POST", "/v1/organizations", "application/x-www-form-urlencoded", "displayName=x"), false, nil},
		{422, apiv1.ErrorReason_IDEMPOTENCY_KEY_REUSED, request("GET", "/v1/people/reused", "", ""), false, nil},
		{501, apiv1.ErrorReason_UNIMPLEMENTED, firstVerify, false, nil},
		{429, apiv1.ErrorReason_RATE_LIMITED, httptest.NewRequest(http.MethodGet, "/v1/certificates:verify?verificationCode=X", nil), false, nil},
		{499, apiv1.ErrorReason_CANCELLED, request("GET", "/v1/people/waiting", "", ""), true, nil},
		{500, apiv1.ErrorReason_INTERNAL, request("GET", "/v1/people/broken", "", ""), false, nil},
		{503, apiv1.ErrorReason_DEPENDENCY_UNAVAILABLE, request("GET", "/v1/people/down", "", ""), false, nil},
		{503, apiv1.ErrorReason_DEPENDENCY_UNAVAILABLE, request("GET", "/docs", "", ""), false, noDocsUI},
		{404, apiv1.ErrorReason_NO_SUCH_PATH, request("GET", "/docs/VERSION", "", ""), false, withDocsUI},
		{404, apiv1.ErrorReason_NO_SUCH_PATH, request("POST", "/v1/branches/ai/standards//signatories", "application/json", "{}"), false, nil},
		{504, apiv1.ErrorReason_DEADLINE_EXCEEDED, request("GET", "/v1/people/slow", "", ""), false, nil},
	}
	seen := map[int]bool{}
	for _, tc := range cases {
		t.Run(http.StatusText(tc.status)+"/"+tc.reason.String()+"/"+tc.req.URL.Path, func(t *testing.T) {
			r := tc.req
			if tc.cancel {
				cctx, cancel := context.WithCancel(r.Context())
				time.AfterFunc(100*time.Millisecond, cancel)
				r = r.WithContext(cctx)
			}
			rec := httptest.NewRecorder()
			if tc.h != nil {
				tc.h.ServeHTTP(rec, r)
			} else {
				h.ServeHTTP(rec, r)
			}
			if rec.Code != tc.status {
				t.Fatalf("status %d, want %d: %s", rec.Code, tc.status, rec.Body.String())
			}
			var body any
			if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
				t.Fatalf("body %q: %v", rec.Body.String(), err)
			}
			if err := errorBody.VisitJSON(body); err != nil {
				t.Fatalf("body does not match the documented ErrorBody: %v\n%s", err, rec.Body.String())
			}
			e := body.(map[string]any)["error"].(map[string]any)
			if e["code"] != float64(tc.status) || e["reason"] != tc.reason.String() || e["domain"] != "chapterhouse" || e["message"] == "" {
				t.Fatalf("body %s, want code %d and reason %s", rec.Body.String(), tc.status, tc.reason)
			}
			if bytes.Contains(rec.Body.Bytes(), []byte("disk is full")) {
				t.Fatal("an internal error's text reached the client")
			}
			seen[tc.status] = true
		})
	}
	// Every error status the README's table and the OpenAPI document name.
	for _, want := range []int{400, 401, 403, 404, 405, 409, 412, 413, 415, 422, 429, 499, 500, 501, 503, 504} {
		if !seen[want] {
			t.Errorf("no case answered %d", want)
		}
	}
}
