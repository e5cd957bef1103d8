package middleware_test

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tjsia/chapterhouse/gateway/internal/errorbody"
	"github.com/tjsia/chapterhouse/gateway/internal/middleware"
	"github.com/tjsia/chapterhouse/platform/i18n"
)

// echo answers 200 "next" and records that it ran.
type echo struct{ calls int }

func (e *echo) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	e.calls++
	w.Header().Set("Content-Type", "text/plain")
	_, _ = io.WriteString(w, "next")
}

func decodeBody(t *testing.T, rec *httptest.ResponseRecorder) errorbody.Body {
	t.Helper()
	if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q, want application/json", ct)
	}
	var b errorbody.Body
	if err := json.Unmarshal(rec.Body.Bytes(), &b); err != nil {
		t.Fatalf("body %q is not the JSON error shape: %v", rec.Body.String(), err)
	}
	return b
}

func TestCORS(t *testing.T) {
	const allowed = "https://app.example"
	tests := []struct {
		name        string
		allowlist   []string
		method      string
		origin      string
		preflight   bool
		wantStatus  int
		wantNext    bool
		wantAllowed string // Access-Control-Allow-Origin
		wantMethods bool   // preflight headers present
		wantVary    bool
	}{
		// Vary: Origin on every response, so a cache never serves one
		// origin's answer to another.
		{"no origin passes through", []string{allowed}, http.MethodGet, "", false, 200, true, "", false, true},
		{"allowed origin", []string{allowed}, http.MethodGet, allowed, false, 200, true, allowed, false, true},
		{"allowed preflight", []string{allowed}, http.MethodOptions, allowed, true, 204, false, allowed, true, true},
		{"wildcard preflight", []string{"*"}, http.MethodOptions, "https://any.example", true, 204, false, "https://any.example", true, true},
		{"disallowed simple request", []string{allowed}, http.MethodGet, "https://evil.example", false, 200, true, "", false, true},
		{"disallowed preflight", []string{allowed}, http.MethodOptions, "https://evil.example", true, 403, false, "", false, true},
		{"OPTIONS without request method is not a preflight", []string{allowed}, http.MethodOptions, allowed, false, 200, true, allowed, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			next := &echo{}
			h := middleware.CORS(tt.allowlist, errs(t))(next)
			req := httptest.NewRequest(tt.method, "/v1/organizations", nil)
			if tt.origin != "" {
				req.Header.Set("Origin", tt.origin)
			}
			if tt.preflight {
				req.Header.Set("Access-Control-Request-Method", "POST")
				// As a browser asks (Fetch: lowercase, sorted).
				req.Header.Set("Access-Control-Request-Headers", "accept-language,authorization,idempotency-key,if-match")
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)

			if rec.Code != tt.wantStatus {
				t.Fatalf("status = %d, want %d", rec.Code, tt.wantStatus)
			}
			if (next.calls == 1) != tt.wantNext {
				t.Errorf("next called %d times, want called=%v", next.calls, tt.wantNext)
			}
			hdr := rec.Header()
			if got := hdr.Get("Access-Control-Allow-Origin"); got != tt.wantAllowed {
				t.Errorf("Allow-Origin = %q, want %q", got, tt.wantAllowed)
			}
			// The response headers a script may read are named on actual
			// responses; a preflight answers for the method and headers
			// asked about (rs/cors).
			if tt.wantAllowed != "" && !tt.preflight {
				// What a client needs of an answer: the ETag for its next
				// If-Match, when to retry, its budget, the language of an
				// error, a replay, the request id.
				if got := hdr.Get("Access-Control-Expose-Headers"); !sameNames(got, "ETag, Retry-After, RateLimit-Limit, RateLimit-Remaining, "+
					"RateLimit-Reset, Content-Language, Idempotent-Replay, X-Request-Id") {
					t.Errorf("Expose-Headers = %q", got)
				}
			}
			if tt.wantMethods {
				if got := hdr.Get("Access-Control-Allow-Methods"); got != "POST" {
					t.Errorf("Allow-Methods = %q", got)
				}
				if got := hdr.Get("Access-Control-Allow-Headers"); !sameNames(got, "accept-language,authorization,idempotency-key,if-match") {
					t.Errorf("Allow-Headers = %q", got)
				}
				if got := hdr.Get("Access-Control-Max-Age"); got != "600" {
					t.Errorf("Max-Age = %q", got)
				}
				if rec.Body.Len() != 0 {
					t.Errorf("preflight body = %q, want empty", rec.Body.String())
				}
			} else if got := hdr.Get("Access-Control-Allow-Methods"); got != "" {
				t.Errorf("Allow-Methods = %q on a non-preflight", got)
			}
			if got := strings.Join(hdr.Values("Vary"), ","); strings.Contains(got, "Origin") != tt.wantVary {
				t.Errorf("Vary = %q, want Origin: %v", got, tt.wantVary)
			}
			if tt.wantStatus == http.StatusForbidden {
				b := decodeBody(t, rec)
				want := errorbody.Error{
					Code: 403, Status: "PERMISSION_DENIED", Message: "This browser origin (https://evil.example) is not allowed.",
					Reason: "CORS_ORIGIN_NOT_ALLOWED", Domain: "chapterhouse", Metadata: map[string]string{"origin": "https://evil.example"},
				}
				b.Error.Details = nil
				if !equalError(b.Error, want) {
					t.Errorf("body = %+v, want %+v", b.Error, want)
				}
			}
		})
	}
}

