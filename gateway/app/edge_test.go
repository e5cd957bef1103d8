package app_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc/metadata"

	membershipv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/membership/v1"
)

// recorder is a backend that remembers what reached it: the metadata keys
// of each call, and whether its deadline was the gateway's.
type recorder struct {
	membershipv1.UnimplementedMembershipServiceServer
	mu    sync.Mutex
	calls []call
}

type call struct {
	method   string
	metadata metadata.MD
	deadline time.Duration // left when the call arrived
}

func (r *recorder) record(ctx context.Context, method string) {
	md, _ := metadata.FromIncomingContext(ctx)
	var left time.Duration
	if d, ok := ctx.Deadline(); ok {
		left = time.Until(d)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, call{method, md, left})
}

func (r *recorder) last(t *testing.T) call {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.calls) == 0 {
		t.Fatal("no call reached the backend")
	}
	return r.calls[len(r.calls)-1]
}

func (r *recorder) all() []call {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]call(nil), r.calls...)
}

func (r *recorder) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.calls)
}

func (r *recorder) GetPerson(ctx context.Context, req *membershipv1.GetPersonRequest) (*membershipv1.Person, error) {
	r.record(ctx, "GetPerson")
	return &membershipv1.Person{Name: req.GetName(), DisplayName: "Li Na"}, nil
}

func (r *recorder) ListPeople(ctx context.Context, _ *membershipv1.ListPeopleRequest) (*membershipv1.ListPeopleResponse, error) {
	r.record(ctx, "ListPeople")
	return &membershipv1.ListPeopleResponse{}, nil
}

func (r *recorder) CreateOrganization(ctx context.Context, req *membershipv1.CreateOrganizationRequest) (*membershipv1.Organization, error) {
	r.record(ctx, "CreateOrganization")
	return req.GetOrganization(), nil
}

