package server_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/genproto/googleapis/type/date"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/fieldmaskpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/tjsia/chapterhouse/platform/auth"
	"github.com/tjsia/chapterhouse/platform/servicetest"
	apiv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/api/v1"
	governancev1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/governance/v1"
	membershipv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/membership/v1"

	"github.com/tjsia/chapterhouse/services/governance/internal/govtest"
)

// The roles of the matrix: the static ones, bound to the caller's identity
// in the test fixture's table (servicetest.Role), and the dynamic ones
// from governance's own data (seeded below).
var (
	anonymous        = servicetest.Anonymous
	admin            = servicetest.Role{Name: "admin", Subject: "people/admin", Roles: []string{auth.RoleAdmin}}
	generalSecretary = servicetest.Role{Name: "general_secretary", Subject: "people/gs", Roles: []string{auth.RoleGeneralSecretary}}
	generalCouncil   = servicetest.Role{Name: "general_council", Subject: "people/gc", Roles: []string{auth.RoleGeneralCouncil}}
	chair            = servicetest.Role{Name: "chair", Subject: "people/zhang"}
	secretary        = servicetest.Role{Name: "secretary-general", Subject: "people/li"}
	councilMember    = servicetest.Role{Name: "council member", Subject: "people/wang"}
	representative   = servicetest.Role{Name: "member representative", Subject: "people/rep"}
	other            = servicetest.Role{Name: "other person", Subject: "people/other"}

	everyone = []servicetest.Role{anonymous, admin, generalSecretary, generalCouncil, chair, secretary, councilMember, representative, other}
	signedIn = everyone[1:]
	runners  = []servicetest.Role{admin, chair, secretary}
)

func roles(r ...servicetest.Role) []servicetest.Role { return r }

// charterRefusal recognises the charter's refusal of a proposer.
func charterRefusal(reason apiv1.ErrorReason) func(error) bool {
	return func(err error) bool {
		st, _ := status.FromError(err)
		for _, d := range st.Details() {
			if pf, ok := d.(*errdetails.PreconditionFailure); ok {
				for _, v := range pf.GetViolations() {
					if v.GetSubject() == reason.String() {
						return true
					}
				}
			}
		}
		return false
	}
}

