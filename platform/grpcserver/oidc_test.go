package grpcserver_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/tjsia/chapterhouse/platform/auth"
	"github.com/tjsia/chapterhouse/platform/auth/oidckeys"
	"github.com/tjsia/chapterhouse/platform/auth/oidctest"
	"github.com/tjsia/chapterhouse/platform/grpcserver"
	activitiesv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/activities/v1"
	membershipv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/membership/v1"
	standardsv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/standards/v1"
)

// TestIdentityNotLinked: a token from an OpenID Connect issuer whose
// identity is linked to no person (issue 18) is served as an anonymous
// caller: a public method answers it with no principal but with the
// identity in the context (for claiming an invitation); a method that is
// not public, or a public one that refuses anonymous callers, answers 403
// ACCOUNT_NOT_LINKED (sign-in worked; signing in again would not help),
// and its handler never runs. Roles claimed in the token grant nothing.
func TestIdentityNotLinked(t *testing.T) {
	idp := oidctest.New(t)
	h := start(t, func(c *grpcserver.Config) {
		c.Verifier = trusting(t, idp)
	})
	ctx := withToken(context.Background(), idp.Token(t, "u-42", auth.DefaultAudience, map[string]any{"roles": []string{auth.RoleAdmin}}))

	if _, err := h.activities.GetActivity(ctx, &activitiesv1.GetActivityRequest{Name: "branches/ai/activities/a1"}); err != nil {
		t.Fatalf("public method: %v", err)
	}
	h.fakeAct.mu.Lock()
	authed, ids := h.fakeAct.authed, h.fakeAct.identities
	h.fakeAct.mu.Unlock()
	if len(authed) != 1 || authed[0] || ids[0] != (auth.Identity{Issuer: idp.Issuer, Subject: "u-42"}) {
		t.Fatalf("public method saw principal=%v identity=%v, want no principal and the identity", authed, ids)
	}

	refused := map[string]error{}
	_, refused["a method that is not public"] = h.client.GetOrganization(ctx, &membershipv1.GetOrganizationRequest{Name: "organizations/o1"})
	_, refused["a write that is not public"] = h.activities.CreateActivity(ctx, &activitiesv1.CreateActivityRequest{Parent: "branches/ai"})
	_, refused["a public method refusing anonymous callers"] = h.standards.CreateComment(ctx, &standardsv1.CreateCommentRequest{
		Parent: "branches/ai/standards/s1", Comment: &standardsv1.Comment{Clause: "1", Text: "members only", CommenterName: "x"}})
	// A method the proto opens to unlinked identities (CreatePerson:
	// registering one's own person) reaches its handler, which decides.
	if _, err := h.client.CreatePerson(ctx, &membershipv1.CreatePersonRequest{PersonId: "zhou-min", Person: &membershipv1.Person{DisplayName: "周敏"}}); err != nil {
		t.Fatalf("a method open to unlinked identities: %v", err)
	}
	if n := h.fake.createCount(); n != 1 {
		t.Fatalf("its handler ran %d times, want 1", n)
	}
	for name, err := range refused {
		if status.Code(err) != codes.PermissionDenied {
			t.Errorf("%s: %v, want PermissionDenied", name, err)
			continue
		}
		if info := errorInfo(err); info.GetReason() != "ACCOUNT_NOT_LINKED" {
			t.Errorf("%s: reason %v, want ACCOUNT_NOT_LINKED", name, info)
		}
	}
	h.fake.mu.Lock()
	defer h.fake.mu.Unlock()
	if len(h.fake.principals) != 0 {
		t.Fatalf("a non-public handler ran for an unlinked identity: %+v", h.fake.principals)
	}
}

// linkedAccounts is membership answering who an identity is linked to.
type linkedAccounts struct {
	linked map[auth.Identity]auth.Linked
	err    error
}

func (a linkedAccounts) Linked(_ context.Context, p auth.Principal) (auth.Linked, error) {
	return a.linked[p.Identity], a.err
}

