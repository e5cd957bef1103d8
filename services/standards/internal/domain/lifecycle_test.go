package domain_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
	"google.golang.org/genproto/googleapis/type/date"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/fieldmaskpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/tjsia/chapterhouse/platform/apierr"
	"github.com/tjsia/chapterhouse/platform/auth"
	activitiesv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/activities/v1"
	apiv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/api/v1"
	eventsv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/events/v1"
	membershipv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/membership/v1"
	standardsv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/standards/v1"

	"github.com/tjsia/chapterhouse/services/standards/internal/domain"
	"github.com/tjsia/chapterhouse/services/standards/internal/stdtest"
)

const sha = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"

func fixture(t *testing.T) (*stdtest.Fixture, *miniredis.Miniredis) {
	t.Helper()
	mr := miniredis.RunT(t)
	rdb := redis.NewClient(&redis.Options{Addr: mr.Addr()})
	t.Cleanup(func() { rdb.Close() })
	return stdtest.New(t, rdb), mr
}

// result is a call's answer, for of(call()).must(t).
type result[T any] struct {
	v   T
	err error
}

func of[T any](v T, err error) result[T] { return result[T]{v, err} }

func (r result[T]) must(t *testing.T) T {
	t.Helper()
	if r.err != nil {
		t.Fatal(r.err)
	}
	return r.v
}

func wantReason(t *testing.T, err error, code codes.Code, reason apiv1.ErrorReason) {
	t.Helper()
	if status.Code(err) != code || !apierr.Is(err, reason) {
		t.Fatalf("got %v, want %v %v", err, code, reason)
	}
}

var ctx = context.Background()

func propose(t *testing.T, f *stdtest.Fixture, id string, kind standardsv1.StandardKind) *standardsv1.Standard {
	t.Helper()
	return of(f.Svc.CreateStandard(ctx, stdtest.Ann, "branches/ai", &standardsv1.Standard{
		Kind: kind, Title: "人工智能 生成式模型 数据标注质量要求 " + id, LeadUnit: stdtest.UnitA,
		ParticipatingUnits: []string{stdtest.UnitB}, WorkingGroup: []string{"people/wg"},
	}, id)).must(t)
}

func draft(t *testing.T, f *stdtest.Fixture, std, version string) *standardsv1.Draft {
	t.Helper()
	return of(f.Svc.CreateDraft(ctx, stdtest.Ann, std, &standardsv1.Draft{
		Version: version, ContentUri: "https://docs.example.org/" + version + ".pdf", Sha256: sha}, "", "")).must(t)
}

// toApproved takes a new standard through drafting, a comment period with
// one comment disposed, review and approval.
func toApproved(t *testing.T, f *stdtest.Fixture, name string) {
	t.Helper()
	of(f.Svc.ApproveStandardProposal(ctx, stdtest.Chair, &standardsv1.ApproveStandardProposalRequest{Name: name})).must(t)
	draft(t, f, name, "征求意见稿")
	openComment(t, f, name)
	c := of(f.Svc.CreateComment(ctx, stdtest.Bob, name, &standardsv1.Comment{Clause: "5.2", Text: "定义过窄"}, "")).must(t)
	of(f.Svc.DisposeComment(ctx, stdtest.Ann, &standardsv1.DisposeCommentRequest{Name: c.GetName(),
		Disposition: standardsv1.Disposition_DISPOSITION_ACCEPTED, Reason: "已修改"})).must(t)
	of(f.Svc.CloseStandardComment(ctx, stdtest.Ann, &standardsv1.CloseStandardCommentRequest{Name: name})).must(t)
	of(f.Svc.SubmitStandardForReview(ctx, stdtest.Ann, &standardsv1.SubmitStandardForReviewRequest{Name: name})).must(t)
	of(f.Svc.ConcludeStandardReview(ctx, stdtest.Chair, &standardsv1.ConcludeStandardReviewRequest{Name: name,
		Experts: []string{"王教授 (天津大学)"}, Conclusion: standardsv1.ReviewConclusion_REVIEW_CONCLUSION_PASS, Summary: "同意报批"})).must(t)
	of(f.Svc.ApproveStandard(ctx, stdtest.Chair, &standardsv1.ApproveStandardRequest{Name: name, Resolution: f.Resolutions.Approve(name)})).must(t)
}

func openComment(t *testing.T, f *stdtest.Fixture, name string) {
	t.Helper()
	of(f.Svc.OpenStandardComment(ctx, stdtest.Ann, &standardsv1.OpenStandardCommentRequest{Name: name,
		CommentEndTime: timestamppb.New(f.Clock.Now().Add(30 * 24 * time.Hour))})).must(t)
}

func publish(t *testing.T, f *stdtest.Fixture, name string) *standardsv1.Standard {
	t.Helper()
	effective := f.Clock.Now().Add(30 * 24 * time.Hour)
	return of(f.Svc.PublishStandard(ctx, stdtest.Chair, &standardsv1.PublishStandardRequest{Name: name,
		EffectiveDate: &date.Date{Year: int32(effective.Year()), Month: int32(effective.Month()), Day: int32(effective.Day())}})).must(t)
}