// sameNames: two comma-separated lists of header names hold the same
// names, whatever their case and order.
func sameNames(a, b string) bool {
	names := func(s string) []string {
		var out []string
		for _, n := range strings.Split(s, ",") {
			out = append(out, strings.ToLower(strings.TrimSpace(n)))
		}
		slices.Sort(out)
		return out
	}
	return slices.Equal(names(a), names(b))
}

func equalError(a, b errorbody.Error) bool {
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return bytes.Equal(ja, jb)
}

func TestLimitBody(t *testing.T) {
	const max = 16
	tests := []struct {
		name          string
		body          string
		contentLength int64 // -1: unknown (chunked)
		wantStatus    int
		wantRead      string
		wantReadErr   bool
	}{
		{"under the limit", "small", 5, 200, "small", false},
		{"exactly the limit", strings.Repeat("x", max), max, 200, strings.Repeat("x", max), false},
		{"declared too large", strings.Repeat("x", max+1), max + 1, 413, "", false},
		{"unknown length, too large while reading", strings.Repeat("x", 3*max), -1, 200, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var read string
			var readErr error
			called := false
			h := middleware.LimitBody(max, errs(t))(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				called = true
				b, err := io.ReadAll(r.Body)
				read, readErr = string(b), err
				w.WriteHeader(http.StatusOK)
			}))
			req := httptest.NewRequest(http.MethodPost, "/v1/x", strings.NewReader(tt.body))
			req.ContentLength = tt.contentLength
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)

			if rec.Code != tt.wantStatus {
				t.Fatalf("status = %d, want %d", rec.Code, tt.wantStatus)
			}
			if tt.wantStatus == http.StatusRequestEntityTooLarge {
				if called {
					t.Error("next ran for a body declared too large")
				}
				b := decodeBody(t, rec)
				if b.Error.Code != 413 || b.Error.Reason != "BODY_TOO_LARGE" || b.Error.Status != "INVALID_ARGUMENT" ||
					b.Error.Message != "The request body is too large (at most 16 bytes)." {
					t.Errorf("body = %+v", b.Error)
				}
				return
			}
			if tt.wantReadErr {
				var mbe *http.MaxBytesError
				if !errors.As(readErr, &mbe) || mbe.Limit != max {
					t.Errorf("read err = %v, want *http.MaxBytesError with limit %d", readErr, max)
				}
				return
			}
			if readErr != nil || read != tt.wantRead {
				t.Errorf("read %q, %v; want %q", read, readErr, tt.wantRead)
			}
		})
	}
}

