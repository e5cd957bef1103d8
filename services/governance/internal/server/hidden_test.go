package server_test

import (
	"context"
	"testing"

	"google.golang.org/genproto/googleapis/type/date"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/fieldmaskpb"

	"github.com/tjsia/chapterhouse/platform/servicetest"
	governancev1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/governance/v1"
	membershipv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/membership/v1"

	"github.com/tjsia/chapterhouse/services/governance/internal/govtest"
)

// TestHiddenNominationIsMissing holds the one rule for who may see a
// nomination (domain.seenNomination: the overseers, the chair of its term,
// its nominee, proposer and represented member's representative): every
// method on a nomination answers anyone else exactly as for a missing one
// (servicetest.HiddenAsMissing), before the refusal of the action, and
// writes nothing. The secretary-general runs the branch's business but
// does not oversee nominations; another person is nobody in the branch.
func TestHiddenNominationIsMissing(t *testing.T) {
	g := serve(t)
	mr, svc, people, srv, c := g.mr, g.svc, g.people, g.srv, g.c
	as := func(r servicetest.Role) context.Context { return srv.AsRole(t, r) }

	// rep, who represents the unit xinhe, puts himself forward as a
	// director.
	govtest.Branch(t, svc, people)
	govtest.ElectChair(t, svc)
	govtest.AppointSecretary(t, svc, people)
	people.Add("rep", "organizations/xinhe", membershipv1.Rank_RANK_VICE_PRESIDENT, &date.Date{Year: 1972, Month: 2, Day: 2})
	xinhe := people.AddUnit("xinhe", "organizations/xinhe", "rep")
	nom, err := svc.CreateNomination(context.Background(), govtest.As("rep"), govtest.Term1, &governancev1.Nomination{
		Position: governancev1.Position_POSITION_DIRECTOR, Nominee: "people/rep", RepresentedMember: xinhe, QualificationStatement: govtest.Statement}, "rep")
	if err != nil {
		t.Fatal(err)
	}

	const m = "/chapterhouse.governance.v1.GovernanceService/"
	cases := []servicetest.UnseenCase{
		{Method: m + "GetNomination", Call: func(ctx context.Context, name string) error {
			_, err := c.GetNomination(ctx, &governancev1.GetNominationRequest{Name: name})
			return err
		}},
		{Method: m + "UpdateNomination", Call: func(ctx context.Context, name string) error {
			_, err := c.UpdateNomination(ctx, &governancev1.UpdateNominationRequest{Nomination: &governancev1.Nomination{Name: name,
				QualificationStatement: govtest.Statement + " Amended."}, UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"qualification_statement"}}})
			return err
		}},
		{Method: m + "ConfirmNominationQualification", Call: func(ctx context.Context, name string) error {
			_, err := c.ConfirmNominationQualification(ctx, &governancev1.ConfirmNominationQualificationRequest{Name: name,
				Decision: governancev1.Decision_DECISION_APPROVE})
			return err
		}},
		{Method: m + "DecideNomination", Call: func(ctx context.Context, name string) error {
			_, err := c.DecideNomination(ctx, &governancev1.DecideNominationRequest{Name: name, Decision: governancev1.Decision_DECISION_REJECT, Reason: "x"})
			return err
		}},
		{Method: m + "AppointNomination", Call: func(ctx context.Context, name string) error {
			_, err := c.AppointNomination(ctx, &governancev1.AppointNominationRequest{Name: name})
			return err
		}},
		{Method: m + "WithdrawNomination", Call: func(ctx context.Context, name string) error {
			_, err := c.WithdrawNomination(ctx, &governancev1.WithdrawNominationRequest{Name: name, Reason: "x"})
			return err
		}},
	}
	// Nominations are all governance hides: every signed-in caller sees
	// the branch, its terms, officers, meetings, resolutions (drafts too)
	// and their votes, and its work plans; nominations are proposed and
	// listed under a term, and listing shows each caller only those they
	// see.
	servicetest.CoversHidden(t, governancev1.GovernanceService_ServiceDesc, []string{
		"CreateBranch", "GetBranch", "ListBranches", "UpdateBranch", "CreateTerm", "GetTerm", "ListTerms", "UpdateTerm",
		"CheckEligibility", "CreateNomination", "ListNominations", "GetOfficer", "ListOfficers", "EndOffice",
		"CreateMeeting", "GetMeeting", "ListMeetings", "UpdateMeeting", "CreateResolution", "GetResolution", "ListResolutions",
		"UpdateResolution", "OpenResolutionVoting", "CastResolutionVote", "GetVote", "ListVotes", "CloseResolutionVoting",
		"WithdrawResolution", "CreateWorkPlan", "GetWorkPlan", "ListWorkPlans", "UpdateWorkPlan", "CreateWorkItem", "GetWorkItem",
		"ListWorkItems", "UpdateWorkItem", "GetComplianceReport"}, cases)
	missing := govtest.Term1 + "/nominations/nosuch"
	for _, u := range []struct {
		name string
		servicetest.Unseen
	}{
		{"to the secretary-general", servicetest.Unseen{Caller: as(secretary), Hidden: nom.GetName(), Missing: missing}},
		{"to another person", servicetest.Unseen{Caller: as(other), Hidden: nom.GetName(), Missing: missing}},
		{"without a token", servicetest.Unseen{Caller: as(anonymous), Anonymous: true, Hidden: nom.GetName(), Missing: missing}},
	} {
		t.Run(u.name, func(t *testing.T) {
			u.State = mr.Dump
			servicetest.HiddenAsMissing(t, u.Unseen, cases)
		})
	}
}

