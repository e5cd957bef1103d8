package store_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/tjsia/chapterhouse/platform/apierr"
	"github.com/tjsia/chapterhouse/platform/auth"
	apiv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/api/v1"
	membershipv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/membership/v1"

	"github.com/tjsia/chapterhouse/services/membership/internal/domain"
	"github.com/tjsia/chapterhouse/services/membership/internal/store"
)

// TestFirstAdminOnce: the configured first admin is granted once, by
// "system", with its reason and a RoleGranted event, however many
// replicas start at once; and not at all once an admin binding exists.
func TestFirstAdminOnce(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	var wg sync.WaitGroup
	granted := make(chan bool, 8)
	for range 8 {
		wg.Go(func() {
			ok, err := f.svc.EnsureFirstAdmin(ctx, "people/first", auth.Identity{})
			if err != nil {
				t.Error(err)
			}
			granted <- ok
		})
	}
	wg.Wait()
	close(granted)
	n := 0
	for ok := range granted {
		if ok {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("%d replicas granted the first admin, want 1", n)
	}
	bindings, _, err := f.svc.ListRoleBindings(ctx, admin, &membershipv1.ListRoleBindingsRequest{})
	if err != nil || len(bindings) != 1 {
		t.Fatalf("bindings: %v %v", bindings, err)
	}
	rb := bindings[0]
	if rb.GetPerson() != "people/first" || rb.GetGranter() != domain.SystemActor || rb.GetReason() != domain.FirstAdminReason || rb.GetRole() != membershipv1.Role_ROLE_ADMIN {
		t.Fatalf("the first admin's binding: %v", rb)
	}
	if got := f.outbox(t, store.AccessTag); len(got) != 1 || got[0].GetRoleGranted().GetRoleBinding().GetGranter() != domain.SystemActor || got[0].GetActor() != domain.SystemActor {
		t.Fatalf("the access stream: %v, want one RoleGranted by system", got)
	}
	// Another person named later grants nothing while an admin exists.
	if ok, err := f.svc.EnsureFirstAdmin(ctx, "people/second", auth.Identity{}); ok || err != nil {
		t.Fatalf("a second first admin: %v %v", ok, err)
	}
}

// TestFirstAdminWithIdentity: a configured identity is linked to the
// first admin in the same step as the grant, so it signs in as that
// person with the admin role at once (no static key, no invitation);
// however many replicas start, one binding and one link are made, and a
// restart after the link was removed never makes it again.
func TestFirstAdminWithIdentity(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	id := auth.Identity{Issuer: "https://sso.example.org/realms/tjsia", Subject: "f4c1"}
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			if _, err := f.svc.EnsureFirstAdmin(ctx, "people/first", id); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	linked, err := f.svc.Linked(ctx, auth.Principal{Identity: id})
	if err != nil || linked.Person != "people/first" || !slices.Equal(linked.Roles, []string{auth.RoleAdmin}) {
		t.Fatalf("the configured identity signs in as %+v (%v), want people/first with admin", linked, err)
	}
	accounts, _, err := f.svc.ListAccounts(ctx, admin, &membershipv1.ListAccountsRequest{Parent: "people/first"})
	if err != nil || len(accounts) != 1 || accounts[0].GetLinkMethod() != membershipv1.LinkMethod_LINK_METHOD_CONFIGURATION {
		t.Fatalf("accounts: %v %v, want one linked by configuration", accounts, err)
	}
	var kinds []string
	for _, ev := range f.outbox(t, store.AccessTag) {
		kinds = append(kinds, fmt.Sprintf("%T", ev.GetPayload()))
	}
	if want := []string{"*eventsv1.Envelope_RoleGranted", "*eventsv1.Envelope_AccountLinked"}; !slices.Equal(kinds, want) {
		t.Fatalf("the access stream: %v, want %v", kinds, want)
	}
	// Unlinked by an admin, the identity stays unlinked across restarts.
	if _, err := f.svc.UnlinkAccount(ctx, admin, &membershipv1.UnlinkAccountRequest{Name: accounts[0].GetName(), Reason: "left the secretariat"}); err != nil {
		t.Fatal(err)
	}
	if ok, err := f.svc.EnsureFirstAdmin(ctx, "people/first", id); ok || err != nil {
		t.Fatalf("a restart: %v %v", ok, err)
	}
	if linked, err := f.svc.Linked(ctx, auth.Principal{Identity: id}); err != nil || linked.Person != "" {
		t.Fatalf("after a restart the unlinked identity signs in as %+v (%v)", linked, err)
	}
}

// TestFirstAdminIdentityTaken: an identity already linked to someone else
// cannot become the first admin's; the start fails, and nothing is
// granted or linked.
func TestFirstAdminIdentityTaken(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	id := auth.Identity{Issuer: "https://sso.example.org/realms/tjsia", Subject: "f4c1"}
	if _, err := f.svc.CreatePerson(ctx, admin, &membershipv1.Person{DisplayName: "Other"}, "other"); err != nil {
		t.Fatal(err)
	}
	inv, err := f.svc.CreateInvitation(ctx, admin, &membershipv1.Invitation{Person: "people/other"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.ClaimInvitation(ctx, id, inv.GetCode()); err != nil {
		t.Fatal(err)
	}
	before := len(f.outbox(t, store.AccessTag))
	if ok, err := f.svc.EnsureFirstAdmin(ctx, "people/first", id); ok || err == nil {
		t.Fatalf("the first admin took a linked identity: %v %v", ok, err)
	}
	if ok, err := f.svc.EnsureFirstAdmin(ctx, "people/first", auth.Identity{Issuer: id.Issuer}); ok || err == nil {
		t.Fatalf("an identity without a subject: %v %v", ok, err)
	}
	if after := len(f.outbox(t, store.AccessTag)); after != before {
		t.Fatalf("refused starts wrote %d events", after-before)
	}
	if linked, err := f.svc.Linked(ctx, auth.Principal{Identity: id}); err != nil || linked.Person != "people/other" || len(linked.Roles) != 0 {
		t.Fatalf("the identity is now %+v (%v), want people/other with no role", linked, err)
	}
}

// TestRegisterSelf: issue 18 (a signed-in identity with no link may apply
// as an individual expert, creating its own person record). The identity
// registers its own person and is linked to it; another identity cannot
// take the same id; a stated attested fact is refused and changes
// nothing; and a retry after a failure between the two steps (the person
// written, the link not) finds its own person and links it.
func TestRegisterSelf(t *testing.T) { testRegisterSelf(t, newFixture(t)) }

func testRegisterSelf(t *testing.T, f *fixture) {
	ctx := context.Background()
	zhou := auth.Identity{Issuer: "https://sso.example.org/realms/tjsia", Subject: "u-zhou"}
	person := &membershipv1.Person{DisplayName: "周敏", Expertise: []string{"speech recognition"}}
	if _, err := f.svc.RegisterSelf(ctx, zhou, &membershipv1.Person{DisplayName: "周敏", Rank: membershipv1.Rank_RANK_PRESIDENT}, "zhou-min"); !apierr.Is(err, apiv1.ErrorReason_PERMISSION_DENIED) {
		t.Fatalf("a self-registration stating a rank: %v, want PERMISSION_DENIED", err)
	}
	if n := len(f.outbox(t, store.PeopleTag)) + len(f.outbox(t, store.AccessTag)); n != 0 {
		t.Fatalf("a refused registration wrote %d events", n)
	}
	got, err := f.svc.RegisterSelf(ctx, zhou, person, "zhou-min")
	if err != nil || got.GetName() != "people/zhou-min" {
		t.Fatalf("RegisterSelf: %v %v", got, err)
	}
	linked, err := f.svc.Linked(ctx, auth.Principal{Identity: zhou})
	if err != nil || linked.Person != "people/zhou-min" || len(linked.Roles) != 0 {
		t.Fatalf("after registering, the identity is %+v (%v)", linked, err)
	}
	accounts, _, err := f.svc.ListAccounts(ctx, admin, &membershipv1.ListAccountsRequest{Parent: "people/zhou-min"})
	if err != nil || len(accounts) != 1 || accounts[0].GetLinkMethod() != membershipv1.LinkMethod_LINK_METHOD_SELF_REGISTRATION {
		t.Fatalf("accounts: %v %v, want one linked by self-registration", accounts, err)
	}
	if _, err := f.svc.RegisterSelf(ctx, zhou, person, "zhou-min-2"); !apierr.Is(err, apiv1.ErrorReason_IDENTITY_ALREADY_LINKED) {
		t.Fatalf("a linked identity registering again: %v", err)
	}
	other := auth.Identity{Issuer: zhou.Issuer, Subject: "u-other"}
	if _, err := f.svc.RegisterSelf(ctx, other, person, "zhou-min"); status.Code(err) != codes.AlreadyExists {
		t.Fatalf("another identity taking people/zhou-min: %v, want ALREADY_EXISTS", err)
	}
	if linked, _ := f.svc.Linked(ctx, auth.Principal{Identity: other}); linked.Person != "" {
		t.Fatalf("the refused identity is linked to %s", linked.Person)
	}

	// A failure between the steps: the person is there, registered by
	// the identity, and not linked. The retry links it.
	li := auth.Identity{Issuer: zhou.Issuer, Subject: "u-li"}
	if err := f.st.RegisterPerson(ctx, &membershipv1.Person{Name: "people/li-lei", DisplayName: "李雷", Etag: "e1"}, nil, li); err != nil {
		t.Fatal(err)
	}
	if got, err := f.svc.RegisterSelf(ctx, li, &membershipv1.Person{DisplayName: "李雷"}, "li-lei"); err != nil || got.GetName() != "people/li-lei" {
		t.Fatalf("the retry: %v %v", got, err)
	}
	if linked, _ := f.svc.Linked(ctx, auth.Principal{Identity: li}); linked.Person != "people/li-lei" {
		t.Fatalf("after the retry the identity is %+v", linked)
	}

	// Unlinked by an admin, an identity registers its way back to
	// nothing: not to the person it registered, not to a new one.
	if _, err := f.svc.UnlinkAccount(ctx, admin, &membershipv1.UnlinkAccountRequest{Name: accounts[0].GetName(), Reason: "squatted the id of a known expert"}); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"zhou-min", "zhou-min-again"} {
		if _, err := f.svc.RegisterSelf(ctx, zhou, person, id); !apierr.Is(err, apiv1.ErrorReason_PERMISSION_DENIED) {
			t.Fatalf("an unlinked identity registering %s: %v, want PERMISSION_DENIED", id, err)
		}
	}
	if linked, _ := f.svc.Linked(ctx, auth.Principal{Identity: zhou}); linked.Person != "" {
		t.Fatalf("the unlinked identity is linked again, to %s", linked.Person)
	}
	// A person it registered that someone else was linked to since is
	// not its own to retry.
	wu := auth.Identity{Issuer: zhou.Issuer, Subject: "u-wu"}
	if err := f.st.RegisterPerson(ctx, &membershipv1.Person{Name: "people/wu-fang", DisplayName: "吴芳", Etag: "e1"}, nil, wu); err != nil {
		t.Fatal(err)
	}
	inv, err := f.svc.CreateInvitation(ctx, admin, &membershipv1.Invitation{Person: "people/wu-fang"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.ClaimInvitation(ctx, auth.Identity{Issuer: "https://other.example.org", Subject: "real-wu"}, inv.GetCode()); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.RegisterSelf(ctx, wu, &membershipv1.Person{DisplayName: "吴芳"}, "wu-fang"); status.Code(err) != codes.AlreadyExists {
		t.Fatalf("retrying onto a person linked since: %v, want ALREADY_EXISTS", err)
	}
}

// TestLastAdminUnderConcurrency: two admins revoking each other's admin
// binding at once leave one of them: the store conditions each
// revocation on the count of admins it judged.
func TestLastAdminUnderConcurrency(t *testing.T) { testLastAdminUnderConcurrency(t, newFixture(t)) }

func testLastAdminUnderConcurrency(t *testing.T, f *fixture) {
	ctx := context.Background()
	var names []string
	for _, p := range []string{"ann", "bo"} {
		if _, err := f.svc.CreatePerson(ctx, admin, &membershipv1.Person{DisplayName: p}, p); err != nil {
			t.Fatal(err)
		}
		rb, err := f.svc.CreateRoleBinding(ctx, admin, &membershipv1.RoleBinding{Person: "people/" + p, Role: membershipv1.Role_ROLE_ADMIN, Reason: "secretariat"})
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, rb.GetName())
	}
	var wg sync.WaitGroup
	errs := make([]error, len(names))
	for i, name := range names {
		wg.Go(func() {
			_, errs[i] = f.svc.RevokeRoleBinding(ctx, admin, &membershipv1.RevokeRoleBindingRequest{Name: name, Reason: "leaving"})
		})
	}
	wg.Wait()
	refused := 0
	for _, err := range errs {
		if apierr.Is(err, apiv1.ErrorReason_LAST_ADMIN) {
			refused++
		} else if err != nil {
			t.Errorf("a revocation: %v", err)
		}
	}
	if refused != 1 {
		t.Fatalf("%d revocations refused, want exactly 1: %v", refused, errs)
	}
	if n, err := f.st.ActiveRoleCount(ctx, membershipv1.Role_ROLE_ADMIN); err != nil || n != 1 {
		t.Fatalf("active admins: %d %v, want 1", n, err)
	}
}

// TestClaimIsOneStep: a claim links the identity and uses the invitation
// up in one step with its event; two identities claiming one code at once
// get one link between them.
func TestClaimIsOneStep(t *testing.T) { testClaimIsOneStep(t, newFixture(t)) }

func testClaimIsOneStep(t *testing.T, f *fixture) {
	ctx := context.Background()
	if _, err := f.svc.CreatePerson(ctx, admin, &membershipv1.Person{DisplayName: "Ann"}, "ann"); err != nil {
		t.Fatal(err)
	}
	inv, err := f.svc.CreateInvitation(ctx, admin, &membershipv1.Invitation{Person: "people/ann"})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	accounts := make([]*membershipv1.Account, 4)
	errs := make([]error, 4)
	for i := range 4 {
		wg.Go(func() {
			id := auth.Identity{Issuer: "https://idp.example.org", Subject: string(rune('a' + i))}
			accounts[i], errs[i] = f.svc.ClaimInvitation(ctx, id, inv.GetCode())
		})
	}
	wg.Wait()
	var won *membershipv1.Account
	for i, err := range errs {
		switch {
		case err == nil:
			if won != nil {
				t.Fatalf("two claims held: %v and %v", won, accounts[i])
			}
			won = accounts[i]
		case !apierr.Is(err, apiv1.ErrorReason_INVITATION_ALREADY_CLAIMED):
			t.Errorf("a losing claim: %v", err)
		}
	}
	if won == nil {
		t.Fatal("no claim held")
	}
	got, err := f.st.AccountByIdentity(ctx, auth.Identity{Issuer: won.GetIssuer(), Subject: won.GetSubject()})
	if err != nil || !proto.Equal(got, won) {
		t.Fatalf("the winner's account: %v %v", got, err)
	}
	evs := f.outbox(t, store.AccessTag) // InvitationCreated, AccountLinked
	if len(evs) != 2 || evs[1].GetAccountLinked().GetInvitation().GetState() != membershipv1.InvitationState_INVITATION_STATE_CLAIMED ||
		evs[1].GetAccountLinked().GetAccount().GetName() != won.GetName() || evs[0].GetInvitationCreated().GetInvitation().GetCode() != "" {
		t.Fatalf("the access stream: %v", evs)
	}
	r, err := f.svc.Resolve(ctx, auth.Principal{Identity: auth.Identity{Issuer: won.GetIssuer(), Subject: won.GetSubject()}})
	if err != nil || r.Person != "people/ann" || r.Account != won.GetName() {
		t.Fatalf("Resolve: %+v %v", r, err)
	}
	if r, err := f.svc.Resolve(ctx, auth.Principal{Identity: auth.Identity{Issuer: "https://idp.example.org", Subject: "nobody"}}); err != nil || r.Person != "" || len(r.Roles) != 0 {
		t.Fatalf("Resolve of an unlinked identity: %+v %v", r, err)
	}
}
