package server_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/type/date"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/prototext"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/fieldmaskpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/tjsia/chapterhouse/platform/apierr"
	"github.com/tjsia/chapterhouse/platform/auth"
	"github.com/tjsia/chapterhouse/platform/grpcserver"
	"github.com/tjsia/chapterhouse/platform/servicetest"
	activitiesv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/activities/v1"
	apiv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/api/v1"
	governancev1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/governance/v1"
	membershipv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/membership/v1"
	standardsv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/standards/v1"

	"github.com/tjsia/chapterhouse/services/standards/internal/domain"
	"github.com/tjsia/chapterhouse/services/standards/internal/stdtest"
)

// TestHiddenStandardIsMissing holds the one rule for who may see a
// standard (domain.sees, applied where every method reads it: every
// signed-in caller, and without a token only a public one): every method
// that names a standard or anything under it answers a caller without a
// token, about a standard that is not public, exactly as about a missing
// one (servicetest.HiddenAsMissing), and writes nothing. The public
// methods say NOT_FOUND; the others want a token first.
func TestHiddenStandardIsMissing(t *testing.T) {
	served := serve(t)
	f, mr, srv := served.f, served.mr, served.srv
	c := standardsv1.NewStandardsServiceClient(srv.Conn)

	// Hidden from the public: a group standard being drafted (draft d1),
	// and a convention out for its members' comment (comment c1).
	ctx, svc := context.Background(), f.Svc
	const sha = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
	drafting := func(id string, kind standardsv1.StandardKind) string {
		name := must(svc.CreateStandard(ctx, stdtest.Ann, "branches/ai", &standardsv1.Standard{Kind: kind, Title: "标准 " + id,
			LeadUnit: stdtest.UnitA, ParticipatingUnits: []string{stdtest.UnitB}}, id))(t).GetName()
		must(svc.ApproveStandardProposal(ctx, stdtest.Chair, &standardsv1.ApproveStandardProposalRequest{Name: name}))(t)
		must(svc.CreateDraft(ctx, stdtest.Ann, name, &standardsv1.Draft{Version: "0.1", ContentUri: "https://x.example/d.pdf", Sha256: sha}, "", "d1"))(t)
		return name
	}
	group := drafting("group", standardsv1.StandardKind_STANDARD_KIND_GROUP_STANDARD)
	convention := drafting("convention", standardsv1.StandardKind_STANDARD_KIND_SELF_DISCIPLINE_CONVENTION)
	must(svc.OpenStandardComment(ctx, stdtest.Ann, &standardsv1.OpenStandardCommentRequest{Name: convention,
		CommentEndTime: timestamppb.New(stdtest.Start.Add(30 * 24 * time.Hour))}))(t)
	must(svc.CreateComment(ctx, stdtest.Bob, convention, &standardsv1.Comment{Clause: "1", Text: "意见"}, "c1"))(t)

	const m = "/chapterhouse.standards.v1.StandardsService/"
	cases := []servicetest.UnseenCase{
		{Method: m + "GetStandard", Call: func(ctx context.Context, st string) error {
			_, err := c.GetStandard(ctx, &standardsv1.GetStandardRequest{Name: st})
			return err
		}},
		{Method: m + "UpdateStandard", Call: func(ctx context.Context, st string) error {
			_, err := c.UpdateStandard(ctx, &standardsv1.UpdateStandardRequest{Standard: &standardsv1.Standard{Name: st, Scope: "x"},
				UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"scope"}}})
			return err
		}},
		{Method: m + "ApproveStandardProposal", Call: func(ctx context.Context, st string) error {
			_, err := c.ApproveStandardProposal(ctx, &standardsv1.ApproveStandardProposalRequest{Name: st})
			return err
		}},
		{Method: m + "RejectStandard", Call: func(ctx context.Context, st string) error {
			_, err := c.RejectStandard(ctx, &standardsv1.RejectStandardRequest{Name: st, Reason: "x"})
			return err
		}},
		{Method: m + "OpenStandardComment", Call: func(ctx context.Context, st string) error {
			_, err := c.OpenStandardComment(ctx, &standardsv1.OpenStandardCommentRequest{Name: st,
				CommentEndTime: timestamppb.New(stdtest.Start.Add(24 * time.Hour))})
			return err
		}},
		{Method: m + "CloseStandardComment", Call: func(ctx context.Context, st string) error {
			_, err := c.CloseStandardComment(ctx, &standardsv1.CloseStandardCommentRequest{Name: st})
			return err
		}},
		{Method: m + "SubmitStandardForReview", Call: func(ctx context.Context, st string) error {
			_, err := c.SubmitStandardForReview(ctx, &standardsv1.SubmitStandardForReviewRequest{Name: st})
			return err
		}},
		{Method: m + "ConcludeStandardReview", Call: func(ctx context.Context, st string) error {
			_, err := c.ConcludeStandardReview(ctx, &standardsv1.ConcludeStandardReviewRequest{Name: st, Experts: []string{"x"},
				Conclusion: standardsv1.ReviewConclusion_REVIEW_CONCLUSION_REVISE, Summary: "x"})
			return err
		}},
		{Method: m + "ApproveStandard", Call: func(ctx context.Context, st string) error {
			_, err := c.ApproveStandard(ctx, &standardsv1.ApproveStandardRequest{Name: st, Resolution: stdtest.Passed})
			return err
		}},
		{Method: m + "PublishStandard", Call: func(ctx context.Context, st string) error {
			_, err := c.PublishStandard(ctx, &standardsv1.PublishStandardRequest{Name: st, EffectiveDate: &date.Date{Year: 2027, Month: 1, Day: 1}})
			return err
		}},
		{Method: m + "WithdrawStandard", Call: func(ctx context.Context, st string) error {
			_, err := c.WithdrawStandard(ctx, &standardsv1.WithdrawStandardRequest{Name: st, Reason: "x"})
			return err
		}},
		{Method: m + "ReviseStandard", Call: func(ctx context.Context, st string) error {
			_, err := c.ReviseStandard(ctx, &standardsv1.ReviseStandardRequest{Name: st, Reason: "x"})
			return err
		}},
		{Method: m + "CreateDraft", Call: func(ctx context.Context, st string) error {
			_, err := c.CreateDraft(ctx, &standardsv1.CreateDraftRequest{Parent: st, Draft: &standardsv1.Draft{
				Version: "0.2", ContentUri: "https://x.example/e.pdf", Sha256: sha}})
			return err
		}},
		{Method: m + "GetDraft", Call: func(ctx context.Context, st string) error {
			_, err := c.GetDraft(ctx, &standardsv1.GetDraftRequest{Name: st + "/drafts/d1"})
			return err
		}},
		{Method: m + "ListDrafts", Call: func(ctx context.Context, st string) error {
			_, err := c.ListDrafts(ctx, &standardsv1.ListDraftsRequest{Parent: st})
			return err
		}},
		{Method: m + "CreateComment", Call: func(ctx context.Context, st string) error {
			_, err := c.CreateComment(ctx, &standardsv1.CreateCommentRequest{Parent: st, CommentId: "m", Comment: &standardsv1.Comment{
				Clause: "2", Text: "意见", CommenterName: "公众"}})
			return err
		}},
		{Method: m + "RecordPaperComment", Call: func(ctx context.Context, st string) error {
			_, err := c.RecordPaperComment(ctx, &standardsv1.RecordPaperCommentRequest{Parent: st, CommentId: "p", Clause: "2", Text: "纸质意见",
				CommenterName: "赵老师", CommenterOrganization: "天津某高校"})
			return err
		}},
		{Method: m + "GetComment", Call: func(ctx context.Context, st string) error {
			_, err := c.GetComment(ctx, &standardsv1.GetCommentRequest{Name: st + "/comments/c1"})
			return err
		}},
		{Method: m + "ListComments", Call: func(ctx context.Context, st string) error {
			_, err := c.ListComments(ctx, &standardsv1.ListCommentsRequest{Parent: st})
			return err
		}},
		{Method: m + "DisposeComment", Call: func(ctx context.Context, st string) error {
			_, err := c.DisposeComment(ctx, &standardsv1.DisposeCommentRequest{Name: st + "/comments/c1",
				Disposition: standardsv1.Disposition_DISPOSITION_ACCEPTED, Reason: "采纳"})
			return err
		}},
		{Method: m + "GetDispositionSummary", Call: func(ctx context.Context, st string) error {
			_, err := c.GetDispositionSummary(ctx, &standardsv1.GetDispositionSummaryRequest{Name: st})
			return err
		}},
		{Method: m + "SchedulePromotion", Call: func(ctx context.Context, st string) error {
			_, err := c.SchedulePromotion(ctx, &standardsv1.SchedulePromotionRequest{Parent: st, PromotionId: "launch",
				Activity: &activitiesv1.Activity{StartTime: timestamppb.New(stdtest.Start.Add(40 * 24 * time.Hour))}})
			return err
		}},
		{Method: m + "ListPromotions", Call: func(ctx context.Context, st string) error {
			_, err := c.ListPromotions(ctx, &standardsv1.ListPromotionsRequest{Parent: st})
			return err
		}},
		{Method: m + "CreateSignatory", Call: func(ctx context.Context, st string) error {
			_, err := c.CreateSignatory(ctx, &standardsv1.CreateSignatoryRequest{Parent: st, Signatory: &standardsv1.Signatory{Member: stdtest.UnitB}})
			return err
		}},
		{Method: m + "GetSignatory", Call: func(ctx context.Context, st string) error {
			_, err := c.GetSignatory(ctx, &standardsv1.GetSignatoryRequest{Name: st + "/signatories/unit-a"})
			return err
		}},
		{Method: m + "ListSignatories", Call: func(ctx context.Context, st string) error {
			_, err := c.ListSignatories(ctx, &standardsv1.ListSignatoriesRequest{Parent: st})
			return err
		}},
		{Method: m + "WithdrawSignatory", Call: func(ctx context.Context, st string) error {
			_, err := c.WithdrawSignatory(ctx, &standardsv1.WithdrawSignatoryRequest{Name: st + "/signatories/unit-a", Reason: "x"})
			return err
		}},
	}
	servicetest.CoversHidden(t, standardsv1.StandardsService_ServiceDesc, []string{"CreateStandard", "ListStandards"}, cases)
	missing := "branches/ai/standards/nosuch"
	anonymous := srv.As(t, "")
	for _, hidden := range []string{group, convention} {
		t.Run(hidden, func(t *testing.T) {
			servicetest.HiddenAsMissing(t, servicetest.Unseen{Caller: anonymous, Anonymous: true, Hidden: hidden, Missing: missing, State: mr.Dump}, cases)
		})
	}
}