// snapshot is every key and value of the Redis, for "changed nothing".
func snapshot(mr *miniredis.Miniredis) string { return mr.Dump() }

// TestFromProposalToPromotion walks the whole life cycle the way the
// branch works, with the record each step leaves.
func TestFromProposalToPromotion(t *testing.T) {
	f, _ := fixture(t)
	st := propose(t, f, "annotation", standardsv1.StandardKind_STANDARD_KIND_GROUP_STANDARD)
	name := st.GetName()
	if st.GetState() != domain.Proposed || st.GetProposer() != stdtest.Ann.Subject {
		t.Fatalf("proposed: %v", st)
	}
	toApproved(t, f, name)
	pub := publish(t, f, name)
	if pub.GetCode() != "T/TJSIA 001—2026" || pub.GetCodeNumber() != 1 || pub.GetState() != domain.Published ||
		pub.GetPublishedDraft() == "" || pub.GetEffectiveDate().GetMonth() != 12 {
		t.Fatalf("published: %v", pub)
	}
	var actions []string
	for _, h := range pub.GetHistory() {
		if h.GetActor() == "" || h.GetTime() == nil {
			t.Errorf("history entry without actor or time: %v", h)
		}
		actions = append(actions, h.GetAction())
	}
	if got := strings.Join(actions, ","); got != "propose,approveProposal,openComment,closeComment,submitForReview,approve,publish" {
		t.Fatalf("history %s", got)
	}
	if pub.GetReview().GetConclusion() != standardsv1.ReviewConclusion_REVIEW_CONCLUSION_PASS || len(pub.GetResolutions()) != 1 {
		t.Fatalf("review and resolution not kept: %v", pub)
	}
	// S2: a promotion creates one activity, whatever the retries.
	req := &standardsv1.SchedulePromotionRequest{Parent: name, PromotionId: "launch",
		Activity: &activitiesv1.Activity{StartTime: timestamppb.New(stdtest.Start.Add(40 * 24 * time.Hour))}}
	p1 := of(f.Svc.SchedulePromotion(ctx, stdtest.Chair, req)).must(t)
	p2 := of(f.Svc.SchedulePromotion(ctx, stdtest.Chair, req)).must(t)
	if p1.GetActivity() != p2.GetActivity() || len(f.Activities.Created()) != 1 {
		t.Fatalf("retried promotion: %v %v, %d activities", p1, p2, len(f.Activities.Created()))
	}
	a := f.Activities.Created()[0]
	if a.GetKind() != activitiesv1.ActivityKind_ACTIVITY_KIND_STANDARD_PROMOTION || a.GetRelatedStandard() != name || !strings.HasPrefix(a.GetTitle(), "宣贯：") {
		t.Fatalf("promotion activity %v", a)
	}
	promos, _ := must2(t)(f.Svc.ListPromotions(ctx, stdtest.Anyone, &standardsv1.ListPromotionsRequest{Parent: name}))
	if len(promos) != 1 {
		t.Fatalf("promotions %v", promos)
	}
}

func must2(t *testing.T) func(items []*standardsv1.Promotion, next string, err error) ([]*standardsv1.Promotion, string) {
	return func(items []*standardsv1.Promotion, next string, err error) ([]*standardsv1.Promotion, string) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return items, next
	}
}

