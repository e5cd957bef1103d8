package server_test

import (
	"context"
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/type/date"
	"google.golang.org/protobuf/types/known/fieldmaskpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/tjsia/chapterhouse/platform/auth"
	"github.com/tjsia/chapterhouse/platform/servicetest"
	activitiesv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/activities/v1"
	standardsv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/standards/v1"

	"github.com/tjsia/chapterhouse/services/standards/internal/stdtest"
)

// The roles of the matrix: admins; the branch's chair (a leader, from
// governance's events); a council member (a director); the lead unit's representative (ann, unit-a); a
// participating unit's representative (bob, unit-b); a working-group
// person; an individual member (ivy); a person in no member (dan); no
// token.
var (
	anonymous   = servicetest.Anonymous
	admin       = servicetest.Role{Name: "admin", Subject: "people/admin", Roles: []string{auth.RoleAdmin}}
	chair       = servicetest.Role{Name: "chair", Subject: stdtest.Chair.Subject}
	director    = servicetest.Role{Name: "council member", Subject: stdtest.Director.Subject}
	leadRep     = servicetest.Role{Name: "lead unit representative", Subject: stdtest.Ann.Subject}
	unitRep     = servicetest.Role{Name: "participating unit representative", Subject: stdtest.Bob.Subject}
	workingPart = servicetest.Role{Name: "working group", Subject: "people/wg"}
	individual  = servicetest.Role{Name: "individual member", Subject: stdtest.Ivy.Subject}
	other       = servicetest.Role{Name: "other person", Subject: stdtest.Dan.Subject}

	everyone = []servicetest.Role{anonymous, admin, chair, director, leadRep, unitRep, workingPart, individual, other}
	signedIn = everyone[1:]
	runners  = []servicetest.Role{admin, chair}
	deciders = []servicetest.Role{admin, chair, director}
	editors  = []servicetest.Role{admin, chair, leadRep, workingPart}
)

func roles(r ...servicetest.Role) []servicetest.Role { return r }

