package server_test

import (
	"context"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
	"google.golang.org/genproto/googleapis/type/date"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/fieldmaskpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/tjsia/chapterhouse/platform/apierr"
	"github.com/tjsia/chapterhouse/platform/servicetest"
	activitiesv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/activities/v1"
	apiv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/api/v1"
	standardsv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/standards/v1"

	"github.com/tjsia/chapterhouse/services/standards/internal/server"
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
	mr := miniredis.RunT(t)
	rdb := redis.NewClient(&redis.Options{Addr: mr.Addr()})
	t.Cleanup(func() { rdb.Close() })
	f := stdtest.New(t, rdb)
	srv := servicetest.Serve(t, "standards", func(s *grpc.Server) { standardsv1.RegisterStandardsServiceServer(s, server.New(f.Svc)) })
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
	mr := miniredis.RunT(t)
	rdb := redis.NewClient(&redis.Options{Addr: mr.Addr()})
	t.Cleanup(func() { rdb.Close() })
	f := stdtest.New(t, rdb)
	srv := servicetest.Serve(t, "standards", func(s *grpc.Server) { standardsv1.RegisterStandardsServiceServer(s, server.New(f.Svc)) })
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
	must(svc.ApproveStandard(ctx, stdtest.Chair, &standardsv1.ApproveStandardRequest{Name: conv, Resolution: stdtest.Passed}))(t)
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
