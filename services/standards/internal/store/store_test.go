package store_test

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/type/date"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/tjsia/chapterhouse/platform/apierr"
	"github.com/tjsia/chapterhouse/platform/redistest"
	apiv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/api/v1"
	eventsv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/events/v1"
	standardsv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/standards/v1"

	"github.com/tjsia/chapterhouse/contracts/standards/streams"
	"github.com/tjsia/chapterhouse/services/standards/internal/domain"
	"github.com/tjsia/chapterhouse/services/standards/internal/stdtest"
)

var ctx = context.Background()

const sha = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"

func fixture(t *testing.T) *stdtest.Fixture {
	t.Helper()
	rdb := redistest.Start(t).Client()
	t.Cleanup(func() { rdb.Close() })
	return stdtest.New(t, rdb)
}

func ok(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// proposeWithDraft proposes a group standard and takes it to DRAFTING with
// one draft.
func proposeWithDraft(t *testing.T, f *stdtest.Fixture, id string) string {
	t.Helper()
	st, err := f.Svc.CreateStandard(ctx, stdtest.Admin, "branches/ai", &standardsv1.Standard{
		Kind: standardsv1.StandardKind_STANDARD_KIND_GROUP_STANDARD, Title: "标准 " + id, LeadUnit: stdtest.UnitA}, id)
	ok(t, err)
	_, err = f.Svc.ApproveStandardProposal(ctx, stdtest.Admin, &standardsv1.ApproveStandardProposalRequest{Name: st.GetName()})
	ok(t, err)
	_, err = f.Svc.CreateDraft(ctx, stdtest.Admin, st.GetName(), &standardsv1.Draft{Version: "0.1", ContentUri: "https://x.example/a.pdf", Sha256: sha}, "", "")
	ok(t, err)
	return st.GetName()
}

func open(t *testing.T, f *stdtest.Fixture, name string) {
	t.Helper()
	_, err := f.Svc.OpenStandardComment(ctx, stdtest.Admin, &standardsv1.OpenStandardCommentRequest{Name: name,
		CommentEndTime: timestamppb.New(stdtest.Start.Add(24 * time.Hour))})
	ok(t, err)
}

// TestConcurrentPublicationsNumberWithoutGaps (S1): standards published at
// the same moment get distinct, consecutive codes, and the sequence ends
// at their count.
func TestConcurrentPublicationsNumberWithoutGaps(t *testing.T) {
	f := fixture(t)
	const n = 12
	var names []string
	for i := range n {
		name := proposeWithDraft(t, f, fmt.Sprintf("std-%02d", i))
		open(t, f, name)
		_, err := f.Svc.CloseStandardComment(ctx, stdtest.Admin, &standardsv1.CloseStandardCommentRequest{Name: name})
		ok(t, err)
		_, err = f.Svc.SubmitStandardForReview(ctx, stdtest.Admin, &standardsv1.SubmitStandardForReviewRequest{Name: name})
		ok(t, err)
		_, err = f.Svc.ConcludeStandardReview(ctx, stdtest.Admin, &standardsv1.ConcludeStandardReviewRequest{Name: name,
			Experts: []string{"专家"}, Conclusion: standardsv1.ReviewConclusion_REVIEW_CONCLUSION_PASS, Summary: "通过"})
		ok(t, err)
		_, err = f.Svc.ApproveStandard(ctx, stdtest.Admin, &standardsv1.ApproveStandardRequest{Name: name, Resolution: f.Resolutions.Approve(name)})
		ok(t, err)
		names = append(names, name)
	}
	codes := make([]string, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i, name := range names {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			st, err := f.Svc.PublishStandard(ctx, stdtest.Admin, &standardsv1.PublishStandardRequest{Name: name,
				EffectiveDate: &date.Date{Year: 2027, Month: 1, Day: 1}})
			codes[i], errs[i] = st.GetCode(), err
		}()
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("publication %d: %v", i, err)
		}
	}
	sort.Strings(codes)
	for i, c := range codes {
		if want := fmt.Sprintf("T/TJSIA %03d—2026", i+1); c != want {
			t.Fatalf("codes %v: position %d is %q, want %q (distinct, consecutive)", codes, i, c, want)
		}
	}
	seq, err := f.Store.Sequence(ctx, "ai", standardsv1.StandardKind_STANDARD_KIND_GROUP_STANDARD.String())
	if err != nil || seq != n {
		t.Fatalf("sequence %d %v, want %d", seq, err, n)
	}
}

// TestCommentsRacingTheClose: comments filed while the period is being
// closed are each either stored and counted (and then the close is
// refused, naming them) or refused as too late; none is lost or half
// written, and a close that succeeds leaves no comment without a
// disposition.
func TestCommentsRacingTheClose(t *testing.T) {
	f := fixture(t)
	for round := range 5 {
		name := proposeWithDraft(t, f, fmt.Sprintf("race-%d", round))
		open(t, f, name)
		const n = 16
		var wg sync.WaitGroup
		start := make(chan struct{})
		accepted := make([]bool, n)
		var closeErr error
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				_, err := f.Svc.CreateComment(ctx, stdtest.Bob, name, &standardsv1.Comment{Clause: "1", Text: fmt.Sprint("comment ", i)}, fmt.Sprintf("c%02d", i))
				switch {
				case err == nil:
					accepted[i] = true
				case !apierr.Is(err, apiv1.ErrorReason_COMMENT_PERIOD_CLOSED):
					t.Errorf("comment %d: %v", i, err)
				}
			}()
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			_, closeErr = f.Svc.CloseStandardComment(ctx, stdtest.Admin, &standardsv1.CloseStandardCommentRequest{Name: name})
		}()
		close(start)
		wg.Wait()
		stored, counts, err := f.Store.Comments(ctx, "ai", name[len("branches/ai/standards/"):])
		ok(t, err)
		want := 0
		for i, a := range accepted {
			if a {
				want++
				if _, err := f.Svc.GetComment(ctx, stdtest.Bob, fmt.Sprintf("%s/comments/c%02d", name, i)); err != nil {
					t.Fatalf("round %d: accepted comment %d is not stored: %v", round, i, err)
				}
			}
		}
		if len(stored) != want {
			t.Fatalf("round %d: %d comments stored, %d accepted", round, len(stored), want)
		}
		switch {
		case closeErr == nil:
			if want != 0 {
				t.Fatalf("round %d: the period closed with %d comments not disposed", round, want)
			}
		case apierr.Is(closeErr, apiv1.ErrorReason_COMMENTS_UNDISPOSED):
			if want == 0 || counts.Total != int64(want) || counts.Undisposed != int64(want) {
				t.Fatalf("round %d: close refused (%v) with %d accepted, counts %+v", round, closeErr, want, counts)
			}
		default:
			t.Fatalf("round %d: close: %v", round, closeErr)
		}
	}
}