func must[T any](v T, err error) func(t *testing.T) T {
	return func(t *testing.T) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

// TestAuthorisationMatrix calls every StandardsService RPC as every role
// (servicetest.Matrix): denied is UNAUTHENTICATED without a token (on
// methods that are not public, and on public ones where signing in may
// lift the refusal: a public convention's comments), PERMISSION_DENIED
// with one, or NOT_FOUND where the API hides what the caller may not see. Writes that would succeed carry
// an etag that never matches, or a fixed id that makes them idempotent,
// so every role meets the same state.
func TestAuthorisationMatrix(t *testing.T) {
	served := serve(t)
	f, srv := served.f, served.srv
	c := standardsv1.NewStandardsServiceClient(srv.Conn)
	as := func(r servicetest.Role) context.Context { return srv.AsRole(t, r) }

	// Seed one standard in each state the methods need.
	ctx := context.Background()
	svc := f.Svc
	propose := func(id string, kind standardsv1.StandardKind) string {
		return must(svc.CreateStandard(ctx, stdtest.Ann, "branches/ai", &standardsv1.Standard{Kind: kind, Title: "标准 " + id,
			LeadUnit: stdtest.UnitA, ParticipatingUnits: []string{stdtest.UnitB}, WorkingGroup: []string{workingPart.Subject}}, id))(t).GetName()
	}
	group := standardsv1.StandardKind_STANDARD_KIND_GROUP_STANDARD
	convention := standardsv1.StandardKind_STANDARD_KIND_SELF_DISCIPLINE_CONVENTION
	const sha = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
	toDrafting := func(name string) string {
		must(svc.ApproveStandardProposal(ctx, stdtest.Chair, &standardsv1.ApproveStandardProposalRequest{Name: name}))(t)
		return must(svc.CreateDraft(ctx, stdtest.Ann, name, &standardsv1.Draft{Version: "0.1", ContentUri: "https://x.example/d.pdf", Sha256: sha}, "", "d1"))(t).GetName()
	}
	toComment := func(name string) {
		must(svc.OpenStandardComment(ctx, stdtest.Ann, &standardsv1.OpenStandardCommentRequest{Name: name,
			CommentEndTime: timestamppb.New(stdtest.Start.Add(30 * 24 * time.Hour))}))(t)
	}
	toReview := func(name string) {
		if st := must(svc.GetStandard(ctx, stdtest.Ann, name))(t); st.GetState() == standardsv1.StandardState_STANDARD_STATE_DRAFTING && st.GetCommentCloseTime() == nil {
			toComment(name)
			must(svc.CloseStandardComment(ctx, stdtest.Ann, &standardsv1.CloseStandardCommentRequest{Name: name}))(t)
		}
		must(svc.SubmitStandardForReview(ctx, stdtest.Ann, &standardsv1.SubmitStandardForReviewRequest{Name: name}))(t)
		must(svc.ConcludeStandardReview(ctx, stdtest.Chair, &standardsv1.ConcludeStandardReviewRequest{Name: name, Experts: []string{"专家"},
			Conclusion: standardsv1.ReviewConclusion_REVIEW_CONCLUSION_PASS, Summary: "通过"}))(t)
	}
	toPublished := func(name string) {
		toReview(name)
		must(svc.ApproveStandard(ctx, stdtest.Chair, &standardsv1.ApproveStandardRequest{Name: name, Resolution: f.Resolutions.Approve(name)}))(t)
		must(svc.PublishStandard(ctx, stdtest.Chair, &standardsv1.PublishStandardRequest{Name: name, EffectiveDate: &date.Date{Year: 2027, Month: 1, Day: 1}}))(t)
	}
	proposed := propose("proposed", group)
	drafting := propose("drafting", group)
	draft := toDrafting(drafting)
	commenting := propose("commenting", group)
	toDrafting(commenting)
	toComment(commenting)
	comment := must(svc.CreateComment(ctx, stdtest.Bob, commenting, &standardsv1.Comment{Clause: "1", Text: "意见"}, "c1"))(t).GetName()
	members := propose("members-only", convention)
	toDrafting(members)
	toComment(members)
	review := propose("review", group)
	toDrafting(review)
	toReview(review)
	approved := propose("approved", group)
	toDrafting(approved)
	toReview(approved)
	must(svc.ApproveStandard(ctx, stdtest.Chair, &standardsv1.ApproveStandardRequest{Name: approved, Resolution: f.Resolutions.Approve(approved)}))(t)
	published := propose("published", group)
	toDrafting(published)
	toPublished(published)
	// A published convention, public, whose comments (one, from its
	// period) are for members.
	conv := propose("conv", convention)
	toDrafting(conv)
	toComment(conv)
	convComment := must(svc.CreateComment(ctx, stdtest.Ann, conv, &standardsv1.Comment{Clause: "1", Text: "会员意见"}, "c1"))(t).GetName()
	must(svc.DisposeComment(ctx, stdtest.Ann, &standardsv1.DisposeCommentRequest{Name: convComment,
		Disposition: standardsv1.Disposition_DISPOSITION_ACCEPTED, Reason: "采纳"}))(t)
	must(svc.CloseStandardComment(ctx, stdtest.Ann, &standardsv1.CloseStandardCommentRequest{Name: conv}))(t)
	toPublished(conv)
	signed := must(svc.CreateSignatory(ctx, stdtest.Ann, conv, &standardsv1.Signatory{Member: stdtest.UnitA}))(t).GetName()

	never := "never-matches"
	mask := func(paths ...string) *fieldmaskpb.FieldMask { return &fieldmaskpb.FieldMask{Paths: paths} }
	const m = "/chapterhouse.standards.v1.StandardsService/"
	cases := []servicetest.Case{
		{Method: m + "CreateStandard", Allowed: roles(admin, chair, leadRep), Call: func(ctx context.Context) error {
			_, err := c.CreateStandard(ctx, &standardsv1.CreateStandardRequest{Parent: "branches/ai", StandardId: "new", Standard: &standardsv1.Standard{
				Kind: group, Title: "新标准", LeadUnit: stdtest.UnitA}})
			return err
		}},
		{Method: m + "GetStandard", Label: "proposed", Allowed: signedIn, Call: func(ctx context.Context) error {
			_, err := c.GetStandard(ctx, &standardsv1.GetStandardRequest{Name: proposed})
			return err
		}},
		{Method: m + "GetStandard", Label: "published", Allowed: everyone, Call: func(ctx context.Context) error {
			_, err := c.GetStandard(ctx, &standardsv1.GetStandardRequest{Name: published})
			return err
		}},
		{Method: m + "ListStandards", Allowed: everyone, Call: func(ctx context.Context) error {
			_, err := c.ListStandards(ctx, &standardsv1.ListStandardsRequest{Parent: "branches/ai"})
			return err
		}},
		{Method: m + "UpdateStandard", Allowed: editors, Call: func(ctx context.Context) error {
			_, err := c.UpdateStandard(ctx, &standardsv1.UpdateStandardRequest{Standard: &standardsv1.Standard{Name: proposed, Scope: "x", Etag: never}, UpdateMask: mask("scope")})
			return err
		}},
		{Method: m + "ApproveStandardProposal", Allowed: deciders, Call: func(ctx context.Context) error {
			_, err := c.ApproveStandardProposal(ctx, &standardsv1.ApproveStandardProposalRequest{Name: proposed, Etag: never})
			return err
		}},
		{Method: m + "RejectStandard", Allowed: deciders, Call: func(ctx context.Context) error {
			_, err := c.RejectStandard(ctx, &standardsv1.RejectStandardRequest{Name: proposed, Reason: "x", Etag: never})
			return err
		}},
		{Method: m + "WithdrawStandard", Label: "proposed", Allowed: roles(admin, chair, leadRep), Call: func(ctx context.Context) error {
			_, err := c.WithdrawStandard(ctx, &standardsv1.WithdrawStandardRequest{Name: proposed, Reason: "x", Etag: never})
			return err
		}},
		{Method: m + "WithdrawStandard", Label: "published", Allowed: runners, Call: func(ctx context.Context) error {
			_, err := c.WithdrawStandard(ctx, &standardsv1.WithdrawStandardRequest{Name: published, Reason: "x", Etag: never})
			return err
		}},
		{Method: m + "CreateDraft", Allowed: editors, Call: func(ctx context.Context) error {
			_, err := c.CreateDraft(ctx, &standardsv1.CreateDraftRequest{Parent: drafting, Etag: never, Draft: &standardsv1.Draft{
				Version: "0.2", ContentUri: "https://x.example/e.pdf", Sha256: sha}})
			return err
		}},
		{Method: m + "GetDraft", Allowed: signedIn, Call: func(ctx context.Context) error {
			_, err := c.GetDraft(ctx, &standardsv1.GetDraftRequest{Name: draft})
			return err
		}},
		{Method: m + "ListDrafts", Label: "published", Allowed: everyone, Call: func(ctx context.Context) error {
			_, err := c.ListDrafts(ctx, &standardsv1.ListDraftsRequest{Parent: published})
			return err
		}},
		{Method: m + "ListDrafts", Label: "drafting", Allowed: signedIn, Call: func(ctx context.Context) error {
			_, err := c.ListDrafts(ctx, &standardsv1.ListDraftsRequest{Parent: drafting})
			return err
		}},
		{Method: m + "OpenStandardComment", Allowed: editors, Call: func(ctx context.Context) error {
			_, err := c.OpenStandardComment(ctx, &standardsv1.OpenStandardCommentRequest{Name: drafting, Etag: never,
				CommentEndTime: timestamppb.New(stdtest.Start.Add(24 * time.Hour))})
			return err
		}},
		{Method: m + "CreateComment", Label: "group standard", Allowed: everyone, Call: func(ctx context.Context) error {
			_, err := c.CreateComment(ctx, &standardsv1.CreateCommentRequest{Parent: commenting, CommentId: "m", Comment: &standardsv1.Comment{
				Clause: "2", Text: "意见", CommenterName: "公众"}})
			return err
		}},
		{Method: m + "CreateComment", Label: "convention", Allowed: roles(leadRep, unitRep, individual), Call: func(ctx context.Context) error {
			_, err := c.CreateComment(ctx, &standardsv1.CreateCommentRequest{Parent: members, CommentId: "m", Comment: &standardsv1.Comment{
				Clause: "2", Text: "会员意见"}})
			return err
		}},
		// The secretariat enters a paper comment for a named person; a
		// repeat by another recorder is ALREADY_EXISTS, past the check.
		{Method: m + "RecordPaperComment", Label: "group standard", Allowed: runners, Call: func(ctx context.Context) error {
			_, err := c.RecordPaperComment(ctx, &standardsv1.RecordPaperCommentRequest{Parent: commenting, CommentId: "paper", Clause: "3",
				Text: "纸质意见", Person: stdtest.Bob.Subject})
			return err
		}},
		{Method: m + "GetComment", Label: "group standard", Allowed: everyone, Call: func(ctx context.Context) error {
			_, err := c.GetComment(ctx, &standardsv1.GetCommentRequest{Name: comment})
			return err
		}},
		// A public convention's comments are the members': without a
		// token, 401 (signing in lets one read them), where a convention
		// not yet public is NOT_FOUND without one (TestHiddenStandardIsMissing).
		{Method: m + "GetComment", Label: "published convention", Allowed: signedIn, Call: func(ctx context.Context) error {
			_, err := c.GetComment(ctx, &standardsv1.GetCommentRequest{Name: convComment})
			return err
		}},
		{Method: m + "ListComments", Label: "published convention", Allowed: signedIn, Call: func(ctx context.Context) error {
			_, err := c.ListComments(ctx, &standardsv1.ListCommentsRequest{Parent: conv})
			return err
		}},
		{Method: m + "GetDispositionSummary", Label: "published convention", Allowed: signedIn, Call: func(ctx context.Context) error {
			_, err := c.GetDispositionSummary(ctx, &standardsv1.GetDispositionSummaryRequest{Name: conv})
			return err
		}},
		// Members comment on it (refused then as out of its period).
		{Method: m + "CreateComment", Label: "published convention", Allowed: roles(leadRep, unitRep, individual), Call: func(ctx context.Context) error {
			_, err := c.CreateComment(ctx, &standardsv1.CreateCommentRequest{Parent: conv, CommentId: "m", Comment: &standardsv1.Comment{
				Clause: "2", Text: "会员意见"}})
			return err
		}},
		{Method: m + "ListComments", Label: "group standard", Allowed: everyone, Call: func(ctx context.Context) error {
			_, err := c.ListComments(ctx, &standardsv1.ListCommentsRequest{Parent: commenting})
			return err
		}},
		{Method: m + "ListComments", Label: "convention", Allowed: signedIn, Call: func(ctx context.Context) error {
			_, err := c.ListComments(ctx, &standardsv1.ListCommentsRequest{Parent: members})
			return err
		}},
		{Method: m + "DisposeComment", Allowed: editors, Call: func(ctx context.Context) error {
			_, err := c.DisposeComment(ctx, &standardsv1.DisposeCommentRequest{Name: comment, Etag: never,
				Disposition: standardsv1.Disposition_DISPOSITION_ACCEPTED, Reason: "采纳"})
			return err
		}},
		{Method: m + "GetDispositionSummary", Label: "group standard", Allowed: everyone, Call: func(ctx context.Context) error {
			_, err := c.GetDispositionSummary(ctx, &standardsv1.GetDispositionSummaryRequest{Name: commenting})
			return err
		}},
		{Method: m + "CloseStandardComment", Allowed: editors, Call: func(ctx context.Context) error {
			_, err := c.CloseStandardComment(ctx, &standardsv1.CloseStandardCommentRequest{Name: commenting, Etag: never})
			return err
		}},
		{Method: m + "SubmitStandardForReview", Allowed: editors, Call: func(ctx context.Context) error {
			_, err := c.SubmitStandardForReview(ctx, &standardsv1.SubmitStandardForReviewRequest{Name: drafting, Etag: never})
			return err
		}},
		{Method: m + "ConcludeStandardReview", Allowed: runners, Call: func(ctx context.Context) error {
			_, err := c.ConcludeStandardReview(ctx, &standardsv1.ConcludeStandardReviewRequest{Name: review, Etag: never, Experts: []string{"x"},
				Conclusion: standardsv1.ReviewConclusion_REVIEW_CONCLUSION_REVISE, Summary: "x"})
			return err
		}},
		{Method: m + "ApproveStandard", Allowed: deciders, Call: func(ctx context.Context) error {
			_, err := c.ApproveStandard(ctx, &standardsv1.ApproveStandardRequest{Name: review, Resolution: f.Resolutions.Approve(review), Etag: never})
			return err
		}},
		{Method: m + "PublishStandard", Allowed: runners, Call: func(ctx context.Context) error {
			_, err := c.PublishStandard(ctx, &standardsv1.PublishStandardRequest{Name: approved, Etag: never, EffectiveDate: &date.Date{Year: 2027, Month: 1, Day: 1}})
			return err
		}},
		{Method: m + "ReviseStandard", Allowed: runners, Call: func(ctx context.Context) error {
			_, err := c.ReviseStandard(ctx, &standardsv1.ReviseStandardRequest{Name: published, Reason: "x", Etag: never})
			return err
		}},
		{Method: m + "SchedulePromotion", Allowed: editors, Call: func(ctx context.Context) error {
			_, err := c.SchedulePromotion(ctx, &standardsv1.SchedulePromotionRequest{Parent: published, PromotionId: "launch",
				Activity: &activitiesv1.Activity{StartTime: timestamppb.New(stdtest.Start.Add(40 * 24 * time.Hour))}})
			return err
		}},
		{Method: m + "ListPromotions", Allowed: everyone, Call: func(ctx context.Context) error {
			_, err := c.ListPromotions(ctx, &standardsv1.ListPromotionsRequest{Parent: published})
			return err
		}},
		{Method: m + "CreateSignatory", Label: "for unit-b", Allowed: roles(admin, unitRep), Call: func(ctx context.Context) error {
			_, err := c.CreateSignatory(ctx, &standardsv1.CreateSignatoryRequest{Parent: conv, Signatory: &standardsv1.Signatory{Member: stdtest.UnitB}})
			return err
		}},
		{Method: m + "GetSignatory", Allowed: everyone, Call: func(ctx context.Context) error {
			_, err := c.GetSignatory(ctx, &standardsv1.GetSignatoryRequest{Name: signed})
			return err
		}},
		{Method: m + "ListSignatories", Allowed: everyone, Call: func(ctx context.Context) error {
			_, err := c.ListSignatories(ctx, &standardsv1.ListSignatoriesRequest{Parent: conv})
			return err
		}},
		{Method: m + "WithdrawSignatory", Label: "unit-a's", Allowed: roles(admin, leadRep), Call: func(ctx context.Context) error {
			_, err := c.WithdrawSignatory(ctx, &standardsv1.WithdrawSignatoryRequest{Name: signed, Reason: "x", Etag: never})
			return err
		}},
	}
	servicetest.Matrix(t, standardsv1.StandardsService_ServiceDesc, everyone, as, cases)
}
