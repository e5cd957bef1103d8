// Package docs serves the browsable API reference at /docs: Swagger UI,
// from files pinned in ui/VERSION and built into the binary (make docs-ui
// fetches them), reading /openapi.json. Nothing is loaded from elsewhere,
// so the page works offline.
package docs

import (
	"embed"
	"io/fs"
	"net/http"
	"slices"
	"strings"
)

// ui holds VERSION always, and Swagger UI's files when the build fetched
// them.
//
//go:embed all:ui
var ui embed.FS

// Files are what the page needs of Swagger UI.
var Files = []string{"swagger-ui-bundle.js", "swagger-ui.css"}

// Version is the pinned Swagger UI package and its integrity.
func Version() string {
	v, _ := ui.ReadFile("ui/VERSION")
	return strings.TrimSpace(string(v))
}

// Embedded is the ui directory built into the binary: VERSION, and Swagger
// UI's files when the build fetched them (make docs-ui).
func Embedded() fs.FS {
	files, err := fs.Sub(ui, "ui")
	if err != nil {
		// Only a malformed path fails, and "ui" is fixed here.
		panic("docs: " + err.Error())
	}
	return files
}

// Available reports whether the build carries Swagger UI's files.
func Available() bool { return available(Embedded()) }

func available(files fs.FS) bool {
	for _, f := range Files {
		if _, err := fs.Stat(files, f); err != nil {
			return false
		}
	}
	return true
}

const page = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Chapterhouse API</title>
<link rel="stylesheet" href="/docs/swagger-ui.css">
</head>
<body>
<div id="ui"></div>
<script src="/docs/swagger-ui-bundle.js"></script>
<script src="/docs/init.js"></script>
</body>
</html>
`

const initScript = `window.ui = SwaggerUIBundle({url: "/openapi.json", dom_id: "#ui", deepLinking: true});
`

// Handler serves /docs, its script and Swagger UI's files under /docs/
// from files (Embedded, in a build). Without Swagger UI's files every path
// is answered by unavailable, and a path that is none of the page's by
// notFound: both with the API's documented error body, which the caller's
// handlers write.
func Handler(files fs.FS, unavailable, notFound http.Handler) http.Handler {
	static := http.StripPrefix("/docs/", http.FileServerFS(files))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !available(files) {
			unavailable.ServeHTTP(w, r)
			return
		}
		switch p := r.URL.Path; {
		case p == "/docs" || p == "/docs/":
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			_, _ = w.Write([]byte(page))
		case p == "/docs/init.js":
			w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
			_, _ = w.Write([]byte(initScript))
		case slices.Contains(Files, strings.TrimPrefix(p, "/docs/")):
			static.ServeHTTP(w, r)
		default:
			// VERSION, and anything else: the file server would answer
			// with its own text, or redirect a directory.
			notFound.ServeHTTP(w, r)
		}
	})
}