func TestGzip(t *testing.T) {
	payload := strings.Repeat(`{"name":"organizations/o1"}`, 50)
	tests := []struct {
		name           string
		method         string
		acceptEncoding string
		wantGzip       bool
	}{
		{"gzip accepted", http.MethodGet, "gzip", true},
		{"gzip among others", http.MethodGet, "br, gzip;q=0.8, deflate", true},
		{"case and spaces", http.MethodGet, " GZip ; q=1 ", true},
		{"no header", http.MethodGet, "", false},
		{"other encodings only", http.MethodGet, "br, deflate", false},
		{"gzip refused with q=0", http.MethodGet, "gzip;q=0", false},
		{"gzip refused with q=0.0", http.MethodGet, "gzip; q=0.0, br", false},
		{"HEAD is never compressed", http.MethodHead, "gzip", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := middleware.Gzip(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				w.Header().Set("Content-Length", "1350")
				_, _ = io.WriteString(w, payload[:len(payload)/2])
				_, _ = io.WriteString(w, payload[len(payload)/2:])
			}))
			req := httptest.NewRequest(tt.method, "/v1/organizations/o1", nil)
			if tt.acceptEncoding != "" {
				req.Header.Set("Accept-Encoding", tt.acceptEncoding)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)

			if rec.Code != 200 {
				t.Fatalf("status = %d", rec.Code)
			}
			if got := rec.Header().Get("Vary"); got != "Accept-Encoding" {
				t.Errorf("Vary = %q, want Accept-Encoding", got)
			}
			if !tt.wantGzip {
				if ce := rec.Header().Get("Content-Encoding"); ce != "" {
					t.Errorf("Content-Encoding = %q, want none", ce)
				}
				if rec.Body.String() != payload {
					t.Errorf("plain body differs from the original (%d bytes)", rec.Body.Len())
				}
				return
			}
			if ce := rec.Header().Get("Content-Encoding"); ce != "gzip" {
				t.Fatalf("Content-Encoding = %q, want gzip", ce)
			}
			if cl := rec.Header().Get("Content-Length"); cl != "" {
				t.Errorf("Content-Length = %q kept on a compressed body", cl)
			}
			zr, err := gzip.NewReader(bytes.NewReader(rec.Body.Bytes()))
			if err != nil {
				t.Fatalf("body is not gzip: %v", err)
			}
			got, err := io.ReadAll(zr)
			if err != nil {
				t.Fatalf("decompress: %v", err)
			}
			if string(got) != payload {
				t.Errorf("decompressed body differs from the original")
			}
			if rec.Body.Len() >= len(payload) {
				t.Errorf("compressed %d bytes into %d", len(payload), rec.Body.Len())
			}
		})
	}
}

func TestGzipLeavesBodylessAndEncodedResponsesAlone(t *testing.T) {
	tests := []struct {
		name    string
		handler http.HandlerFunc
		status  int
		body    string
		ce      string
	}{
		{"204", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) }, 204, "", ""},
		{"304", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNotModified) }, 304, "", ""},
		{"already encoded", func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Encoding", "br")
			_, _ = io.WriteString(w, "brotli bytes")
		}, 200, "brotli bytes", "br"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodGet, "/", nil)
			req.Header.Set("Accept-Encoding", "gzip")
			rec := httptest.NewRecorder()
			middleware.Gzip(tt.handler).ServeHTTP(rec, req)
			if rec.Code != tt.status || rec.Body.String() != tt.body || rec.Header().Get("Content-Encoding") != tt.ce {
				t.Errorf("got %d %q encoding %q; want %d %q encoding %q",
					rec.Code, rec.Body.String(), rec.Header().Get("Content-Encoding"), tt.status, tt.body, tt.ce)
			}
		})
	}
}

func TestRequestID(t *testing.T) {
	tests := []struct {
		name     string
		incoming string
		keep     bool
	}{
		{"missing", "", false},
		{"sane", "req-123_ABC.xyz", true},
		{"128 chars", strings.Repeat("a", 128), true},
		{"too long", strings.Repeat("a", 129), false},
		{"newline", "abc\ndef", false},
		{"tab", "abc\tdef", false},
		{"space", "abc def", false},
		{"DEL", "abc\x7f", false},
		{"non-ASCII", "abcé", false},
	}
	idPattern := regexp.MustCompile(`^[\x21-\x7e]{1,128}$`)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var seen string
			h := middleware.RequestID(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
				seen = r.Header.Get(middleware.RequestIDHeader)
			}))
			req := httptest.NewRequest(http.MethodGet, "/", nil)
			if tt.incoming != "" {
				req.Header[middleware.RequestIDHeader] = []string{tt.incoming}
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)

			echoed := rec.Header().Get(middleware.RequestIDHeader)
			if echoed != seen {
				t.Errorf("response id %q != id seen downstream %q", echoed, seen)
			}
			if tt.keep {
				if echoed != tt.incoming {
					t.Errorf("id = %q, want the client's %q", echoed, tt.incoming)
				}
				return
			}
			if echoed == tt.incoming || !idPattern.MatchString(echoed) {
				t.Errorf("id = %q, want a fresh printable id replacing %q", echoed, tt.incoming)
			}
		})
	}
	// Generated ids differ per request.
	a, b := httptest.NewRecorder(), httptest.NewRecorder()
	noop := middleware.RequestID(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	noop.ServeHTTP(a, httptest.NewRequest(http.MethodGet, "/", nil))
	noop.ServeHTTP(b, httptest.NewRequest(http.MethodGet, "/", nil))
	if a.Header().Get(middleware.RequestIDHeader) == b.Header().Get(middleware.RequestIDHeader) {
		t.Error("two requests got the same generated id")
	}
}

