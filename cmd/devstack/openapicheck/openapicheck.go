// Package openapicheck holds REST traffic to the OpenAPI document the
// gateway serves: each request and each response, errors included, is
// validated with kin-openapi's openapi3filter, and a route the document
// does not have is a failure. The README walkthroughs run through it in CI
// (devstack --check-openapi), so the document cannot drift from what the
// gateway does.
//
// It is strict where the document alone would be lenient: an object schema
// that does not say otherwise admits no property it does not list, so a
// field the gateway sends but the document lacks is caught too.
package openapicheck

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
)

// Report is what the checker saw.
type Report struct {
	// Checked counts the exchanges validated.
	Checked int `json:"checked"`
	// Failures describes each exchange that did not match the document.
	Failures []string `json:"failures"`
}

// Checker validates exchanges against one document.
type Checker struct {
	doc    *openapi3.T
	router routers.Router

	mu     sync.Mutex
	report Report
}

// New returns a checker for the OpenAPI 3 document raw.
func New(ctx context.Context, raw []byte) (*Checker, error) {
	loader := openapi3.NewLoader()
	loader.Context = ctx
	doc, err := loader.LoadFromData(raw)
	if err != nil {
		return nil, fmt.Errorf("openapicheck: load: %w", err)
	}
	if err := doc.Validate(ctx); err != nil {
		return nil, fmt.Errorf("openapicheck: invalid document: %w", err)
	}
	closeObjects(doc)
	// Routes match by path, wherever the gateway listens: the document's
	// servers name the gateway that serves it and the devstack's address,
	// and the checker sits in front of whichever it is.
	doc.Servers = nil
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		return nil, fmt.Errorf("openapicheck: router: %w", err)
	}
	return &Checker{doc: doc, router: router}, nil
}

// closeObjects makes every object schema with properties and no word on
// others admit only its properties.
func closeObjects(doc *openapi3.T) {
	seen := map[*openapi3.Schema]bool{}
	var walk func(ref *openapi3.SchemaRef, alternative bool)
	walk = func(ref *openapi3.SchemaRef, alternative bool) {
		if ref == nil || ref.Value == nil || seen[ref.Value] {
			return
		}
		s := ref.Value
		seen[s] = true
		// An alternative of a oneOf (or a part of an allOf) constrains some
		// of the properties of the object that holds it, which lists them
		// all: closing it would refuse the others.
		if !alternative && len(s.Properties) > 0 && s.AdditionalProperties.Has == nil && s.AdditionalProperties.Schema == nil {
			closed := false
			s.AdditionalProperties.Has = &closed
		}
		for _, p := range s.Properties {
			walk(p, false)
		}
		walk(s.Items, false)
		walk(s.AdditionalProperties.Schema, false)
		for _, list := range []openapi3.SchemaRefs{s.AllOf, s.AnyOf, s.OneOf} {
			for _, x := range list {
				walk(x, len(s.Properties) > 0)
			}
		}
	}
	for _, s := range doc.Components.Schemas {
		walk(s, false)
	}
}

// Report returns what was seen so far.
func (c *Checker) Report() Report {
	c.mu.Lock()
	defer c.mu.Unlock()
	return Report{Checked: c.report.Checked, Failures: append([]string(nil), c.report.Failures...)}
}

func (c *Checker) record(err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.report.Checked++
	if err != nil {
		c.report.Failures = append(c.report.Failures, err.Error())
	}
}

// Exchange is one request and the response it got.
type Exchange struct {
	Request     *http.Request
	RequestBody []byte
	Status      int
	Header      http.Header
	Body        []byte
}

// Check validates one exchange and records the verdict. A request the
// document refuses only for its missing or malformed token is fine when the
// gateway answered 401, which is what the document promises for it.
func (c *Checker) Check(ctx context.Context, x Exchange) error {
	err := c.check(ctx, x)
	c.record(err)
	return err
}

func (c *Checker) check(ctx context.Context, x Exchange) error {
	what := x.Request.Method + " " + x.Request.URL.RequestURI()
	req := x.Request.Clone(ctx)
	req.Body = io.NopCloser(bytes.NewReader(x.RequestBody))
	route, params, err := c.router.FindRoute(req)
	if err != nil {
		return fmt.Errorf("%s: no such operation in the document: %w", what, err)
	}
	in := &openapi3filter.RequestValidationInput{
		Request: req, PathParams: params, Route: route,
		Options: &openapi3filter.Options{MultiError: true, AuthenticationFunc: bearer},
	}
	if err := openapi3filter.ValidateRequest(ctx, in); err != nil {
		var sec *openapi3filter.SecurityRequirementsError
		if !errors.As(err, &sec) || x.Status != http.StatusUnauthorized {
			return fmt.Errorf("%s: the request does not match the document: %w", what, err)
		}
	}
	body := x.Body
	if strings.EqualFold(x.Header.Get("Content-Encoding"), "gzip") {
		zr, err := gzip.NewReader(bytes.NewReader(body))
		if err != nil {
			return fmt.Errorf("%s: gzip: %w", what, err)
		}
		if body, err = io.ReadAll(zr); err != nil {
			return fmt.Errorf("%s: gzip: %w", what, err)
		}
	}
	header := x.Header.Clone()
	header.Del("Content-Encoding")
	out := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in, Status: x.Status, Header: header,
		Body:    io.NopCloser(bytes.NewReader(body)),
		Options: &openapi3filter.Options{MultiError: true, IncludeResponseStatus: true},
	}
	if err := openapi3filter.ValidateResponse(ctx, out); err != nil {
		return fmt.Errorf("%s → %d: the response does not match the document: %w", what, x.Status, err)
	}
	return nil
}

// bearer checks the bearer scheme as the document declares it: a token is
// present. Whether it is valid is the gateway's to say (401).
func bearer(_ context.Context, in *openapi3filter.AuthenticationInput) error {
	h := in.RequestValidationInput.Request.Header.Get("Authorization")
	if !strings.HasPrefix(h, "Bearer ") || len(h) == len("Bearer ") {
		return errors.New("no bearer token")
	}
	return nil
}

// Handler serves next, checking every exchange that goes through it.
func (c *Checker) Handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reqBody, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, "openapicheck: read body", http.StatusBadRequest)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(reqBody))
		rec := &recorder{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(rec, r)
		_ = c.Check(r.Context(), Exchange{Request: r, RequestBody: reqBody, Status: rec.status, Header: w.Header(), Body: rec.body.Bytes()})
	})
}

// recorder passes a response through and keeps a copy.
type recorder struct {
	http.ResponseWriter
	status int
	body   bytes.Buffer
}

func (r *recorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	r.body.Write(b)
	return r.ResponseWriter.Write(b)
}

func (r *recorder) Flush() {
	if f, ok := r.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}
