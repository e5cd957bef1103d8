// Package middleware holds the gateway's HTTP wrappers: connection framing, panic recovery,
// request ids, CORS from an allowlist (rs/cors), a request body limit, a
// deadline, and gzip (klauspost/compress/gzhttp). Each
// is a func(http.Handler) http.Handler so the chain reads top to bottom.
package middleware

import (
	"context"
	"log/slog"
	"mime"
	"net/http"
	"path"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/klauspost/compress/gzhttp"
	"github.com/rs/cors"
	"google.golang.org/grpc/codes"

	"github.com/tjsia/chapterhouse/gateway/internal/errorbody"
	"github.com/tjsia/chapterhouse/platform/apierr"
	"github.com/tjsia/chapterhouse/platform/ids"
	apiv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/api/v1"
)

// RequestIDHeader carries the request id end to end.
const RequestIDHeader = "X-Request-Id"

// Chain applies wrappers so the first listed is outermost.
func Chain(h http.Handler, wrappers ...func(http.Handler) http.Handler) http.Handler {
	for i := len(wrappers) - 1; i >= 0; i-- {
		h = wrappers[i](h)
	}
	return h
}

// CloseAfterChunked closes the connection after answering a request whose
// body came chunked (RFC 9112 §6.1). A request with both Content-Length
// and Transfer-Encoding: chunked is how one request is smuggled inside
// another: a proxy in front that frames by Content-Length forwards the
// tail as part of the body, while this server frames by the chunks and
// would serve the tail as a second request on the same connection. Go's
// net/http reads such a request by its chunks and drops Content-Length
// before a handler sees it, so a handler cannot tell the two cases apart;
// closing after every chunked request covers the mixed one, which RFC 9112
// requires, and costs a client that streams its body a new connection.
func CloseAfterChunked(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ProtoMajor == 1 && len(r.TransferEncoding) > 0 {
			// net/http closes the connection after a response that says
			// so, without reading another request from it.
			w.Header().Set("Connection", "close")
		}
		next.ServeHTTP(w, r)
	})
}

// CanonicalPaths sends a request whose path is not in canonical form (an
// empty segment, a "." or ".." segment, percent-encoded or not) to
// nonCanonical instead of next. http.ServeMux would answer it with a
// redirect to the cleaned path, which turns
// POST /v1/branches/ai/standards//signatories into a 307 to another
// resource; such a path names nothing here, and is answered as any unknown
// path is.
func CanonicalPaths(nonCanonical http.Handler) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if escaped := r.URL.EscapedPath(); !IsCanonicalPath(escaped) || !IsCanonicalPath(r.URL.Path) {
				nonCanonical.ServeHTTP(w, r)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

// IsCanonicalPath reports whether p is what http.ServeMux's cleaning
// leaves unchanged: rooted, no empty, "." or ".." segments (a trailing
// slash is kept).
func IsCanonicalPath(p string) bool {
	if p == "" || p[0] != '/' {
		return false
	}
	clean := path.Clean(p)
	if strings.HasSuffix(p, "/") && clean != "/" {
		clean += "/"
	}
	return clean == p
}

// Recover turns a panic into a 500 with the documented body.
func Recover(log *slog.Logger, errs *errorbody.Writer) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			defer func() {
				if v := recover(); v != nil {
					if v == http.ErrAbortHandler {
						panic(v)
					}
					log.ErrorContext(r.Context(), "panic in gateway", "panic", v, "stack", string(debug.Stack()))
					errs.WriteError(w, r, apierr.Internal())
				}
			}()
			next.ServeHTTP(w, r)
		})
	}
}

// RequestID keeps a client's X-Request-Id (if sane) or makes one, and
// echoes it on the response.
func RequestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get(RequestIDHeader)
		if id == "" || len(id) > 128 || strings.ContainsFunc(id, func(c rune) bool { return c < 0x21 || c > 0x7e }) {
			id = ids.Random()
			r.Header.Set(RequestIDHeader, id)
		}
		w.Header().Set(RequestIDHeader, id)
		next.ServeHTTP(w, r)
	})
}

// AllowedHeaders are the request headers a browser may send cross-origin:
// the token, the body's type, the API's own (Idempotency-Key, If-Match
// for a conditional write, X-Request-Id) and the language of errors.
var AllowedHeaders = []string{"Authorization", "Content-Type", "Idempotency-Key", "If-Match", "Accept-Language", "X-Request-Id"}

// ExposedHeaders are the response headers a browser's script may read
// beyond the safelisted ones: what a client needs to act on an answer (the
// resource's ETag for its next If-Match, when to retry, its request
// budget, the language of an error, whether a write was a replay, the id
// to quote).
var ExposedHeaders = []string{"ETag", "Retry-After", "RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset",
	"Content-Language", "Idempotent-Replay", "X-Request-Id"}