// TestAuthorisationMatrix calls every GovernanceService RPC as every role
// (servicetest.Matrix): denied is UNAUTHENTICATED without a token,
// PERMISSION_DENIED, NOT_FOUND where the API hides what the caller may not
// see, or the charter's own refusal of a proposer (G5, G7). Writes that
// would succeed carry an etag that never matches, so every role meets the
// same state.
func TestAuthorisationMatrix(t *testing.T) {
	g := serve(t)
	svc, people, srv, c := g.svc, g.people, g.srv, g.c
	as := func(r servicetest.Role) context.Context { return srv.AsRole(t, r) }

	// Seed: zhang chairs term 1, li is secretary-general, wang a director;
	// rep represents the unit xinhe and has put himself forward as a
	// director; a meeting; a draft and a voting resolution; a work plan
	// with a branch item owned by rep and a task of the general
	// association.
	ctx := context.Background()
	govtest.Branch(t, svc, people)
	govtest.ElectChair(t, svc)
	govtest.AppointSecretary(t, svc, people)
	wang := govtest.Director(t, svc, people, "wang")
	people.Add("rep", "organizations/xinhe", membershipv1.Rank_RANK_VICE_PRESIDENT, &date.Date{Year: 1972, Month: 2, Day: 2})
	xinhe := people.AddUnit("xinhe", "organizations/xinhe", "rep")
	repNom, err := svc.CreateNomination(ctx, govtest.As("rep"), govtest.Term1, &governancev1.Nomination{
		Position: governancev1.Position_POSITION_DIRECTOR, Nominee: "people/rep", RepresentedMember: xinhe, QualificationStatement: govtest.Statement}, "rep")
	if err != nil {
		t.Fatal(err)
	}
	meeting, err := svc.CreateMeeting(ctx, govtest.Admin, "branches/ai", &governancev1.Meeting{Title: "Council", Kind: governancev1.MeetingKind_MEETING_KIND_COUNCIL,
		StartTime: timestamppb.New(govtest.Today.Add(24 * time.Hour))}, "m1")
	if err != nil {
		t.Fatal(err)
	}
	draft, err := svc.CreateResolution(ctx, govtest.As("zhang"), "branches/ai", &governancev1.Resolution{Title: "Draft", Text: "x",
		Kind: governancev1.ResolutionKind_RESOLUTION_KIND_ORDINARY}, "draft")
	if err != nil {
		t.Fatal(err)
	}
	voting, err := svc.CreateResolution(ctx, govtest.As("zhang"), "branches/ai", &governancev1.Resolution{Title: "Voting", Text: "x",
		Kind: governancev1.ResolutionKind_RESOLUTION_KIND_ORDINARY}, "voting")
	if err != nil {
		t.Fatal(err)
	}
	if voting, err = svc.OpenResolutionVoting(ctx, govtest.Admin, &governancev1.OpenResolutionVotingRequest{Name: voting.GetName()}); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.CastResolutionVote(ctx, govtest.As("zhang"), &governancev1.CastResolutionVoteRequest{Name: voting.GetName(), Choice: governancev1.VoteChoice_VOTE_CHOICE_YES}); err != nil {
		t.Fatal(err)
	}
	plan, err := svc.CreateWorkPlan(ctx, govtest.Admin, "branches/ai", &governancev1.WorkPlan{Year: 2026, Title: "2026"}, "wp2026")
	if err != nil {
		t.Fatal(err)
	}
	item, err := svc.CreateWorkItem(ctx, govtest.Admin, plan.GetName(), &governancev1.WorkItem{Title: "Salon series",
		Source: governancev1.WorkItemSource_WORK_ITEM_SOURCE_BRANCH, Owner: "people/rep"}, "salons")
	if err != nil {
		t.Fatal(err)
	}
	task, err := svc.CreateWorkItem(ctx, govtest.GeneralSecretary, plan.GetName(), &governancev1.WorkItem{Title: "Industry survey",
		Source: governancev1.WorkItemSource_WORK_ITEM_SOURCE_GENERAL_ASSOCIATION, AssignmentReference: "津软协〔2026〕12号"}, "survey")
	if err != nil {
		t.Fatal(err)
	}
	chairOfficer := "branches/ai/terms/1/officers/chair"
	wangOfficer := wang.GetOfficer()
	never := "never-matches"
	mask := func(paths ...string) *fieldmaskpb.FieldMask { return &fieldmaskpb.FieldMask{Paths: paths} }
	nominate := func(pos governancev1.Position, nominee, member string) func(ctx context.Context) error {
		return func(ctx context.Context) error {
			_, err := c.CreateNomination(ctx, &governancev1.CreateNominationRequest{Parent: govtest.Term1, Nomination: &governancev1.Nomination{
				Position: pos, Nominee: nominee, RepresentedMember: member, QualificationStatement: govtest.Statement, ConsultationNotes: govtest.Notes}})
			return err
		}
	}

	const m = "/chapterhouse.governance.v1.GovernanceService/"
	cases := []servicetest.Case{
		{Method: m + "CreateBranch", Allowed: roles(admin), Call: func(ctx context.Context) error {
			_, err := c.CreateBranch(ctx, &governancev1.CreateBranchRequest{BranchId: "ai", Branch: &governancev1.Branch{DisplayName: "another"}})
			return err
		}},
		{Method: m + "GetBranch", Allowed: everyone, Call: func(ctx context.Context) error {
			_, err := c.GetBranch(ctx, &governancev1.GetBranchRequest{Name: "branches/ai"})
			return err
		}},
		{Method: m + "ListBranches", Allowed: everyone, Call: func(ctx context.Context) error {
			_, err := c.ListBranches(ctx, &governancev1.ListBranchesRequest{})
			return err
		}},
		{Method: m + "UpdateBranch", Allowed: roles(admin), Call: func(ctx context.Context) error {
			_, err := c.UpdateBranch(ctx, &governancev1.UpdateBranchRequest{Branch: &governancev1.Branch{Name: "branches/ai", DisplayName: "x", Etag: never}, UpdateMask: mask("display_name")})
			return err
		}},
		{Method: m + "CreateTerm", Allowed: roles(admin, generalCouncil), Call: func(ctx context.Context) error {
			_, err := c.CreateTerm(ctx, &governancev1.CreateTermRequest{Parent: "branches/ai", Term: &governancev1.Term{Number: 1,
				StartDate: &date.Date{Year: 2025, Month: 1, Day: 1}, EndDate: &date.Date{Year: 2029, Month: 12, Day: 31}}})
			return err
		}},
		{Method: m + "GetTerm", Allowed: signedIn, Call: func(ctx context.Context) error {
			_, err := c.GetTerm(ctx, &governancev1.GetTermRequest{Name: govtest.Term1})
			return err
		}},
		{Method: m + "ListTerms", Allowed: signedIn, Call: func(ctx context.Context) error {
			_, err := c.ListTerms(ctx, &governancev1.ListTermsRequest{Parent: "branches/ai"})
			return err
		}},
		{Method: m + "UpdateTerm", Allowed: roles(admin, generalCouncil), Call: func(ctx context.Context) error {
			_, err := c.UpdateTerm(ctx, &governancev1.UpdateTermRequest{Term: &governancev1.Term{Name: govtest.Term1, Etag: never,
				EndDate: &date.Date{Year: 2029, Month: 12, Day: 30}}, UpdateMask: mask("end_date")})
			return err
		}},
		{Method: m + "CheckEligibility", Label: "rep as director", Allowed: roles(admin, generalSecretary, generalCouncil, chair, councilMember, representative),
			Call: func(ctx context.Context) error {
				_, err := c.CheckEligibility(ctx, &governancev1.CheckEligibilityRequest{Parent: govtest.Term1, Nomination: &governancev1.Nomination{
					Position: governancev1.Position_POSITION_DIRECTOR, Nominee: "people/rep", RepresentedMember: xinhe}})
				return err
			}},
		{Method: m + "CreateNomination", Label: "director for a unit", Allowed: roles(admin, representative),
			Call: nominate(governancev1.Position_POSITION_DIRECTOR, "people/rep", xinhe)},
		{Method: m + "CreateNomination", Label: "vice-chair", Allowed: roles(admin, chair, councilMember),
			Call: nominate(governancev1.Position_POSITION_VICE_CHAIR, "people/wang", "branches/ai/members/wang")},
		{Method: m + "CreateNomination", Label: "chair (G5)", Allowed: roles(generalSecretary),
			Refused: charterRefusal(apiv1.ErrorReason_PROPOSER_NOT_GENERAL_SECRETARY),
			Call:    nominate(governancev1.Position_POSITION_CHAIR, "people/wang", "")},
		{Method: m + "CreateNomination", Label: "secretary-general (G7)", Allowed: roles(chair),
			Refused: charterRefusal(apiv1.ErrorReason_PROPOSER_NOT_CHAIR),
			Call:    nominate(governancev1.Position_POSITION_SECRETARY_GENERAL, "people/wang", "")},
		{Method: m + "GetNomination", Allowed: roles(admin, generalSecretary, generalCouncil, chair, councilMember, representative), Call: func(ctx context.Context) error {
			_, err := c.GetNomination(ctx, &governancev1.GetNominationRequest{Name: repNom.GetName()})
			return err
		}},
		{Method: m + "ListNominations", Allowed: signedIn, Call: func(ctx context.Context) error {
			_, err := c.ListNominations(ctx, &governancev1.ListNominationsRequest{Parent: "branches/ai/terms/-"})
			return err
		}},
		{Method: m + "UpdateNomination", Allowed: roles(admin, representative), Call: func(ctx context.Context) error {
			_, err := c.UpdateNomination(ctx, &governancev1.UpdateNominationRequest{Nomination: &governancev1.Nomination{Name: repNom.GetName(),
				QualificationStatement: govtest.Statement, Etag: never}, UpdateMask: mask("qualification_statement")})
			return err
		}},
		{Method: m + "ConfirmNominationQualification", Allowed: roles(chair), Call: func(ctx context.Context) error {
			_, err := c.ConfirmNominationQualification(ctx, &governancev1.ConfirmNominationQualificationRequest{Name: repNom.GetName(),
				Decision: governancev1.Decision_DECISION_APPROVE, Etag: never})
			return err
		}},
		{Method: m + "DecideNomination", Allowed: roles(generalCouncil), Call: func(ctx context.Context) error {
			_, err := c.DecideNomination(ctx, &governancev1.DecideNominationRequest{Name: govtest.Term1 + "/nominations/chair",
				Decision: governancev1.Decision_DECISION_APPROVE, Etag: never})
			return err
		}},
		{Method: m + "AppointNomination", Label: "director", Allowed: roles(admin, chair), Call: func(ctx context.Context) error {
			_, err := c.AppointNomination(ctx, &governancev1.AppointNominationRequest{Name: repNom.GetName(), Etag: never})
			return err
		}},
		{Method: m + "AppointNomination", Label: "secretary-general (G7)", Allowed: roles(chair), Call: func(ctx context.Context) error {
			_, err := c.AppointNomination(ctx, &governancev1.AppointNominationRequest{Name: govtest.Term1 + "/nominations/secretary", Etag: never})
			return err
		}},
		{Method: m + "WithdrawNomination", Allowed: roles(admin, representative), Call: func(ctx context.Context) error {
			_, err := c.WithdrawNomination(ctx, &governancev1.WithdrawNominationRequest{Name: repNom.GetName(), Reason: "x", Etag: never})
			return err
		}},
		{Method: m + "GetOfficer", Allowed: signedIn, Call: func(ctx context.Context) error {
			_, err := c.GetOfficer(ctx, &governancev1.GetOfficerRequest{Name: chairOfficer})
			return err
		}},
		{Method: m + "ListOfficers", Allowed: signedIn, Call: func(ctx context.Context) error {
			_, err := c.ListOfficers(ctx, &governancev1.ListOfficersRequest{Parent: "branches/ai/terms/-"})
			return err
		}},
		{Method: m + "EndOffice", Label: "wang's", Allowed: roles(admin, councilMember), Call: func(ctx context.Context) error {
			_, err := c.EndOffice(ctx, &governancev1.EndOfficeRequest{Name: wangOfficer, Reason: "resigned", Etag: never})
			return err
		}},
		{Method: m + "CreateMeeting", Allowed: runners, Call: func(ctx context.Context) error {
			_, err := c.CreateMeeting(ctx, &governancev1.CreateMeetingRequest{Parent: "branches/ai", Meeting: &governancev1.Meeting{Title: "x",
				Kind: governancev1.MeetingKind_MEETING_KIND_WORKING, StartTime: timestamppb.New(govtest.Today)}})
			return err
		}},
		{Method: m + "GetMeeting", Allowed: signedIn, Call: func(ctx context.Context) error {
			_, err := c.GetMeeting(ctx, &governancev1.GetMeetingRequest{Name: meeting.GetName()})
			return err
		}},
		{Method: m + "ListMeetings", Allowed: signedIn, Call: func(ctx context.Context) error {
			_, err := c.ListMeetings(ctx, &governancev1.ListMeetingsRequest{Parent: "branches/ai"})
			return err
		}},
		{Method: m + "UpdateMeeting", Allowed: runners, Call: func(ctx context.Context) error {
			_, err := c.UpdateMeeting(ctx, &governancev1.UpdateMeetingRequest{Meeting: &governancev1.Meeting{Name: meeting.GetName(), Minutes: "x", Etag: never}, UpdateMask: mask("minutes")})
			return err
		}},
		{Method: m + "CreateResolution", Allowed: roles(admin, chair, secretary, councilMember), Call: func(ctx context.Context) error {
			_, err := c.CreateResolution(ctx, &governancev1.CreateResolutionRequest{Parent: "branches/ai", Resolution: &governancev1.Resolution{Title: "x", Text: "x",
				Kind: governancev1.ResolutionKind_RESOLUTION_KIND_ORDINARY}})
			return err
		}},
		{Method: m + "GetResolution", Allowed: signedIn, Call: func(ctx context.Context) error {
			_, err := c.GetResolution(ctx, &governancev1.GetResolutionRequest{Name: voting.GetName()})
			return err
		}},
		{Method: m + "ListResolutions", Allowed: signedIn, Call: func(ctx context.Context) error {
			_, err := c.ListResolutions(ctx, &governancev1.ListResolutionsRequest{Parent: "branches/ai"})
			return err
		}},
		{Method: m + "UpdateResolution", Label: "the chair's draft", Allowed: roles(admin, chair), Call: func(ctx context.Context) error {
			_, err := c.UpdateResolution(ctx, &governancev1.UpdateResolutionRequest{Resolution: &governancev1.Resolution{Name: draft.GetName(), Title: "y", Etag: never}, UpdateMask: mask("title")})
			return err
		}},
		{Method: m + "OpenResolutionVoting", Allowed: runners, Call: func(ctx context.Context) error {
			_, err := c.OpenResolutionVoting(ctx, &governancev1.OpenResolutionVotingRequest{Name: draft.GetName(), Etag: never})
			return err
		}},
		{Method: m + "CastResolutionVote", Allowed: roles(chair, councilMember), Call: func(ctx context.Context) error {
			_, err := c.CastResolutionVote(ctx, &governancev1.CastResolutionVoteRequest{Name: voting.GetName(), Choice: governancev1.VoteChoice_VOTE_CHOICE_YES})
			return err
		}},
		{Method: m + "RecordResolutionBallots", Label: "at a meeting not yet held", Allowed: runners, Call: func(ctx context.Context) error {
			_, err := c.RecordResolutionBallots(ctx, &governancev1.RecordResolutionBallotsRequest{Name: voting.GetName(), Meeting: meeting.GetName(),
				Method:  governancev1.BallotMethod_BALLOT_METHOD_SHOW_OF_HANDS,
				Ballots: []*governancev1.RecordedBallot{{Voter: "people/wang", Choice: governancev1.VoteChoice_VOTE_CHOICE_YES}}})
			return err
		}},
		{Method: m + "GetVote", Allowed: signedIn, Call: func(ctx context.Context) error {
			_, err := c.GetVote(ctx, &governancev1.GetVoteRequest{Name: voting.GetName() + "/votes/zhang"})
			return err
		}},
		{Method: m + "ListVotes", Allowed: signedIn, Call: func(ctx context.Context) error {
			_, err := c.ListVotes(ctx, &governancev1.ListVotesRequest{Parent: voting.GetName()})
			return err
		}},
		{Method: m + "CloseResolutionVoting", Allowed: roles(admin, chair), Call: func(ctx context.Context) error {
			_, err := c.CloseResolutionVoting(ctx, &governancev1.CloseResolutionVotingRequest{Name: voting.GetName(), Etag: never})
			return err
		}},
		{Method: m + "WithdrawResolution", Label: "the chair's draft", Allowed: roles(admin, chair), Call: func(ctx context.Context) error {
			_, err := c.WithdrawResolution(ctx, &governancev1.WithdrawResolutionRequest{Name: draft.GetName(), Reason: "x", Etag: never})
			return err
		}},
		{Method: m + "CreateWorkPlan", Allowed: roles(admin, generalSecretary, chair, secretary), Call: func(ctx context.Context) error {
			_, err := c.CreateWorkPlan(ctx, &governancev1.CreateWorkPlanRequest{Parent: "branches/ai", WorkPlan: &governancev1.WorkPlan{Year: 2026, Title: "again"}})
			return err
		}},
		{Method: m + "GetWorkPlan", Allowed: signedIn, Call: func(ctx context.Context) error {
			_, err := c.GetWorkPlan(ctx, &governancev1.GetWorkPlanRequest{Name: plan.GetName()})
			return err
		}},
		{Method: m + "ListWorkPlans", Allowed: signedIn, Call: func(ctx context.Context) error {
			_, err := c.ListWorkPlans(ctx, &governancev1.ListWorkPlansRequest{Parent: "branches/ai"})
			return err
		}},
		{Method: m + "UpdateWorkPlan", Allowed: runners, Call: func(ctx context.Context) error {
			_, err := c.UpdateWorkPlan(ctx, &governancev1.UpdateWorkPlanRequest{WorkPlan: &governancev1.WorkPlan{Name: plan.GetName(), Title: "y", Etag: never}, UpdateMask: mask("title")})
			return err
		}},
		{Method: m + "CreateWorkItem", Label: "the branch's", Allowed: runners, Call: func(ctx context.Context) error {
			_, err := c.CreateWorkItem(ctx, &governancev1.CreateWorkItemRequest{Parent: plan.GetName(), WorkItem: &governancev1.WorkItem{Title: "x",
				Source: governancev1.WorkItemSource_WORK_ITEM_SOURCE_BRANCH}})
			return err
		}},
		{Method: m + "CreateWorkItem", Label: "the general association's (G9)", Allowed: roles(admin, generalSecretary, chair, secretary), Call: func(ctx context.Context) error {
			_, err := c.CreateWorkItem(ctx, &governancev1.CreateWorkItemRequest{Parent: plan.GetName(), WorkItem: &governancev1.WorkItem{Title: "x",
				Source: governancev1.WorkItemSource_WORK_ITEM_SOURCE_GENERAL_ASSOCIATION}})
			return err
		}},
		{Method: m + "GetWorkItem", Allowed: signedIn, Call: func(ctx context.Context) error {
			_, err := c.GetWorkItem(ctx, &governancev1.GetWorkItemRequest{Name: item.GetName()})
			return err
		}},
		{Method: m + "ListWorkItems", Allowed: signedIn, Call: func(ctx context.Context) error {
			_, err := c.ListWorkItems(ctx, &governancev1.ListWorkItemsRequest{Parent: plan.GetName()})
			return err
		}},
		{Method: m + "UpdateWorkItem", Label: "title of the branch's", Allowed: runners, Call: func(ctx context.Context) error {
			_, err := c.UpdateWorkItem(ctx, &governancev1.UpdateWorkItemRequest{WorkItem: &governancev1.WorkItem{Name: item.GetName(), Title: "y", Etag: never}, UpdateMask: mask("title")})
			return err
		}},
		{Method: m + "UpdateWorkItem", Label: "progress by its owner", Allowed: roles(admin, chair, secretary, representative), Call: func(ctx context.Context) error {
			_, err := c.UpdateWorkItem(ctx, &governancev1.UpdateWorkItemRequest{WorkItem: &governancev1.WorkItem{Name: item.GetName(),
				State: governancev1.WorkItemState_WORK_ITEM_STATE_IN_PROGRESS, ProgressNote: "first salon held", Etag: never}, UpdateMask: mask("state", "progress_note")})
			return err
		}},
		{Method: m + "UpdateWorkItem", Label: "the general association's task", Allowed: roles(admin, generalSecretary, chair, secretary), Call: func(ctx context.Context) error {
			_, err := c.UpdateWorkItem(ctx, &governancev1.UpdateWorkItemRequest{WorkItem: &governancev1.WorkItem{Name: task.GetName(), Title: "y", Etag: never}, UpdateMask: mask("title")})
			return err
		}},
		{Method: m + "GetComplianceReport", Allowed: roles(admin, generalSecretary, generalCouncil, chair, councilMember), Call: func(ctx context.Context) error {
			_, err := c.GetComplianceReport(ctx, &governancev1.GetComplianceReportRequest{Name: "branches/ai"})
			return err
		}},
	}
	servicetest.Matrix(t, governancev1.GovernanceService_ServiceDesc, everyone, as, cases)

	// Those who may not see every nomination see their own only.
	list, err := c.ListNominations(as(other), &governancev1.ListNominationsRequest{Parent: "branches/ai/terms/-"})
	if err != nil || len(list.GetNominations()) != 0 {
		t.Fatalf("a stranger sees %d nominations (%v)", len(list.GetNominations()), err)
	}
	list, err = c.ListNominations(as(representative), &governancev1.ListNominationsRequest{Parent: "branches/ai/terms/-"})
	if err != nil || len(list.GetNominations()) != 1 || list.GetNominations()[0].GetName() != repNom.GetName() {
		t.Fatalf("the representative sees %v (%v), want their own nomination only", list.GetNominations(), err)
	}
	if !slices.Contains(voting.GetEligibleVoters(), chair.Subject) || slices.Contains(voting.GetEligibleVoters(), secretary.Subject) {
		t.Fatalf("eligible voters %v: the council, without a secretary-general holding no other office", voting.GetEligibleVoters())
	}
}
