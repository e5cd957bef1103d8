package server_test

import (
	"context"
	"path"
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/type/date"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/fieldmaskpb"
	"google.golang.org/protobuf/types/known/timestamppb"

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
		// Its id chosen for a nomination the caller may not propose: refused
		// as for a free id, not told the id is taken (AIP-133).
		{Method: m + "CreateNomination", Label: "with its id", Want: codes.PermissionDenied, Call: func(ctx context.Context, name string) error {
			_, err := c.CreateNomination(ctx, &governancev1.CreateNominationRequest{Parent: path.Dir(path.Dir(name)), NominationId: path.Base(name),
				Nomination: &governancev1.Nomination{Position: governancev1.Position_POSITION_DIRECTOR, Nominee: "people/rep", RepresentedMember: xinhe,
					QualificationStatement: govtest.Statement + " Again."}})
			return err
		}},
	}
	// Nominations are all governance hides: every signed-in caller sees
	// the branch, its terms, officers, meetings, resolutions (drafts too)
	// and their votes (those recorded at a meeting too), and its work
	// plans; nominations are listed under a term, and listing shows each
	// caller only those they see.
	servicetest.CoversHidden(t, governancev1.GovernanceService_ServiceDesc, []string{
		"CreateBranch", "GetBranch", "ListBranches", "UpdateBranch", "CreateTerm", "GetTerm", "ListTerms", "UpdateTerm",
		"CheckEligibility", "ListNominations", "GetOfficer", "ListOfficers", "EndOffice",
		"CreateMeeting", "GetMeeting", "ListMeetings", "UpdateMeeting", "CreateResolution", "GetResolution", "ListResolutions",
		"UpdateResolution", "OpenResolutionVoting", "CastResolutionVote", "RecordResolutionBallots", "GetVote", "ListVotes", "CloseResolutionVoting",
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

// TestTakenIDs holds every create with a client-chosen id to AIP-133
// (servicetest.TakenIDs): told the id is taken only by one who may read
// what holds it. Everything governance keeps but nominations is read by
// every signed-in caller, so only a nomination's id can be taken by
// something its caller may not see: other, an individual member who may
// put himself forward as a director, choosing the id of rep's
// nomination, is refused as for an id he may not use, and nothing is
// stored.
func TestTakenIDs(t *testing.T) {
	g := serve(t)
	svc, people, srv, c := g.svc, g.people, g.srv, g.c
	as := func(r servicetest.Role) context.Context { return srv.AsRole(t, r) }
	ctx := context.Background()
	govtest.Branch(t, svc, people)
	govtest.ElectChair(t, svc)
	people.Add("rep", "organizations/xinhe", membershipv1.Rank_RANK_VICE_PRESIDENT, &date.Date{Year: 1972, Month: 2, Day: 2})
	xinhe := people.AddUnit("xinhe", "organizations/xinhe", "rep")
	people.Add("other", "", membershipv1.Rank_RANK_STAFF, &date.Date{Year: 1980, Month: 8, Day: 8})
	people.AddIndividual("other", "other")
	director := func(nominee, member string) *governancev1.Nomination {
		return &governancev1.Nomination{Position: governancev1.Position_POSITION_DIRECTOR, Nominee: nominee, RepresentedMember: member,
			QualificationStatement: govtest.Statement}
	}
	nom, err := svc.CreateNomination(ctx, govtest.As("rep"), govtest.Term1, director("people/rep", xinhe), "rep")
	if err != nil {
		t.Fatal(err)
	}
	meeting, err := svc.CreateMeeting(ctx, govtest.Admin, "branches/ai", &governancev1.Meeting{Title: "Council", Kind: governancev1.MeetingKind_MEETING_KIND_COUNCIL,
		StartTime: timestamppb.New(govtest.Today.Add(24 * time.Hour))}, "m1")
	if err != nil {
		t.Fatal(err)
	}
	resolution, err := svc.CreateResolution(ctx, govtest.As("zhang"), "branches/ai", &governancev1.Resolution{Title: "Draft", Text: "x",
		Kind: governancev1.ResolutionKind_RESOLUTION_KIND_ORDINARY}, "r1")
	if err != nil {
		t.Fatal(err)
	}
	plan, err := svc.CreateWorkPlan(ctx, govtest.Admin, "branches/ai", &governancev1.WorkPlan{Year: 2026, Title: "2026"}, "wp")
	if err != nil {
		t.Fatal(err)
	}
	item, err := svc.CreateWorkItem(ctx, govtest.Admin, plan.GetName(), &governancev1.WorkItem{Title: "Salons",
		Source: governancev1.WorkItemSource_WORK_ITEM_SOURCE_BRANCH}, "salons")
	if err != nil {
		t.Fatal(err)
	}

	const m = "/chapterhouse.governance.v1.GovernanceService/"
	cases := []servicetest.TakenID{
		{Method: m + "CreateBranch", Caller: as(admin), Existing: "branches/ai", Call: func(ctx context.Context) error {
			_, err := c.CreateBranch(ctx, &governancev1.CreateBranchRequest{BranchId: "ai", Branch: &governancev1.Branch{DisplayName: "another"}})
			return err
		}},
		{Method: m + "CreateNomination", Label: "its proposer", Caller: as(representative), Existing: nom.GetName(), Call: func(ctx context.Context) error {
			_, err := c.CreateNomination(ctx, &governancev1.CreateNominationRequest{Parent: govtest.Term1, NominationId: "rep",
				Nomination: director("people/rep", "")})
			return err
		}},
		{Method: m + "CreateNomination", Label: "one who may not see it", Caller: as(other), Existing: nom.GetName(), Call: func(ctx context.Context) error {
			_, err := c.CreateNomination(ctx, &governancev1.CreateNominationRequest{Parent: govtest.Term1, NominationId: "rep",
				Nomination: director("people/other", "")})
			return err
		}},
		{Method: m + "CreateMeeting", Caller: as(admin), Existing: meeting.GetName(), Call: func(ctx context.Context) error {
			_, err := c.CreateMeeting(ctx, &governancev1.CreateMeetingRequest{Parent: "branches/ai", MeetingId: "m1", Meeting: &governancev1.Meeting{
				Title: "Another", Kind: governancev1.MeetingKind_MEETING_KIND_WORKING, StartTime: timestamppb.New(govtest.Today)}})
			return err
		}},
		{Method: m + "CreateResolution", Caller: as(chair), Existing: resolution.GetName(), Call: func(ctx context.Context) error {
			_, err := c.CreateResolution(ctx, &governancev1.CreateResolutionRequest{Parent: "branches/ai", ResolutionId: "r1", Resolution: &governancev1.Resolution{
				Title: "Another", Text: "y", Kind: governancev1.ResolutionKind_RESOLUTION_KIND_ORDINARY}})
			return err
		}},
		{Method: m + "CreateWorkPlan", Caller: as(admin), Existing: plan.GetName(), Call: func(ctx context.Context) error {
			_, err := c.CreateWorkPlan(ctx, &governancev1.CreateWorkPlanRequest{Parent: "branches/ai", WorkPlanId: "wp",
				WorkPlan: &governancev1.WorkPlan{Year: 2027, Title: "2027"}})
			return err
		}},
		{Method: m + "CreateWorkItem", Caller: as(admin), Existing: item.GetName(), Call: func(ctx context.Context) error {
			_, err := c.CreateWorkItem(ctx, &governancev1.CreateWorkItemRequest{Parent: plan.GetName(), WorkItemId: "salons",
				WorkItem: &governancev1.WorkItem{Title: "Survey", Source: governancev1.WorkItemSource_WORK_ITEM_SOURCE_BRANCH}})
			return err
		}},
	}
	servicetest.CoversTakenIDs(t, governancev1.GovernanceService_ServiceDesc, cases)
	before := g.mr.Dump()
	servicetest.TakenIDs(t, srv.Conn, cases)
	if after := g.mr.Dump(); after != before {
		t.Errorf("a refused create wrote to the store")
	}
	// Under a free id other's nomination is accepted: it was the taken
	// id, not his nomination, that was refused.
	if _, err := c.CreateNomination(as(other), &governancev1.CreateNominationRequest{Parent: govtest.Term1, NominationId: "other",
		Nomination: director("people/other", "")}); err != nil {
		t.Fatalf("other's own nomination under a free id: %v", err)
	}
}
