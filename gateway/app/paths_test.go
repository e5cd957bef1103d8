package app_test

import (
	"net/http"
	"testing"
)

// TestNonCanonicalPathsAreUnknown: a path with an empty, "." or ".."
// segment (percent-encoded or not), under every prefix the gateway serves,
// is answered as an unknown path is (404 NO_SUCH_PATH, the documented
// body), never redirected to the path it would clean to. http.ServeMux
// answered POST /v1/branches/ai/standards//signatories with a 307 to
// another resource.
func TestNonCanonicalPathsAreUnknown(t *testing.T) {
	rec, h, request := edge(t)
	for _, tc := range []struct{ method, path string }{
		{"POST", "/v1/branches/ai/standards//signatories"},
		{"GET", "/v1/people//li-na"},
		{"GET", "//v1/people"},
		{"GET", "/v1/./people/li-na"},
		{"GET", "/v1/people/li-na/."},
		{"GET", "/v1/organizations/../people/li-na"},
		{"GET", "/v1/people/%2e%2e/people/li-na"},
		{"GET", "/v1/people/li-na/%2E"},
		{"PATCH", "/v1/people/./li-na"},
		{"GET", "/docs/."},
		{"GET", "/docs//swagger-ui.css"},
		{"GET", "/./docs"},
		{"GET", "//openapi.json"},
		{"GET", "/openapi.json/."},
		{"GET", "/healthz/.."},
		{"GET", "/./healthz"},
		{"GET", "//readyz"},
		{"GET", "/diagz//backends"},
		{"GET", "/x/../healthz"},
	} {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			w := serve(h, request(tc.method, tc.path, ""))
			if reason, _ := errorReason(t, w); w.Code != http.StatusNotFound || reason != "NO_SUCH_PATH" {
				t.Fatalf("%d %s (Location %q), want 404 NO_SUCH_PATH", w.Code, w.Body, w.Header().Get("Location"))
			}
			if loc := w.Header().Get("Location"); loc != "" {
				t.Fatalf("redirected to %s", loc)
			}
			// As any unknown API path: an API answer's headers.
			if w.Header().Get("Cache-Control") != "no-store" || w.Header().Get("Content-Type") != "application/json" {
				t.Fatalf("headers %v", w.Header())
			}
		})
	}
	if n := rec.count(); n != 0 {
		t.Fatalf("%d requests reached the service", n)
	}
}
