package store_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/tjsia/chapterhouse/platform/apierr"
	"github.com/tjsia/chapterhouse/platform/redistest"
	apiv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/api/v1"
	standardsv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/standards/v1"

	"github.com/tjsia/chapterhouse/services/standards/internal/domain"
	"github.com/tjsia/chapterhouse/services/standards/internal/stdtest"
)

// between is the store with a step of the test's own run between the
// service's read of what a write is conditioned on and the write: after
// the comments are read, after a code's holder is looked up, after a
// signatory is read. Each step runs on the reads it is given for (once,
// or always).
type between struct {
	domain.Repository
	mu                                     sync.Mutex
	afterComments, afterCode, afterSigRead func()
}

func (b *between) step(f *func()) {
	b.mu.Lock()
	run := *f
	b.mu.Unlock()
	if run != nil {
		run()
	}
}

func (b *between) set(f *func(), run func()) { b.mu.Lock(); *f = run; b.mu.Unlock() }

func (b *between) Comments(ctx context.Context, branch, std string) ([]*standardsv1.Comment, domain.CommentCounts, error) {
	c, n, err := b.Repository.Comments(ctx, branch, std)
	b.step(&b.afterComments)
	return c, n, err
}

func (b *between) CodeHolder(ctx context.Context, branch, key string) (string, error) {
	h, err := b.Repository.CodeHolder(ctx, branch, key)
	b.step(&b.afterCode)
	return h, err
}

func (b *between) GetSignatory(ctx context.Context, branch, std, member string) (*standardsv1.Signatory, error) {
	sig, err := b.Repository.GetSignatory(ctx, branch, std, member)
	b.step(&b.afterSigRead)
	return sig, err
}

// once runs f the first time only; a call from within f (the step's own
// writes read too) passes through.
func once(f func()) func() {
	var done atomic.Bool
	return func() {
		if done.CompareAndSwap(false, true) {
			f()
		}
	}
}

func fixtureBetween(t *testing.T) (*stdtest.Fixture, *between) {
	t.Helper()
	rdb := redistest.Start(t).Client()
	t.Cleanup(func() { rdb.Close() })
	b := &between{}
	f := stdtest.NewWith(t, rdb, func(r domain.Repository) domain.Repository { b.Repository = r; return b })
	return f, b
}

// TestCloseRacingAComment (item 9b): a comment comes in after the close
// read the period's comments (none without a disposition) and before its
// script runs. The script refuses the close, and the caller, who pinned
// the standard's etag (which the comment does not change), is told the
// rule, 400 COMMENTS_UNDISPOSED naming the comment, not 409 ETAG_MISMATCH
// nor 500; the period stays open.
func TestCloseRacingAComment(t *testing.T) {
	f, b := fixtureBetween(t)
	name := proposeWithDraft(t, f, "close-race")
	open(t, f, name)
	st, err := f.Svc.GetStandard(ctx, stdtest.Admin, name)
	ok(t, err)
	b.set(&b.afterComments, once(func() {
		_, err := f.Svc.CreateComment(ctx, stdtest.Bob, name, &standardsv1.Comment{Clause: "1", Text: "迟到的意见"}, "late")
		ok(t, err)
	}))
	_, err = f.Svc.CloseStandardComment(ctx, stdtest.Admin, &standardsv1.CloseStandardCommentRequest{Name: name, Etag: st.GetEtag()})
	if status.Code(err) != codes.FailedPrecondition || !apierr.Is(err, apiv1.ErrorReason_COMMENTS_UNDISPOSED) {
		t.Fatalf("a close the script refused: %v, want FAILED_PRECONDITION COMMENTS_UNDISPOSED", err)
	}
	if md := apierr.Info(err).GetMetadata(); md["comments"] != name+"/comments/late" || md["undisposed"] != "1" {
		t.Fatalf("metadata %v: want the late comment named", md)
	}
	if now, _ := f.Svc.GetStandard(ctx, stdtest.Admin, name); now.GetState() != domain.PublicComment || now.GetEtag() != st.GetEtag() {
		t.Fatalf("after the refused close: %v", now)
	}
}

