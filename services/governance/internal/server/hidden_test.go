package server_test

import (
	"context"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
	"google.golang.org/genproto/googleapis/type/date"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/fieldmaskpb"

	"github.com/tjsia/chapterhouse/platform/pagetoken"
	"github.com/tjsia/chapterhouse/platform/servicetest"
	governancev1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/governance/v1"
	membershipv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/membership/v1"

	"github.com/tjsia/chapterhouse/services/governance/internal/domain"
	"github.com/tjsia/chapterhouse/services/governance/internal/govtest"
	"github.com/tjsia/chapterhouse/services/governance/internal/server"
	"github.com/tjsia/chapterhouse/services/governance/internal/store"
)

// TestHiddenNominationIsMissing holds the one rule for who may see a
// nomination (domain.seenNomination: the overseers, the chair of its term,
// its nominee, proposer and represented member's representative): every
// method on a nomination answers anyone else exactly as for a missing one
// (servicetest.HiddenAsMissing), before the refusal of the action, and
// writes nothing. The secretary-general runs the branch's business but
// does not oversee nominations; another person is nobody in the branch.
func TestHiddenNominationIsMissing(t *testing.T) {
	mr := miniredis.RunT(t)
	rdb := redis.NewClient(&redis.Options{Addr: mr.Addr()})
	t.Cleanup(func() { rdb.Close() })
	people := govtest.NewPeople()
	svc := domain.NewService(store.New(rdb), people, govtest.Activities{Completed: 2}, pagetoken.NewEphemeral(), func() time.Time { return govtest.Today })
	srv := servicetest.Serve(t, "governance", func(s *grpc.Server) { governancev1.RegisterGovernanceServiceServer(s, server.New(svc)) })
	c := governancev1.NewGovernanceServiceClient(srv.Conn)
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