// edge serves a recorder behind the gateway and returns a request maker
// that signs in as a plain member.
func edge(t testing.TB) (*recorder, http.Handler, func(method, path, body string) *http.Request) {
	t.Helper()
	rec := &recorder{}
	h, signer := startGateway(t, rec)
	token, err := signer.Sign("people/li-na", nil, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return rec, h, func(method, path, body string) *http.Request {
		r := httptest.NewRequest(method, path, strings.NewReader(body))
		r.Header.Set("Authorization", "Bearer "+token)
		if body != "" {
			r.Header.Set("Content-Type", "application/json")
		}
		return r
	}
}

func serve(h http.Handler, r *http.Request) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

// errorReason is the reason in an error body, or "".
func errorReason(t *testing.T, w *httptest.ResponseRecorder) (string, map[string]any) {
	t.Helper()
	var body struct {
		Error struct {
			Reason   string         `json:"reason"`
			Metadata map[string]any `json:"metadata"`
		} `json:"error"`
	}
	_ = json.Unmarshal(w.Body.Bytes(), &body)
	return body.Error.Reason, body.Error.Metadata
}

// TestTransportHeadersStayAtTheEdge: a client's gRPC and proxy headers do
// not reach the services, and its Grpc-Timeout does not set their
// deadline (a "1n" timeout used to give 504 on demand).
func TestTransportHeadersStayAtTheEdge(t *testing.T) {
	rec, h, request := edge(t)
	r := request("GET", "/v1/people/li-na", "")
	r.Header.Set("Grpc-Timeout", "1n")
	r.Header.Set("Grpc-Metadata-X-Admin", "true")
	r.Header.Set("Grpc-Metadata-Authorization", "Bearer forged")
	r.Header.Set("X-Forwarded-Host", "evil.example")
	r.Header.Set("Te", "trailers")
	w := serve(h, r)
	if w.Code != http.StatusOK {
		t.Fatalf("status %d, want 200: %s", w.Code, w.Body)
	}
	got := rec.last(t)
	for key := range got.metadata {
		if strings.HasPrefix(key, "grpc-metadata") || key == "x-admin" || key == "te" {
			t.Errorf("the client's %q reached the service", key)
		}
	}
	// grpc-gateway names the request's Host itself; the client's own
	// X-Forwarded-Host does not replace it.
	if hosts := got.metadata.Get("x-forwarded-host"); slices.Contains(hosts, "evil.example") {
		t.Errorf("the client's X-Forwarded-Host reached the service: %q", hosts)
	}
	if auths := got.metadata.Get("authorization"); len(auths) != 1 || strings.Contains(auths[0], "forged") {
		t.Errorf("authorization at the service: %q", auths)
	}
	// The gateway's own deadline (300 ms in this harness), not the
	// client's nanosecond.
	if got.deadline < 100*time.Millisecond {
		t.Errorf("the service's deadline was %v: the client's Grpc-Timeout set it", got.deadline)
	}
}

// TestIdempotencyKeyIsIgnoredOnReads: a GET's Idempotency-Key never
// reaches a service, so no response of a read is kept for it; a write's
// still does.
func TestIdempotencyKeyIsIgnoredOnReads(t *testing.T) {
	rec, h, request := edge(t)
	r := request("GET", "/v1/people/li-na", "")
	r.Header.Set("Idempotency-Key", "k1")
	if w := serve(h, r); w.Code != http.StatusOK {
		t.Fatalf("GET: %d %s", w.Code, w.Body)
	}
	if keys := rec.last(t).metadata.Get("idempotency-key"); len(keys) != 0 {
		t.Fatalf("a GET's key reached the service: %q", keys)
	}
	r = request("POST", "/v1/organizations", `{"displayName":"Acme"}`)
	r.Header.Set("Idempotency-Key", "k2")
	if w := serve(h, r); w.Code != http.StatusOK {
		t.Fatalf("POST: %d %s", w.Code, w.Body)
	}
	if keys := rec.last(t).metadata.Get("idempotency-key"); !slices.Equal(keys, []string{"k2"}) {
		t.Fatalf("a POST's key at the service: %q", keys)
	}
}

// TestOneJSONValuePerBody: data after the body's JSON value is refused
// with 400 MALFORMED_REQUEST before anything reaches a service (it used to
// create the resource and ignore the rest).
func TestOneJSONValuePerBody(t *testing.T) {
	for _, body := range []string{
		`{"displayName":"Acme"} xyz`,
		`{"displayName":"Acme"}{"displayName":"Evil"}`,
		`{"displayName":"Acme"} []`,
	} {
		rec, h, request := edge(t)
		w := serve(h, request("POST", "/v1/organizations", body))
		if reason, _ := errorReason(t, w); w.Code != http.StatusBadRequest || reason != "MALFORMED_REQUEST" {
			t.Errorf("%s: %d %s, want 400 MALFORMED_REQUEST", body, w.Code, w.Body)
		}
		if n := rec.count(); n != 0 {
			t.Errorf("%s reached the service", body)
		}
	}
	rec, h, request := edge(t)
	if w := serve(h, request("POST", "/v1/organizations", "{\"displayName\":\"Acme\"}\n")); w.Code != http.StatusOK || rec.count() != 1 {
		t.Fatalf("one value and a newline: %d %s", w.Code, w.Body)
	}
}

// TestUnknownQueryParameters: a query parameter the method does not take
// is refused, naming it (grpc-gateway ignored it: a misspelt filter listed
// everyone, a misspelt id was replaced by a generated one).
func TestUnknownQueryParameters(t *testing.T) {
	tests := []struct {
		method, path, body string
		unknown            string
	}{
		{"GET", "/v1/people?organisation=organizations/x", "", "organisation"},
		{"POST", "/v1/organizations?organisationId=acme", `{"displayName":"Acme"}`, "organisationId"},
		{"GET", "/v1/people/li-na?view=full", "", "view"},
		{"GET", "/v1/people?organization=organizations/x&pageSize=5", "", ""},
		{"POST", "/v1/organizations?organizationId=acme", `{"displayName":"Acme"}`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			rec, h, request := edge(t)
			w := serve(h, request(tt.method, tt.path, tt.body))
			if tt.unknown == "" {
				if w.Code != http.StatusOK || rec.count() != 1 {
					t.Fatalf("%d %s, want 200", w.Code, w.Body)
				}
				return
			}
			reason, meta := errorReason(t, w)
			if w.Code != http.StatusBadRequest || reason != "UNKNOWN_QUERY_PARAMETER" || meta["parameter"] != tt.unknown ||
				!strings.Contains(w.Body.String(), tt.unknown) {
				t.Fatalf("%d %s, want 400 UNKNOWN_QUERY_PARAMETER naming %s", w.Code, w.Body, tt.unknown)
			}
			if rec.count() != 0 {
				t.Fatal("the request reached the service")
			}
		})
	}
}

// TestResponsesAreNotStoredOrSniffed: every API response, answer or
// error, is no-store and nosniff.
func TestResponsesAreNotStoredOrSniffed(t *testing.T) {
	_, h, request := edge(t)
	for _, r := range []*http.Request{
		request("GET", "/v1/people/li-na", ""),
		request("GET", "/v1/people?bogus=1", ""),
		httptest.NewRequest("GET", "/v1/people/li-na", nil), // no token: the service's answer
		request("GET", "/v1/nowhere", ""),
	} {
		w := serve(h, r)
		if cc, nosniff := w.Header().Get("Cache-Control"), w.Header().Get("X-Content-Type-Options"); cc != "no-store" || nosniff != "nosniff" {
			t.Errorf("%s %s (%d): Cache-Control %q, X-Content-Type-Options %q", r.Method, r.URL, w.Code, cc, nosniff)
		}
	}
}
