package server_test

import (
	"context"
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/type/date"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/tjsia/chapterhouse/platform/apierr"
	"github.com/tjsia/chapterhouse/platform/auth"
	apiv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/api/v1"
	standardsv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/standards/v1"

	"github.com/tjsia/chapterhouse/services/standards/internal/stdtest"
)

// TestDocumentedRefusals: each refusal a method's comment in
// standards.proto promises is what a client meets through the gRPC API,
// with the status code and the metadata the comment names, and it
// changes nothing stored. (TestMain holds every promised reason to some
// test; these are the ones only a refusal of the life cycle's own rules
// meets.)
func TestDocumentedRefusals(t *testing.T) {
	served := serve(t)
	f, srv, c := served.f, served.srv, served.c
	svc, ctx := f.Svc, context.Background()
	as := func(p auth.Principal) context.Context { return srv.As(t, p.Subject, p.Roles...) }
	const sha = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
	propose := func(id string, kind standardsv1.StandardKind) string {
		name := must(svc.CreateStandard(ctx, stdtest.Ann, "branches/ai", &standardsv1.Standard{Kind: kind, Title: "标准 " + id,
			LeadUnit: stdtest.UnitA}, id))(t).GetName()
		must(svc.ApproveStandardProposal(ctx, stdtest.Chair, &standardsv1.ApproveStandardProposalRequest{Name: name}))(t)
		return name
	}
	withDraft := func(name string) string {
		return must(svc.CreateDraft(ctx, stdtest.Ann, name, &standardsv1.Draft{Version: "0.1", ContentUri: "https://x.example/d.pdf", Sha256: sha}, "", "d1"))(t).GetName()
	}
	open := func(name string) {
		must(svc.OpenStandardComment(ctx, stdtest.Ann, &standardsv1.OpenStandardCommentRequest{Name: name,
			CommentEndTime: timestamppb.New(stdtest.Start.Add(30 * 24 * time.Hour))}))(t)
	}
	toReview := func(name string) {
		withDraft(name)
		open(name)
		must(svc.CloseStandardComment(ctx, stdtest.Ann, &standardsv1.CloseStandardCommentRequest{Name: name}))(t)
		must(svc.SubmitStandardForReview(ctx, stdtest.Ann, &standardsv1.SubmitStandardForReviewRequest{Name: name}))(t)
	}
	group := standardsv1.StandardKind_STANDARD_KIND_GROUP_STANDARD
	convention := standardsv1.StandardKind_STANDARD_KIND_SELF_DISCIPLINE_CONVENTION

	drafting := propose("drafting", group) // no draft yet
	commenting := propose("commenting", group)
	d := withDraft(commenting)
	open(commenting)
	undisposed := must(svc.CreateComment(ctx, stdtest.Bob, commenting, &standardsv1.Comment{Clause: "1", Text: "意见"}, "c1"))(t).GetName()
	unreviewed := propose("unreviewed", group)
	toReview(unreviewed)
	reviewed := propose("reviewed", group)
	toReview(reviewed)
	must(svc.ConcludeStandardReview(ctx, stdtest.Chair, &standardsv1.ConcludeStandardReviewRequest{Name: reviewed, Experts: []string{"专家"},
		Conclusion: standardsv1.ReviewConclusion_REVIEW_CONCLUSION_PASS, Summary: "通过"}))(t)
	conv := propose("conv", convention)
	toReview(conv)
	must(svc.ConcludeStandardReview(ctx, stdtest.Chair, &standardsv1.ConcludeStandardReviewRequest{Name: conv, Experts: []string{"专家"},
		Conclusion: standardsv1.ReviewConclusion_REVIEW_CONCLUSION_PASS, Summary: "通过"}))(t)
	must(svc.ApproveStandard(ctx, stdtest.Chair, &standardsv1.ApproveStandardRequest{Name: conv, Resolution: f.Resolutions.Approve(conv)}))(t)
	must(svc.PublishStandard(ctx, stdtest.Chair, &standardsv1.PublishStandardRequest{Name: conv, EffectiveDate: &date.Date{Year: 2027, Month: 1, Day: 1}}))(t)
	membersOnly := propose("members-only", convention)
	withDraft(membersOnly)
	open(membersOnly)
	// A comment of a period since closed, the standard out for comment
	// again on a later draft.
	again := propose("again", group)
	first := withDraft(again)
	open(again)
	earlier := must(svc.CreateComment(ctx, stdtest.Bob, again, &standardsv1.Comment{Clause: "1", Text: "意见"}, "c1"))(t).GetName()
	must(svc.DisposeComment(ctx, stdtest.Ann, &standardsv1.DisposeCommentRequest{Name: earlier, Disposition: standardsv1.Disposition_DISPOSITION_ACCEPTED, Reason: "采纳"}))(t)
	must(svc.CloseStandardComment(ctx, stdtest.Ann, &standardsv1.CloseStandardCommentRequest{Name: again}))(t)
	second := must(svc.CreateDraft(ctx, stdtest.Ann, again, &standardsv1.Draft{Version: "0.2", ContentUri: "https://x.example/e.pdf", Sha256: sha}, "", "d2"))(t).GetName()
	open(again)

	for _, tt := range []struct {
		name   string
		caller auth.Principal
		call   func(ctx context.Context) error
		code   codes.Code
		reason apiv1.ErrorReason
		// metadata the refusal must carry
		metadata map[string]string
	}{
		{"OpenStandardComment: DRAFT_REQUIRED", stdtest.Ann, func(ctx context.Context) error {
			_, err := c.OpenStandardComment(ctx, &standardsv1.OpenStandardCommentRequest{Name: drafting,
				CommentEndTime: timestamppb.New(stdtest.Start.Add(time.Hour))})
			return err
		}, codes.FailedPrecondition, apiv1.ErrorReason_DRAFT_REQUIRED, map[string]string{"resource": drafting}},
		{"SubmitStandardForReview: COMMENT_PERIOD_REQUIRED", stdtest.Ann, func(ctx context.Context) error {
			_, err := c.SubmitStandardForReview(ctx, &standardsv1.SubmitStandardForReviewRequest{Name: drafting})
			return err
		}, codes.FailedPrecondition, apiv1.ErrorReason_COMMENT_PERIOD_REQUIRED, map[string]string{"resource": drafting}},
		{"CloseStandardComment: FAILED_PRECONDITION with COMMENTS_UNDISPOSED", stdtest.Ann, func(ctx context.Context) error {
			_, err := c.CloseStandardComment(ctx, &standardsv1.CloseStandardCommentRequest{Name: commenting})
			return err
		}, codes.FailedPrecondition, apiv1.ErrorReason_COMMENTS_UNDISPOSED, map[string]string{"undisposed": "1", "comments": undisposed, "draft": d}},
		{"CreateComment: COMMENT_PERIOD_CLOSED", stdtest.Bob, func(ctx context.Context) error {
			_, err := c.CreateComment(ctx, &standardsv1.CreateCommentRequest{Parent: drafting, Comment: &standardsv1.Comment{Clause: "1", Text: "x"}})
			return err
		}, codes.FailedPrecondition, apiv1.ErrorReason_COMMENT_PERIOD_CLOSED, map[string]string{"resource": drafting, "state": "STANDARD_STATE_DRAFTING"}},
		{"CreateComment: NOT_A_MEMBER", stdtest.Dan, func(ctx context.Context) error {
			_, err := c.CreateComment(ctx, &standardsv1.CreateCommentRequest{Parent: membersOnly, Comment: &standardsv1.Comment{Clause: "1", Text: "x"}})
			return err
		}, codes.PermissionDenied, apiv1.ErrorReason_NOT_A_MEMBER, map[string]string{"resource": membersOnly}},
		{"DisposeComment: COMMENT_PERIOD_CLOSED for a comment of an earlier period", stdtest.Ann, func(ctx context.Context) error {
			_, err := c.DisposeComment(ctx, &standardsv1.DisposeCommentRequest{Name: earlier, Disposition: standardsv1.Disposition_DISPOSITION_NOT_ACCEPTED, Reason: "x"})
			return err
		}, codes.FailedPrecondition, apiv1.ErrorReason_COMMENT_PERIOD_CLOSED, map[string]string{"resource": again, "comment": earlier, "draft": first,
			"currentDraft": second}},
		{"ApproveStandard: REVIEW_NOT_PASSED", stdtest.Chair, func(ctx context.Context) error {
			_, err := c.ApproveStandard(ctx, &standardsv1.ApproveStandardRequest{Name: unreviewed, Resolution: f.Resolutions.Approve(unreviewed)})
			return err
		}, codes.FailedPrecondition, apiv1.ErrorReason_REVIEW_NOT_PASSED, map[string]string{"resource": unreviewed, "draft": unreviewed + "/drafts/d1"}},
		{"ApproveStandard: RESOLUTION_NOT_PASSED", stdtest.Chair, func(ctx context.Context) error {
			_, err := c.ApproveStandard(ctx, &standardsv1.ApproveStandardRequest{Name: reviewed, Resolution: f.Resolutions.Approve(conv)})
			return err
		}, codes.FailedPrecondition, apiv1.ErrorReason_RESOLUTION_NOT_PASSED, map[string]string{"resolution": f.Resolutions.Approve(conv),
			"state": "RESOLUTION_STATE_PASSED", "kind": "RESOLUTION_KIND_STANDARD_APPROVAL", "approves": conv, "standard": reviewed}},
		{"CreateSignatory: NOT_SIGNABLE", stdtest.Admin, func(ctx context.Context) error {
			_, err := c.CreateSignatory(ctx, &standardsv1.CreateSignatoryRequest{Parent: reviewed, Signatory: &standardsv1.Signatory{Member: stdtest.UnitA}})
			return err
		}, codes.FailedPrecondition, apiv1.ErrorReason_NOT_SIGNABLE, map[string]string{"resource": reviewed, "kind": "STANDARD_KIND_GROUP_STANDARD"}},
		{"CreateSignatory: MEMBER_NOT_ACTIVE", stdtest.Admin, func(ctx context.Context) error {
			_, err := c.CreateSignatory(ctx, &standardsv1.CreateSignatoryRequest{Parent: conv, Signatory: &standardsv1.Signatory{Member: stdtest.UnitC}})
			return err
		}, codes.FailedPrecondition, apiv1.ErrorReason_MEMBER_NOT_ACTIVE, map[string]string{"member": stdtest.UnitC, "state": "MEMBER_STATE_SUSPENDED"}},
		{"a refused state change: INVALID_STATE_TRANSITION, with the state and what it allows", stdtest.Chair, func(ctx context.Context) error {
			_, err := c.PublishStandard(ctx, &standardsv1.PublishStandardRequest{Name: drafting, EffectiveDate: &date.Date{Year: 2027, Month: 1, Day: 1}})
			return err
		}, codes.FailedPrecondition, apiv1.ErrorReason_INVALID_STATE_TRANSITION, map[string]string{"resource": drafting, "action": "publish",
			"state": "STANDARD_STATE_DRAFTING", "allowed": "createDraft,openComment,submitForReview,update,withdraw"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			before := served.mr.Dump()
			err := tt.call(as(tt.caller))
			if status.Code(err) != tt.code || !apierr.Is(err, tt.reason) {
				t.Fatalf("%v, want %v %v", err, tt.code, tt.reason)
			}
			md := apierr.Info(err).GetMetadata()
			for k, want := range tt.metadata {
				if md[k] != want {
					t.Errorf("metadata %s = %q, want %q (all: %v)", k, md[k], want, md)
				}
			}
			if served.mr.Dump() != before {
				t.Error("the refusal changed the store")
			}
		})
	}
}
