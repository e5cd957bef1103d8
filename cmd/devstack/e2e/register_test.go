package e2e

import (
	"net/http"
	"testing"

	"github.com/tjsia/chapterhouse/cmd/devstack/signin"
	"github.com/tjsia/chapterhouse/cmd/devstack/stack"
)

// TestUnlinkedExpertRegistersAndApplies: issue 18 (a signed-in identity
// with no link may apply as an individual expert, creating its own person
// record, and nothing more). An expert the branch does not know signs in
// at the embedded provider with PKCE; linked to no one, she is refused
// what needs a person, registers her own person (which links her
// identity to it), and applies as an individual member as that person. A
// second registration by the same identity, and anyone taking her id,
// are refused and change nothing.
func TestUnlinkedExpertRegistersAndApplies(t *testing.T) {
	c, err := signin.New(t.Context(), signin.Config{Issuer: sys.Issuer, ClientID: stack.AppClientID, RedirectURL: stack.AppRedirectURIs[0]})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := c.SignIn(t.Context(), stack.IdentitySubject(stack.GuestExpert))
	if err != nil {
		t.Fatal(err)
	}
	me := as(tok.AccessToken)
	if r := me.do(t, "GET", "/v1/people", nil); r.status != http.StatusForbidden || r.errorBody(t)["reason"] != "ACCOUNT_NOT_LINKED" {
		t.Fatalf("GET /v1/people before registering = %d %s, want 403 ACCOUNT_NOT_LINKED", r.status, r.raw)
	}
	if r := me.do(t, "POST", "/v1/people?personId=zhou-min", map[string]any{"displayName": "周敏", "rank": "RANK_PRESIDENT"}); r.status != http.StatusForbidden {
		t.Fatalf("a self-registration stating a rank = %d %s, want 403", r.status, r.raw)
	}
	if r := as("").do(t, "POST", "/v1/people?personId=zhou-min", map[string]any{"displayName": "周敏"}); r.status != http.StatusUnauthorized {
		t.Fatalf("an anonymous registration = %d %s, want 401", r.status, r.raw)
	}
	person := me.ok(t, "POST", "/v1/people?personId=zhou-min", map[string]any{"displayName": "周敏", "title": "研究员",
		"expertise": []string{"speech recognition"}, "academicCredentials": "Researcher in speech recognition, 20 papers"})
	if person["name"] != "people/zhou-min" {
		t.Fatalf("registered %v", person)
	}
	caller := me.ok(t, "GET", "/v1/caller:lookup", nil)
	if caller["person"] != "people/zhou-min" {
		t.Fatalf("after registering the caller is %v, want people/zhou-min", caller)
	}
	app := me.ok(t, "POST", "/v1/branches/ai/applications", map[string]any{"individual": map[string]any{"person": "people/zhou-min",
		"academicCredentials": "Researcher in speech recognition, 20 papers", "expertise": []string{"speech recognition"}}})
	if app["state"] != "APPLICATION_STATE_SUBMITTED" {
		t.Fatalf("her application %v", app)
	}
	if r := me.do(t, "POST", "/v1/people?personId=zhou-min-2", map[string]any{"displayName": "周敏"}); r.status < 400 {
		t.Fatalf("a linked identity registering another person = %d %s", r.status, r.raw)
	}
	if r := as(adminToken()).do(t, "GET", "/v1/people/zhou-min-2", nil); r.status != http.StatusNotFound {
		t.Fatalf("the refused registration left people/zhou-min-2: %d %s", r.status, r.raw)
	}
}