// TestOutboxCarriesEveryChange: each change of the life cycle writes its
// event in the same step, in order, on standards' published stream; a
// refused change writes none.
func TestOutboxCarriesEveryChange(t *testing.T) {
	rdb := redistest.Start(t).Client()
	t.Cleanup(func() { rdb.Close() })
	f := stdtest.New(t, rdb)
	name := proposeWithDraft(t, f, "outbox")
	open(t, f, name)
	c, err := f.Svc.CreateComment(ctx, stdtest.Anyone, name, &standardsv1.Comment{Clause: "1", Text: "意见", CommenterName: "公众"}, "")
	ok(t, err)
	_, err = f.Svc.CloseStandardComment(ctx, stdtest.Admin, &standardsv1.CloseStandardCommentRequest{Name: name})
	if !apierr.Is(err, apiv1.ErrorReason_COMMENTS_UNDISPOSED) {
		t.Fatalf("close: %v", err)
	}
	_, err = f.Svc.DisposeComment(ctx, stdtest.Admin, &standardsv1.DisposeCommentRequest{Name: c.GetName(),
		Disposition: standardsv1.Disposition_DISPOSITION_NOT_ACCEPTED, Reason: "不适用"})
	ok(t, err)
	_, err = f.Svc.CloseStandardComment(ctx, stdtest.Admin, &standardsv1.CloseStandardCommentRequest{Name: name})
	ok(t, err)
	_, err = f.Svc.SubmitStandardForReview(ctx, stdtest.Admin, &standardsv1.SubmitStandardForReviewRequest{Name: name})
	ok(t, err)
	_, err = f.Svc.ConcludeStandardReview(ctx, stdtest.Admin, &standardsv1.ConcludeStandardReviewRequest{Name: name,
		Experts: []string{"专家"}, Conclusion: standardsv1.ReviewConclusion_REVIEW_CONCLUSION_PASS, Summary: "通过"})
	ok(t, err)
	_, err = f.Svc.ApproveStandard(ctx, stdtest.Admin, &standardsv1.ApproveStandardRequest{Name: name, Resolution: f.Resolutions.Approve(name)})
	ok(t, err)
	_, err = f.Svc.PublishStandard(ctx, stdtest.Admin, &standardsv1.PublishStandardRequest{Name: name, EffectiveDate: &date.Date{Year: 2027, Month: 1, Day: 1}})
	ok(t, err)

	msgs, err := rdb.XRange(ctx, streams.Branch("ai"), "-", "+").Result()
	ok(t, err)
	var kinds []string
	for _, m := range msgs {
		env := &eventsv1.Envelope{}
		ok(t, proto.Unmarshal([]byte(m.Values["env"].(string)), env))
		if env.GetSource() != "standards" || env.GetActor() == "" || env.GetId() == "" {
			t.Fatalf("envelope %v", env)
		}
		kind := fmt.Sprintf("%T", env.GetPayload())
		kinds = append(kinds, strings.TrimPrefix(kind, "*eventsv1.Envelope_"))
	}
	want := "StandardProposed StandardStateChanged DraftAdded StandardStateChanged CommentSubmitted CommentDisposed " +
		"StandardStateChanged StandardStateChanged StandardReviewed StandardStateChanged StandardPublished"
	if got := strings.Join(kinds, " "); got != want {
		t.Fatalf("outbox:\n got %s\nwant %s", got, want)
	}
}

// TestWithdrawalClosesTheCommentPeriod: a standard withdrawn while out
// for comment takes no comment afterwards, even one judged before the
// withdrawal: the period closes in the withdrawal's own step.
func TestWithdrawalClosesTheCommentPeriod(t *testing.T) {
	f := fixture(t)
	name := proposeWithDraft(t, f, "withdrawn")
	open(t, f, name)
	st, err := f.Svc.GetStandard(ctx, stdtest.Admin, name)
	ok(t, err)
	_, err = f.Svc.WithdrawStandard(ctx, stdtest.Admin, &standardsv1.WithdrawStandardRequest{Name: name, Reason: "撤回"})
	ok(t, err)
	late := &standardsv1.Comment{Name: name + "/comments/late", Draft: st.GetCurrentDraft(), Clause: "1", Text: "x", CreateTime: timestamppb.Now(), Etag: "e"}
	if err := f.Store.CreateComment(ctx, "ai", late, nil); !errors.Is(err, domain.ErrClosed) {
		t.Fatalf("a comment after the withdrawal: %v, want ErrClosed", err)
	}
}
