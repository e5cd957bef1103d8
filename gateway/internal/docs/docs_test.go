package docs_test

import (
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/tjsia/chapterhouse/gateway/internal/docs"
)

// answer is a stand-in for the gateway's error handlers: it names itself.
func answer(name string, status int) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(status)
		_, _ = w.Write([]byte(name))
	})
}

func get(h http.Handler, path string) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	return rec
}

// TestDocsPage: the page, its script and Swagger UI's files are served,
// and read /openapi.json; any other path under /docs/ is the caller's
// not-found answer (the file server answered VERSION's 404 in its own
// text and would redirect a directory).
func TestDocsPage(t *testing.T) {
	files := fstest.MapFS{"VERSION": {Data: []byte("swagger-ui-dist@5")}}
	for _, f := range docs.Files {
		files[f] = &fstest.MapFile{Data: []byte(strings.Repeat("x", 2000))}
	}
	h := docs.Handler(files, answer("unavailable", 503), answer("not found", 404))
	if rec := get(h, "/docs"); rec.Code != 200 || !strings.Contains(rec.Body.String(), "/docs/swagger-ui-bundle.js") {
		t.Fatalf("/docs: %d %q", rec.Code, rec.Body.String())
	}
	if rec := get(h, "/docs/init.js"); !strings.Contains(rec.Body.String(), `url: "/openapi.json"`) {
		t.Fatalf("init.js: %q", rec.Body.String())
	}
	for _, f := range docs.Files {
		if rec := get(h, "/docs/"+f); rec.Code != 200 || rec.Body.Len() != 2000 {
			t.Errorf("%s: %d, %d bytes", f, rec.Code, rec.Body.Len())
		}
	}
	for _, p := range []string{"/docs/VERSION", "/docs/index.html", "/docs/nothing.js", "/docs/ui/"} {
		if rec := get(h, p); rec.Code != 404 || rec.Body.String() != "not found" {
			t.Errorf("%s: %d %q, want the caller's not-found answer", p, rec.Code, rec.Body.String())
		}
	}
}

// TestDocsWithoutSwaggerUI: a build without Swagger UI's files answers
// every docs path with the caller's unavailable answer.
func TestDocsWithoutSwaggerUI(t *testing.T) {
	h := docs.Handler(fstest.MapFS{"VERSION": {Data: []byte("swagger-ui-dist@5")}}, answer("unavailable", 503), answer("not found", 404))
	for _, p := range []string{"/docs", "/docs/", "/docs/init.js", "/docs/swagger-ui.css"} {
		if rec := get(h, p); rec.Code != 503 || rec.Body.String() != "unavailable" {
			t.Errorf("%s: %d %q", p, rec.Code, rec.Body.String())
		}
	}
}

// TestTheBuildCarriesSwaggerUI: CI builds with the files (make docs-ui),
// so there the embedded ones must be present and served.
func TestTheBuildCarriesSwaggerUI(t *testing.T) {
	if !docs.Available() {
		if os.Getenv("CI") == "true" {
			t.Fatal("CI builds the gateway with Swagger UI (make docs-ui), but it is missing")
		}
		t.Skip("this build has no Swagger UI (make docs-ui)")
	}
	h := docs.Handler(docs.Embedded(), answer("unavailable", 503), answer("not found", 404))
	for _, f := range docs.Files {
		if rec := get(h, "/docs/"+f); rec.Code != 200 || rec.Body.Len() < 1000 {
			t.Errorf("%s: %d, %d bytes", f, rec.Code, rec.Body.Len())
		}
	}
}