func TestRecover(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	h := middleware.Recover(log, errs(t))(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		panic("secret internal detail")
	}))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
	if rec.Code != http.StatusInternalServerError {
		t.Fatalf("status = %d, want 500", rec.Code)
	}
	b := decodeBody(t, rec)
	want := errorbody.Error{Code: 500, Status: "INTERNAL", Message: "Internal error; it has been logged.", Reason: "INTERNAL", Domain: "chapterhouse"}
	b.Error.Details = nil // the ErrorInfo detail repeats reason and domain
	if !equalError(b.Error, want) {
		t.Errorf("body = %+v, want %+v", b.Error, want)
	}
	if strings.Contains(rec.Body.String(), "secret") {
		t.Error("panic value leaked to the client")
	}

	// http.ErrAbortHandler is re-raised so net/http aborts the response.
	abort := middleware.Recover(log, errs(t))(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		panic(http.ErrAbortHandler)
	}))
	defer func() {
		if v := recover(); v != http.ErrAbortHandler {
			t.Errorf("recovered %v, want http.ErrAbortHandler re-panicked", v)
		}
	}()
	abort.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/", nil))
}

func TestChainOrder(t *testing.T) {
	var order []string
	wrap := func(name string) func(http.Handler) http.Handler {
		return func(next http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				order = append(order, name)
				next.ServeHTTP(w, r)
			})
		}
	}
	h := middleware.Chain(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { order = append(order, "handler") }),
		wrap("first"), wrap("second"), wrap("third"))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/", nil))
	if got := strings.Join(order, ","); got != "first,second,third,handler" {
		t.Errorf("order = %s", got)
	}
}

func TestChainedErrorIsReadable(t *testing.T) {
	// The full gateway chain: a disallowed preflight still gets a readable
	// JSON error with a request id.
	h := middleware.Chain(&echo{},
		middleware.Recover(slog.New(slog.NewTextHandler(io.Discard, nil)), errs(t)),
		middleware.RequestID,
		middleware.Gzip,
		middleware.CORS([]string{"https://app.example"}, errs(t)),
		middleware.LimitBody(1024, errs(t)),
	)
	req := httptest.NewRequest(http.MethodOptions, "/v1/x", nil)
	req.Header.Set("Origin", "https://evil.example")
	req.Header.Set("Access-Control-Request-Method", "POST")
	req.Header.Set("Accept-Encoding", "gzip")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != 403 || rec.Header().Get(middleware.RequestIDHeader) == "" {
		t.Fatalf("status %d, id %q", rec.Code, rec.Header().Get(middleware.RequestIDHeader))
	}
	// A body this small goes uncompressed (under gzhttp's 1 KiB floor).
	var b errorbody.Body
	if err := json.NewDecoder(rec.Body).Decode(&b); err != nil || b.Error.Reason != "CORS_ORIGIN_NOT_ALLOWED" {
		t.Fatalf("body = %+v, %v", b, err)
	}
}

// TestDeadline: every call through it has a deadline, which its backend
// call inherits.
func TestDeadline(t *testing.T) {
	var got time.Time
	var ok bool
	h := middleware.Deadline(2 * time.Second)(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		got, ok = r.Context().Deadline()
	}))
	start := time.Now()
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/v1/x", nil))
	if !ok || got.Before(start.Add(time.Second)) || got.After(start.Add(3*time.Second)) {
		t.Fatalf("deadline %v (set %v), want about 2s from %v", got, ok, start)
	}
}

func errs(t *testing.T) *errorbody.Writer {
	t.Helper()
	return errorbody.NewWriter(i18n.Default(), i18n.English)
}

// TestIsCanonicalPath: exactly the paths http.ServeMux leaves as they are.
func TestIsCanonicalPath(t *testing.T) {
	for p, want := range map[string]bool{
		"/": true, "/v1/people": true, "/docs/": true, "/v1/people/li-na:approve": true,
		"": false, "v1/people": false, "//v1": false, "/v1//people": false, "/v1/./people": false,
		"/v1/people/..": false, "/v1/people/.": false, "/docs//": false, "/a/b/../c/": false,
	} {
		if got := middleware.IsCanonicalPath(p); got != want {
			t.Errorf("IsCanonicalPath(%q) = %v, want %v", p, got, want)
		}
	}
}
