package server_test

import (
	"context"
	"path"
	"testing"

	"google.golang.org/genproto/googleapis/type/date"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/types/known/fieldmaskpb"

	"github.com/tjsia/chapterhouse/platform/i18n"
	"github.com/tjsia/chapterhouse/platform/servicetest"
	membershipv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/membership/v1"
)

// fact is what a refusal's text must name in every language
// (servicetest.Fact).
type fact = servicetest.Fact

var (
	literal = servicetest.Literal
	term    = servicetest.Term
)

// TestRefusalsInBothLanguages holds the promise that every refusal a
// person reads says the same facts in zh-CN and in en: each is called
// through the real gRPC path (the server's interceptors render it) with
// accept-language zh-CN and en, and each language's text, its
// google.rpc.LocalizedMessage, every charter violation's and every field
// violation's, must name every fact (each term in its own language), with
// no enum value spelt as code; the zh-CN texts are Chinese, the en ones
// the status message itself. Charter refusals (M2, M3) carry every rule
// they break, by its code.
func TestRefusalsInBothLanguages(t *testing.T) {
	h := newHarness(t)
	member, openApp := h.seed(t) // zhiyuan's (wang-wei represents it); haihe's, waiting (M2)
	c, admin := h.client, h.admin()
	must := func(_ any, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	// li-na, an individual member, terminated; zhiyuan suspended.
	must(c.CreatePerson(admin, &membershipv1.CreatePersonRequest{PersonId: "li-na", Person: &membershipv1.Person{DisplayName: "李娜"}}))
	linaApp, err := c.CreateApplication(admin, &membershipv1.CreateApplicationRequest{Parent: "branches/ai", Application: individual("people/li-na")})
	must(linaApp, err)
	linaApp, err = c.ApproveApplication(admin, &membershipv1.ApproveApplicationRequest{Name: linaApp.GetName()})
	must(linaApp, err)
	lina := linaApp.GetMember()
	must(c.TerminateMember(admin, &membershipv1.TerminateMemberRequest{Name: lina, Reason: "会费未缴"}))
	must(c.SuspendMember(admin, &membershipv1.SuspendMemberRequest{Name: member, Reason: "待核实"}))

	changeRep := func(name, to string) func(context.Context) error {
		return func(ctx context.Context) error {
			_, err := c.ChangeRepresentative(ctx, &membershipv1.ChangeRepresentativeRequest{Name: name, Representative: to, Reason: "换人"})
			return err
		}
	}
	tests := []struct {
		name   string
		caller context.Context
		call   func(context.Context) error
		code   codes.Code
		// rules are the charter rules broken, by code; subjects the
		// violations' reasons.
		rules    []string
		subjects []string
		facts    []fact
	}{
		{"M2: approval before general membership", admin, func(ctx context.Context) error {
			_, err := c.ApproveApplication(ctx, &membershipv1.ApproveApplicationRequest{Name: openApp})
			return err
		}, codes.FailedPrecondition, []string{"M2"}, []string{"GENERAL_MEMBERSHIP_REQUIRED"},
			[]fact{literal("organizations/haihe"), literal(openApp), term("APPLICATION_STATE_AWAITING_GENERAL_MEMBERSHIP")}},
		{"M3: every rule at once: thin credentials, no expertise", admin, func(ctx context.Context) error {
			_, err := c.CreateApplication(ctx, &membershipv1.CreateApplicationRequest{Parent: "branches/ai", Application: &membershipv1.Application{
				Applicant: &membershipv1.Application_Individual{Individual: &membershipv1.IndividualApplicant{Person: "people/stranger", AcademicCredentials: "博士，教授"}}}})
			return err
		}, codes.FailedPrecondition, []string{"M3"}, []string{"ACADEMIC_CREDENTIALS_MISSING", "AI_EXPERTISE_MISSING"},
			[]fact{literal("people/stranger"), literal("20"), literal("5")}},

		{"an approved application is not approved again", admin, func(ctx context.Context) error {
			_, err := c.ApproveApplication(ctx, &membershipv1.ApproveApplicationRequest{Name: linaApp.GetName()})
			return err
		}, codes.FailedPrecondition, nil, nil, []fact{literal(linaApp.GetName()), term("APPLICATION_STATE_APPROVED"), term("approve"), term("none")}},
		{"a suspended unit member is not suspended again", admin, func(ctx context.Context) error {
			_, err := c.SuspendMember(ctx, &membershipv1.SuspendMemberRequest{Name: member, Reason: "再次"})
			return err
		}, codes.FailedPrecondition, nil, nil, []fact{literal(member), term("MEMBER_STATE_SUSPENDED"), term("suspend"),
			term("reinstate"), term("terminate"), term("changeRepresentative")}},
		{"a terminated member is not reinstated", admin, func(ctx context.Context) error {
			_, err := c.ReinstateMember(ctx, &membershipv1.ReinstateMemberRequest{Name: lina, Reason: "已缴"})
			return err
		}, codes.FailedPrecondition, nil, nil, []fact{literal(lina), term("MEMBER_STATE_TERMINATED"), term("reinstate"), term("none")}},
		{"an individual member has no representative", admin, changeRep(lina, "people/stranger"), codes.FailedPrecondition, nil, nil, []fact{literal(lina)}},
		{"the same representative", admin, changeRep(member, "people/wang-wei"), codes.FailedPrecondition, nil, nil,
			[]fact{literal("people/wang-wei"), literal(member)}},
		{"a representative from elsewhere", admin, changeRep(member, "people/stranger"), codes.FailedPrecondition, nil, nil,
			[]fact{literal("people/stranger"), literal("organizations/zhiyuan")}},
		{"already a member", admin, func(ctx context.Context) error {
			_, err := c.CreateApplication(ctx, &membershipv1.CreateApplicationRequest{Parent: "branches/ai", Application: &membershipv1.Application{
				Applicant: &membershipv1.Application_Unit{Unit: &membershipv1.UnitApplicant{Organization: "organizations/zhiyuan", Representative: "people/zhang-san"}}}})
			return err
		}, codes.AlreadyExists, nil, nil, []fact{literal("organizations/zhiyuan"), literal(member)}},
		{"an open application", h.as(applicant.Subject), func(ctx context.Context) error {
			_, err := c.CreateApplication(ctx, &membershipv1.CreateApplicationRequest{Parent: "branches/ai", Application: &membershipv1.Application{
				Applicant: &membershipv1.Application_Unit{Unit: &membershipv1.UnitApplicant{Organization: "organizations/haihe", Representative: applicant.Subject}}}})
			return err
		}, codes.AlreadyExists, nil, nil, []fact{literal("organizations/haihe"), literal(openApp)}},
		{"a credit code taken", admin, func(ctx context.Context) error {
			_, err := c.CreateOrganization(ctx, &membershipv1.CreateOrganizationRequest{Organization: &membershipv1.Organization{DisplayName: "智源二", CreditCode: "91120116ma05jr7q0e"}})
			return err
		}, codes.AlreadyExists, nil, nil, []fact{literal("91120116MA05JR7Q0E"), literal("organizations/zhiyuan")}},
		{"an unknown branch", admin, func(ctx context.Context) error {
			_, err := c.ListMembers(ctx, &membershipv1.ListMembersRequest{Parent: "branches/nowhere"})
			return err
		}, codes.NotFound, nil, nil, []fact{literal("branches/nowhere")}},

		{"fields: a credit code's check character", admin, func(ctx context.Context) error {
			_, err := c.CreateOrganization(ctx, &membershipv1.CreateOrganizationRequest{Organization: &membershipv1.Organization{DisplayName: "X", CreditCode: "91120116MA05JR7Q0F"}})
			return err
		}, codes.InvalidArgument, nil, nil, []fact{literal("organization.credit_code"), literal("F"), literal("E")}},
		{"fields: a credit code's characters", admin, func(ctx context.Context) error {
			_, err := c.CreateOrganization(ctx, &membershipv1.CreateOrganizationRequest{Organization: &membershipv1.Organization{DisplayName: "X", CreditCode: "91120116MA05JR7I0E"}})
			return err
		}, codes.InvalidArgument, nil, nil, []fact{literal("organization.credit_code"), literal("16"), literal("I")}},
		{"fields: every one, with its facts", admin, func(ctx context.Context) error {
			_, err := c.CreatePerson(ctx, &membershipv1.CreatePersonRequest{PersonId: "newcomer", Person: &membershipv1.Person{DisplayName: "新人",
				BirthDate: &date.Date{Year: 1990, Month: 2, Day: 31}, Organization: "companies/x"}})
			return err
		}, codes.InvalidArgument, nil, nil, []fact{literal("person.birth_date"), literal("1990-02-31"), literal("person.organization"),
			literal("companies/x"), literal("organizations/{id}")}},
		{"fields: the general membership's values", admin, func(ctx context.Context) error {
			_, err := c.SetGeneralMembership(ctx, &membershipv1.SetGeneralMembershipRequest{Name: "organizations/haihe"})
			return err
		}, codes.InvalidArgument, nil, nil, []fact{literal("state"), term("GENERAL_MEMBERSHIP_STATE_NONE"), term("GENERAL_MEMBERSHIP_STATE_PENDING"),
			term("GENERAL_MEMBERSHIP_STATE_ACTIVE"), term("GENERAL_MEMBERSHIP_STATE_LAPSED")}},
		{"update mask: fixed, and changed by another method", admin, func(ctx context.Context) error {
			_, err := c.UpdateOrganization(ctx, &membershipv1.UpdateOrganizationRequest{Organization: &membershipv1.Organization{Name: "organizations/haihe"},
				UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"creditCode", "generalMembershipState"}}})
			return err
		}, codes.InvalidArgument, nil, nil, []fact{literal("update_mask"), literal("creditCode"), literal("generalMembershipState")}},

		{"attested facts are admins' to set", h.as(stranger.Subject), func(ctx context.Context) error {
			_, err := c.UpdatePerson(ctx, &membershipv1.UpdatePersonRequest{Person: &membershipv1.Person{Name: stranger.Subject, Rank: membershipv1.Rank_RANK_CHAIRMAN},
				UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"rank"}}})
			return err
		}, codes.PermissionDenied, nil, nil, []fact{literal("rank")}},
		{"approving is for admins", h.as(applicant.Subject), func(ctx context.Context) error {
			_, err := c.ApproveApplication(ctx, &membershipv1.ApproveApplicationRequest{Name: openApp})
			return err
		}, codes.PermissionDenied, nil, nil, []fact{term("approve")}},
		{"suspending is for admins", h.as(rep.Subject), func(ctx context.Context) error {
			_, err := c.SuspendMember(ctx, &membershipv1.SuspendMemberRequest{Name: member, Reason: "x"})
			return err
		}, codes.PermissionDenied, nil, nil, []fact{term("suspend")}},
		{"changing the representative is for admins and the representative", h.as(stranger.Subject), changeRep(member, "people/zhang-san"),
			codes.PermissionDenied, nil, nil, []fact{literal(member)}},
		{"registering someone else is for admins", h.as(stranger.Subject), func(ctx context.Context) error {
			_, err := c.CreatePerson(ctx, &membershipv1.CreatePersonRequest{PersonId: "someone", Person: &membershipv1.Person{DisplayName: "某人"}})
			return err
		}, codes.PermissionDenied, nil, nil, []fact{literal("someone")}},
		{"an id an unseen application holds", h.as(stranger.Subject), func(ctx context.Context) error {
			_, err := c.CreateApplication(ctx, &membershipv1.CreateApplicationRequest{Parent: "branches/ai", ApplicationId: path.Base(openApp),
				Application: individual(stranger.Subject)})
			return err
		}, codes.PermissionDenied, nil, nil, []fact{literal(path.Base(openApp))}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			said := servicetest.RefusedInEveryLanguage(t, tt.caller, tt.call, servicetest.Refusal{Code: tt.code, Rules: tt.rules, Subjects: tt.subjects, Facts: tt.facts})
			t.Logf("en:    %s", said[i18n.English])
			t.Logf("zh-CN: %s", said[i18n.Chinese])
		})
	}
}
