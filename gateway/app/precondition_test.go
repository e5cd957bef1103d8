package app_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/tjsia/chapterhouse/gateway/app"
	"github.com/tjsia/chapterhouse/gateway/internal/openapidoc"
	"github.com/tjsia/chapterhouse/gateway/internal/precondition"
	"github.com/tjsia/chapterhouse/platform/apierr"
	membershipv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/membership/v1"
	"github.com/tjsia/chapterhouse/proto/gen/go/openapi"
)

// versioned keeps one person whose etag changes with every update, and
// compares a request's etag as the services do: an etag that is given
// must be the current one.
type versioned struct {
	membershipv1.UnimplementedMembershipServiceServer
	mu      sync.Mutex
	person  *membershipv1.Person
	version int
	calls   int
	etags   []string // the etag each write arrived with
}

func (v *versioned) GetPerson(_ context.Context, req *membershipv1.GetPersonRequest) (*membershipv1.Person, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.calls++
	return v.person, nil
}

func (v *versioned) UpdatePerson(_ context.Context, req *membershipv1.UpdatePersonRequest) (*membershipv1.Person, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.calls++
	v.etags = append(v.etags, req.GetPerson().GetEtag())
	if e := req.GetPerson().GetEtag(); e != "" && e != v.person.GetEtag() {
		return nil, apierr.EtagMismatch(v.person.GetName())
	}
	v.version++
	v.person = &membershipv1.Person{Name: v.person.GetName(), DisplayName: req.GetPerson().GetDisplayName(), Etag: "v" + strconv.Itoa(v.version)}
	return v.person, nil
}

func (v *versioned) ListPeople(context.Context, *membershipv1.ListPeopleRequest) (*membershipv1.ListPeopleResponse, error) {
	return &membershipv1.ListPeopleResponse{People: []*membershipv1.Person{v.person}}, nil
}

func (v *versioned) SetGeneralMembership(_ context.Context, req *membershipv1.SetGeneralMembershipRequest) (*membershipv1.Organization, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.calls++
	v.etags = append(v.etags, req.GetEtag())
	return &membershipv1.Organization{Name: req.GetName(), Etag: "o2"}, nil
}

func (v *versioned) CreateOrganization(_ context.Context, req *membershipv1.CreateOrganizationRequest) (*membershipv1.Organization, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.calls++
	return &membershipv1.Organization{Name: "organizations/acme", DisplayName: req.GetOrganization().GetDisplayName(), Etag: "o1"}, nil
}

func (v *versioned) state() (string, string, int) {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.person.GetDisplayName(), v.person.GetEtag(), v.calls
}