// TestRefusalsChangeNothing: each refusal names its reason, and the store
// is as it was.
func TestRefusalsChangeNothing(t *testing.T) {
	f, mr := fixture(t)
	st := propose(t, f, "refusals", standardsv1.StandardKind_STANDARD_KIND_GROUP_STANDARD)
	name := st.GetName()
	check := func(what string, code codes.Code, reason apiv1.ErrorReason, call func() error) {
		t.Helper()
		before := snapshot(mr)
		err := call()
		if status.Code(err) != code || !apierr.Is(err, reason) {
			t.Fatalf("%s: %v, want %v %v", what, err, code, reason)
		}
		if snapshot(mr) != before {
			t.Fatalf("%s: the refusal changed the store", what)
		}
	}
	// S1: every unit that is not an ACTIVE unit member is named.
	check("S1", codes.FailedPrecondition, apiv1.ErrorReason_CHARTER_VIOLATION, func() error {
		_, err := f.Svc.CreateStandard(ctx, stdtest.Admin, "branches/ai", &standardsv1.Standard{Kind: standardsv1.StandardKind_STANDARD_KIND_GROUP_STANDARD,
			Title: "标题", LeadUnit: stdtest.UnitC, ParticipatingUnits: []string{stdtest.UnitT, stdtest.IvyM, "branches/ai/members/nobody"}}, "")
		if info := apierr.Info(err); info.GetMetadata()["rules"] != "S1" || strings.Count(err.Error(), "S1:") != 4 {
			t.Errorf("S1 refusal does not list the four units: %v", err)
		}
		return err
	})
	check("invalid transition", codes.FailedPrecondition, apiv1.ErrorReason_INVALID_STATE_TRANSITION, func() error {
		_, err := f.Svc.OpenStandardComment(ctx, stdtest.Ann, &standardsv1.OpenStandardCommentRequest{Name: name,
			CommentEndTime: timestamppb.New(stdtest.Start.Add(time.Hour))})
		if md := apierr.Info(err).GetMetadata(); md["state"] != "STANDARD_STATE_PROPOSED" || md["allowed"] != "approveProposal,reject,update,withdraw" {
			t.Errorf("metadata %v: want the state and what it allows", md)
		}
		return err
	})
	check("approving a proposal is not the lead unit's", codes.PermissionDenied, apiv1.ErrorReason_PERMISSION_DENIED, func() error {
		_, err := f.Svc.ApproveStandardProposal(ctx, stdtest.Ann, &standardsv1.ApproveStandardProposalRequest{Name: name})
		return err
	})
	of(f.Svc.ApproveStandardProposal(ctx, stdtest.Chair, &standardsv1.ApproveStandardProposalRequest{Name: name})).must(t)
	check("comment without a draft", codes.FailedPrecondition, apiv1.ErrorReason_DRAFT_REQUIRED, func() error {
		_, err := f.Svc.OpenStandardComment(ctx, stdtest.Ann, &standardsv1.OpenStandardCommentRequest{Name: name,
			CommentEndTime: timestamppb.New(stdtest.Start.Add(time.Hour))})
		return err
	})
	check("review without a comment period", codes.FailedPrecondition, apiv1.ErrorReason_COMMENT_PERIOD_REQUIRED, func() error {
		_, err := f.Svc.SubmitStandardForReview(ctx, stdtest.Ann, &standardsv1.SubmitStandardForReviewRequest{Name: name})
		return err
	})
	d := draft(t, f, name, "0.1")
	check("a version twice", codes.AlreadyExists, apiv1.ErrorReason_DRAFT_VERSION_TAKEN, func() error {
		_, err := f.Svc.CreateDraft(ctx, stdtest.Ann, name, &standardsv1.Draft{Version: "0.1", ContentUri: "https://x.example/b.pdf", Sha256: sha}, "", "")
		return err
	})
	openComment(t, f, name)
	c1 := of(f.Svc.CreateComment(ctx, stdtest.Anyone, name, &standardsv1.Comment{Clause: "3.1", Text: "术语不一致", CommenterName: "李四 某大学"}, "")).must(t)
	c2 := of(f.Svc.CreateComment(ctx, stdtest.Bob, name, &standardsv1.Comment{Clause: "全文", Text: "建议增加示例"}, "")).must(t)
	if c1.GetDraft() != d.GetName() {
		t.Fatalf("comment tied to %q, want the draft under comment %q", c1.GetDraft(), d.GetName())
	}
	of(f.Svc.DisposeComment(ctx, stdtest.Ann, &standardsv1.DisposeCommentRequest{Name: c1.GetName(),
		Disposition: standardsv1.Disposition_DISPOSITION_NOT_ACCEPTED, Reason: "与国标一致"})).must(t)
	check("close with an undisposed comment", codes.FailedPrecondition, apiv1.ErrorReason_COMMENTS_UNDISPOSED, func() error {
		_, err := f.Svc.CloseStandardComment(ctx, stdtest.Ann, &standardsv1.CloseStandardCommentRequest{Name: name})
		if md := apierr.Info(err).GetMetadata(); md["undisposed"] != "1" || md["comments"] != c2.GetName() {
			t.Errorf("metadata %v: want one undisposed, %s", md, c2.GetName())
		}
		return err
	})
	sum := of(f.Svc.GetDispositionSummary(ctx, stdtest.Anyone, name)).must(t)
	if sum.GetTotal() != 2 || sum.GetNotAccepted() != 1 || sum.GetUndisposed() != 1 || len(sum.GetComments()) != 2 {
		t.Fatalf("summary %v", sum)
	}
	check("disposing is the editors'", codes.PermissionDenied, apiv1.ErrorReason_PERMISSION_DENIED, func() error {
		_, err := f.Svc.DisposeComment(ctx, stdtest.Bob, &standardsv1.DisposeCommentRequest{Name: c2.GetName(),
			Disposition: standardsv1.Disposition_DISPOSITION_ACCEPTED, Reason: "ok"})
		return err
	})
	of(f.Svc.DisposeComment(ctx, stdtest.Ann, &standardsv1.DisposeCommentRequest{Name: c2.GetName(),
		Disposition: standardsv1.Disposition_DISPOSITION_PARTIALLY_ACCEPTED, Reason: "增加一个示例"})).must(t)
	of(f.Svc.CloseStandardComment(ctx, stdtest.Ann, &standardsv1.CloseStandardCommentRequest{Name: name})).must(t)
	check("a comment after the close", codes.FailedPrecondition, apiv1.ErrorReason_COMMENT_PERIOD_CLOSED, func() error {
		_, err := f.Svc.CreateComment(ctx, stdtest.Bob, name, &standardsv1.Comment{Clause: "1", Text: "late"}, "")
		return err
	})
	of(f.Svc.SubmitStandardForReview(ctx, stdtest.Ann, &standardsv1.SubmitStandardForReviewRequest{Name: name})).must(t)
	check("approval before a PASS review", codes.FailedPrecondition, apiv1.ErrorReason_REVIEW_NOT_PASSED, func() error {
		_, err := f.Svc.ApproveStandard(ctx, stdtest.Chair, &standardsv1.ApproveStandardRequest{Name: name, Resolution: f.Resolutions.Approve(name)})
		return err
	})
	of(f.Svc.ConcludeStandardReview(ctx, stdtest.Chair, &standardsv1.ConcludeStandardReviewRequest{Name: name,
		Experts: []string{"专家甲"}, Conclusion: standardsv1.ReviewConclusion_REVIEW_CONCLUSION_PASS, Summary: "通过"})).must(t)
	check("approval on a failed resolution", codes.FailedPrecondition, apiv1.ErrorReason_RESOLUTION_NOT_PASSED, func() error {
		_, err := f.Svc.ApproveStandard(ctx, stdtest.Chair, &standardsv1.ApproveStandardRequest{Name: name, Resolution: stdtest.Failed})
		return err
	})
	check("approval on an unknown resolution", codes.FailedPrecondition, apiv1.ErrorReason_REFERENCED_RESOURCE_NOT_FOUND, func() error {
		_, err := f.Svc.ApproveStandard(ctx, stdtest.Chair, &standardsv1.ApproveStandardRequest{Name: name, Resolution: "branches/ai/resolutions/none"})
		return err
	})
	of(f.Svc.ApproveStandard(ctx, stdtest.Chair, &standardsv1.ApproveStandardRequest{Name: name, Resolution: f.Resolutions.Approve(name)})).must(t)
	check("a code for a numbered kind", codes.InvalidArgument, apiv1.ErrorReason_STANDARD_CODE_NOT_ALLOWED, func() error {
		_, err := f.Svc.PublishStandard(ctx, stdtest.Chair, &standardsv1.PublishStandardRequest{Name: name, Code: "T/TJSIA 999—2026",
			EffectiveDate: &date.Date{Year: 2027, Month: 1, Day: 1}})
		return err
	})
	check("promotion before publication", codes.FailedPrecondition, apiv1.ErrorReason_INVALID_STATE_TRANSITION, func() error {
		_, err := f.Svc.SchedulePromotion(ctx, stdtest.Chair, &standardsv1.SchedulePromotionRequest{Parent: name, PromotionId: "p", Activity: &activitiesv1.Activity{}})
		return err
	})
	publish(t, f, name)
	f.Activities.SetDown(true)
	check("promotion with activities down", codes.Unavailable, apiv1.ErrorReason_DEPENDENCY_UNAVAILABLE, func() error {
		_, err := f.Svc.SchedulePromotion(ctx, stdtest.Chair, &standardsv1.SchedulePromotionRequest{Parent: name, PromotionId: "p", Activity: &activitiesv1.Activity{}})
		return err
	})
	f.Members.SetDown(true)
	check("a proposal with membership down", codes.Unavailable, apiv1.ErrorReason_DEPENDENCY_UNAVAILABLE, func() error {
		_, err := f.Svc.CreateStandard(ctx, stdtest.Admin, "branches/ai", &standardsv1.Standard{Kind: standardsv1.StandardKind_STANDARD_KIND_GROUP_STANDARD,
			Title: "标题", LeadUnit: stdtest.UnitA}, "")
		return err
	})
}

