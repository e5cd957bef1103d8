package servicetest

import (
	"context"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/tjsia/chapterhouse/platform/apierr"
	"github.com/tjsia/chapterhouse/platform/auth"
	"github.com/tjsia/chapterhouse/platform/auth/oidctest"
	apiv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/api/v1"
	membershipv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/membership/v1"
)

// adminsRead answers GetOrganization to admins only, naming the person
// the server resolved the caller to; GetOrganization is not public.
type adminsRead struct {
	membershipv1.UnimplementedMembershipServiceServer
}

func (adminsRead) GetOrganization(ctx context.Context, req *membershipv1.GetOrganizationRequest) (*membershipv1.Organization, error) {
	p, ok := auth.FromContext(ctx)
	if !ok {
		return nil, apierr.Unauthenticated("token_required")
	}
	if !p.IsAdmin() {
		return nil, apierr.PermissionDenied("membership.create_invitation")
	}
	return &membershipv1.Organization{Name: req.GetName(), DisplayName: p.Subject}, nil
}

// linkedPerson answers every identity as one person with no roles, as
// membership's store answers an identity that claimed an invitation.
type linkedPerson struct{ person string }

func (l linkedPerson) Linked(context.Context, auth.Principal) (auth.Linked, error) {
	return auth.Linked{Person: l.person}, nil
}

func serveAdminsRead(t *testing.T, opts ...Option) (*Running, func(ctx context.Context) (*membershipv1.Organization, error)) {
	t.Helper()
	r := Serve(t, "membership", func(s *grpc.Server) { membershipv1.RegisterMembershipServiceServer(s, adminsRead{}) }, opts...)
	c := membershipv1.NewMembershipServiceClient(r.Conn)
	return r, func(ctx context.Context) (*membershipv1.Organization, error) {
		return c.GetOrganization(ctx, &membershipv1.GetOrganizationRequest{Name: "organizations/zhiyuan"})
	}
}

// TestRolesComeFromTheTable: the provider's tokens carry no roles the
// server believes (issue 18). The same person signed in with the admin
// role and without it gets two answers from a role-checked method, as the
// table says; an identity the table does not link is refused with
// ACCOUNT_NOT_LINKED; a token's own roles claim grants nothing; no token
// is UNAUTHENTICATED, and so is a token of a provider the service does not
// trust.
func TestRolesComeFromTheTable(t *testing.T) {
	r, read := serveAdminsRead(t)

	annAdmin, ann := r.As(t, "people/ann", auth.RoleAdmin), r.As(t, "people/ann")
	org, err := read(annAdmin)
	if err != nil || org.GetDisplayName() != "people/ann" {
		t.Fatalf("people/ann with the admin role: %v %v, want let through as people/ann", org, err)
	}
	if _, err := read(ann); status.Code(err) != codes.PermissionDenied || !apierr.Is(err, apiv1.ErrorReason_PERMISSION_DENIED) {
		t.Errorf("people/ann without a role: %v, want PERMISSION_DENIED", err)
	}
	// Each role set is an identity of its own: signing in without the
	// role took nothing from the one with it.
	if org, err := read(annAdmin); err != nil || org.GetDisplayName() != "people/ann" {
		t.Errorf("people/ann with the admin role, again: %v %v", org, err)
	}

	if _, err := read(r.AsIdentity(t, "someone-new")); status.Code(err) != codes.PermissionDenied || !apierr.Is(err, apiv1.ErrorReason_ACCOUNT_NOT_LINKED) {
		t.Errorf("an identity the table does not link: %v, want PERMISSION_DENIED ACCOUNT_NOT_LINKED", err)
	}
	// A roles claim in the provider's token is not a role binding.
	claimed := r.provider.Token(t, "claims-admin", auth.DefaultAudience, map[string]any{"roles": []string{auth.RoleAdmin}})
	if _, err := read(withBearer(r.callContext(t), claimed)); !apierr.Is(err, apiv1.ErrorReason_ACCOUNT_NOT_LINKED) {
		t.Errorf("an unlinked identity claiming admin: %v, want ACCOUNT_NOT_LINKED", err)
	}
	sub, _, err := identitySubject("people/bob", nil)
	if err != nil {
		t.Fatal(err)
	}
	r.As(t, "people/bob")
	bobClaimsAdmin := r.provider.Token(t, sub, auth.DefaultAudience, map[string]any{"roles": []string{auth.RoleAdmin}})
	if _, err := read(withBearer(r.callContext(t), bobClaimsAdmin)); status.Code(err) != codes.PermissionDenied || !apierr.Is(err, apiv1.ErrorReason_PERMISSION_DENIED) {
		t.Errorf("people/bob, linked without a role, claiming admin in the token: %v, want PERMISSION_DENIED", err)
	}

	if _, err := read(r.As(t, "")); status.Code(err) != codes.Unauthenticated {
		t.Errorf("without a token: %v, want UNAUTHENTICATED", err)
	}
	stranger := oidctest.New(t).Token(t, sub, auth.DefaultAudience, nil)
	if _, err := read(withBearer(r.callContext(t), stranger)); status.Code(err) != codes.Unauthenticated {
		t.Errorf("a token of a provider the service does not trust, for a linked subject: %v, want UNAUTHENTICATED", err)
	}
}

// TestOtherAccountsResolveTheRest: an identity the table does not hold is
// asked of OtherAccounts; the table's own identities are not.
func TestOtherAccountsResolveTheRest(t *testing.T) {
	r, read := serveAdminsRead(t, OtherAccounts(linkedPerson{person: "people/claimed"}))
	if _, err := read(r.AsIdentity(t, "someone-new")); status.Code(err) != codes.PermissionDenied || !apierr.Is(err, apiv1.ErrorReason_PERMISSION_DENIED) {
		t.Errorf("an identity OtherAccounts links to a person without roles: %v, want PERMISSION_DENIED (signed in, not an admin)", err)
	}
	if org, err := read(r.Admin(t)); err != nil || org.GetDisplayName() != AdminSubject {
		t.Errorf("the table's admin: %v %v, want let through as %s", org, err, AdminSubject)
	}
}

// TestIdentitySubject: one identity per person and role set, whatever
// the order or repeats of the roles, and never the form AsIdentity takes.
func TestIdentitySubject(t *testing.T) {
	id := func(person string, roles ...string) string {
		t.Helper()
		sub, _, err := identitySubject(person, roles)
		if err != nil {
			t.Fatal(err)
		}
		if !isTableSubject(sub) {
			t.Fatalf("%s: not a table subject", sub)
		}
		return sub
	}
	if got := id("people/ann", "general_council", "admin", "admin"); got != `["people/ann","admin","general_council"]` {
		t.Errorf("identity: %s", got)
	}
	distinct := map[string]bool{}
	for _, s := range []string{id("people/ann"), id("people/ann", "admin"), id("people/ann", "admin", "general_council"),
		id("people/ann,admin"), id("people/bob", "admin")} {
		if distinct[s] {
			t.Errorf("%s given twice", s)
		}
		distinct[s] = true
	}
	if _, _, err := identitySubject("people/"+string(make([]byte, 300)), nil); err == nil {
		t.Error("a subject over 255 bytes accepted")
	}
}

func withBearer(ctx context.Context, token string) context.Context {
	return metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+token)
}
