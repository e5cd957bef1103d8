package server_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/type/date"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/types/known/fieldmaskpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/tjsia/chapterhouse/platform/auth"
	"github.com/tjsia/chapterhouse/platform/i18n"
	"github.com/tjsia/chapterhouse/platform/servicetest"
	governancev1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/governance/v1"
	standardsv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/standards/v1"

	"github.com/tjsia/chapterhouse/services/standards/internal/stdtest"
)

// fact is what a refusal's text must name in every language
// (servicetest.Fact).
type fact = servicetest.Fact

var (
	literal = servicetest.Literal
	term    = servicetest.Term
)

// TestRefusalsInBothLanguages holds the promise that every refusal of
// standards a person reads says the same facts in zh-CN and in en: each
// is called through the real gRPC path (the server's interceptors render
// it for the caller's accept-language), in zh-CN and in en, and each
// language's text (its google.rpc.LocalizedMessage, every charter
// violation's and every field violation's) must name every fact, each term
// in its own language, with none of the service's enum values spelt as
// code; the zh-CN texts are Chinese, the en one the status message.
// Charter refusals (S1) carry every rule they break, by its code, and one
// violation per unit.
func TestRefusalsInBothLanguages(t *testing.T) {
	served := serve(t)
	f, srv, c := served.f, served.srv, served.c
	svc, ctx := f.Svc, context.Background()
	as := func(p auth.Principal) context.Context { return srv.As(t, p.Subject, p.Roles...) }
	const sha = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
	group := standardsv1.StandardKind_STANDARD_KIND_GROUP_STANDARD
	local := standardsv1.StandardKind_STANDARD_KIND_LOCAL_INDUSTRY_STANDARD
	convention := standardsv1.StandardKind_STANDARD_KIND_SELF_DISCIPLINE_CONVENTION
	propose := func(id string, kind standardsv1.StandardKind) string {
		return must(svc.CreateStandard(ctx, stdtest.Ann, "branches/ai", &standardsv1.Standard{Kind: kind, Title: "标准 " + id,
			LeadUnit: stdtest.UnitA, ParticipatingUnits: []string{stdtest.UnitB}}, id))(t).GetName()
	}
	addDraft := func(name, id string) string {
		return must(svc.CreateDraft(ctx, stdtest.Ann, name, &standardsv1.Draft{Version: id, ContentUri: "https://x.example/" + id + ".pdf", Sha256: sha}, "", id))(t).GetName()
	}
	openFor := func(name string, d time.Duration) {
		must(svc.OpenStandardComment(ctx, stdtest.Ann, &standardsv1.OpenStandardCommentRequest{Name: name,
			CommentEndTime: timestamppb.New(f.Clock.Now().Add(d))}))(t)
	}
	closeComment := func(name string) {
		must(svc.CloseStandardComment(ctx, stdtest.Ann, &standardsv1.CloseStandardCommentRequest{Name: name}))(t)
	}
	comment := func(name, id string) string {
		return must(svc.CreateComment(ctx, stdtest.Bob, name, &standardsv1.Comment{Clause: "1", Text: "意见"}, id))(t).GetName()
	}
	dispose := func(comment string) {
		must(svc.DisposeComment(ctx, stdtest.Ann, &standardsv1.DisposeCommentRequest{Name: comment,
			Disposition: standardsv1.Disposition_DISPOSITION_ACCEPTED, Reason: "采纳"}))(t)
	}
	review := func(name string, conclusion standardsv1.ReviewConclusion) {
		must(svc.SubmitStandardForReview(ctx, stdtest.Ann, &standardsv1.SubmitStandardForReviewRequest{Name: name}))(t)
		must(svc.ConcludeStandardReview(ctx, stdtest.Chair, &standardsv1.ConcludeStandardReviewRequest{Name: name, Experts: []string{"专家"},
			Conclusion: conclusion, Summary: "结论"}))(t)
	}
	day := &date.Date{Year: 2027, Month: 1, Day: 1}
	publish := func(name, code string) {
		must(svc.ApproveStandard(ctx, stdtest.Chair, &standardsv1.ApproveStandardRequest{Name: name, Resolution: f.Resolutions.Approve(name)}))(t)
		must(svc.PublishStandard(ctx, stdtest.Chair, &standardsv1.PublishStandardRequest{Name: name, Code: code, EffectiveDate: day}))(t)
	}
	toPublished := func(name, code string) {
		must(svc.ApproveStandardProposal(ctx, stdtest.Chair, &standardsv1.ApproveStandardProposalRequest{Name: name}))(t)
		addDraft(name, "d1")
		openFor(name, 30*24*time.Hour)
		closeComment(name)
		review(name, standardsv1.ReviewConclusion_REVIEW_CONCLUSION_PASS)
		publish(name, code)
	}

	// A proposal; a standard being drafted without a draft; one out for
	// comment with a comment undisposed; one returned for revision, whose
	// second draft is under review; one whose comment period ended by the
	// clock; a comment of an earlier period; a convention out for its
	// members' comment; a published convention, and a published local
	// standard holding a code.
	proposed := propose("proposed", group)
	bare := propose("bare", group)
	must(svc.ApproveStandardProposal(ctx, stdtest.Chair, &standardsv1.ApproveStandardProposalRequest{Name: bare}))(t)
	open := propose("open", group)
	must(svc.ApproveStandardProposal(ctx, stdtest.Chair, &standardsv1.ApproveStandardProposalRequest{Name: open}))(t)
	openDraft := addDraft(open, "d1")
	openFor(open, 30*24*time.Hour)
	undisposed := comment(open, "c1")
	revised := propose("revised", group)
	must(svc.ApproveStandardProposal(ctx, stdtest.Chair, &standardsv1.ApproveStandardProposalRequest{Name: revised}))(t)
	firstDraft := addDraft(revised, "d1")
	openFor(revised, 30*24*time.Hour)
	earlier := comment(revised, "c1")
	dispose(earlier)
	closeComment(revised)
	review(revised, standardsv1.ReviewConclusion_REVIEW_CONCLUSION_REVISE)
	secondDraft := addDraft(revised, "d2")
	openFor(revised, 30*24*time.Hour)
	closeComment(revised)
	must(svc.SubmitStandardForReview(ctx, stdtest.Ann, &standardsv1.SubmitStandardForReviewRequest{Name: revised}))(t)
	again := propose("again", group)
	must(svc.ApproveStandardProposal(ctx, stdtest.Chair, &standardsv1.ApproveStandardProposalRequest{Name: again}))(t)
	againFirst := addDraft(again, "d1")
	openFor(again, 30*24*time.Hour)
	old := comment(again, "c1")
	dispose(old)
	closeComment(again)
	againSecond := addDraft(again, "d2")
	openFor(again, 30*24*time.Hour)
	ended := propose("ended", group)
	must(svc.ApproveStandardProposal(ctx, stdtest.Chair, &standardsv1.ApproveStandardProposalRequest{Name: ended}))(t)
	addDraft(ended, "d1")
	openFor(ended, time.Hour)
	endedAt := f.Clock.Now().Add(time.Hour).In(time.FixedZone("CST", 8*3600)).Format(time.RFC3339)
	members := propose("members", convention)
	must(svc.ApproveStandardProposal(ctx, stdtest.Chair, &standardsv1.ApproveStandardProposalRequest{Name: members}))(t)
	addDraft(members, "d1")
	openFor(members, 30*24*time.Hour)
	conv := propose("conv", convention)
	toPublished(conv, "")
	held := propose("held", local)
	toPublished(held, "DB12/T 1234—2026")
	next := propose("next", local)
	must(svc.ApproveStandardProposal(ctx, stdtest.Chair, &standardsv1.ApproveStandardProposalRequest{Name: next}))(t)
	addDraft(next, "d1")
	openFor(next, 30*24*time.Hour)
	closeComment(next)
	review(next, standardsv1.ReviewConclusion_REVIEW_CONCLUSION_PASS)
	must(svc.ApproveStandard(ctx, stdtest.Chair, &standardsv1.ApproveStandardRequest{Name: next, Resolution: f.Resolutions.Approve(next)}))(t)
	numbered := propose("numbered", group)
	must(svc.ApproveStandardProposal(ctx, stdtest.Chair, &standardsv1.ApproveStandardProposalRequest{Name: numbered}))(t)
	addDraft(numbered, "d1")
	openFor(numbered, 30*24*time.Hour)
	closeComment(numbered)
	review(numbered, standardsv1.ReviewConclusion_REVIEW_CONCLUSION_PASS)
	must(svc.ApproveStandard(ctx, stdtest.Chair, &standardsv1.ApproveStandardRequest{Name: numbered, Resolution: f.Resolutions.Approve(numbered)}))(t)
	other := "branches/ai/resolutions/other-approval"
	f.Resolutions.Put(&governancev1.Resolution{Name: other, State: governancev1.ResolutionState_RESOLUTION_STATE_PASSED,
		Kind: governancev1.ResolutionKind_RESOLUTION_KIND_STANDARD_APPROVAL, Standard: conv})
	f.Clock.Advance(2 * time.Hour) // ended's period is over
	today := f.Clock.Now().In(time.FixedZone("CST", 8*3600)).Format(time.DateOnly)

	const nobody = "branches/ai/members/nobody"
	tests := []struct {
		name   string
		caller auth.Principal
		call   func(context.Context) error
		code   codes.Code
		// rules are the charter rules broken, by code; subjects the
		// violations' reasons, in order.
		rules    []string
		subjects []string
		facts    []fact
	}{
		{"S1: every unit that is not an active unit member, with what it is", stdtest.Admin, func(ctx context.Context) error {
			_, err := c.CreateStandard(ctx, &standardsv1.CreateStandardRequest{Parent: "branches/ai", Standard: &standardsv1.Standard{Kind: group,
				Title: "标题", LeadUnit: stdtest.UnitC, ParticipatingUnits: []string{stdtest.UnitT, stdtest.IvyM, nobody}}})
			return err
		}, codes.FailedPrecondition, []string{"S1"},
			[]string{"UNIT_NOT_ACTIVE_MEMBER", "UNIT_NOT_ACTIVE_MEMBER", "UNIT_NOT_ACTIVE_MEMBER", "UNIT_NOT_ACTIVE_MEMBER"},
			[]fact{literal(stdtest.UnitC), term("MEMBER_STATE_SUSPENDED"), literal(stdtest.UnitT), term("MEMBER_STATE_TERMINATED"),
				literal(stdtest.IvyM), literal(nobody)}},
		{"S1: a unit an update adds", stdtest.Ann, func(ctx context.Context) error {
			_, err := c.UpdateStandard(ctx, &standardsv1.UpdateStandardRequest{Standard: &standardsv1.Standard{Name: proposed,
				ParticipatingUnits: []string{stdtest.UnitB, stdtest.UnitC}}, UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"participating_units"}}})
			return err
		}, codes.FailedPrecondition, []string{"S1"}, []string{"UNIT_NOT_ACTIVE_MEMBER"},
			[]fact{literal(stdtest.UnitC), term("MEMBER_STATE_SUSPENDED")}},

		{"an action the state forbids, and what it allows", stdtest.Ann, func(ctx context.Context) error {
			_, err := c.OpenStandardComment(ctx, &standardsv1.OpenStandardCommentRequest{Name: proposed,
				CommentEndTime: timestamppb.New(f.Clock.Now().Add(time.Hour))})
			return err
		}, codes.FailedPrecondition, nil, nil, []fact{literal(proposed), term("STANDARD_STATE_PROPOSED"), term("openComment"),
			term("approveProposal"), term("reject"), term("update"), term("withdraw")}},
		{"a draft in a state that takes none", stdtest.Ann, func(ctx context.Context) error {
			_, err := c.CreateDraft(ctx, &standardsv1.CreateDraftRequest{Parent: proposed, Draft: &standardsv1.Draft{Version: "x",
				ContentUri: "https://x.example/x.pdf", Sha256: sha}})
			return err
		}, codes.FailedPrecondition, nil, nil, []fact{literal(proposed), term("STANDARD_STATE_PROPOSED"), term("createDraft")}},
		{"public comment without a draft", stdtest.Ann, func(ctx context.Context) error {
			_, err := c.OpenStandardComment(ctx, &standardsv1.OpenStandardCommentRequest{Name: bare,
				CommentEndTime: timestamppb.New(f.Clock.Now().Add(time.Hour))})
			return err
		}, codes.FailedPrecondition, nil, nil, []fact{literal(bare)}},
		{"review without a comment period", stdtest.Ann, func(ctx context.Context) error {
			_, err := c.SubmitStandardForReview(ctx, &standardsv1.SubmitStandardForReviewRequest{Name: bare})
			return err
		}, codes.FailedPrecondition, nil, nil, []fact{literal(bare)}},
		{"closing with a comment undisposed", stdtest.Ann, func(ctx context.Context) error {
			_, err := c.CloseStandardComment(ctx, &standardsv1.CloseStandardCommentRequest{Name: open})
			return err
		}, codes.FailedPrecondition, nil, nil, []fact{literal(open), literal("1"), literal(undisposed), literal(openDraft)}},
		{"a comment while the standard is being drafted", stdtest.Bob, func(ctx context.Context) error {
			_, err := c.CreateComment(ctx, &standardsv1.CreateCommentRequest{Parent: bare, Comment: &standardsv1.Comment{Clause: "1", Text: "x"}})
			return err
		}, codes.FailedPrecondition, nil, nil, []fact{literal(bare), term("STANDARD_STATE_DRAFTING")}},
		{"a comment after the period ended", stdtest.Bob, func(ctx context.Context) error {
			_, err := c.CreateComment(ctx, &standardsv1.CreateCommentRequest{Parent: ended, Comment: &standardsv1.Comment{Clause: "1", Text: "x"}})
			return err
		}, codes.FailedPrecondition, nil, nil, []fact{literal(ended), literal(endedAt)}},
		{"a disposition of an earlier period's comment", stdtest.Ann, func(ctx context.Context) error {
			_, err := c.DisposeComment(ctx, &standardsv1.DisposeCommentRequest{Name: old, Disposition: standardsv1.Disposition_DISPOSITION_NOT_ACCEPTED, Reason: "x"})
			return err
		}, codes.FailedPrecondition, nil, nil, []fact{literal(old), literal(againFirst), literal(againSecond)}},
		{"approval without a passing review of the draft under review", stdtest.Chair, func(ctx context.Context) error {
			_, err := c.ApproveStandard(ctx, &standardsv1.ApproveStandardRequest{Name: revised, Resolution: f.Resolutions.Approve(revised)})
			return err
		}, codes.FailedPrecondition, nil, nil, []fact{literal(revised), literal(secondDraft), literal(firstDraft), term("REVIEW_CONCLUSION_REVISE")}},
		{"approval on another standard's resolution", stdtest.Chair, func(ctx context.Context) error {
			_, err := c.ApproveStandard(ctx, &standardsv1.ApproveStandardRequest{Name: revised, Resolution: other})
			return err
		}, codes.FailedPrecondition, nil, nil, []fact{literal(other), literal(revised), literal(conv), term("RESOLUTION_STATE_PASSED"),
			term("RESOLUTION_KIND_STANDARD_APPROVAL")}},
		{"a project taken on by a failed resolution", stdtest.Chair, func(ctx context.Context) error {
			_, err := c.ApproveStandardProposal(ctx, &standardsv1.ApproveStandardProposalRequest{Name: proposed, Resolution: stdtest.Failed})
			return err
		}, codes.FailedPrecondition, nil, nil, []fact{literal(stdtest.Failed), literal(proposed), term("RESOLUTION_STATE_FAILED")}},
		{"a draft version twice", stdtest.Ann, func(ctx context.Context) error {
			_, err := c.CreateDraft(ctx, &standardsv1.CreateDraftRequest{Parent: bare, Draft: &standardsv1.Draft{Version: "征求意见稿",
				ContentUri: "https://x.example/a.pdf", Sha256: sha}})
			if err != nil {
				return err
			}
			_, err = c.CreateDraft(ctx, &standardsv1.CreateDraftRequest{Parent: bare, Draft: &standardsv1.Draft{Version: "征求意见稿",
				ContentUri: "https://x.example/b.pdf", Sha256: sha}})
			return err
		}, codes.AlreadyExists, nil, nil, []fact{literal(bare), literal("征求意见稿")}},

		{"a group standard is not signed", stdtest.Admin, func(ctx context.Context) error {
			_, err := c.CreateSignatory(ctx, &standardsv1.CreateSignatoryRequest{Parent: open, Signatory: &standardsv1.Signatory{Member: stdtest.UnitA}})
			return err
		}, codes.FailedPrecondition, nil, nil, []fact{literal(open), term("STANDARD_KIND_GROUP_STANDARD")}},
		{"a convention not in force is not signed", stdtest.Admin, func(ctx context.Context) error {
			_, err := c.CreateSignatory(ctx, &standardsv1.CreateSignatoryRequest{Parent: members, Signatory: &standardsv1.Signatory{Member: stdtest.UnitA}})
			return err
		}, codes.FailedPrecondition, nil, nil, []fact{literal(members), term("STANDARD_STATE_PUBLIC_COMMENT")}},
		{"a suspended unit does not sign", stdtest.Admin, func(ctx context.Context) error {
			_, err := c.CreateSignatory(ctx, &standardsv1.CreateSignatoryRequest{Parent: conv, Signatory: &standardsv1.Signatory{Member: stdtest.UnitC}})
			return err
		}, codes.FailedPrecondition, nil, nil, []fact{literal(stdtest.UnitC), literal(conv), term("MEMBER_STATE_SUSPENDED")}},
		{"an individual member does not sign", stdtest.Admin, func(ctx context.Context) error {
			_, err := c.CreateSignatory(ctx, &standardsv1.CreateSignatoryRequest{Parent: conv, Signatory: &standardsv1.Signatory{Member: stdtest.IvyM}})
			return err
		}, codes.FailedPrecondition, nil, nil, []fact{literal(stdtest.IvyM), literal(conv)}},

		{"a code for a kind the branch numbers", stdtest.Chair, func(ctx context.Context) error {
			_, err := c.PublishStandard(ctx, &standardsv1.PublishStandardRequest{Name: numbered, Code: "T/TJSIA 999—2026", EffectiveDate: day})
			return err
		}, codes.InvalidArgument, nil, nil, []fact{literal("T/TJSIA 999—2026"), literal("T/TJSIA {NNN}—{YYYY}"), term("STANDARD_KIND_GROUP_STANDARD")}},
		{"no code for a kind the branch does not number", stdtest.Chair, func(ctx context.Context) error {
			_, err := c.PublishStandard(ctx, &standardsv1.PublishStandardRequest{Name: next, EffectiveDate: day})
			return err
		}, codes.InvalidArgument, nil, nil, []fact{term("STANDARD_KIND_LOCAL_INDUSTRY_STANDARD")}},
		{"a code in the form of the branch's numbering", stdtest.Chair, func(ctx context.Context) error {
			_, err := c.PublishStandard(ctx, &standardsv1.PublishStandardRequest{Name: next, Code: "T/TJSIA 003—2026", EffectiveDate: day})
			return err
		}, codes.InvalidArgument, nil, nil, []fact{literal("T/TJSIA 003—2026"), literal("T/TJSIA {NNN}—{YYYY}")}},
		{"a code with a look-alike letter", stdtest.Chair, func(ctx context.Context) error {
			_, err := c.PublishStandard(ctx, &standardsv1.PublishStandardRequest{Name: next, Code: "DB12/Т 1—2026", EffectiveDate: day})
			return err
		}, codes.InvalidArgument, nil, nil, []fact{literal("DB12/Т 1—2026"), literal("Т"), literal("U+0422")}},
		{"a code too long once normalised", stdtest.Chair, func(ctx context.Context) error {
			_, err := c.PublishStandard(ctx, &standardsv1.PublishStandardRequest{Name: next, Code: strings.Repeat("⒇", 20), EffectiveDate: day})
			return err
		}, codes.InvalidArgument, nil, nil, []fact{literal("80"), literal("60")}},
		{"a code another standard holds", stdtest.Chair, func(ctx context.Context) error {
			_, err := c.PublishStandard(ctx, &standardsv1.PublishStandardRequest{Name: next, Code: "db12/t 1234-2026", EffectiveDate: day})
			return err
		}, codes.AlreadyExists, nil, nil, []fact{literal("db12/t 1234-2026"), literal(held)}},

		{"a convention takes its members' comments", stdtest.Dan, func(ctx context.Context) error {
			_, err := c.CreateComment(ctx, &standardsv1.CreateCommentRequest{Parent: members, Comment: &standardsv1.Comment{Clause: "1", Text: "x"}})
			return err
		}, codes.PermissionDenied, nil, nil, []fact{literal(members), term("STANDARD_KIND_SELF_DISCIPLINE_CONVENTION")}},
		{"a convention's comments are read signed in", stdtest.Anyone, func(ctx context.Context) error {
			_, err := c.ListComments(ctx, &standardsv1.ListCommentsRequest{Parent: conv})
			return err
		}, codes.Unauthenticated, nil, nil, []fact{literal(conv), term("STANDARD_KIND_SELF_DISCIPLINE_CONVENTION")}},
		{"a convention is commented on signed in", stdtest.Anyone, func(ctx context.Context) error {
			_, err := c.CreateComment(ctx, &standardsv1.CreateCommentRequest{Parent: conv, Comment: &standardsv1.Comment{Clause: "1", Text: "x",
				CommenterName: "公众"}})
			return err
		}, codes.Unauthenticated, nil, nil, []fact{literal(conv), term("STANDARD_KIND_SELF_DISCIPLINE_CONVENTION")}},

		{"the council decides", stdtest.Bob, func(ctx context.Context) error {
			_, err := c.ApproveStandardProposal(ctx, &standardsv1.ApproveStandardProposalRequest{Name: proposed})
			return err
		}, codes.PermissionDenied, nil, nil, []fact{literal(proposed), term("approveProposal")}},
		{"the editors open comment", stdtest.Dan, func(ctx context.Context) error {
			_, err := c.OpenStandardComment(ctx, &standardsv1.OpenStandardCommentRequest{Name: bare,
				CommentEndTime: timestamppb.New(f.Clock.Now().Add(time.Hour))})
			return err
		}, codes.PermissionDenied, nil, nil, []fact{literal(bare), term("openComment")}},
		{"the editors add drafts", stdtest.Dan, func(ctx context.Context) error {
			_, err := c.CreateDraft(ctx, &standardsv1.CreateDraftRequest{Parent: bare, Draft: &standardsv1.Draft{Version: "y",
				ContentUri: "https://x.example/y.pdf", Sha256: sha}})
			return err
		}, codes.PermissionDenied, nil, nil, []fact{literal(bare)}},
		{"those who run the branch publish", stdtest.Director, func(ctx context.Context) error {
			_, err := c.PublishStandard(ctx, &standardsv1.PublishStandardRequest{Name: next, EffectiveDate: day})
			return err
		}, codes.PermissionDenied, nil, nil, []fact{literal(next), term("publish")}},
		{"a proposal is the lead unit's", stdtest.Dan, func(ctx context.Context) error {
			_, err := c.CreateStandard(ctx, &standardsv1.CreateStandardRequest{Parent: "branches/ai", Standard: &standardsv1.Standard{Kind: group,
				Title: "标题", LeadUnit: stdtest.UnitA}})
			return err
		}, codes.PermissionDenied, nil, nil, []fact{literal("branches/ai"), literal(stdtest.UnitA)}},
		{"past drafting, withdrawal is the branch's", stdtest.Ann, func(ctx context.Context) error {
			_, err := c.WithdrawStandard(ctx, &standardsv1.WithdrawStandardRequest{Name: conv, Reason: "x"})
			return err
		}, codes.PermissionDenied, nil, nil, []fact{literal(conv), term("STANDARD_STATE_PUBLISHED")}},
		{"a unit signs through its representative", stdtest.Dan, func(ctx context.Context) error {
			_, err := c.CreateSignatory(ctx, &standardsv1.CreateSignatoryRequest{Parent: conv, Signatory: &standardsv1.Signatory{Member: stdtest.UnitB}})
			return err
		}, codes.PermissionDenied, nil, nil, []fact{literal(stdtest.UnitB), literal(conv)}},

		{"fields: every one, with its facts", stdtest.Admin, func(ctx context.Context) error {
			_, err := c.CreateStandard(ctx, &standardsv1.CreateStandardRequest{Parent: "branches/ai", Standard: &standardsv1.Standard{
				LeadUnit: stdtest.UnitA, ParticipatingUnits: []string{stdtest.UnitA, "branches/other/members/m"}, WorkingGroup: []string{"wang"}}})
			return err
		}, codes.InvalidArgument, nil, nil, []fact{literal("standard.kind"), term("STANDARD_KIND_GROUP_STANDARD"), term("STANDARD_KIND_AGREEMENT"),
			literal("standard.title"), literal("standard.participating_units[0]"), literal(stdtest.UnitA),
			literal("branches/other/members/m"), literal("branches/ai/members/{member}"), literal("wang"), literal("people/{person}")}},
		{"a withdrawal dated in the past", stdtest.Chair, func(ctx context.Context) error {
			_, err := c.WithdrawStandard(ctx, &standardsv1.WithdrawStandardRequest{Name: conv, Reason: "x", EffectiveDate: &date.Date{Year: 2026, Month: 1, Day: 2}})
			return err
		}, codes.InvalidArgument, nil, nil, []fact{literal("effective_date"), literal("2026-01-02"), literal(today)}},
		{"a comment period ending in the past", stdtest.Ann, func(ctx context.Context) error {
			_, err := c.OpenStandardComment(ctx, &standardsv1.OpenStandardCommentRequest{Name: bare,
				CommentEndTime: timestamppb.New(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))})
			return err
		}, codes.InvalidArgument, nil, nil, []fact{literal("comment_end_time"), literal("2026-01-02T11:04:05+08:00"),
			literal(f.Clock.Now().In(time.FixedZone("CST", 8*3600)).Format(time.RFC3339))}},
		{"update mask: what no update changes", stdtest.Admin, func(ctx context.Context) error {
			_, err := c.UpdateStandard(ctx, &standardsv1.UpdateStandardRequest{Standard: &standardsv1.Standard{Name: proposed},
				UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"state", "code", "name"}}})
			return err
		}, codes.InvalidArgument, nil, nil, []fact{literal("update_mask"), literal("state"), literal("code"), literal("name")}},
		{"an unknown branch", stdtest.Anyone, func(ctx context.Context) error {
			_, err := c.GetStandard(ctx, &standardsv1.GetStandardRequest{Name: "branches/nope/standards/x"})
			return err
		}, codes.NotFound, nil, nil, []fact{literal("branches/nope")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			said := servicetest.RefusedInEveryLanguage(t, as(tt.caller), tt.call, servicetest.Refusal{Code: tt.code, Rules: tt.rules, Subjects: tt.subjects, Facts: tt.facts})
			t.Logf("en:    %s", said[i18n.English])
			t.Logf("zh-CN: %s", said[i18n.Chinese])
		})
	}
}
