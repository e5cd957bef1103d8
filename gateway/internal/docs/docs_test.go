package docs_test

import (
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/tjsia/chapterhouse/gateway/internal/docs"
)

// TestDocsPage: the page, its script and Swagger UI's files are served
// from the binary, and read /openapi.json. CI builds with the files (make
// docs-ui), so there they must be present; a build without them says how
// to get them.
func TestDocsPage(t *testing.T) {
	h := docs.Handler()
	get := func(path string) *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		return rec
	}
	if !docs.Available() {
		if os.Getenv("CI") == "true" {
			t.Fatal("CI builds the gateway with Swagger UI (make docs-ui), but it is missing")
		}
		if rec := get("/docs"); rec.Code != http.StatusServiceUnavailable || !strings.Contains(rec.Body.String(), "make docs-ui") {
			t.Fatalf("without the files: %d %q", rec.Code, rec.Body.String())
		}
		return
	}
	if rec := get("/docs"); rec.Code != 200 || !strings.Contains(rec.Body.String(), "/docs/swagger-ui-bundle.js") {
		t.Fatalf("/docs: %d %q", rec.Code, rec.Body.String())
	}
	if rec := get("/docs/init.js"); !strings.Contains(rec.Body.String(), `url: "/openapi.json"`) {
		t.Fatalf("init.js: %q", rec.Body.String())
	}
	for _, f := range docs.Files {
		if rec := get("/docs/" + f); rec.Code != 200 || rec.Body.Len() < 1000 {
			t.Errorf("%s: %d, %d bytes", f, rec.Code, rec.Body.Len())
		}
	}
}
