package e2e

import (
	"net/http"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"

	"github.com/tjsia/chapterhouse/cmd/devstack/signin"
	"github.com/tjsia/chapterhouse/cmd/devstack/stack"
	activitiesv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/activities/v1"
	governancev1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/governance/v1"
	membershipv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/membership/v1"
	standardsv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/standards/v1"
)

// TestSignInLinkAndAct: issue 18 (accounts linked to people by invitation,
// roles granted in Chapterhouse). A person signs in at the devstack's own
// OpenID Provider with PKCE over HTTP. The services trust the issuer, but
// the identity is linked to no person yet: membership says so, and a
// method that needs a person answers ACCOUNT_NOT_LINKED in governance and
// activities alike. The secretariat invites the person; the invitee claims
// the invitation with the same token, and from then on every service knows
// the token as that person, through the gateway and over gRPC alike. A
// role granted in Chapterhouse reaches the token, and a revoked one is
// gone; the token's own claims grant none.
func TestSignInLinkAndAct(t *testing.T) {
	c, err := signin.New(t.Context(), signin.Config{Issuer: sys.Issuer, ClientID: stack.AppClientID, RedirectURL: stack.AppRedirectURIs[0]})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := c.SignIn(t.Context(), stack.IdentitySubject("sun-mei"))
	if err != nil {
		t.Fatal(err)
	}
	me := as(tok.AccessToken)
	caller := me.ok(t, "GET", "/v1/caller:lookup", nil)
	if caller["issuer"] != sys.Issuer || caller["subject"] != stack.IdentitySubject("sun-mei") || caller["person"] != "" {
		t.Fatalf("before the claim the caller is %v, want the provider's identity linked to no one", caller)
	}
	for _, path := range []string{"/v1/branches/ai/terms", "/v1/certificates", "/v1/roleBindings"} {
		r := me.do(t, "GET", path, nil)
		if r.status != http.StatusForbidden || r.errorBody(t)["reason"] != "ACCOUNT_NOT_LINKED" {
			t.Fatalf("GET %s before the claim = %d %s, want 403 ACCOUNT_NOT_LINKED", path, r.status, r.raw)
		}
	}

	admin := as(adminToken())
	invitation := admin.ok(t, "POST", "/v1/invitations", map[string]any{"person": "people/sun-mei"})
	code, _ := invitation["code"].(string)
	if code == "" {
		t.Fatalf("the invitation carries no code: %v", invitation)
	}
	// A token that names its person itself (the static-key issuer) is
	// that person already, and claims nothing.
	if r := as(sys.Token(stack.MemberSubject)).do(t, "POST", "/v1/invitations:claim", map[string]any{"code": code}); r.status != http.StatusForbidden {
		t.Fatalf("a static-key token claiming an invitation = %d %s, want 403", r.status, r.raw)
	}
	account := me.ok(t, "POST", "/v1/invitations:claim", map[string]any{"code": code})
	if account["issuer"] != sys.Issuer || account["state"] != "ACCOUNT_STATE_LINKED" {
		t.Fatalf("claimed account %v", account)
	}
	if r := me.do(t, "POST", "/v1/invitations:claim", map[string]any{"code": code}); r.status < 400 {
		t.Fatalf("a used invitation claimed again = %d %s", r.status, r.raw)
	}

	caller = me.ok(t, "GET", "/v1/caller:lookup", nil)
	if caller["person"] != "people/sun-mei" || len(caller["roles"].([]any)) != 0 {
		t.Fatalf("after the claim the caller is %v, want people/sun-mei with no role", caller)
	}
	// Governance and activities ask membership who the token is.
	me.ok(t, "GET", "/v1/branches/ai/terms", nil)
	me.ok(t, "GET", "/v1/certificates", nil)
	me.ok(t, "GET", "/v1/branches/ai/standards", nil)
	// Over gRPC too, as a platform team's client calls, each of the four
	// services knows the token as the person.
	overGRPC(t, tok.AccessToken, "people/sun-mei")
	if r := me.do(t, "GET", "/v1/roleBindings", nil); r.status != http.StatusForbidden || r.errorBody(t)["reason"] != "PERMISSION_DENIED" {
		t.Fatalf("an admin's list to a member = %d %s, want 403 PERMISSION_DENIED", r.status, r.raw)
	}

	binding := admin.ok(t, "POST", "/v1/roleBindings", map[string]any{"person": "people/sun-mei", "role": "ROLE_GENERAL_SECRETARY", "reason": "elected secretary-general of the general association"})
	caller = me.ok(t, "GET", "/v1/caller:lookup", nil)
	if roles := caller["roles"].([]any); len(roles) != 1 || roles[0] != "general_secretary" {
		t.Fatalf("after the grant the caller is %v, want the general_secretary role", caller)
	}
	// Revoked, the role is gone at membership at once (the other
	// services keep a caller's answer up to mclient.CallerTTL).
	admin.ok(t, "POST", "/v1/"+binding["name"].(string)+":revoke", map[string]any{"reason": "term of office ended"})
	if roles := me.ok(t, "GET", "/v1/caller:lookup", nil)["roles"].([]any); len(roles) != 0 {
		t.Fatalf("after the revocation the caller holds %v", roles)
	}
}

// overGRPC calls each service over gRPC with token and checks that every
// one serves it as person.
func overGRPC(t *testing.T, token, person string) {
	t.Helper()
	ctx := metadata.AppendToOutgoingContext(t.Context(), "authorization", "Bearer "+token)
	dial := func(name string) *grpc.ClientConn {
		conn, err := grpc.NewClient(sys.Addrs[name], grpc.WithTransportCredentials(insecure.NewCredentials()))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { conn.Close() })
		return conn
	}
	caller, err := membershipv1.NewMembershipServiceClient(dial("membership")).LookupCaller(ctx, &membershipv1.LookupCallerRequest{})
	if err != nil || caller.GetPerson() != person {
		t.Fatalf("membership over gRPC: %v %v, want %s", caller, err, person)
	}
	if _, err := governancev1.NewGovernanceServiceClient(dial("governance")).ListTerms(ctx, &governancev1.ListTermsRequest{Parent: "branches/ai"}); err != nil {
		t.Fatalf("governance over gRPC: %v", err)
	}
	if _, err := activitiesv1.NewActivitiesServiceClient(dial("activities")).ListCertificates(ctx, &activitiesv1.ListCertificatesRequest{Person: person}); err != nil {
		t.Fatalf("activities over gRPC: %v", err)
	}
	if _, err := standardsv1.NewStandardsServiceClient(dial("standards")).ListStandards(ctx, &standardsv1.ListStandardsRequest{Parent: "branches/ai"}); err != nil {
		t.Fatalf("standards over gRPC: %v", err)
	}
}