// TestHiddenNominationIsNotNamed holds the same rule one level down: a
// response names no nomination its caller may not see. An officer names
// the nomination that appointed them, and a vice-chair appointment the
// nominations it appoints; to someone who may not see a nomination, the
// name is left out (servicetest.HiddenNotNamed), and the overseers still
// read it. Left out rather than masked: every name an answer holds is one
// its reader can follow, and a placeholder would still tell how many
// there are.
func TestHiddenNominationIsNotNamed(t *testing.T) {
	g := serve(t)
	svc, people, srv, c := g.svc, g.people, g.srv, g.c
	as := func(r servicetest.Role) context.Context { return srv.AsRole(t, r) }
	ctx := context.Background()

	// zhang chairs term 1 (proposed by the general association's
	// secretary-general, so neither li, the secretary-general, nor another
	// person sees that nomination); admins propose vice as a vice-chair,
	// and the chair drafts the resolution that would appoint him.
	govtest.Branch(t, svc, people)
	chairNom := govtest.ElectChair(t, svc)
	govtest.AppointSecretary(t, svc, people)
	people.Add("vice", "organizations/xinhe", membershipv1.Rank_RANK_PRESIDENT, &date.Date{Year: 1968, Month: 4, Day: 4})
	vice, err := svc.CreateNomination(ctx, govtest.Admin, govtest.Term1, &governancev1.Nomination{
		Position: governancev1.Position_POSITION_VICE_CHAIR, Nominee: "people/vice", QualificationStatement: govtest.Statement}, "vice")
	if err != nil {
		t.Fatal(err)
	}
	appointing := func(ctx context.Context) (*governancev1.Resolution, error) {
		return c.CreateResolution(ctx, &governancev1.CreateResolutionRequest{Parent: "branches/ai", Resolution: &governancev1.Resolution{
			Title: "Appoint a vice-chair", Text: "The council appoints the nominee.",
			Kind: governancev1.ResolutionKind_RESOLUTION_KIND_VICE_CHAIR_APPOINTMENT, Nominations: []string{vice.GetName()}}})
	}
	drafted, err := appointing(as(chair))
	if err != nil {
		t.Fatal(err)
	}

	const m = "/chapterhouse.governance.v1.GovernanceService/"
	resolutions := []servicetest.NamingCase{
		{Method: m + "GetResolution", Call: func(ctx context.Context) (proto.Message, error) {
			return c.GetResolution(ctx, &governancev1.GetResolutionRequest{Name: drafted.GetName()})
		}},
		{Method: m + "ListResolutions", Call: func(ctx context.Context) (proto.Message, error) {
			return c.ListResolutions(ctx, &governancev1.ListResolutionsRequest{Parent: "branches/ai"})
		}},
		{Method: m + "CreateResolution", Call: func(ctx context.Context) (proto.Message, error) { return appointing(ctx) }},
		{Method: m + "UpdateResolution", Label: "its proposer", Call: func(ctx context.Context) (proto.Message, error) {
			r, err := appointing(ctx)
			if err != nil {
				return nil, err
			}
			return c.UpdateResolution(ctx, &governancev1.UpdateResolutionRequest{Resolution: &governancev1.Resolution{Name: r.GetName(), Title: "Amended"},
				UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"title"}}})
		}},
		{Method: m + "OpenResolutionVoting", Call: func(ctx context.Context) (proto.Message, error) {
			r, err := appointing(ctx)
			if err != nil {
				return nil, err
			}
			return c.OpenResolutionVoting(ctx, &governancev1.OpenResolutionVotingRequest{Name: r.GetName()})
		}},
		{Method: m + "WithdrawResolution", Label: "its proposer", Call: func(ctx context.Context) (proto.Message, error) {
			r, err := appointing(ctx)
			if err != nil {
				return nil, err
			}
			return c.WithdrawResolution(ctx, &governancev1.WithdrawResolutionRequest{Name: r.GetName(), Reason: "drafted twice"})
		}},
	}
	officers := []servicetest.NamingCase{
		{Method: m + "GetOfficer", Call: func(ctx context.Context) (proto.Message, error) {
			return c.GetOfficer(ctx, &governancev1.GetOfficerRequest{Name: chairNom.GetOfficer()})
		}},
		{Method: m + "ListOfficers", Call: func(ctx context.Context) (proto.Message, error) {
			return c.ListOfficers(ctx, &governancev1.ListOfficersRequest{Parent: "branches/ai/terms/-"})
		}},
	}
	// Closing a vote is for admins and the chair, and ending an office for
	// admins and the officer (its nominee): all of them see the
	// nominations named.
	servicetest.CoversNaming(t, governancev1.GovernanceService_ServiceDesc, "chapterhouse.tjsia.org/Nomination",
		[]string{"CloseResolutionVoting", "EndOffice"}, resolutions, officers)

	// The secretary-general drafts and opens resolutions, but does not
	// oversee nominations; another person reads resolutions only.
	t.Run("a vice-chair nomination, to the secretary-general", func(t *testing.T) {
		servicetest.HiddenNotNamed(t, srv.Conn, servicetest.Naming{Hidden: vice.GetName(), Caller: as(secretary), Seer: as(chair)}, resolutions)
	})
	t.Run("a vice-chair nomination, to another person", func(t *testing.T) {
		servicetest.HiddenNotNamed(t, srv.Conn, servicetest.Naming{Hidden: vice.GetName(), Caller: as(other), Seer: as(chair)}, resolutions[:2])
	})
	t.Run("the chair's nomination, to another person", func(t *testing.T) {
		servicetest.HiddenNotNamed(t, srv.Conn, servicetest.Naming{Hidden: chairNom.GetName(), Caller: as(other), Seer: as(admin)}, officers)
	})
	t.Run("the chair's nomination, to the secretary-general", func(t *testing.T) {
		servicetest.HiddenNotNamed(t, srv.Conn, servicetest.Naming{Hidden: chairNom.GetName(), Caller: as(secretary), Seer: as(chair)}, officers)
	})
}