// TestCodes: group standards are numbered T/TJSIA NNN—YYYY in order; a
// kind without a format takes the code given, unique in the branch; a
// revision keeps the number with the new year and supersedes the old.
func TestCodes(t *testing.T) {
	f, _ := fixture(t)
	var codes []string
	for _, id := range []string{"one", "two"} {
		st := propose(t, f, id, standardsv1.StandardKind_STANDARD_KIND_GROUP_STANDARD)
		toApproved(t, f, st.GetName())
		codes = append(codes, publish(t, f, st.GetName()).GetCode())
	}
	if strings.Join(codes, "|") != "T/TJSIA 001—2026|T/TJSIA 002—2026" {
		t.Fatalf("codes %v", codes)
	}
	local := propose(t, f, "local", standardsv1.StandardKind_STANDARD_KIND_LOCAL_INDUSTRY_STANDARD)
	toApproved(t, f, local.GetName())
	_, err := f.Svc.PublishStandard(ctx, stdtest.Chair, &standardsv1.PublishStandardRequest{Name: local.GetName(), EffectiveDate: &date.Date{Year: 2027, Month: 1, Day: 1}})
	wantReason(t, err, codes0(codesInvalid), apiv1.ErrorReason_STANDARD_CODE_NOT_ALLOWED)
	_, err = f.Svc.PublishStandard(ctx, stdtest.Chair, &standardsv1.PublishStandardRequest{Name: local.GetName(), Code: "T/TJSIA 003—2026", EffectiveDate: &date.Date{Year: 2027, Month: 1, Day: 1}})
	wantReason(t, err, codes0(codesInvalid), apiv1.ErrorReason_STANDARD_CODE_NOT_ALLOWED) // a number the sequence will give out
	got := of(f.Svc.PublishStandard(ctx, stdtest.Chair, &standardsv1.PublishStandardRequest{Name: local.GetName(), Code: "DB12/T 1234—2026",
		EffectiveDate: &date.Date{Year: 2027, Month: 1, Day: 1}})).must(t)
	if got.GetCode() != "DB12/T 1234—2026" || got.GetCodeNumber() != 0 {
		t.Fatalf("given code: %v", got)
	}

	// Revise "one" next year: the revision keeps 001 with 2027.
	old := "branches/ai/standards/one"
	rev := of(f.Svc.ReviseStandard(ctx, stdtest.Chair, &standardsv1.ReviseStandardRequest{Name: old, Reason: "技术更新", RevisionId: "one-2027"})).must(t)
	if rev.GetState() != domain.Drafting || rev.GetRevises() != old {
		t.Fatalf("revision %v", rev)
	}
	again := of(f.Svc.ReviseStandard(ctx, stdtest.Chair, &standardsv1.ReviseStandardRequest{Name: old, Reason: "技术更新", RevisionId: "one-2027"})).must(t)
	if again.GetName() != rev.GetName() {
		t.Fatalf("a repeated revise gave %v", again)
	}
	if st := of(f.Svc.GetStandard(ctx, stdtest.Dan, old)).must(t); st.GetState() != domain.UnderRevision || st.GetRevisedBy() != rev.GetName() {
		t.Fatalf("revised: %v", st)
	}
	// Without a token the revision, being drafted, is not public: the
	// published version, public, does not name it.
	if st := of(f.Svc.GetStandard(ctx, stdtest.Anyone, old)).must(t); st.GetState() != domain.UnderRevision || st.GetRevisedBy() != "" {
		t.Fatalf("revised, without a token: %v", st)
	}
	f.Clock.Advance(60 * 24 * time.Hour) // into 2027
	of(f.Svc.CreateDraft(ctx, stdtest.Ann, rev.GetName(), &standardsv1.Draft{Version: "2027-征求意见稿", ContentUri: "https://x.example/r.pdf", Sha256: sha}, "", "")).must(t)
	openComment(t, f, rev.GetName())
	of(f.Svc.CloseStandardComment(ctx, stdtest.Ann, &standardsv1.CloseStandardCommentRequest{Name: rev.GetName()})).must(t)
	of(f.Svc.SubmitStandardForReview(ctx, stdtest.Ann, &standardsv1.SubmitStandardForReviewRequest{Name: rev.GetName()})).must(t)
	of(f.Svc.ConcludeStandardReview(ctx, stdtest.Chair, &standardsv1.ConcludeStandardReviewRequest{Name: rev.GetName(),
		Experts: []string{"专家乙"}, Conclusion: standardsv1.ReviewConclusion_REVIEW_CONCLUSION_PASS, Summary: "通过"})).must(t)
	of(f.Svc.ApproveStandard(ctx, stdtest.Chair, &standardsv1.ApproveStandardRequest{Name: rev.GetName(), Resolution: f.Resolutions.Approve(rev.GetName())})).must(t)
	pub := of(f.Svc.PublishStandard(ctx, stdtest.Chair, &standardsv1.PublishStandardRequest{Name: rev.GetName(), EffectiveDate: &date.Date{Year: 2027, Month: 3, Day: 1}})).must(t)
	if pub.GetCode() != "T/TJSIA 001—2027" || pub.GetCodeNumber() != 1 {
		t.Fatalf("revision published as %q", pub.GetCode())
	}
	if st := of(f.Svc.GetStandard(ctx, stdtest.Anyone, old)).must(t); st.GetState() != domain.Withdrawn || st.GetWithdrawEffectiveDate().GetMonth() != 3 {
		t.Fatalf("superseded: %v", st)
	}
	// The next new group standard continues the sequence: 003.
	three := propose(t, f, "three", standardsv1.StandardKind_STANDARD_KIND_GROUP_STANDARD)
	toApproved(t, f, three.GetName())
	if c := publish(t, f, three.GetName()).GetCode(); c != "T/TJSIA 003—2027" {
		t.Fatalf("third code %q", c)
	}
}