// TestTokenAskedOnlyOfWhatIsSeen: a missing token is asked for (401
// UNAUTHENTICATED, RFC 9110) only once the caller could see the
// standard: the comments of a published convention are for members, and
// an anonymous read of them, or comment on it, is told to sign in; the
// same calls on a convention not yet public are NOT_FOUND exactly as on a
// missing one (TestHiddenStandardIsMissing), and so is a missing one.
func TestTokenAskedOnlyOfWhatIsSeen(t *testing.T) {
	served := serve(t)
	f, srv := served.f, served.srv
	c := standardsv1.NewStandardsServiceClient(srv.Conn)
	ctx, svc := context.Background(), f.Svc
	const sha = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
	conv := must(svc.CreateStandard(ctx, stdtest.Ann, "branches/ai", &standardsv1.Standard{Kind: standardsv1.StandardKind_STANDARD_KIND_SELF_DISCIPLINE_CONVENTION,
		Title: "自律公约", LeadUnit: stdtest.UnitA}, "conv"))(t).GetName()
	must(svc.ApproveStandardProposal(ctx, stdtest.Chair, &standardsv1.ApproveStandardProposalRequest{Name: conv}))(t)
	must(svc.CreateDraft(ctx, stdtest.Ann, conv, &standardsv1.Draft{Version: "0.1", ContentUri: "https://x.example/d.pdf", Sha256: sha}, "", "d1"))(t)
	must(svc.OpenStandardComment(ctx, stdtest.Ann, &standardsv1.OpenStandardCommentRequest{Name: conv,
		CommentEndTime: timestamppb.New(stdtest.Start.Add(30 * 24 * time.Hour))}))(t)
	cm := must(svc.CreateComment(ctx, stdtest.Bob, conv, &standardsv1.Comment{Clause: "1", Text: "意见"}, "c1"))(t).GetName()
	must(svc.DisposeComment(ctx, stdtest.Ann, &standardsv1.DisposeCommentRequest{Name: cm, Disposition: standardsv1.Disposition_DISPOSITION_ACCEPTED, Reason: "采纳"}))(t)
	must(svc.CloseStandardComment(ctx, stdtest.Ann, &standardsv1.CloseStandardCommentRequest{Name: conv}))(t)
	must(svc.SubmitStandardForReview(ctx, stdtest.Ann, &standardsv1.SubmitStandardForReviewRequest{Name: conv}))(t)
	must(svc.ConcludeStandardReview(ctx, stdtest.Chair, &standardsv1.ConcludeStandardReviewRequest{Name: conv, Experts: []string{"专家"},
		Conclusion: standardsv1.ReviewConclusion_REVIEW_CONCLUSION_PASS, Summary: "通过"}))(t)
	must(svc.ApproveStandard(ctx, stdtest.Chair, &standardsv1.ApproveStandardRequest{Name: conv, Resolution: f.Resolutions.Approve(conv)}))(t)
	must(svc.PublishStandard(ctx, stdtest.Chair, &standardsv1.PublishStandardRequest{Name: conv, EffectiveDate: &date.Date{Year: 2027, Month: 1, Day: 1}}))(t)

	anonymous := srv.As(t, "")
	calls := map[string]func(st string) error{
		"GetComment": func(st string) error {
			_, err := c.GetComment(anonymous, &standardsv1.GetCommentRequest{Name: st + "/comments/c1"})
			return err
		},
		"ListComments": func(st string) error {
			_, err := c.ListComments(anonymous, &standardsv1.ListCommentsRequest{Parent: st})
			return err
		},
		"GetDispositionSummary": func(st string) error {
			_, err := c.GetDispositionSummary(anonymous, &standardsv1.GetDispositionSummaryRequest{Name: st})
			return err
		},
		"CreateComment": func(st string) error {
			_, err := c.CreateComment(anonymous, &standardsv1.CreateCommentRequest{Parent: st, Comment: &standardsv1.Comment{Clause: "1", Text: "x", CommenterName: "公众"}})
			return err
		},
	}
	for method, call := range calls {
		t.Run(method, func(t *testing.T) {
			if err := call(conv); status.Code(err) != codes.Unauthenticated || !apierr.Is(err, apiv1.ErrorReason_UNAUTHENTICATED) {
				t.Errorf("without a token, on a published convention: %v, want UNAUTHENTICATED", err)
			}
			if err := call("branches/ai/standards/nosuch"); status.Code(err) != codes.NotFound {
				t.Errorf("without a token, on a missing standard: %v, want NOT_FOUND", err)
			}
		})
	}
}

