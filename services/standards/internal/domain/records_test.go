package domain_test

import (
	"slices"
	"testing"

	eventsv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/events/v1"
	membershipv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/membership/v1"
	standardsv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/standards/v1"

	"github.com/tjsia/chapterhouse/services/standards/internal/domain"
	"github.com/tjsia/chapterhouse/services/standards/internal/stdtest"
)

// TestRecordsHoldWordsNotProse: a record people read (a standard's
// history and state_reason, a signatory's withdraw_reason) is read in
// every language, so the service writes no prose of its own into it. What
// the system did is its action or state (reinstate and supersede when a
// revision ends, openComment and closeComment, LAPSED when a member's
// membership ends), who did it its actor, and its reason is the words a
// person gave, as given, or nothing when none were.
func TestRecordsHoldWordsNotProse(t *testing.T) {
	f, _ := fixture(t)
	given := []string{""} // the reasons people gave, and none
	reason := func(words string) string { given = append(given, words); return words }

	base := propose(t, f, "base", standardsv1.StandardKind_STANDARD_KIND_GROUP_STANDARD).GetName()
	toApproved(t, f, base)
	publish(t, f, base)
	last := func(name string) *standardsv1.StateChange {
		t.Helper()
		h := of(f.Svc.GetStandard(ctx, stdtest.Admin, name)).must(t).GetHistory()
		return h[len(h)-1]
	}

	// A revision withdrawn, and one rejected, put base back in force: its
	// record says so by its action, with the words given for ending the
	// revision, by whom.
	first := of(f.Svc.ReviseStandard(ctx, stdtest.Chair, &standardsv1.ReviseStandardRequest{Name: base, Reason: reason("技术更新"), RevisionId: "r1"})).must(t)
	of(f.Svc.WithdrawStandard(ctx, stdtest.Chair, &standardsv1.WithdrawStandardRequest{Name: first.GetName(), Reason: reason("暂缓修订")})).must(t)
	if h := last(base); h.GetAction() != domain.ActReinstate || h.GetReason() != "暂缓修订" || h.GetActor() != stdtest.Chair.Subject ||
		h.GetToState() != domain.Published {
		t.Fatalf("base after its revision was withdrawn: %v, want reinstate with the words given, by the chair", h)
	}
	second := of(f.Svc.ReviseStandard(ctx, stdtest.Chair, &standardsv1.ReviseStandardRequest{Name: base, Reason: reason("技术更新"), RevisionId: "r2"})).must(t)
	draft(t, f, second.GetName(), "修订稿")
	openComment(t, f, second.GetName())
	of(f.Svc.CloseStandardComment(ctx, stdtest.Ann, &standardsv1.CloseStandardCommentRequest{Name: second.GetName()})).must(t)
	of(f.Svc.SubmitStandardForReview(ctx, stdtest.Ann, &standardsv1.SubmitStandardForReviewRequest{Name: second.GetName(), Reason: reason("请审查")})).must(t)
	of(f.Svc.RejectStandard(ctx, stdtest.Director, &standardsv1.RejectStandardRequest{Name: second.GetName(), Reason: reason("修订内容不成熟")})).must(t)
	if h := last(base); h.GetAction() != domain.ActReinstate || h.GetReason() != "修订内容不成熟" || h.GetActor() != stdtest.Director.Subject {
		t.Fatalf("base after its revision was rejected: %v, want reinstate with the words given, by the council member", h)
	}

	// A revision published supersedes base: its record says so by its
	// action, by the publisher; no words were given for it.
	third := of(f.Svc.ReviseStandard(ctx, stdtest.Chair, &standardsv1.ReviseStandardRequest{Name: base, Reason: reason("技术更新"), RevisionId: "r3"})).must(t)
	draft(t, f, third.GetName(), "修订稿")
	openComment(t, f, third.GetName())
	of(f.Svc.CloseStandardComment(ctx, stdtest.Ann, &standardsv1.CloseStandardCommentRequest{Name: third.GetName()})).must(t)
	of(f.Svc.SubmitStandardForReview(ctx, stdtest.Ann, &standardsv1.SubmitStandardForReviewRequest{Name: third.GetName()})).must(t)
	of(f.Svc.ConcludeStandardReview(ctx, stdtest.Chair, &standardsv1.ConcludeStandardReviewRequest{Name: third.GetName(),
		Experts: []string{"专家"}, Conclusion: standardsv1.ReviewConclusion_REVIEW_CONCLUSION_PASS, Summary: reason("通过")})).must(t)
	of(f.Svc.ApproveStandard(ctx, stdtest.Chair, &standardsv1.ApproveStandardRequest{Name: third.GetName(),
		Resolution: f.Resolutions.Approve(third.GetName()), Reason: reason("理事会批准")})).must(t)
	publish(t, f, third.GetName())
	if h := last(base); h.GetAction() != domain.ActSupersede || h.GetReason() != "" || h.GetActor() != stdtest.Chair.Subject ||
		h.GetToState() != domain.Withdrawn {
		t.Fatalf("base after its revision was published: %v, want supersede, by the publisher, with no words", h)
	}

	// Every entry of every record holds only words people gave.
	for _, name := range []string{base, first.GetName(), second.GetName(), third.GetName()} {
		st := of(f.Svc.GetStandard(ctx, stdtest.Admin, name)).must(t)
		if !slices.Contains(given, st.GetStateReason()) {
			t.Errorf("%s: state_reason %q is not words a person gave", name, st.GetStateReason())
		}
		for _, h := range st.GetHistory() {
			if !slices.Contains(given, h.GetReason()) {
				t.Errorf("%s: %s's reason %q is not words a person gave", name, h.GetAction(), h.GetReason())
			}
		}
	}

	// A signature lapses when its member's membership ends: LAPSED says
	// so, and its reason is the words given for ending the membership.
	conv := propose(t, f, "conv", standardsv1.StandardKind_STANDARD_KIND_SELF_DISCIPLINE_CONVENTION).GetName()
	toApproved(t, f, conv)
	publish(t, f, conv)
	sig := of(f.Svc.CreateSignatory(ctx, stdtest.Bob, conv, &standardsv1.Signatory{Member: stdtest.UnitB})).must(t)
	f.Members.SetState(stdtest.UnitB, membershipv1.MemberState_MEMBER_STATE_TERMINATED)
	if err := f.Svc.HandleEvent(ctx, &eventsv1.Envelope{Id: "e1", Payload: &eventsv1.Envelope_MemberTerminated{MemberTerminated: &eventsv1.MemberTerminated{
		Member: &membershipv1.Member{Name: stdtest.UnitB}, Reason: "会费未缴"}}}); err != nil {
		t.Fatal(err)
	}
	lapsed := of(f.Svc.GetSignatory(ctx, stdtest.Admin, sig.GetName())).must(t)
	if lapsed.GetState() != standardsv1.SignatoryState_SIGNATORY_STATE_LAPSED || lapsed.GetWithdrawReason() != "会费未缴" || lapsed.GetMember() != stdtest.UnitB {
		t.Fatalf("lapsed: %v, want LAPSED, unit-b, with the words given for ending its membership", lapsed)
	}
}