// TestPublicationRacingAnother (item 9b): another publication takes the
// kind's next number after this one read the sequence and looked the code
// up, before its script runs. The script refuses the number; the
// publication, whose pinned etag still matches, takes the next one
// instead of being told ETAG_MISMATCH for a race it did not lose.
func TestPublicationRacingAnother(t *testing.T) {
	f, b := fixtureBetween(t)
	var names []string
	for _, id := range []string{"first", "second"} {
		name := proposeWithDraft(t, f, id)
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
	st, err := f.Svc.GetStandard(ctx, stdtest.Admin, names[1])
	ok(t, err)
	b.set(&b.afterCode, once(func() {
		_, err := f.Svc.PublishStandard(ctx, stdtest.Admin, &standardsv1.PublishStandardRequest{Name: names[0], EffectiveDate: effective})
		ok(t, err)
	}))
	pub, err := f.Svc.PublishStandard(ctx, stdtest.Admin, &standardsv1.PublishStandardRequest{Name: names[1], Etag: st.GetEtag(), EffectiveDate: effective})
	if err != nil {
		t.Fatalf("a publication whose number was taken under it: %v, want the next number", err)
	}
	if pub.GetCode() != "T/TJSIA 002—2026" {
		t.Fatalf("code %q, want the next number", pub.GetCode())
	}
}

// TestSignatureOutracedEveryTime (item 9b): a signatory that changes
// under every attempt to sign it is refused as changing too often (409
// ETAG_MISMATCH), not as a fault of the service (500).
func TestSignatureOutracedEveryTime(t *testing.T) {
	f, b := fixtureBetween(t)
	conv, err := f.Svc.CreateStandard(ctx, stdtest.Admin, "branches/ai", &standardsv1.Standard{
		Kind: standardsv1.StandardKind_STANDARD_KIND_SELF_DISCIPLINE_CONVENTION, Title: "自律公约", LeadUnit: stdtest.UnitA}, "conv")
	ok(t, err)
	name := conv.GetName()
	_, err = f.Svc.ApproveStandardProposal(ctx, stdtest.Admin, &standardsv1.ApproveStandardProposalRequest{Name: name})
	ok(t, err)
	_, err = f.Svc.CreateDraft(ctx, stdtest.Admin, name, &standardsv1.Draft{Version: "0.1", ContentUri: "https://x.example/a.pdf", Sha256: sha}, "", "")
	ok(t, err)
	open(t, f, name)
	_, err = f.Svc.CloseStandardComment(ctx, stdtest.Admin, &standardsv1.CloseStandardCommentRequest{Name: name})
	ok(t, err)
	_, err = f.Svc.SubmitStandardForReview(ctx, stdtest.Admin, &standardsv1.SubmitStandardForReviewRequest{Name: name})
	ok(t, err)
	_, err = f.Svc.ConcludeStandardReview(ctx, stdtest.Admin, &standardsv1.ConcludeStandardReviewRequest{Name: name,
		Experts: []string{"专家"}, Conclusion: standardsv1.ReviewConclusion_REVIEW_CONCLUSION_PASS, Summary: "通过"})
	ok(t, err)
	_, err = f.Svc.ApproveStandard(ctx, stdtest.Admin, &standardsv1.ApproveStandardRequest{Name: name, Resolution: f.Resolutions.Approve(name)})
	ok(t, err)
	_, err = f.Svc.PublishStandard(ctx, stdtest.Admin, &standardsv1.PublishStandardRequest{Name: name, EffectiveDate: effective})
	ok(t, err)
	signed, err := f.Svc.CreateSignatory(ctx, stdtest.Ann, name, &standardsv1.Signatory{Member: stdtest.UnitA})
	ok(t, err)
	_, err = f.Svc.WithdrawSignatory(ctx, stdtest.Ann, &standardsv1.WithdrawSignatoryRequest{Name: signed.GetName(), Reason: "重签"})
	ok(t, err)
	b.set(&b.afterSigRead, func() {
		cur, err := f.Store.GetSignatory(ctx, "ai", "conv", "unit-a")
		ok(t, err)
		next := proto.Clone(cur).(*standardsv1.Signatory)
		next.Etag = cur.GetEtag() + "x"
		ok(t, f.Store.SaveSignatory(ctx, "ai", next, cur.GetEtag(), false, nil))
	})
	_, err = f.Svc.CreateSignatory(ctx, stdtest.Ann, name, &standardsv1.Signatory{Member: stdtest.UnitA})
	if status.Code(err) != codes.Aborted || !apierr.Is(err, apiv1.ErrorReason_ETAG_MISMATCH) {
		t.Fatalf("a signature outraced every time: %v, want ABORTED ETAG_MISMATCH", err)
	}
}