// TestIdentityLinkedByAccounts: issue 18 (accounts linked to people, roles
// granted in Chapterhouse). An identity its accounts link to a person acts
// as that person, with the roles the accounts give and never the token's
// own roles claim; an identity they link to no one stays unlinked; and
// when they cannot answer, the call is UNAVAILABLE and no handler runs.
func TestIdentityLinkedByAccounts(t *testing.T) {
	idp := oidctest.New(t)
	accounts := &linkedAccounts{linked: map[auth.Identity]auth.Linked{
		{Issuer: idp.Issuer, Subject: "u-linked"}: {Person: "people/p1", Roles: []string{auth.RoleGeneralCouncil}},
	}}
	h := start(t, func(c *grpcserver.Config) {
		c.Verifier = trusting(t, idp)
		c.Accounts = accounts
	})
	claimsAdmin := map[string]any{"roles": []string{auth.RoleAdmin}}
	linked := withToken(context.Background(), idp.Token(t, "u-linked", auth.DefaultAudience, claimsAdmin))
	if _, err := h.client.GetOrganization(linked, &membershipv1.GetOrganizationRequest{Name: "organizations/o1"}); err != nil {
		t.Fatalf("a linked identity: %v", err)
	}
	h.fake.mu.Lock()
	principals := append([]auth.Principal(nil), h.fake.principals...)
	h.fake.mu.Unlock()
	if len(principals) != 1 || principals[0].Subject != "people/p1" || !principals[0].HasRole(auth.RoleGeneralCouncil) || principals[0].IsAdmin() {
		t.Fatalf("the handler saw %+v, want people/p1 with general_council and not admin", principals)
	}

	unlinked := withToken(context.Background(), idp.Token(t, "u-stranger", auth.DefaultAudience, claimsAdmin))
	if _, err := h.client.GetOrganization(unlinked, &membershipv1.GetOrganizationRequest{Name: "organizations/o1"}); errorInfo(err).GetReason() != "ACCOUNT_NOT_LINKED" {
		t.Fatalf("an identity linked to no one: %v, want ACCOUNT_NOT_LINKED", err)
	}

	accounts.err = errors.New("membership is down")
	if _, err := h.client.GetOrganization(linked, &membershipv1.GetOrganizationRequest{Name: "organizations/o1"}); status.Code(err) != codes.Unavailable {
		t.Fatalf("accounts unanswered: %v, want Unavailable", err)
	}
	// A public method serves anyone: unanswered, the caller is served as
	// anonymous rather than refused.
	if _, err := h.activities.GetActivity(linked, &activitiesv1.GetActivityRequest{Name: "branches/ai/activities/a1"}); err != nil {
		t.Fatalf("a public method with accounts unanswered: %v", err)
	}
	h.fakeAct.mu.Lock()
	authed := append([]bool(nil), h.fakeAct.authed...)
	h.fakeAct.mu.Unlock()
	if len(authed) != 1 || authed[0] {
		t.Fatalf("the public method saw a principal %v, want the caller served as anonymous", authed)
	}
	h.fake.mu.Lock()
	defer h.fake.mu.Unlock()
	if len(h.fake.principals) != 1 {
		t.Fatalf("handlers ran %d times, want once", len(h.fake.principals))
	}
}

// TestStaticRolesClaimGrantsNothing: issue 18 (token claims no longer
// grant roles). A static-key token names its person, but its roles claim
// grants nothing: the handler sees the person with the roles membership
// binds to them, none here, whether or not the server has Accounts.
func TestStaticRolesClaimGrantsNothing(t *testing.T) {
	for name, mod := range map[string]func(*grpcserver.Config){
		"with accounts":    nil,
		"without accounts": func(c *grpcserver.Config) { c.Accounts = nil },
	} {
		t.Run(name, func(t *testing.T) {
			h := start(t, mod)
			tok, err := h.signer.Sign("people/mallory", []string{auth.RoleAdmin, auth.RoleGeneralSecretary}, time.Hour)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := h.client.GetOrganization(withToken(context.Background(), tok), &membershipv1.GetOrganizationRequest{Name: "organizations/o1"}); err != nil {
				t.Fatal(err)
			}
			h.fake.mu.Lock()
			defer h.fake.mu.Unlock()
			if len(h.fake.principals) != 1 || h.fake.principals[0].Subject != "people/mallory" || len(h.fake.principals[0].Roles) != 0 {
				t.Fatalf("the handler saw %+v, want people/mallory with no role", h.fake.principals)
			}
		})
	}
}

// recordingAccounts answers as linkedAccounts does, and keeps the
// principals it was asked about.
type recordingAccounts struct {
	mu    sync.Mutex
	asked []auth.Principal
}

func (a *recordingAccounts) Linked(_ context.Context, p auth.Principal) (auth.Linked, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.asked = append(a.asked, p)
	return auth.Linked{}, nil
}

// TestAccountsSeeEmailClaims: issue 18 (linking by a verified e-mail). The
// principal the server asks Accounts about carries the token's email and
// email_verified claims, so membership can link by them; a token without
// them carries none.
func TestAccountsSeeEmailClaims(t *testing.T) {
	idp := oidctest.New(t)
	accounts := &recordingAccounts{}
	h := start(t, func(c *grpcserver.Config) {
		c.Verifier = trusting(t, idp)
		c.Accounts = accounts
	})
	for _, claims := range []map[string]any{{"email": "wang.wei@example.com", "email_verified": true}, nil} {
		ctx := withToken(context.Background(), idp.Token(t, "u-42", auth.DefaultAudience, claims))
		_, _ = h.client.GetOrganization(ctx, &membershipv1.GetOrganizationRequest{Name: "organizations/o1"})
	}
	accounts.mu.Lock()
	defer accounts.mu.Unlock()
	if len(accounts.asked) != 2 {
		t.Fatalf("Accounts asked %d times, want 2", len(accounts.asked))
	}
	if p := accounts.asked[0]; p.Email != "wang.wei@example.com" || !p.EmailVerified || p.Identity != (auth.Identity{Issuer: idp.Issuer, Subject: "u-42"}) {
		t.Errorf("with the claims, Accounts saw %+v", p)
	}
	if p := accounts.asked[1]; p.Email != "" || p.EmailVerified {
		t.Errorf("without the claims, Accounts saw %+v", p)
	}
}

// trusting is a verifier that trusts idp only, through its discovery
// document and JWKS, closed when the test ends.
func trusting(t *testing.T, idp *oidctest.Provider) *auth.Verifier {
	t.Helper()
	issuer, err := oidckeys.DiscoverIssuer(t.Context(), idp.Issuer, oidckeys.Options{})
	if err != nil {
		t.Fatal(err)
	}
	v, err := auth.NewVerifier(nil, auth.DefaultIssuer, auth.DefaultAudience, auth.WithOIDCIssuers(issuer))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(v.Close)
	return v
}