// TestAnswersNameOnlyWhatTheCallerSees holds the hidden-as-missing rule
// one level down (servicetest.ReferencesSeen): every field of an answer
// that names another resource names one the same caller may read, or is
// absent. A published standard's promotions name DRAFT activities (hidden
// from all but their organisers) and a published one; the standard is
// under revision by a revision being drafted (hidden without a token). Each
// caller (none, a signed-in person, an editor who organises no activity,
// an organiser) reads everything and reads back every name it is given,
// each through its own API: activities as it answers, standards here,
// and members, people and resolutions as their services do (any signed-in
// caller reads them; without a token UNAUTHENTICATED, those methods not
// being public).
func TestAnswersNameOnlyWhatTheCallerSees(t *testing.T) {
	served := serve(t)
	f, srv := served.f, served.srv
	c := standardsv1.NewStandardsServiceClient(srv.Conn)
	ctx, svc := context.Background(), f.Svc
	const sha = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
	const wg = "people/wg"
	publish := func(id string, kind standardsv1.StandardKind) (name, comment string) {
		name = must(svc.CreateStandard(ctx, stdtest.Ann, "branches/ai", &standardsv1.Standard{Kind: kind, Title: "标准 " + id,
			LeadUnit: stdtest.UnitA, ParticipatingUnits: []string{stdtest.UnitB}, WorkingGroup: []string{wg}}, id))(t).GetName()
		must(svc.ApproveStandardProposal(ctx, stdtest.Chair, &standardsv1.ApproveStandardProposalRequest{Name: name}))(t)
		must(svc.CreateDraft(ctx, stdtest.Ann, name, &standardsv1.Draft{Version: "0.1", ContentUri: "https://x.example/d.pdf", Sha256: sha}, "", "d1"))(t)
		must(svc.OpenStandardComment(ctx, stdtest.Ann, &standardsv1.OpenStandardCommentRequest{Name: name,
			CommentEndTime: timestamppb.New(stdtest.Start.Add(30 * 24 * time.Hour))}))(t)
		comment = must(svc.CreateComment(ctx, stdtest.Bob, name, &standardsv1.Comment{Clause: "1", Text: "意见"}, "c1"))(t).GetName()
		must(svc.DisposeComment(ctx, stdtest.Ann, &standardsv1.DisposeCommentRequest{Name: comment,
			Disposition: standardsv1.Disposition_DISPOSITION_ACCEPTED, Reason: "采纳"}))(t)
		must(svc.CloseStandardComment(ctx, stdtest.Ann, &standardsv1.CloseStandardCommentRequest{Name: name}))(t)
		must(svc.SubmitStandardForReview(ctx, stdtest.Ann, &standardsv1.SubmitStandardForReviewRequest{Name: name}))(t)
		must(svc.ConcludeStandardReview(ctx, stdtest.Chair, &standardsv1.ConcludeStandardReviewRequest{Name: name, Experts: []string{"专家"},
			Conclusion: standardsv1.ReviewConclusion_REVIEW_CONCLUSION_PASS, Summary: "通过"}))(t)
		must(svc.ApproveStandard(ctx, stdtest.Chair, &standardsv1.ApproveStandardRequest{Name: name, Resolution: f.Resolutions.Approve(name)}))(t)
		must(svc.PublishStandard(ctx, stdtest.Chair, &standardsv1.PublishStandardRequest{Name: name, EffectiveDate: &date.Date{Year: 2027, Month: 1, Day: 1}}))(t)
		return name, comment
	}
	pub, comment := publish("pub", standardsv1.StandardKind_STANDARD_KIND_GROUP_STANDARD)
	promote := func(id string) *standardsv1.Promotion {
		return must(svc.SchedulePromotion(ctx, stdtest.Chair, &standardsv1.SchedulePromotionRequest{Parent: pub, PromotionId: id,
			Activity: &activitiesv1.Activity{StartTime: timestamppb.New(stdtest.Start.Add(40 * 24 * time.Hour))}}))(t)
	}
	draftActivity := promote("launch").GetActivity() // stays DRAFT
	openActivity := promote("open").GetActivity()
	f.Activities.Publish(openActivity)
	revision := must(svc.ReviseStandard(ctx, stdtest.Chair, &standardsv1.ReviseStandardRequest{Name: pub, Reason: "修订", RevisionId: "pub-2"}))(t).GetName()
	conv, _ := publish("conv", standardsv1.StandardKind_STANDARD_KIND_SELF_DISCIPLINE_CONVENTION)
	signatory := must(svc.CreateSignatory(ctx, stdtest.Ann, conv, &standardsv1.Signatory{Member: stdtest.UnitA}))(t).GetName()
	// A revision given up before it was public: the convention's record
	// of its reinstatement must not name it either.
	gone := must(svc.ReviseStandard(ctx, stdtest.Chair, &standardsv1.ReviseStandardRequest{Name: conv, Reason: "修订", RevisionId: "conv-2"}))(t).GetName()
	must(svc.WithdrawStandard(ctx, stdtest.Chair, &standardsv1.WithdrawStandardRequest{Name: gone, Reason: "暂缓"}))(t)

	// Each type is read as its own API reads it, as the same caller.
	notPublic := func(method string) bool { return !grpcserver.IsPublicMethod(method) }
	readAs := func(p auth.Principal) func(ctx context.Context, typ, name string) error {
		viaPeer := func(method, name string, exists bool) error {
			switch {
			case p.Subject == "" && notPublic(method):
				return apierr.Unauthenticated("token_required")
			case !exists:
				return apierr.NotFound(name)
			}
			return nil
		}
		return func(ctx context.Context, typ, name string) error {
			var err error
			switch typ {
			case "chapterhouse.tjsia.org/Standard":
				_, err = c.GetStandard(ctx, &standardsv1.GetStandardRequest{Name: name})
			case "chapterhouse.tjsia.org/Draft":
				_, err = c.GetDraft(ctx, &standardsv1.GetDraftRequest{Name: name})
			case "chapterhouse.tjsia.org/Comment":
				_, err = c.GetComment(ctx, &standardsv1.GetCommentRequest{Name: name})
			case "chapterhouse.tjsia.org/Activity":
				if _, err = f.Activities.Activity(ctx, p, name); errors.Is(err, domain.ErrNotFound) {
					err = apierr.NotFound(name)
				}
			case "chapterhouse.tjsia.org/Member":
				_, merr := f.Members.Member(ctx, name)
				err = viaPeer(membershipv1.MembershipService_GetMember_FullMethodName, name, merr == nil)
			case "chapterhouse.tjsia.org/Person":
				// Any signed-in caller reads a person (membership); the
				// fakes keep no people, so every name given is one.
				err = viaPeer(membershipv1.MembershipService_GetPerson_FullMethodName, name, true)
			case "chapterhouse.tjsia.org/Resolution":
				_, rerr := f.Resolutions.Resolution(ctx, name)
				err = viaPeer(governancev1.GovernanceService_GetResolution_FullMethodName, name, rerr == nil)
			default:
				err = errors.New("the test reads no " + typ)
			}
			return err
		}
	}

	const m = "/chapterhouse.standards.v1.StandardsService/"
	call := func(method string, do func(ctx context.Context) (proto.Message, error)) servicetest.SeenCase {
		return servicetest.SeenCase{Method: m + method, Call: do}
	}
	reads := []servicetest.SeenCase{
		call("GetStandard", func(ctx context.Context) (proto.Message, error) {
			return c.GetStandard(ctx, &standardsv1.GetStandardRequest{Name: pub})
		}),
		call("ListStandards", func(ctx context.Context) (proto.Message, error) {
			return c.ListStandards(ctx, &standardsv1.ListStandardsRequest{Parent: "branches/ai"})
		}),
		call("GetDraft", func(ctx context.Context) (proto.Message, error) {
			return c.GetDraft(ctx, &standardsv1.GetDraftRequest{Name: pub + "/drafts/d1"})
		}),
		call("ListDrafts", func(ctx context.Context) (proto.Message, error) {
			return c.ListDrafts(ctx, &standardsv1.ListDraftsRequest{Parent: pub})
		}),
		call("GetComment", func(ctx context.Context) (proto.Message, error) {
			return c.GetComment(ctx, &standardsv1.GetCommentRequest{Name: comment})
		}),
		call("ListComments", func(ctx context.Context) (proto.Message, error) {
			return c.ListComments(ctx, &standardsv1.ListCommentsRequest{Parent: pub})
		}),
		call("GetDispositionSummary", func(ctx context.Context) (proto.Message, error) {
			return c.GetDispositionSummary(ctx, &standardsv1.GetDispositionSummaryRequest{Name: pub})
		}),
		call("ListPromotions", func(ctx context.Context) (proto.Message, error) {
			return c.ListPromotions(ctx, &standardsv1.ListPromotionsRequest{Parent: pub})
		}),
		call("GetSignatory", func(ctx context.Context) (proto.Message, error) {
			return c.GetSignatory(ctx, &standardsv1.GetSignatoryRequest{Name: signatory})
		}),
		call("ListSignatories", func(ctx context.Context) (proto.Message, error) {
			return c.ListSignatories(ctx, &standardsv1.ListSignatoriesRequest{Parent: conv})
		}),
	}
	// An editor of the standard who organises no activity repeats a
	// promotion the chair scheduled.
	repeat := []servicetest.SeenCase{call("SchedulePromotion", func(ctx context.Context) (proto.Message, error) {
		return c.SchedulePromotion(ctx, &standardsv1.SchedulePromotionRequest{Parent: pub, PromotionId: "launch",
			Activity: &activitiesv1.Activity{StartTime: timestamppb.New(stdtest.Start.Add(40 * 24 * time.Hour))}})
	})}
	servicetest.CoversSeen(t, standardsv1.StandardsService_ServiceDesc, []string{
		// Writes: every caller but CreateComment's signs in, and a
		// signed-in caller sees every standard, and every draft, comment
		// and signatory under one; members, people and resolutions are
		// any signed-in caller's to read. A comment filed without a token
		// names only its own standard's draft, which its author sees.
		// A paper comment is the secretariat's, which signs in.
		"CreateStandard", "UpdateStandard", "ApproveStandardProposal", "RejectStandard", "OpenStandardComment", "CloseStandardComment",
		"SubmitStandardForReview", "ConcludeStandardReview", "ApproveStandard", "PublishStandard", "ReviseStandard", "WithdrawStandard",
		"CreateDraft", "CreateComment", "RecordPaperComment", "DisposeComment", "CreateSignatory", "WithdrawSignatory",
	}, reads, repeat)

	callers := []struct {
		label string
		p     auth.Principal
		cases []servicetest.SeenCase
	}{
		{"anonymous", stdtest.Anyone, reads},
		{"signed in", stdtest.Dan, reads},
		{"editor", auth.Principal{Subject: wg}, repeat},
		{"organiser", stdtest.Admin, reads},
	}
	read := 0
	for _, caller := range callers {
		ctx := srv.As(t, caller.p.Subject, caller.p.Roles...)
		read += servicetest.ReferencesSeen(t, servicetest.Seen{Caller: ctx, Label: caller.label, Read: readAs(caller.p)}, caller.cases)
	}
	if read == 0 {
		t.Fatal("no answer named anything")
	}
	editor := srv.As(t, wg)
	if again := must(repeat[0].Call(editor))(t).(*standardsv1.Promotion); again.GetName() != pub+"/promotions/launch" || again.GetActivity() != "" {
		t.Errorf("the editor's repeat of the promotion: %v, want it without its draft activity", again)
	}

	// What each was shown: the draft activity's name only to its
	// organiser, the revision only to a signed-in caller.
	shown := func(p auth.Principal) (activities []string, revisedBy string, record string) {
		ctx := srv.As(t, p.Subject, p.Roles...)
		for _, promo := range must(c.ListPromotions(ctx, &standardsv1.ListPromotionsRequest{Parent: pub}))(t).GetPromotions() {
			activities = append(activities, promo.GetActivity())
		}
		st := must(c.GetStandard(ctx, &standardsv1.GetStandardRequest{Name: pub}))(t)
		return activities, st.GetRevisedBy(), prototext.Format(must(c.GetStandard(ctx, &standardsv1.GetStandardRequest{Name: conv}))(t))
	}
	for _, tt := range []struct {
		label      string
		p          auth.Principal
		activities string
		revisedBy  string
	}{
		{"anonymous", stdtest.Anyone, "|" + openActivity, ""},
		{"signed in", stdtest.Dan, "|" + openActivity, revision},
		{"organiser", stdtest.Admin, draftActivity + "|" + openActivity, revision},
	} {
		activities, revisedBy, record := shown(tt.p)
		if got := strings.Join(activities, "|"); got != tt.activities || revisedBy != tt.revisedBy {
			t.Errorf("%s is shown activities %q and revised_by %q, want %q and %q", tt.label, got, revisedBy, tt.activities, tt.revisedBy)
		}
		if strings.Contains(record, gone) {
			t.Errorf("%s is shown a record naming %s, a revision never public:\n%s", tt.label, gone, record)
		}
	}
}