// CORS allows browser calls from the allowlisted origins only, through
// rs/cors. "*" in the list allows any origin (credentials are bearer
// tokens, never cookies). A preflight from an origin not on the list gets
// the documented error body (403 CORS_ORIGIN_NOT_ALLOWED) rather than a
// bare refusal, so a web developer sees why.
func CORS(allowed []string, errs *errorbody.Writer) func(http.Handler) http.Handler {
	allowAll := slices.Contains(allowed, "*")
	c := cors.New(cors.Options{
		// A function, not the list, so "*" echoes the caller's origin
		// (as a credentialed request needs) instead of sending "*".
		AllowOriginFunc: func(origin string) bool { return allowAll || slices.Contains(allowed, origin) },
		AllowedMethods:  []string{http.MethodGet, http.MethodPost, http.MethodPatch, http.MethodPut, http.MethodDelete},
		AllowedHeaders:  AllowedHeaders,
		ExposedHeaders:  ExposedHeaders,
		MaxAge:          600,
	})
	return func(next http.Handler) http.Handler {
		h := c.Handler(next)
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			origin := r.Header.Get("Origin")
			preflight := r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != ""
			if preflight && origin != "" && !c.OriginAllowed(r) {
				w.Header().Add("Vary", "Origin")
				errs.WriteError(w, r, apierr.New(codes.PermissionDenied, apiv1.ErrorReason_CORS_ORIGIN_NOT_ALLOWED, map[string]string{"origin": origin}))
				return
			}
			h.ServeHTTP(w, r)
		})
	}
}

// Deadline gives every call through next a deadline: the backend call
// inherits it, and when it passes the client gets 504 DEADLINE_EXCEEDED
// with the documented body instead of waiting on a stuck service.
func Deadline(d time.Duration) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			ctx, cancel := context.WithTimeout(r.Context(), d)
			defer cancel()
			next.ServeHTTP(w, r.WithContext(ctx))
		})
	}
}

// LimitBody refuses bodies larger than max: at once when Content-Length
// says so, and mid-read otherwise (the error handler maps that to 413).
func LimitBody(max int64, errs *errorbody.Writer) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.ContentLength > max {
				errs.WriteError(w, r, apierr.New(codes.InvalidArgument, apiv1.ErrorReason_BODY_TOO_LARGE, map[string]string{"maxBytes": strconv.FormatInt(max, 10)}))
				return
			}
			r.Body = http.MaxBytesReader(w, r.Body, max)
			next.ServeHTTP(w, r)
		})
	}
}

// RequireJSON refuses a request body declared as anything but JSON with 415
// UNSUPPORTED_MEDIA_TYPE: the API reads only JSON, and a form or text body
// would otherwise surface as a baffling decode error. A body without a
// Content-Type is read as JSON.
func RequireJSON(errs *errorbody.Writer) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if ct := r.Header.Get("Content-Type"); ct != "" && (r.ContentLength > 0 || r.ContentLength == -1) {
				media, _, err := mime.ParseMediaType(ct)
				if err != nil || (media != "application/json" && !strings.HasSuffix(media, "+json")) {
					errs.WriteError(w, r, apierr.New(codes.InvalidArgument, apiv1.ErrorReason_UNSUPPORTED_MEDIA_TYPE, map[string]string{"contentType": ct}))
					return
				}
			}
			next.ServeHTTP(w, r)
		})
	}
}

// EdgeHeaders keeps transport headers at the edge: a client's Grpc-Timeout
// would set the services' deadline (grpc-gateway reads it even when it
// forwards no header), Grpc-Metadata-* would reach them as metadata, and
// the other transport and proxy headers would reach them too. Deadlines
// come from the gateway's settings only (Deadline). It also drops an
// Idempotency-Key on a safe method: a read has nothing to apply once, and
// its response must not be kept. Place it after anything that reads the
// proxy headers (the rate limiter reads X-Forwarded-For).
func EdgeHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for name := range r.Header {
			if isTransportHeader(name) {
				r.Header.Del(name)
			}
		}
		if r.Method == http.MethodGet || r.Method == http.MethodHead {
			r.Header.Del("Idempotency-Key")
		}
		next.ServeHTTP(w, r)
	})
}

// isTransportHeader: a canonical header name that belongs to the hops
// between client and service, not to the API.
func isTransportHeader(name string) bool {
	switch name {
	case "Te", "Trailer", "Forwarded", "X-Forwarded-For", "X-Forwarded-Host", "X-Forwarded-Proto", "X-Real-Ip":
		return true
	}
	return strings.HasPrefix(name, "Grpc-")
}

// NoStore marks every response as private and typed: an API answer is
// about its caller, so no shared cache may keep it (Cache-Control:
// no-store), and a browser must not sniff a JSON body into something it
// would run (X-Content-Type-Options: nosniff).
func NoStore(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		next.ServeHTTP(w, r)
	})
}

// Gzip compresses responses of 1 KiB and more for clients that accept
// it, through klauspost/compress's gzhttp (smaller ones gain nothing).
func Gzip(next http.Handler) http.Handler {
	wrap, err := gzhttp.NewWrapper(gzhttp.MinSize(gzhttp.DefaultMinSize))
	if err != nil {
		// Only a bad option fails, and the options are fixed here.
		panic("middleware: gzip: " + err.Error())
	}
	return wrap(next)
}