const (
	codesInvalid = iota
	codesExists
)

func codes0(which int) codes.Code {
	if which == codesExists {
		return codes.AlreadyExists
	}
	return codes.InvalidArgument
}

// TestWithdrawnRevisionReinstates: a revision given up puts the version in
// force back to PUBLISHED; withdrawal records its reason and date.
func TestWithdrawnRevisionReinstates(t *testing.T) {
	f, _ := fixture(t)
	st := propose(t, f, "base", standardsv1.StandardKind_STANDARD_KIND_GROUP_STANDARD)
	toApproved(t, f, st.GetName())
	publish(t, f, st.GetName())
	rev := of(f.Svc.ReviseStandard(ctx, stdtest.Chair, &standardsv1.ReviseStandardRequest{Name: st.GetName(), Reason: "更新"})).must(t)
	_, err := f.Svc.WithdrawStandard(ctx, stdtest.Ann, &standardsv1.WithdrawStandardRequest{Name: st.GetName(), Reason: "x"})
	wantReason(t, err, codes.PermissionDenied, apiv1.ErrorReason_PERMISSION_DENIED)
	w := of(f.Svc.WithdrawStandard(ctx, stdtest.Ann, &standardsv1.WithdrawStandardRequest{Name: rev.GetName(), Reason: "暂缓修订"})).must(t)
	if w.GetState() != domain.Withdrawn || w.GetWithdrawEffectiveDate().GetDay() != 25 || w.GetStateReason() != "暂缓修订" {
		t.Fatalf("withdrawn: %v", w)
	}
	back := of(f.Svc.GetStandard(ctx, stdtest.Anyone, st.GetName())).must(t)
	if back.GetState() != domain.Published || back.GetRevisedBy() != "" {
		t.Fatalf("after the revision was withdrawn: %v", back)
	}
	_, err = f.Svc.WithdrawStandard(ctx, stdtest.Chair, &standardsv1.WithdrawStandardRequest{Name: st.GetName(), Reason: "废止",
		EffectiveDate: &date.Date{Year: 2026, Month: 1, Day: 1}})
	wantReason(t, err, codes.InvalidArgument, apiv1.ErrorReason_INVALID_ARGUMENT)
	gone := of(f.Svc.WithdrawStandard(ctx, stdtest.Chair, &standardsv1.WithdrawStandardRequest{Name: st.GetName(), Reason: "废止",
		EffectiveDate: &date.Date{Year: 2027, Month: 6, Day: 30}})).must(t)
	if gone.GetState() != domain.Withdrawn || gone.GetWithdrawEffectiveDate().GetMonth() != 6 || gone.GetCode() == "" {
		t.Fatalf("废止: %v", gone)
	}
	if _, err := f.Svc.GetStandard(ctx, stdtest.Anyone, st.GetName()); err != nil {
		t.Fatalf("a withdrawn published standard stays public: %v", err)
	}
}

