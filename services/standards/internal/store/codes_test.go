package store_test

import (
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
	"testing"

	"google.golang.org/genproto/googleapis/type/date"
	"google.golang.org/protobuf/proto"

	"github.com/tjsia/chapterhouse/platform/apierr"
	"github.com/tjsia/chapterhouse/platform/redistest"
	apiv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/api/v1"
	standardsv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/standards/v1"

	"github.com/tjsia/chapterhouse/services/standards/internal/domain"
	"github.com/tjsia/chapterhouse/services/standards/internal/stdtest"
)

// approvedLocal takes a new local industry standard (a kind the branch
// does not number) to APPROVED.
func approvedLocal(t *testing.T, f *stdtest.Fixture, id string) string {
	t.Helper()
	st, err := f.Svc.CreateStandard(ctx, stdtest.Admin, "branches/ai", &standardsv1.Standard{
		Kind: standardsv1.StandardKind_STANDARD_KIND_LOCAL_INDUSTRY_STANDARD, Title: "地方标准 " + id, LeadUnit: stdtest.UnitA}, id)
	ok(t, err)
	name := st.GetName()
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
	return name
}

var effective = &date.Date{Year: 2027, Month: 1, Day: 1}

// TestCodeClaimIsOnTheKey (S1): the claim of a code in Redis is on its
// key, so two codes that read alike collide in the script itself, with
// the domain's check bypassed: the second write is refused as taken and
// stores nothing.
func TestCodeClaimIsOnTheKey(t *testing.T) {
	f := fixture(t)
	write := func(name, code string) error {
		cur, err := f.Store.GetStandard(ctx, "ai", name[len("branches/ai/standards/"):])
		ok(t, err)
		next := proto.Clone(cur).(*standardsv1.Standard)
		next.Code, next.Etag = code, "e-"+code
		return f.Store.SaveStandard(ctx, "ai", domain.Write{Standard: next, PrevEtag: cur.GetEtag(),
			Code: &domain.CodeClaim{Code: code, Key: domain.CodeKey(code)}})
	}
	a, b := approvedLocal(t, f, "a"), approvedLocal(t, f, "b")
	ok(t, write(a, "DB12/T 1234—2026"))
	if err := write(b, "db12/t 1234-2026"); !errors.Is(err, domain.ErrCodeTaken) {
		t.Fatalf("a code keyed alike: %v, want ErrCodeTaken", err)
	}
	if st, _ := f.Store.GetStandard(ctx, "ai", "b"); st.GetCode() != "" {
		t.Fatalf("the refused claim stored %q", st.GetCode())
	}
	if holder, err := f.Store.CodeHolder(ctx, "ai", domain.CodeKey("DB12/T 1234–2026")); err != nil || holder != a {
		t.Fatalf("holder %q %v, want %s", holder, err, a)
	}
}

// TestCodesKeyedAlikeRace (S1): standards published at the same moment
// with the same code written differently: exactly one gets it, every
// other is told STANDARD_CODE_TAKEN naming the one that did.
func TestCodesKeyedAlikeRace(t *testing.T) {
	f := fixture(t)
	variants := []string{"DB12/T 1234—2026", "DB12/T 1234-2026", "db12/t 1234–2026", " DB12/T\u00a01234—2026", "ＤＢ１２/Ｔ １２３４—２０２６", "DB12/T 1234 − 2026"}
	names := make([]string, len(variants))
	for i := range variants {
		names[i] = approvedLocal(t, f, fmt.Sprintf("race-%d", i))
	}
	errs := make([]error, len(variants))
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range variants {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			_, errs[i] = f.Svc.PublishStandard(ctx, stdtest.Admin, &standardsv1.PublishStandardRequest{Name: names[i], Code: variants[i], EffectiveDate: effective})
		}()
	}
	close(start)
	wg.Wait()
	winner := ""
	for i, err := range errs {
		if err == nil {
			if winner != "" {
				t.Fatalf("%s and %s both hold the code", winner, names[i])
			}
			winner = names[i]
		}
	}
	if winner == "" {
		t.Fatalf("nobody got the code: %v", errs)
	}
	for i, err := range errs {
		if err == nil {
			continue
		}
		if !apierr.Is(err, apiv1.ErrorReason_STANDARD_CODE_TAKEN) || apierr.Info(err).GetMetadata()["standard"] != winner {
			t.Fatalf("%s with %q: %v, want STANDARD_CODE_TAKEN naming %s", names[i], variants[i], err, winner)
		}
	}
}

// TestClaimsBeforeKeysAreKeyed: a code claimed before claims were keyed
// (under the code as given) is found under its key the first time the
// branch's codes are used, so a variant of it is taken too.
func TestClaimsBeforeKeysAreKeyed(t *testing.T) {
	srv := redistest.Start(t)
	rdb := srv.Client()
	t.Cleanup(func() { rdb.Close() })
	f := stdtest.New(t, rdb)
	const legacy = "branches/ai/standards/legacy"
	ok(t, rdb.HSet(ctx, "{std:br:ai}:codes", hex.EncodeToString([]byte("DB12/T 1234—2026")), legacy).Err())
	name := approvedLocal(t, f, "after")
	_, err := f.Svc.PublishStandard(ctx, stdtest.Admin, &standardsv1.PublishStandardRequest{Name: name, Code: "db12/t 1234-2026", EffectiveDate: effective})
	if !apierr.Is(err, apiv1.ErrorReason_STANDARD_CODE_TAKEN) || apierr.Info(err).GetMetadata()["standard"] != legacy {
		t.Fatalf("a variant of a code claimed before keys: %v, want STANDARD_CODE_TAKEN naming %s", err, legacy)
	}
	ok(t, err2(f.Svc.PublishStandard(ctx, stdtest.Admin, &standardsv1.PublishStandardRequest{Name: name, Code: "DB12/T 1235—2026", EffectiveDate: effective})))
}

func err2[T any](_ T, err error) error { return err }
