package domain_test

import (
	"testing"

	"google.golang.org/grpc/codes"

	"github.com/tjsia/chapterhouse/platform/apierr"
	apiv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/api/v1"
	governancev1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/governance/v1"
	standardsv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/standards/v1"

	"github.com/tjsia/chapterhouse/services/standards/internal/domain"
	"github.com/tjsia/chapterhouse/services/standards/internal/stdtest"
)

// TestApprovalCitesItsOwnResolution (S1: the council approves the
// standards the branch drafts): a standard is approved only on the
// council's PASSED STANDARD_APPROVAL resolution that names it. Any other
// resolution, however passed (a work-plan adoption, a vice-chair
// appointment, an ordinary one, another standard's approval, one still
// voting or failed), is refused as RESOLUTION_NOT_PASSED with what it is
// in the metadata, and changes nothing; and the resolution that approved
// one standard approves no other.
func TestApprovalCitesItsOwnResolution(t *testing.T) {
	f, mr := fixture(t)
	const (
		passed = governancev1.ResolutionState_RESOLUTION_STATE_PASSED
		voting = governancev1.ResolutionState_RESOLUTION_STATE_VOTING
		failed = governancev1.ResolutionState_RESOLUTION_STATE_FAILED
		kindOf = "RESOLUTION_KIND_"
	)
	reviewed := func(id string) string {
		st := propose(t, f, id, standardsv1.StandardKind_STANDARD_KIND_GROUP_STANDARD)
		name := st.GetName()
		of(f.Svc.ApproveStandardProposal(ctx, stdtest.Chair, &standardsv1.ApproveStandardProposalRequest{Name: name})).must(t)
		draft(t, f, name, "0.1")
		openComment(t, f, name)
		of(f.Svc.CloseStandardComment(ctx, stdtest.Ann, &standardsv1.CloseStandardCommentRequest{Name: name})).must(t)
		of(f.Svc.SubmitStandardForReview(ctx, stdtest.Ann, &standardsv1.SubmitStandardForReviewRequest{Name: name})).must(t)
		of(f.Svc.ConcludeStandardReview(ctx, stdtest.Chair, &standardsv1.ConcludeStandardReviewRequest{Name: name,
			Experts: []string{"专家"}, Conclusion: standardsv1.ReviewConclusion_REVIEW_CONCLUSION_PASS, Summary: "通过"})).must(t)
		return name
	}
	first, second := reviewed("first"), reviewed("second")
	resolution := func(id string, state governancev1.ResolutionState, kind governancev1.ResolutionKind, standard string) string {
		name := "branches/ai/resolutions/" + id
		f.Resolutions.Put(&governancev1.Resolution{Name: name, State: state, Kind: kind, Standard: standard})
		return name
	}
	for _, tt := range []struct {
		name, resolution string
		// the metadata the refusal carries ("" approves: none)
		state, kind, approves string
	}{
		{"S1: an ordinary resolution", resolution("ordinary", passed, governancev1.ResolutionKind_RESOLUTION_KIND_ORDINARY, ""),
			"RESOLUTION_STATE_PASSED", kindOf + "ORDINARY", ""},
		{"S1: a work-plan adoption", resolution("plan", passed, governancev1.ResolutionKind_RESOLUTION_KIND_WORK_PLAN_ADOPTION, ""),
			"RESOLUTION_STATE_PASSED", kindOf + "WORK_PLAN_ADOPTION", ""},
		{"S1: a vice-chair appointment", resolution("vice-chair", passed, governancev1.ResolutionKind_RESOLUTION_KIND_VICE_CHAIR_APPOINTMENT, ""),
			"RESOLUTION_STATE_PASSED", kindOf + "VICE_CHAIR_APPOINTMENT", ""},
		{"S1: another standard's approval", resolution("other", passed, governancev1.ResolutionKind_RESOLUTION_KIND_STANDARD_APPROVAL, second),
			"RESOLUTION_STATE_PASSED", kindOf + "STANDARD_APPROVAL", second},
		{"S1: its approval, still voting", resolution("voting", voting, governancev1.ResolutionKind_RESOLUTION_KIND_STANDARD_APPROVAL, first),
			"RESOLUTION_STATE_VOTING", kindOf + "STANDARD_APPROVAL", first},
		{"S1: its approval, failed", resolution("failed", failed, governancev1.ResolutionKind_RESOLUTION_KIND_STANDARD_APPROVAL, first),
			"RESOLUTION_STATE_FAILED", kindOf + "STANDARD_APPROVAL", first},
	} {
		t.Run(tt.name, func(t *testing.T) {
			before := snapshot(mr)
			_, err := f.Svc.ApproveStandard(ctx, stdtest.Chair, &standardsv1.ApproveStandardRequest{Name: first, Resolution: tt.resolution})
			wantReason(t, err, codes.FailedPrecondition, apiv1.ErrorReason_RESOLUTION_NOT_PASSED)
			md := apierr.Info(err).GetMetadata()
			if md["resolution"] != tt.resolution || md["state"] != tt.state || md["kind"] != tt.kind || md["approves"] != tt.approves || md["standard"] != first {
				t.Fatalf("metadata %v, want resolution %s, state %s, kind %s, approves %q, standard %s", md, tt.resolution, tt.state, tt.kind, tt.approves, first)
			}
			if snapshot(mr) != before {
				t.Fatal("the refusal changed the store")
			}
		})
	}
	own := f.Resolutions.Approve(first)
	approved := of(f.Svc.ApproveStandard(ctx, stdtest.Chair, &standardsv1.ApproveStandardRequest{Name: first, Resolution: own})).must(t)
	if approved.GetState() != domain.Approved || len(approved.GetResolutions()) != 1 || approved.GetResolutions()[0] != own {
		t.Fatalf("approved on its own resolution: %v", approved)
	}
	// One resolution, one standard.
	_, err := f.Svc.ApproveStandard(ctx, stdtest.Chair, &standardsv1.ApproveStandardRequest{Name: second, Resolution: own})
	wantReason(t, err, codes.FailedPrecondition, apiv1.ErrorReason_RESOLUTION_NOT_PASSED)
	if md := apierr.Info(err).GetMetadata(); md["approves"] != first || md["standard"] != second {
		t.Fatalf("the first standard's resolution cited for the second: %v", md)
	}
}
