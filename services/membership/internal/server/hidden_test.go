package server_test

import (
	"context"
	"path"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/tjsia/chapterhouse/platform/apierr"
	"github.com/tjsia/chapterhouse/platform/servicetest"
	apiv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/api/v1"
	membershipv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/membership/v1"
)

// TestHiddenApplicationIsMissing holds the one rule for who may see an
// application (domain.seesApplication: admins, the applicant, whoever
// submitted it): every method on an application answers anyone else
// exactly as for a missing one (servicetest.HiddenAsMissing) and writes
// nothing. Approving and rejecting are for admins alone, refused before
// the application is read: PERMISSION_DENIED, the same for both.
func TestHiddenApplicationIsMissing(t *testing.T) {
	h := newHarness(t)
	_, openApp := h.seed(t) // zhao-lei's, for haihe

	c := h.client
	const m = "/chapterhouse.membership.v1.MembershipService/"
	cases := []servicetest.UnseenCase{
		{Method: m + "GetApplication", Call: func(ctx context.Context, name string) error {
			_, err := c.GetApplication(ctx, &membershipv1.GetApplicationRequest{Name: name})
			return err
		}},
		{Method: m + "ApproveApplication", Want: codes.PermissionDenied, Call: func(ctx context.Context, name string) error {
			_, err := c.ApproveApplication(ctx, &membershipv1.ApproveApplicationRequest{Name: name})
			return err
		}},
		{Method: m + "RejectApplication", Want: codes.PermissionDenied, Call: func(ctx context.Context, name string) error {
			_, err := c.RejectApplication(ctx, &membershipv1.RejectApplicationRequest{Name: name, Reason: "x"})
			return err
		}},
		{Method: m + "WithdrawApplication", Call: func(ctx context.Context, name string) error {
			_, err := c.WithdrawApplication(ctx, &membershipv1.WithdrawApplicationRequest{Name: name})
			return err
		}},
	}
	// Applications are all membership hides: organisations, people
	// (their contacts redacted) and members are every signed-in caller's
	// to see; applications are submitted to a branch and listed by admins.
	servicetest.CoversHidden(t, membershipv1.MembershipService_ServiceDesc, []string{
		"CreateOrganization", "GetOrganization", "ListOrganizations", "UpdateOrganization", "SetGeneralMembership",
		"CreatePerson", "GetPerson", "ListPeople", "UpdatePerson", "CreateApplication", "ListApplications",
		"GetMember", "ListMembers", "SuspendMember", "ReinstateMember", "TerminateMember", "ChangeRepresentative",
		// Invitations are issued, and roles granted, by admins alone; a
		// claim names a code, not a resource; a person's accounts and role
		// bindings are listed under the person, whom every caller sees;
		// and LookupCaller names none.
		"CreateInvitation", "ClaimInvitation", "ListAccounts", "CreateRoleBinding", "ListRoleBindings", "LookupCaller"},
		cases, accountHiddenCases(c), bindingHiddenCases(c), invitationHiddenCases(c))
	missing := "branches/ai/applications/nosuch"
	for _, u := range []struct {
		name string
		servicetest.Unseen
	}{
		{"to another unit's representative", servicetest.Unseen{Caller: h.as(rep.Subject), Hidden: openApp, Missing: missing}},
		{"to another person", servicetest.Unseen{Caller: h.as(stranger.Subject), Hidden: openApp, Missing: missing}},
		{"without a token", servicetest.Unseen{Caller: h.as(""), Anonymous: true, Hidden: openApp, Missing: missing}},
	} {
		t.Run(u.name, func(t *testing.T) {
			u.State = h.state
			servicetest.HiddenAsMissing(t, u.Unseen, cases)
		})
	}
}

// TestHiddenApplicationNotNamed holds the rule for who may see an
// application one level down: a member names the application that
// created it (Member.application) only to a caller who may get that
// application (domain.seesApplication, GetApplication's rule); anyone
// else gets the member without it (servicetest.HiddenNotNamed), whether
// they read it or change its representative.
func TestHiddenApplicationNotNamed(t *testing.T) {
	h := newHarness(t)
	member, _ := h.seed(t) // zhiyuan's: wang-wei applied, an admin submitted it
	c := h.client
	m, err := c.GetMember(h.admin(), &membershipv1.GetMemberRequest{Name: member})
	if err != nil {
		t.Fatal(err)
	}
	app := m.GetApplication()
	if app == "" {
		t.Fatal("the member names no application, even to an admin")
	}

	const svc = "/chapterhouse.membership.v1.MembershipService/"
	reads := []servicetest.NamingCase{
		{Method: svc + "GetMember", Call: func(ctx context.Context) (proto.Message, error) {
			return c.GetMember(ctx, &membershipv1.GetMemberRequest{Name: member})
		}},
		{Method: svc + "ListMembers", Call: func(ctx context.Context) (proto.Message, error) {
			return c.ListMembers(ctx, &membershipv1.ListMembersRequest{Parent: "branches/ai"})
		}},
	}
	// An admin makes zhang-san the representative; then the caller (an
	// admin, or zhang-san, who represents the member but neither applied
	// nor submitted) hands it back to wang-wei.
	changes := []servicetest.NamingCase{
		{Method: svc + "ChangeRepresentative", Call: func(ctx context.Context) (proto.Message, error) {
			if _, err := c.ChangeRepresentative(h.admin(), &membershipv1.ChangeRepresentativeRequest{Name: member, Representative: "people/zhang-san", Reason: "rotation"}); err != nil {
				return nil, err
			}
			return c.ChangeRepresentative(ctx, &membershipv1.ChangeRepresentativeRequest{Name: member, Representative: "people/wang-wei", Reason: "back"})
		}},
	}
	// Suspending, reinstating and terminating are for admins alone, who
	// may get every application.
	servicetest.CoversNaming(t, membershipv1.MembershipService_ServiceDesc, "chapterhouse.tjsia.org/Application",
		[]string{"SuspendMember", "ReinstateMember", "TerminateMember"}, reads, changes)
	t.Run("to another person, not to the applicant", func(t *testing.T) {
		servicetest.HiddenNotNamed(t, h.svc.Conn, servicetest.Naming{Hidden: app, Caller: h.as(stranger.Subject), Seer: h.as(rep.Subject)}, reads)
	})
	t.Run("to a later representative, not to an admin", func(t *testing.T) {
		servicetest.HiddenNotNamed(t, h.svc.Conn, servicetest.Naming{Hidden: app, Caller: h.as("people/zhang-san"), Seer: h.admin()}, append(reads, changes...))
	})
}