// TestConventionsAndTermination: ACTIVE unit members sign a published
// convention through their representative; a signature is withdrawn; when
// a member's branch membership ends it leaves the working groups of
// unpublished standards and its signatures lapse, once, with the reason.
func TestConventionsAndTermination(t *testing.T) {
	f, _ := fixture(t)
	conv := propose(t, f, "conv", standardsv1.StandardKind_STANDARD_KIND_SELF_DISCIPLINE_CONVENTION)
	toApproved(t, f, conv.GetName())
	pub := publish(t, f, conv.GetName())
	if pub.GetCode() != "TJSIA ZL 001—2026" {
		t.Fatalf("convention code %q", pub.GetCode())
	}
	_, err := f.Svc.CreateSignatory(ctx, stdtest.Ann, conv.GetName(), &standardsv1.Signatory{Member: stdtest.UnitB})
	wantReason(t, err, codes.PermissionDenied, apiv1.ErrorReason_PERMISSION_DENIED)
	_, err = f.Svc.CreateSignatory(ctx, stdtest.Admin, conv.GetName(), &standardsv1.Signatory{Member: stdtest.UnitC})
	wantReason(t, err, codes.FailedPrecondition, apiv1.ErrorReason_MEMBER_NOT_ACTIVE)
	a := of(f.Svc.CreateSignatory(ctx, stdtest.Ann, conv.GetName(), &standardsv1.Signatory{Member: stdtest.UnitA})).must(t)
	if again := of(f.Svc.CreateSignatory(ctx, stdtest.Ann, conv.GetName(), &standardsv1.Signatory{Member: stdtest.UnitA})).must(t); again.GetEtag() != a.GetEtag() {
		t.Fatalf("a repeated signature changed it: %v", again)
	}
	b := of(f.Svc.CreateSignatory(ctx, stdtest.Bob, conv.GetName(), &standardsv1.Signatory{Member: stdtest.UnitB})).must(t)
	of(f.Svc.WithdrawSignatory(ctx, stdtest.Bob, &standardsv1.WithdrawSignatoryRequest{Name: b.GetName(), Reason: "另行签署"})).must(t)
	of(f.Svc.CreateSignatory(ctx, stdtest.Bob, conv.GetName(), &standardsv1.Signatory{Member: stdtest.UnitB})).must(t)
	group := propose(t, f, "group", standardsv1.StandardKind_STANDARD_KIND_GROUP_STANDARD)
	_, err = f.Svc.CreateSignatory(ctx, stdtest.Admin, group.GetName(), &standardsv1.Signatory{Member: stdtest.UnitA})
	wantReason(t, err, codes.FailedPrecondition, apiv1.ErrorReason_NOT_SIGNABLE)

	f.Members.SetState(stdtest.UnitB, membershipv1.MemberState_MEMBER_STATE_TERMINATED)
	ev := &eventsv1.Envelope{Id: "e1", Payload: &eventsv1.Envelope_MemberTerminated{MemberTerminated: &eventsv1.MemberTerminated{
		Member: &membershipv1.Member{Name: stdtest.UnitB}, Reason: "会费未缴"}}}
	for range 2 {
		if err := f.Svc.HandleEvent(ctx, ev); err != nil {
			t.Fatal(err)
		}
	}
	g := of(f.Svc.GetStandard(ctx, stdtest.Admin, group.GetName())).must(t)
	if len(g.GetParticipatingUnits()) != 0 {
		t.Fatalf("terminated unit still on the working group: %v", g.GetParticipatingUnits())
	}
	if c := of(f.Svc.GetStandard(ctx, stdtest.Admin, conv.GetName())).must(t); len(c.GetParticipatingUnits()) != 1 {
		t.Fatalf("a published standard's record was rewritten: %v", c.GetParticipatingUnits())
	}
	sig := of(f.Svc.GetSignatory(ctx, stdtest.Admin, conv.GetName()+"/signatories/unit-b")).must(t)
	if sig.GetState() != standardsv1.SignatoryState_SIGNATORY_STATE_LAPSED || !strings.Contains(sig.GetWithdrawReason(), "会费未缴") {
		t.Fatalf("lapsed: %v", sig)
	}
	// A signing judged on a stale "ACTIVE" cannot land after the lapse.
	f.Members.SetState(stdtest.UnitB, membershipv1.MemberState_MEMBER_STATE_ACTIVE)
	_, err = f.Svc.CreateSignatory(ctx, stdtest.Bob, conv.GetName(), &standardsv1.Signatory{Member: stdtest.UnitB})
	wantReason(t, err, codes.FailedPrecondition, apiv1.ErrorReason_MEMBER_NOT_ACTIVE)
	list, _, err := f.Svc.ListSignatories(ctx, stdtest.Anyone, &standardsv1.ListSignatoriesRequest{Parent: conv.GetName(), State: standardsv1.SignatoryState_SIGNATORY_STATE_SIGNED})
	if err != nil || len(list) != 1 || list[0].GetMember() != stdtest.UnitA {
		t.Fatalf("signed: %v %v", list, err)
	}
}

