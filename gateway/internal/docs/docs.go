// Package docs serves the browsable API reference at /docs: Swagger UI,
// from files pinned in ui/VERSION and built into the binary (make docs-ui
// fetches them), reading /openapi.json. Nothing is loaded from elsewhere,
// so the page works offline.
package docs

import (
	"embed"
	"io/fs"
	"net/http"
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

// Available reports whether the build carries Swagger UI's files.
func Available() bool {
	for _, f := range Files {
		if _, err := fs.Stat(ui, "ui/"+f); err != nil {
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

// Handler serves /docs and its files under /docs/.
func Handler() http.Handler {
	files, _ := fs.Sub(ui, "ui")
	static := http.StripPrefix("/docs/", http.FileServerFS(files))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !Available() {
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte("This build has no Swagger UI (make docs-ui fetches " + Version() + "). The document is at /openapi.json.\n"))
			return
		}
		switch r.URL.Path {
		case "/docs", "/docs/":
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			_, _ = w.Write([]byte(page))
		case "/docs/init.js":
			w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
			_, _ = w.Write([]byte(initScript))
		case "/docs/VERSION":
			http.NotFound(w, r)
		default:
			static.ServeHTTP(w, r)
		}
	})
}