// TestTakenIDs holds every create with a client-chosen id to AIP-133
// (servicetest.TakenIDs): told the id is taken only by one who may read
// what holds it; anyone else is refused as for an id they may not use,
// and told nothing of it. Organisations and people are every signed-in
// caller's to read; an application is its readers' (seesApplication).
func TestTakenIDs(t *testing.T) {
	h := newHarness(t)
	_, openApp := h.seed(t) // zhao-lei's, submitted by an admin
	c := h.client
	const svc = "/chapterhouse.membership.v1.MembershipService/"
	applyAs := func(ctx context.Context, person string) error {
		_, err := c.CreateApplication(ctx, &membershipv1.CreateApplicationRequest{Parent: "branches/ai", ApplicationId: path.Base(openApp), Application: individual(person)})
		return err
	}
	cases := []servicetest.TakenID{
		{Method: svc + "CreateOrganization", Caller: h.admin(), Existing: "organizations/zhiyuan", Call: func(ctx context.Context) error {
			_, err := c.CreateOrganization(ctx, &membershipv1.CreateOrganizationRequest{OrganizationId: "zhiyuan",
				Organization: &membershipv1.Organization{DisplayName: "Another", CreditCode: "91120118MA07B2PD0K"}})
			return err
		}},
		{Method: svc + "CreatePerson", Caller: h.admin(), Existing: "people/wang-wei", Call: func(ctx context.Context) error {
			_, err := c.CreatePerson(ctx, &membershipv1.CreatePersonRequest{PersonId: "wang-wei", Person: &membershipv1.Person{DisplayName: "Another"}})
			return err
		}},
		{Method: svc + "CreatePerson", Label: "registering oneself again", Caller: h.as(rep.Subject), Existing: "people/wang-wei", Call: func(ctx context.Context) error {
			_, err := c.CreatePerson(ctx, &membershipv1.CreatePersonRequest{PersonId: "wang-wei", Person: &membershipv1.Person{DisplayName: "Wang Wei"}})
			return err
		}},
		{Method: svc + "CreateApplication", Label: "an admin", Caller: h.admin(), Existing: openApp, Call: func(ctx context.Context) error {
			return applyAs(ctx, "people/stranger")
		}},
		{Method: svc + "CreateApplication", Label: "someone who may not see it", Caller: h.as(stranger.Subject), Existing: openApp, Call: func(ctx context.Context) error {
			return applyAs(ctx, stranger.Subject)
		}},
	}
	servicetest.CoversTakenIDs(t, membershipv1.MembershipService_ServiceDesc, cases)
	before := h.state()
	servicetest.TakenIDs(t, h.svc.Conn, cases)
	if h.state() != before {
		t.Error("a create with a taken id changed the store")
	}
}

// TestOpenApplicationNamedOnlyToItsReaders: one open application per
// applicant (OPEN_APPLICATION_EXISTS) names the open one only to a caller
// who may see it; another person of the same organisation applying for it
// is told it has one, not which.
func TestOpenApplicationNamedOnlyToItsReaders(t *testing.T) {
	h := newHarness(t)
	_, openApp := h.seed(t) // zhao-lei's, for haihe, submitted by an admin
	c := h.client
	if _, err := c.CreatePerson(h.admin(), &membershipv1.CreatePersonRequest{PersonId: "qian-feng", Person: &membershipv1.Person{
		DisplayName: "qian-feng", Organization: "organizations/haihe"}}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		caller, representative string
		named                  bool
	}{
		{applicant.Subject, applicant.Subject, true},
		{"people/admin", "people/qian-feng", true},
		{"people/qian-feng", "people/qian-feng", false},
	} {
		ctx := h.as(tc.caller)
		if tc.caller == "people/admin" {
			ctx = h.admin()
		}
		_, err := c.CreateApplication(ctx, &membershipv1.CreateApplicationRequest{Parent: "branches/ai", Application: &membershipv1.Application{
			Applicant: &membershipv1.Application_Unit{Unit: &membershipv1.UnitApplicant{Organization: "organizations/haihe", Representative: tc.representative}}}})
		md := apierr.Info(err).GetMetadata()
		if !apierr.Is(err, apiv1.ErrorReason_OPEN_APPLICATION_EXISTS) || md["applicant"] != "organizations/haihe" {
			t.Fatalf("%s applying for haihe again: %v, want OPEN_APPLICATION_EXISTS for organizations/haihe", tc.caller, err)
		}
		text, _ := protojson.Marshal(status.Convert(err).Proto())
		if named := strings.Contains(string(text), openApp); named != tc.named || (md["application"] == openApp) != tc.named {
			t.Errorf("%s is told of %s: %v, want %v: %s", tc.caller, openApp, named, tc.named, text)
		}
	}
}