// TestWhoSeesWhat: without a token, only what is public; members only on
// conventions' comments.
func TestWhoSeesWhat(t *testing.T) {
	f, _ := fixture(t)
	group := propose(t, f, "pub", standardsv1.StandardKind_STANDARD_KIND_GROUP_STANDARD)
	conv := propose(t, f, "conv", standardsv1.StandardKind_STANDARD_KIND_SELF_DISCIPLINE_CONVENTION)
	if _, err := f.Svc.GetStandard(ctx, stdtest.Anyone, group.GetName()); status.Code(err) != codes.NotFound {
		t.Fatalf("a proposal without a token: %v", err)
	}
	list, _, err := f.Svc.ListStandards(ctx, stdtest.Anyone, &standardsv1.ListStandardsRequest{Parent: "branches/ai"})
	if err != nil || len(list) != 0 {
		t.Fatalf("anonymous list %v %v", list, err)
	}
	for _, st := range []*standardsv1.Standard{group, conv} {
		of(f.Svc.ApproveStandardProposal(ctx, stdtest.Chair, &standardsv1.ApproveStandardProposalRequest{Name: st.GetName()})).must(t)
		draft(t, f, st.GetName(), "0.1")
		openComment(t, f, st.GetName())
	}
	if _, err := f.Svc.CreateComment(ctx, stdtest.Anyone, group.GetName(), &standardsv1.Comment{Clause: "1", Text: "公众意见", CommenterName: "王五"}, ""); err != nil {
		t.Fatalf("public comment on a group standard: %v", err)
	}
	_, err = f.Svc.CreateComment(ctx, stdtest.Anyone, group.GetName(), &standardsv1.Comment{Clause: "1", Text: "匿名"}, "")
	wantReason(t, err, codes.InvalidArgument, apiv1.ErrorReason_INVALID_ARGUMENT)
	// A convention out for its members' comment is not public: without a
	// token it is NOT_FOUND, as a missing one (a token is asked for only
	// of what the caller can see).
	_, err = f.Svc.CreateComment(ctx, stdtest.Anyone, conv.GetName(), &standardsv1.Comment{Clause: "1", Text: "x", CommenterName: "王五"}, "")
	wantReason(t, err, codes.NotFound, apiv1.ErrorReason_NOT_FOUND)
	_, err = f.Svc.CreateComment(ctx, stdtest.Dan, conv.GetName(), &standardsv1.Comment{Clause: "1", Text: "x"}, "")
	wantReason(t, err, codes.PermissionDenied, apiv1.ErrorReason_NOT_A_MEMBER)
	of(f.Svc.CreateComment(ctx, stdtest.Ivy, conv.GetName(), &standardsv1.Comment{Clause: "1", Text: "个人会员意见"}, "")).must(t)
	if _, _, err := f.Svc.ListComments(ctx, stdtest.Anyone, &standardsv1.ListCommentsRequest{Parent: group.GetName()}); err != nil {
		t.Fatalf("public comments: %v", err)
	}
	_, _, err = f.Svc.ListComments(ctx, stdtest.Anyone, &standardsv1.ListCommentsRequest{Parent: conv.GetName()})
	wantReason(t, err, codes.NotFound, apiv1.ErrorReason_NOT_FOUND)
	// The period ends by the clock even before it is closed.
	f.Clock.Advance(31 * 24 * time.Hour)
	_, err = f.Svc.CreateComment(ctx, stdtest.Bob, group.GetName(), &standardsv1.Comment{Clause: "1", Text: "late"}, "")
	wantReason(t, err, codes.FailedPrecondition, apiv1.ErrorReason_COMMENT_PERIOD_CLOSED)
	// Updates: the working group edits; the kind changes only while
	// proposed, unless those who run the branch change it.
	_, err = f.Svc.UpdateStandard(ctx, auth.Principal{Subject: "people/wg"}, &standardsv1.Standard{Name: group.GetName(), Kind: standardsv1.StandardKind_STANDARD_KIND_AGREEMENT},
		&fieldmaskpb.FieldMask{Paths: []string{"kind"}})
	wantReason(t, err, codes.PermissionDenied, apiv1.ErrorReason_PERMISSION_DENIED)
	up := of(f.Svc.UpdateStandard(ctx, auth.Principal{Subject: "people/wg"}, &standardsv1.Standard{Name: group.GetName(), Scope: "适用于标注服务"},
		&fieldmaskpb.FieldMask{Paths: []string{"scope"}})).must(t)
	if up.GetScope() != "适用于标注服务" {
		t.Fatalf("update %v", up)
	}
}