// TestIfMatchAndETag, through the real gateway handler: an answer that is
// a resource carries its etag as a strong ETag; If-Match reaches the
// service as the request's etag (an update's resource, a custom method's
// request), a stale one is 412 ETAG_MISMATCH and changes nothing, while
// the same stale etag in the body stays 409; If-Match: * is any version;
// an If-Match that disagrees with the body, that the method cannot take,
// or that is not one quoted etag is 400 and reaches no service.
func TestIfMatchAndETag(t *testing.T) {
	backend := &versioned{person: &membershipv1.Person{Name: "people/li-na", DisplayName: "Li Na", Etag: "v0"}}
	h, signer := startGateway(t, backend)
	token, err := signer.Sign("people/li-na", nil, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	do := func(method, path, body string, header ...string) (int, http.Header, map[string]any) {
		t.Helper()
		r := httptest.NewRequest(method, path, strings.NewReader(body))
		r.Header.Set("Authorization", "Bearer "+token)
		if body != "" {
			r.Header.Set("Content-Type", "application/json")
		}
		for i := 0; i+1 < len(header); i += 2 {
			r.Header.Add(header[i], header[i+1])
		}
		w := serve(h, r)
		var out map[string]any
		_ = json.Unmarshal(w.Body.Bytes(), &out)
		return w.Code, w.Header(), out
	}
	reason := func(body map[string]any) string {
		e, _ := body["error"].(map[string]any)
		r, _ := e["reason"].(string)
		return r
	}

	// Reads and writes answer with the resource's etag as ETag.
	if code, hdr, _ := do("GET", "/v1/people/li-na", ""); code != 200 || hdr.Get("ETag") != `"v0"` {
		t.Fatalf("GET: %d, ETag %q", code, hdr.Get("ETag"))
	}
	if code, hdr, _ := do("POST", "/v1/organizations", `{"displayName": "Acme"}`); code != 200 || hdr.Get("ETag") != `"o1"` {
		t.Fatalf("create: %d, ETag %q", code, hdr.Get("ETag"))
	}
	if code, hdr, _ := do("GET", "/v1/people", ""); code != 200 || hdr.Get("ETag") != "" {
		t.Fatalf("list: %d; a list has no etag, but ETag %q", code, hdr.Get("ETag"))
	}

	// A fresh If-Match applies, and the answer names the new version.
	code, hdr, body := do("PATCH", "/v1/people/li-na", `{"displayName": "李娜"}`, "If-Match", `"v0"`)
	if code != 200 || hdr.Get("ETag") != `"v1"` || body["etag"] != "v1" {
		t.Fatalf("fresh If-Match: %d, ETag %q, %v", code, hdr.Get("ETag"), body)
	}
	if got := backend.etags[len(backend.etags)-1]; got != "v0" {
		t.Fatalf("the service got etag %q, want the If-Match v0", got)
	}

	// A stale If-Match: 412, and nothing changed.
	name, etag, _ := backend.state()
	code, _, body = do("PATCH", "/v1/people/li-na", `{"displayName": "Someone else"}`, "If-Match", `"v0"`)
	if code != http.StatusPreconditionFailed || reason(body) != "ETAG_MISMATCH" || body["error"].(map[string]any)["code"] != float64(412) {
		t.Fatalf("stale If-Match: %d %v, want 412 ETAG_MISMATCH", code, body)
	}
	if n, e, _ := backend.state(); n != name || e != etag {
		t.Fatalf("a stale If-Match changed the person: %q %q", n, e)
	}
	// The same stale etag in the body: 409, as before.
	if code, _, body = do("PATCH", "/v1/people/li-na", `{"displayName": "x", "etag": "v0"}`); code != http.StatusConflict || reason(body) != "ETAG_MISMATCH" {
		t.Fatalf("stale body etag: %d %v, want 409", code, body)
	}
	// Any current version.
	if code, _, _ = do("PATCH", "/v1/people/li-na", `{"displayName": "Li Na"}`, "If-Match", `*`); code != 200 || backend.etags[len(backend.etags)-1] != "" {
		t.Fatalf("If-Match *: %d, the service got etag %q", code, backend.etags[len(backend.etags)-1])
	}
	// A custom method whose request has an etag.
	if code, hdr, _ = do("POST", "/v1/organizations/acme:setGeneralMembership", `{"reason": "joined"}`, "If-Match", `"o1"`); code != 200 ||
		backend.etags[len(backend.etags)-1] != "o1" || hdr.Get("ETag") != `"o2"` {
		t.Fatalf("custom method: %d, the service got %q, ETag %q", code, backend.etags[len(backend.etags)-1], hdr.Get("ETag"))
	}

	// Refused before any service: 400 naming what is wrong.
	_, _, before := backend.state()
	for _, tc := range []struct {
		name, method, path, body, ifMatch, field string
	}{
		{"disagrees with the body", "PATCH", "/v1/people/li-na", `{"displayName": "x", "etag": "v1"}`, `"v2"`, "etag"},
		{"a method without an etag", "POST", "/v1/organizations", `{"displayName": "Acme"}`, `"o1"`, "If-Match"},
		{"a read", "GET", "/v1/people/li-na", "", `"v2"`, "If-Match"},
		{"unquoted", "PATCH", "/v1/people/li-na", `{"displayName": "x"}`, `v2`, "If-Match"},
		{"weak", "PATCH", "/v1/people/li-na", `{"displayName": "x"}`, `W/"v2"`, "If-Match"},
		{"a list", "PATCH", "/v1/people/li-na", `{"displayName": "x"}`, `"v1", "v2"`, "If-Match"},
	} {
		code, _, body := do(tc.method, tc.path, tc.body, "If-Match", tc.ifMatch)
		e, _ := body["error"].(map[string]any)
		fv, _ := e["fieldViolations"].([]any)
		if code != http.StatusBadRequest || reason(body) != "INVALID_ARGUMENT" || len(fv) != 1 || fv[0].(map[string]any)["field"] != tc.field {
			t.Errorf("%s: %d %v, want 400 INVALID_ARGUMENT naming %s", tc.name, code, body, tc.field)
		}
	}
	if _, _, after := backend.state(); after != before {
		t.Fatalf("%d refused requests reached the service", after-before)
	}
}

// TestDocumentDeclaresThePreconditions: the OpenAPI document declares
// If-Match, with its 412, on exactly the methods the gateway honours
// If-Match on (a create's never: its etag is only an answer),
// and the ETag header on exactly the answers that carry one. (Both read
// the descriptors; this holds the two readings to each other.)
func TestDocumentDeclaresThePreconditions(t *testing.T) {
	doc, err := openapidoc.Load(context.Background(), openapi.Document())
	if err != nil {
		t.Fatal(err)
	}
	ops := map[string]*openapi3.Operation{}
	for _, item := range doc.Paths.Map() {
		for _, op := range item.Operations() {
			ops[op.OperationID] = op
		}
	}
	services, err := app.Services()
	if err != nil {
		t.Fatal(err)
	}
	etags := precondition.New(services...)
	checked := 0
	for _, s := range services {
		for i := range s.Methods().Len() {
			m := s.Methods().Get(i)
			op, ok := ops[string(s.Name())+"_"+string(m.Name())]
			if !ok {
				t.Errorf("%s.%s: no operation in the document", s.Name(), m.Name())
				continue
			}
			checked++
			honoured := etags.Takes("/" + string(s.FullName()) + "/" + string(m.Name()))
			declared := false
			for _, p := range op.Parameters {
				declared = declared || strings.HasSuffix(p.Ref, "/IfMatch") || (p.Value != nil && p.Value.Name == "If-Match")
			}
			if honoured != declared || honoured != (op.Responses.Value("412") != nil) {
				t.Errorf("%s: the gateway honours If-Match %v, the document declares If-Match %v and 412 %v", op.OperationID, honoured, declared, op.Responses.Value("412") != nil)
			}
			ok200 := op.Responses.Value("200")
			_, documented := ok200.Value.Headers["ETag"]
			carries := m.Output().Fields().ByName("etag") != nil
			if documented != carries {
				t.Errorf("%s: answers with ETag %v, the document says %v", op.OperationID, carries, documented)
			}
		}
	}
	if checked < 100 {
		t.Fatalf("%d operations checked", checked)
	}
}
