package server_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/tjsia/chapterhouse/platform/apierr"
	"github.com/tjsia/chapterhouse/platform/auth"
	"github.com/tjsia/chapterhouse/platform/servicetest"
	apiv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/api/v1"
	membershipv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/membership/v1"
)

// The test tokens are the fixture's OpenID Connect provider's. h.as signs
// in with an identity the fixture's table links to a person; h.identity
// ("newcomer-1") with one nobody has linked, as a sign-in is before its
// claim, which membership's own store resolves once it claims an
// invitation.

// access is what seedAccess made: wang-wei (rep) linked to his own
// identity by invitation, and holding the council role; a revoked
// invitation, whose code anyone may present.
type access struct {
	account, binding, revoked, revokedCode string
}

func (h *harness) must(t *testing.T) func(any, error) {
	return func(_ any, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
}

func (h *harness) invite(t *testing.T, person string) *membershipv1.Invitation {
	t.Helper()
	inv, err := h.client.CreateInvitation(h.admin(), &membershipv1.CreateInvitationRequest{Invitation: &membershipv1.Invitation{Person: person}})
	if err != nil {
		t.Fatal(err)
	}
	return inv
}

func (h *harness) claim(ctx context.Context, code string) (*membershipv1.Account, error) {
	return h.client.ClaimInvitation(ctx, &membershipv1.ClaimInvitationRequest{Code: code})
}

func (h *harness) seedAccess(t *testing.T) access {
	t.Helper()
	c, admin := h.client, h.admin()
	acct, err := h.claim(h.as(rep.Subject), h.invite(t, rep.Subject).GetCode())
	if err != nil {
		t.Fatal(err)
	}
	rb, err := c.CreateRoleBinding(admin, &membershipv1.CreateRoleBindingRequest{RoleBinding: &membershipv1.RoleBinding{
		Person: rep.Subject, Role: membershipv1.Role_ROLE_GENERAL_COUNCIL, Reason: "elected to the council"}})
	if err != nil {
		t.Fatal(err)
	}
	inv := h.invite(t, "people/zhang-san")
	h.must(t)(c.RevokeInvitation(admin, &membershipv1.RevokeInvitationRequest{Name: inv.GetName(), Reason: "sent to the wrong address"}))
	return access{account: acct.GetName(), binding: rb.GetName(), revoked: inv.GetName(), revokedCode: inv.GetCode()}
}

// accessCases are the authorisation matrix's rows for invitations,
// accounts and role bindings. The person an account or binding is about
// (rep, wang-wei) reads it; only admins write.
func accessCases(c membershipv1.MembershipServiceClient, a access) []servicetest.Case {
	const svc = "/chapterhouse.membership.v1.MembershipService/"
	self := []servicetest.Role{admin, rep}
	return []servicetest.Case{
		{Method: svc + "CreateInvitation", Allowed: adminsOnly, Call: func(ctx context.Context) error {
			_, err := c.CreateInvitation(ctx, &membershipv1.CreateInvitationRequest{Invitation: &membershipv1.Invitation{Person: "people/stranger"}})
			return err
		}},
		{Method: svc + "GetInvitation", Allowed: adminsOnly, Call: func(ctx context.Context) error {
			_, err := c.GetInvitation(ctx, &membershipv1.GetInvitationRequest{Name: a.revoked})
			return err
		}},
		{Method: svc + "RevokeInvitation", Allowed: adminsOnly, Call: func(ctx context.Context) error {
			_, err := c.RevokeInvitation(ctx, &membershipv1.RevokeInvitationRequest{Name: a.revoked, Reason: "again", Etag: "never-matches"})
			return err
		}},
		// Every signed-in identity reaches it (here refused for the
		// invitation's state, which is no permission error).
		{Method: svc + "ClaimInvitation", Allowed: signedIn, Call: func(ctx context.Context) error {
			_, err := c.ClaimInvitation(ctx, &membershipv1.ClaimInvitationRequest{Code: a.revokedCode})
			return err
		}},
		{Method: svc + "LookupCaller", Allowed: signedIn, Call: func(ctx context.Context) error {
			_, err := c.LookupCaller(ctx, &membershipv1.LookupCallerRequest{})
			return err
		}},
		{Method: svc + "GetAccount", Allowed: self, Call: func(ctx context.Context) error {
			_, err := c.GetAccount(ctx, &membershipv1.GetAccountRequest{Name: a.account})
			return err
		}},
		{Method: svc + "ListAccounts", Allowed: self, Call: func(ctx context.Context) error {
			_, err := c.ListAccounts(ctx, &membershipv1.ListAccountsRequest{Parent: rep.Subject})
			return err
		}},
		{Method: svc + "UnlinkAccount", Allowed: self, Call: func(ctx context.Context) error {
			_, err := c.UnlinkAccount(ctx, &membershipv1.UnlinkAccountRequest{Name: a.account, Reason: "test", Etag: "never-matches"})
			return err
		}},
		{Method: svc + "CreateRoleBinding", Allowed: adminsOnly, Call: func(ctx context.Context) error {
			_, err := c.CreateRoleBinding(ctx, &membershipv1.CreateRoleBindingRequest{RoleBinding: &membershipv1.RoleBinding{
				Person: "people/zhang-san", Role: membershipv1.Role_ROLE_GENERAL_SECRETARY, Reason: "appointed"}})
			return err
		}},
		{Method: svc + "GetRoleBinding", Allowed: self, Call: func(ctx context.Context) error {
			_, err := c.GetRoleBinding(ctx, &membershipv1.GetRoleBindingRequest{Name: a.binding})
			return err
		}},
		{Method: svc + "ListRoleBindings", Label: "wang-wei's", Allowed: self, Call: func(ctx context.Context) error {
			_, err := c.ListRoleBindings(ctx, &membershipv1.ListRoleBindingsRequest{Person: rep.Subject})
			return err
		}},
		{Method: svc + "ListRoleBindings", Label: "everyone's", Allowed: adminsOnly, Call: func(ctx context.Context) error {
			_, err := c.ListRoleBindings(ctx, &membershipv1.ListRoleBindingsRequest{})
			return err
		}},
		{Method: svc + "RevokeRoleBinding", Allowed: adminsOnly, Call: func(ctx context.Context) error {
			_, err := c.RevokeRoleBinding(ctx, &membershipv1.RevokeRoleBindingRequest{Name: a.binding, Reason: "test", Etag: "never-matches"})
			return err
		}},
	}
}

// TestClaimRefusalsChangeNothing (issue 18: an expired invitation, a used
// one and one claimed by someone else are refused and change nothing):
// every refused claim answers its own reason and leaves the store as it
// was; the one claim that holds links the identity, and LookupCaller then
// names the person.
func TestClaimRefusalsChangeNothing(t *testing.T) {
	h := newHarness(t)
	h.seed(t)
	c, admin := h.client, h.admin()
	newcomer := h.identity("newcomer-1")

	zhang := h.invite(t, "people/zhang-san")
	if zhang.GetCode() == "" || zhang.GetState() != membershipv1.InvitationState_INVITATION_STATE_PENDING {
		t.Fatalf("a new invitation: %v", zhang)
	}
	if got := time.Until(zhang.GetExpireTime().AsTime()); got < 13*24*time.Hour || got > 14*24*time.Hour {
		t.Errorf("expires in %v, want 14 days", got)
	}
	if again, err := c.GetInvitation(admin, &membershipv1.GetInvitationRequest{Name: zhang.GetName()}); err != nil || again.GetCode() != "" {
		t.Fatalf("GetInvitation: %v %v, want it without its code", again, err)
	}
	// The invited person sees the invitation, and may not revoke it.
	invitee := h.as("people/zhang-san")
	if got, err := c.GetInvitation(invitee, &membershipv1.GetInvitationRequest{Name: zhang.GetName()}); err != nil || got.GetCode() != "" {
		t.Fatalf("the invitee's GetInvitation: %v %v", got, err)
	}
	if _, err := c.RevokeInvitation(invitee, &membershipv1.RevokeInvitationRequest{Name: zhang.GetName(), Reason: "x"}); status.Code(err) != codes.PermissionDenied {
		t.Errorf("the invitee revoking: %v, want PERMISSION_DENIED", err)
	}
	// Before any claim, the newcomer is nobody: a method that is not
	// public refuses it, for the link it lacks.
	who, err := c.LookupCaller(newcomer, &membershipv1.LookupCallerRequest{})
	if err != nil || who.GetPerson() != "" || who.GetIssuer() != h.svc.Issuer() || who.GetSubject() != "newcomer-1" {
		t.Fatalf("LookupCaller before the claim: %v %v", who, err)
	}
	readOwn := func() (*membershipv1.Person, error) {
		return c.GetPerson(newcomer, &membershipv1.GetPersonRequest{Name: "people/zhang-san"})
	}
	if _, err := readOwn(); status.Code(err) != codes.PermissionDenied || !apierr.Is(err, apiv1.ErrorReason_ACCOUNT_NOT_LINKED) {
		t.Errorf("an unlinked identity reading a person: %v, want PERMISSION_DENIED ACCOUNT_NOT_LINKED", err)
	}

	refused := func(label string, ctx context.Context, code string, want codes.Code, reason apiv1.ErrorReason) {
		t.Helper()
		before := h.state()
		_, err := h.claim(ctx, code)
		if status.Code(err) != want || !apierr.Is(err, reason) {
			t.Errorf("%s: %v, want %v %v", label, err, want, reason)
		}
		if h.state() != before {
			t.Errorf("%s changed the store", label)
		}
	}
	refused("a wrong code", newcomer, "NOSUCHCODE", codes.NotFound, apiv1.ErrorReason_NOT_FOUND)

	acct, err := h.claim(newcomer, zhang.GetCode())
	if err != nil {
		t.Fatal(err)
	}
	if acct.GetState() != membershipv1.AccountState_ACCOUNT_STATE_LINKED || acct.GetInvitation() != zhang.GetName() ||
		acct.GetLinkMethod() != membershipv1.LinkMethod_LINK_METHOD_INVITATION || acct.GetIssuer() != h.svc.Issuer() || acct.GetSubject() != "newcomer-1" {
		t.Fatalf("the claim's account: %v", acct)
	}
	who, err = c.LookupCaller(newcomer, &membershipv1.LookupCallerRequest{})
	if err != nil || who.GetPerson() != "people/zhang-san" || who.GetAccount() != acct.GetName() || len(who.GetRoles()) != 0 {
		t.Fatalf("LookupCaller after the claim: %v %v", who, err)
	}
	// The server now resolves the identity to zhang-san, who reads their
	// own record, private contact included (the person and admins only).
	if p, err := readOwn(); err != nil || p.GetContact().GetEmail() != "zhang-san@example.com" {
		t.Errorf("zhang-san reading their own record through the linked identity: %v %v, want it with their email", p, err)
	}
	used, err := c.GetInvitation(admin, &membershipv1.GetInvitationRequest{Name: zhang.GetName()})
	if err != nil || used.GetState() != membershipv1.InvitationState_INVITATION_STATE_CLAIMED || used.GetAccount() != acct.GetName() {
		t.Fatalf("the claimed invitation: %v %v", used, err)
	}

	refused("a used invitation, again by its claimant", newcomer, zhang.GetCode(), codes.FailedPrecondition, apiv1.ErrorReason_INVITATION_ALREADY_CLAIMED)
	refused("a used invitation, by someone else", h.identity("newcomer-2"), zhang.GetCode(), codes.FailedPrecondition, apiv1.ErrorReason_INVITATION_ALREADY_CLAIMED)

	revoked := h.invite(t, "people/stranger")
	if _, err := c.RevokeInvitation(admin, &membershipv1.RevokeInvitationRequest{Name: revoked.GetName(), Reason: "sent by mistake"}); err != nil {
		t.Fatal(err)
	}
	refused("a revoked invitation", h.identity("newcomer-2"), revoked.GetCode(), codes.FailedPrecondition, apiv1.ErrorReason_INVITATION_REVOKED)
	if _, err := c.RevokeInvitation(admin, &membershipv1.RevokeInvitationRequest{Name: revoked.GetName(), Reason: "again"}); !apierr.Is(err, apiv1.ErrorReason_INVALID_STATE_TRANSITION) {
		t.Errorf("revoking a revoked invitation: %v", err)
	}

	other := h.invite(t, "people/stranger")
	refused("an identity already linked", newcomer, other.GetCode(), codes.FailedPrecondition, apiv1.ErrorReason_IDENTITY_ALREADY_LINKED)
	second := h.invite(t, "people/zhang-san")
	refused("a person already linked to an identity of the issuer", h.identity("newcomer-2"), second.GetCode(), codes.FailedPrecondition, apiv1.ErrorReason_PERSON_ALREADY_LINKED)

	h.ahead.Store(int64(15 * 24 * time.Hour))
	refused("an expired invitation", h.identity("newcomer-3"), other.GetCode(), codes.FailedPrecondition, apiv1.ErrorReason_INVITATION_EXPIRED)
	if got, err := c.GetInvitation(admin, &membershipv1.GetInvitationRequest{Name: other.GetName()}); err != nil || !got.GetExpired() {
		t.Errorf("an expired invitation reads %v %v, want expired", got, err)
	}
	h.ahead.Store(0)

	if _, err := h.claim(h.as(""), other.GetCode()); status.Code(err) != codes.Unauthenticated {
		t.Errorf("a claim without a token: %v, want UNAUTHENTICATED", err)
	}
	if _, err := c.LookupCaller(h.as(""), &membershipv1.LookupCallerRequest{}); status.Code(err) != codes.Unauthenticated {
		t.Errorf("LookupCaller without a token: %v, want UNAUTHENTICATED", err)
	}
	if _, err := c.CreateInvitation(admin, &membershipv1.CreateInvitationRequest{Invitation: &membershipv1.Invitation{Person: "people/nosuch"}}); !apierr.Is(err, apiv1.ErrorReason_REFERENCED_RESOURCE_NOT_FOUND) {
		t.Errorf("an invitation for nobody: %v", err)
	}
}

// TestUnlinkAndRelinkRecorded: unlinking keeps the account, saying who,
// when and why, and frees the identity; linking again makes a new
// account, and the person's accounts list both.
func TestUnlinkAndRelinkRecorded(t *testing.T) {
	h := newHarness(t)
	h.seed(t)
	c, admin := h.client, h.admin()
	newcomer := h.identity("newcomer-1")
	first, err := h.claim(newcomer, h.invite(t, "people/zhang-san").GetCode())
	if err != nil {
		t.Fatal(err)
	}
	// The person themselves unlinks (signed in as themselves: once the
	// link is gone, the identity it linked is no longer the person, and
	// may not read the account it unlinked).
	unlinked, err := c.UnlinkAccount(h.as("people/zhang-san"), &membershipv1.UnlinkAccountRequest{Name: first.GetName(), Reason: "lost my phone"})
	if err != nil {
		t.Fatal(err)
	}
	if unlinked.GetState() != membershipv1.AccountState_ACCOUNT_STATE_UNLINKED || unlinked.GetUnlinker() != "people/zhang-san" ||
		unlinked.GetUnlinkReason() != "lost my phone" || unlinked.GetUnlinkTime() == nil {
		t.Fatalf("unlinked: %v", unlinked)
	}
	if _, err := c.UnlinkAccount(admin, &membershipv1.UnlinkAccountRequest{Name: first.GetName(), Reason: "again"}); !apierr.Is(err, apiv1.ErrorReason_INVALID_STATE_TRANSITION) {
		t.Errorf("unlinking an unlinked account: %v", err)
	}
	if who, err := c.LookupCaller(newcomer, &membershipv1.LookupCallerRequest{}); err != nil || who.GetPerson() != "" {
		t.Fatalf("LookupCaller after unlinking: %v %v", who, err)
	}
	second, err := h.claim(newcomer, h.invite(t, "people/zhang-san").GetCode())
	if err != nil {
		t.Fatal(err)
	}
	if second.GetName() == first.GetName() {
		t.Fatal("relinking reused the account")
	}
	// An admin unlinks it, and the record says so.
	byAdmin, err := c.UnlinkAccount(admin, &membershipv1.UnlinkAccountRequest{Name: second.GetName(), Reason: "left the branch"})
	if err != nil || byAdmin.GetUnlinker() != "people/admin" {
		t.Fatalf("an admin's unlink: %v %v", byAdmin, err)
	}
	list, err := c.ListAccounts(admin, &membershipv1.ListAccountsRequest{Parent: "people/zhang-san"})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, a := range list.GetAccounts() {
		names = append(names, a.GetName()+" "+a.GetState().String()+" "+a.GetUnlinkReason())
	}
	want := []string{first.GetName() + " ACCOUNT_STATE_UNLINKED lost my phone", second.GetName() + " ACCOUNT_STATE_UNLINKED left the branch"}
	if !slices.Equal(names, want) {
		t.Errorf("accounts: %q, want %q", names, want)
	}
	// Someone else may not unlink, nor learn the account exists.
	if _, err := c.UnlinkAccount(h.as(stranger.Subject), &membershipv1.UnlinkAccountRequest{Name: second.GetName(), Reason: "x"}); status.Code(err) != codes.NotFound {
		t.Errorf("a stranger's unlink: %v, want NOT_FOUND", err)
	}
}

// TestRoleBindings: grants and revocations say who, when and why, list
// with their filters, a duplicate grant is refused naming the binding, the
// last admin binding is kept (LAST_ADMIN), and a linked caller's roles
// are its person's ACTIVE bindings.
func TestRoleBindings(t *testing.T) {
	h := newHarness(t)
	h.seed(t)
	c, admin := h.client, h.admin()
	grant := func(person string, role membershipv1.Role, reason string) (*membershipv1.RoleBinding, error) {
		return c.CreateRoleBinding(admin, &membershipv1.CreateRoleBindingRequest{RoleBinding: &membershipv1.RoleBinding{Person: person, Role: role, Reason: reason}})
	}
	first, err := grant("people/stranger", membershipv1.Role_ROLE_ADMIN, "runs the secretariat")
	if err != nil {
		t.Fatal(err)
	}
	if first.GetGranter() != "people/admin" || first.GetGrantTime() == nil || first.GetReason() != "runs the secretariat" ||
		first.GetState() != membershipv1.RoleBindingState_ROLE_BINDING_STATE_ACTIVE {
		t.Fatalf("a grant: %v", first)
	}
	before := h.state()
	_, err = grant("people/stranger", membershipv1.Role_ROLE_ADMIN, "again")
	if status.Code(err) != codes.AlreadyExists || !apierr.Is(err, apiv1.ErrorReason_ROLE_ALREADY_GRANTED) || apierr.Info(err).GetMetadata()["role_binding"] != first.GetName() {
		t.Errorf("a duplicate grant: %v", err)
	}
	if _, err := grant("people/stranger", membershipv1.Role_ROLE_ADMIN, "  "); status.Code(err) != codes.InvalidArgument {
		t.Errorf("a grant without a reason: %v", err)
	}
	if _, err := grant("people/nosuch", membershipv1.Role_ROLE_ADMIN, "x"); !apierr.Is(err, apiv1.ErrorReason_REFERENCED_RESOURCE_NOT_FOUND) {
		t.Errorf("a grant to nobody: %v", err)
	}
	revoke := func(name, reason string) (*membershipv1.RoleBinding, error) {
		return c.RevokeRoleBinding(admin, &membershipv1.RevokeRoleBindingRequest{Name: name, Reason: reason})
	}
	_, err = revoke(first.GetName(), "stepping down")
	if status.Code(err) != codes.FailedPrecondition || !apierr.Is(err, apiv1.ErrorReason_LAST_ADMIN) {
		t.Errorf("revoking the last admin: %v, want LAST_ADMIN", err)
	}
	if h.state() != before {
		t.Error("the refusals changed the store")
	}
	second, err := grant("people/zhang-san", membershipv1.Role_ROLE_ADMIN, "joins the secretariat")
	if err != nil {
		t.Fatal(err)
	}
	council, err := grant("people/zhang-san", membershipv1.Role_ROLE_GENERAL_COUNCIL, "elected")
	if err != nil {
		t.Fatal(err)
	}
	gone, err := revoke(first.GetName(), "stepping down")
	if err != nil {
		t.Fatal(err)
	}
	if gone.GetState() != membershipv1.RoleBindingState_ROLE_BINDING_STATE_REVOKED || gone.GetRevoker() != "people/admin" ||
		gone.GetRevokeReason() != "stepping down" || gone.GetRevokeTime() == nil {
		t.Fatalf("a revocation: %v", gone)
	}
	if _, err := revoke(second.GetName(), "x"); !apierr.Is(err, apiv1.ErrorReason_LAST_ADMIN) {
		t.Errorf("revoking the new last admin: %v, want LAST_ADMIN", err)
	}
	if _, err := revoke(first.GetName(), "x"); !apierr.Is(err, apiv1.ErrorReason_INVALID_STATE_TRANSITION) {
		t.Errorf("revoking a revoked binding: %v", err)
	}
	// Granting the role again after its revocation is a new binding.
	again, err := grant("people/stranger", membershipv1.Role_ROLE_ADMIN, "back")
	if err != nil || again.GetName() == first.GetName() {
		t.Fatalf("granting again: %v %v", again, err)
	}

	list := func(ctx context.Context, req *membershipv1.ListRoleBindingsRequest) []string {
		t.Helper()
		resp, err := c.ListRoleBindings(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, rb := range resp.GetRoleBindings() {
			out = append(out, rb.GetName())
		}
		return out
	}
	for _, tc := range []struct {
		label string
		req   *membershipv1.ListRoleBindingsRequest
		want  []string
	}{
		{"all", &membershipv1.ListRoleBindingsRequest{}, []string{first.GetName(), second.GetName(), council.GetName(), again.GetName()}},
		{"zhang-san's", &membershipv1.ListRoleBindingsRequest{Person: "people/zhang-san"}, []string{second.GetName(), council.GetName()}},
		{"admins", &membershipv1.ListRoleBindingsRequest{Role: membershipv1.Role_ROLE_ADMIN}, []string{first.GetName(), second.GetName(), again.GetName()}},
		{"active admins", &membershipv1.ListRoleBindingsRequest{Role: membershipv1.Role_ROLE_ADMIN, State: membershipv1.RoleBindingState_ROLE_BINDING_STATE_ACTIVE}, []string{second.GetName(), again.GetName()}},
		{"revoked", &membershipv1.ListRoleBindingsRequest{State: membershipv1.RoleBindingState_ROLE_BINDING_STATE_REVOKED}, []string{first.GetName()}},
	} {
		if got := list(admin, tc.req); !slices.Equal(got, tc.want) {
			t.Errorf("%s: %v, want %v", tc.label, got, tc.want)
		}
	}
	// A page of one continues to the next.
	page, err := c.ListRoleBindings(admin, &membershipv1.ListRoleBindingsRequest{PageSize: 1, Role: membershipv1.Role_ROLE_ADMIN})
	if err != nil || len(page.GetRoleBindings()) != 1 || page.GetNextPageToken() == "" {
		t.Fatalf("a page of one: %v %v", page, err)
	}
	// zhang-san, signed in through a linked identity, lists their own and
	// holds their roles: the roles their bindings grant, as the server
	// resolves them for the identity, so as an admin they list anyone's.
	linked := h.identity("newcomer-9")
	if _, err := h.claim(linked, h.invite(t, "people/zhang-san").GetCode()); err != nil {
		t.Fatal(err)
	}
	if got := list(linked, &membershipv1.ListRoleBindingsRequest{Person: "people/zhang-san"}); len(got) != 2 {
		t.Errorf("zhang-san's own bindings: %v", got)
	}
	who, err := c.LookupCaller(linked, &membershipv1.LookupCallerRequest{})
	if err != nil || who.GetPerson() != "people/zhang-san" || !slices.Equal(who.GetRoles(), []string{auth.RoleAdmin, auth.RoleGeneralCouncil}) {
		t.Errorf("LookupCaller: %v %v, want zhang-san with admin and general_council", who, err)
	}
	if got := list(linked, &membershipv1.ListRoleBindingsRequest{Person: "people/stranger"}); !slices.Equal(got, []string{first.GetName(), again.GetName()}) {
		t.Errorf("stranger's bindings, read by zhang-san as an admin: %v, want %v", got, []string{first.GetName(), again.GetName()})
	}
	if _, err := revoke(council.GetName(), "term ended"); err != nil {
		t.Fatal(err)
	}
	if who, err := c.LookupCaller(linked, &membershipv1.LookupCallerRequest{}); err != nil || !slices.Equal(who.GetRoles(), []string{auth.RoleAdmin}) {
		t.Errorf("LookupCaller after the revocation: %v %v, want admin alone", who, err)
	}
	// Their admin binding revoked (stranger's keeps the branch an admin),
	// they list their own bindings only.
	if _, err := revoke(second.GetName(), "left the secretariat"); err != nil {
		t.Fatal(err)
	}
	if who, err := c.LookupCaller(linked, &membershipv1.LookupCallerRequest{}); err != nil || len(who.GetRoles()) != 0 {
		t.Errorf("LookupCaller after both revocations: %v %v, want no roles", who, err)
	}
	if got := list(linked, &membershipv1.ListRoleBindingsRequest{Person: "people/zhang-san"}); len(got) != 2 {
		t.Errorf("zhang-san's own bindings, without a role: %v", got)
	}
	if _, err := c.ListRoleBindings(linked, &membershipv1.ListRoleBindingsRequest{Person: "people/stranger"}); status.Code(err) != codes.PermissionDenied {
		t.Errorf("someone else's bindings, without the admin role: %v, want PERMISSION_DENIED", err)
	}
}

// TestHiddenAccessIsMissing: an account, or a role binding, of another
// person is answered exactly as a missing one; an invitation too, to
// anyone but admins.
func TestHiddenAccessIsMissing(t *testing.T) {
	h := newHarness(t)
	h.seed(t)
	a := h.seedAccess(t)
	for _, u := range []struct {
		name            string
		hidden, missing string
		cases           []servicetest.UnseenCase
	}{
		{"an account", a.account, rep.Subject + "/accounts/nosuch", accountHiddenCases(h.client)},
		{"a role binding", a.binding, "roleBindings/nosuch", bindingHiddenCases(h.client)},
		{"an invitation", a.revoked, "invitations/nosuch", invitationHiddenCases(h.client)},
	} {
		t.Run(u.name, func(t *testing.T) {
			servicetest.HiddenAsMissing(t, servicetest.Unseen{Caller: h.as(stranger.Subject), Hidden: u.hidden, Missing: u.missing, State: h.state}, u.cases)
			servicetest.HiddenAsMissing(t, servicetest.Unseen{Caller: h.as(""), Anonymous: true, Hidden: u.hidden, Missing: u.missing, State: h.state}, u.cases)
		})
	}
}

const method = "/chapterhouse.membership.v1.MembershipService/"

func accountHiddenCases(c membershipv1.MembershipServiceClient) []servicetest.UnseenCase {
	return []servicetest.UnseenCase{
		{Method: method + "GetAccount", Call: func(ctx context.Context, name string) error {
			_, err := c.GetAccount(ctx, &membershipv1.GetAccountRequest{Name: name})
			return err
		}},
		{Method: method + "UnlinkAccount", Call: func(ctx context.Context, name string) error {
			_, err := c.UnlinkAccount(ctx, &membershipv1.UnlinkAccountRequest{Name: name, Reason: "x"})
			return err
		}},
	}
}

func bindingHiddenCases(c membershipv1.MembershipServiceClient) []servicetest.UnseenCase {
	return []servicetest.UnseenCase{
		{Method: method + "GetRoleBinding", Call: func(ctx context.Context, name string) error {
			_, err := c.GetRoleBinding(ctx, &membershipv1.GetRoleBindingRequest{Name: name})
			return err
		}},
		{Method: method + "RevokeRoleBinding", Want: codes.PermissionDenied, Call: func(ctx context.Context, name string) error {
			_, err := c.RevokeRoleBinding(ctx, &membershipv1.RevokeRoleBindingRequest{Name: name, Reason: "x"})
			return err
		}},
	}
}

func invitationHiddenCases(c membershipv1.MembershipServiceClient) []servicetest.UnseenCase {
	return []servicetest.UnseenCase{
		{Method: method + "GetInvitation", Call: func(ctx context.Context, name string) error {
			_, err := c.GetInvitation(ctx, &membershipv1.GetInvitationRequest{Name: name})
			return err
		}},
		{Method: method + "RevokeInvitation", Call: func(ctx context.Context, name string) error {
			_, err := c.RevokeInvitation(ctx, &membershipv1.RevokeInvitationRequest{Name: name, Reason: "x"})
			return err
		}},
	}
}

// TestAccessRefusalsInBothLanguages: each refusal of the accounts and
// roles methods names its facts in zh-CN and in en.
func TestAccessRefusalsInBothLanguages(t *testing.T) {
	h := newHarness(t)
	h.seed(t)
	c, admin := h.client, h.admin()
	a := h.seedAccess(t)
	claimed := h.invite(t, "people/zhang-san")
	zhangAcct, err := h.claim(h.identity("newcomer-1"), claimed.GetCode())
	if err != nil {
		t.Fatal(err)
	}
	again := h.invite(t, "people/zhang-san")
	expiring := h.invite(t, "people/stranger")
	firstAdmin, err := c.CreateRoleBinding(admin, &membershipv1.CreateRoleBindingRequest{RoleBinding: &membershipv1.RoleBinding{
		Person: "people/stranger", Role: membershipv1.Role_ROLE_ADMIN, Reason: "secretariat"}})
	if err != nil {
		t.Fatal(err)
	}
	claim := func(code string) func(context.Context) error {
		return func(ctx context.Context) error { _, err := h.claim(ctx, code); return err }
	}
	tests := []struct {
		name   string
		caller context.Context
		call   func(context.Context) error
		code   codes.Code
		facts  []fact
	}{
		{"a wrong code", h.identity("newcomer-2"), claim("NOSUCHCODE"), codes.NotFound, nil},
		{"a revoked invitation", h.identity("newcomer-2"), claim(a.revokedCode), codes.FailedPrecondition, []fact{literal(a.revoked)}},
		{"a used invitation", h.identity("newcomer-2"), claim(claimed.GetCode()), codes.FailedPrecondition, []fact{literal(claimed.GetName())}},
		{"an identity already linked", h.identity("newcomer-1"), claim(expiring.GetCode()), codes.FailedPrecondition, []fact{literal(zhangAcct.GetName())}},
		{"a person already linked", h.identity("newcomer-2"), claim(again.GetCode()), codes.FailedPrecondition,
			[]fact{literal("people/zhang-san"), literal(h.svc.Issuer())}},
		{"a role held", admin, func(ctx context.Context) error {
			_, err := c.CreateRoleBinding(ctx, &membershipv1.CreateRoleBindingRequest{RoleBinding: &membershipv1.RoleBinding{
				Person: "people/stranger", Role: membershipv1.Role_ROLE_ADMIN, Reason: "again"}})
			return err
		}, codes.AlreadyExists, []fact{literal("people/stranger"), term("ROLE_ADMIN"), literal(firstAdmin.GetName())}},
		{"the last admin", admin, func(ctx context.Context) error {
			_, err := c.RevokeRoleBinding(ctx, &membershipv1.RevokeRoleBindingRequest{Name: firstAdmin.GetName(), Reason: "leaving"})
			return err
		}, codes.FailedPrecondition, []fact{literal(firstAdmin.GetName())}},
		{"an expiry too far ahead", admin, func(ctx context.Context) error {
			_, err := c.CreateInvitation(ctx, &membershipv1.CreateInvitationRequest{Invitation: &membershipv1.Invitation{Person: "people/stranger",
				ExpireTime: timestamppb.New(time.Date(2099, 1, 1, 0, 0, 0, 0, time.UTC))}})
			return err
		}, codes.InvalidArgument, []fact{literal("invitation.expire_time"), literal("2099-01-01T00:00:00Z"), literal("30")}},
		{"revoking is for admins", h.as("people/zhang-san"), func(ctx context.Context) error {
			_, err := c.RevokeInvitation(ctx, &membershipv1.RevokeInvitationRequest{Name: again.GetName(), Reason: "x"})
			return err
		}, codes.PermissionDenied, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			servicetest.RefusedInEveryLanguage(t, tt.caller, tt.call, servicetest.Refusal{Code: tt.code, Facts: tt.facts})
		})
	}
	h.ahead.Store(int64(31 * 24 * time.Hour))
	defer h.ahead.Store(0)
	servicetest.RefusedInEveryLanguage(t, h.identity("newcomer-3"), claim(expiring.GetCode()), servicetest.Refusal{Code: codes.FailedPrecondition,
		Facts: []fact{literal(expiring.GetName()), literal(expiring.GetExpireTime().AsTime().UTC().Format(time.RFC3339))}})
}

// TestRegisterSelfOverGRPC: an identity linked to no one registers its own
// person through the real interceptors and is linked to it; from then on
// it is that person, and registering another is PERMISSION_DENIED (the
// self-registration rule) and creates nothing.
func TestRegisterSelfOverGRPC(t *testing.T) {
	h := newHarness(t)
	expert := h.identity("expert-1")
	p, err := h.client.CreatePerson(expert, &membershipv1.CreatePersonRequest{PersonId: "zhou-min", Person: &membershipv1.Person{DisplayName: "周敏"}})
	if err != nil || p.GetName() != "people/zhou-min" {
		t.Fatalf("self-registration: %v %v", p, err)
	}
	caller, err := h.client.LookupCaller(expert, &membershipv1.LookupCallerRequest{})
	if err != nil || caller.GetPerson() != "people/zhou-min" {
		t.Fatalf("after registering: %v %v", caller, err)
	}
	before := h.state()
	_, err = h.client.CreatePerson(expert, &membershipv1.CreatePersonRequest{PersonId: "zhou-min-2", Person: &membershipv1.Person{DisplayName: "周敏"}})
	if !apierr.Is(err, apiv1.ErrorReason_PERMISSION_DENIED) {
		t.Fatalf("registering another person: %v, want PERMISSION_DENIED", err)
	}
	if after := h.state(); after != before {
		t.Fatal("a refused registration changed the store")
	}
}