// TestGovernanceIsAskedOnlyBeforeARefusal: the branch directory answers
// who leads and who sits on the council; governance itself is asked only
// when that answer would refuse someone. A chair it appointed a moment ago,
// whom the directory has not heard of, is let through; a stranger is
// refused after asking it once.
func TestGovernanceIsAskedOnlyBeforeARefusal(t *testing.T) {
	f, _ := fixture(t)
	st := propose(t, f, "asked", standardsv1.StandardKind_STANDARD_KIND_GROUP_STANDARD)
	of(f.Svc.ApproveStandardProposal(ctx, stdtest.Director, &standardsv1.ApproveStandardProposalRequest{Name: st.GetName()})).must(t)
	draft(t, f, st.GetName(), "v1") // Ann, the lead unit's representative, edits
	if n := f.Governance.Asked(); n != 0 {
		t.Fatalf("governance asked %d times for callers the directory lets through, want 0", n)
	}
	f.Governance.Appoint("people/new-chair")
	if _, err := f.Svc.CreateStandard(ctx, auth.Principal{Subject: "people/new-chair"}, "branches/ai", &standardsv1.Standard{
		Kind: standardsv1.StandardKind_STANDARD_KIND_GROUP_STANDARD, Title: "人工智能 新任理事长提出的标准", LeadUnit: stdtest.UnitA}, "by-new-chair"); err != nil {
		t.Fatalf("a chair governance appointed a moment ago: %v", err)
	}
	if n := f.Governance.Asked(); n != 1 {
		t.Fatalf("governance asked %d times, want once, before what would have been a refusal", n)
	}
	_, err := f.Svc.CreateStandard(ctx, auth.Principal{Subject: "people/stranger"}, "branches/ai", &standardsv1.Standard{
		Kind: standardsv1.StandardKind_STANDARD_KIND_GROUP_STANDARD, Title: "人工智能 外人提出的标准", LeadUnit: stdtest.UnitA}, "by-stranger")
	wantReason(t, err, codes.PermissionDenied, apiv1.ErrorReason_PERMISSION_DENIED)
	if n := f.Governance.Asked(); n != 2 {
		t.Fatalf("governance asked %d times, want a second time for the stranger's refusal", n)
	}
}
