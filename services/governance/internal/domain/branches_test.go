package domain_test

import (
	"context"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
	"google.golang.org/protobuf/types/known/fieldmaskpb"

	"github.com/tjsia/chapterhouse/platform/pagetoken"
	governancev1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/governance/v1"

	"github.com/tjsia/chapterhouse/services/governance/internal/domain"
	"github.com/tjsia/chapterhouse/services/governance/internal/govtest"
	"github.com/tjsia/chapterhouse/services/governance/internal/store"
)

// TestStandardCodeFormats (S1): a branch is created with the default code
// formats, shows them, and admins change one format without touching the
// others; the change is the branch's BranchUpdated, which standards reads.
func TestStandardCodeFormats(t *testing.T) {
	mr := miniredis.RunT(t)
	rdb := redis.NewClient(&redis.Options{Addr: mr.Addr()})
	t.Cleanup(func() { rdb.Close() })
	svc := domain.NewService(store.New(rdb), govtest.NewPeople(), govtest.Activities{}, pagetoken.NewEphemeral(), func() time.Time { return govtest.Today })
	ctx := context.Background()
	b, err := svc.CreateBranch(ctx, govtest.Admin, &governancev1.Branch{DisplayName: "人工智能分会"}, "ai")
	if err != nil {
		t.Fatal(err)
	}
	if f := b.GetStandardCodeFormats(); f.GetGroupStandard() != "T/TJSIA {NNN}—{YYYY}" || f.GetLocalIndustryStandard() != "" {
		t.Fatalf("defaults %v", f)
	}
	up, err := svc.UpdateBranch(ctx, govtest.Admin, &governancev1.Branch{Name: "branches/ai",
		StandardCodeFormats: &governancev1.StandardCodeFormats{LocalIndustryStandard: "DB12/T {NNN}—{YYYY}"}},
		&fieldmaskpb.FieldMask{Paths: []string{"standard_code_formats.local_industry_standard"}})
	if err != nil {
		t.Fatal(err)
	}
	if f := up.GetStandardCodeFormats(); f.GetLocalIndustryStandard() != "DB12/T {NNN}—{YYYY}" || f.GetGroupStandard() != "T/TJSIA {NNN}—{YYYY}" {
		t.Fatalf("after the update %v", f)
	}
	if _, err := svc.UpdateBranch(ctx, govtest.As("chair"), &governancev1.Branch{Name: "branches/ai"},
		&fieldmaskpb.FieldMask{Paths: []string{"standard_code_formats"}}); err == nil {
		t.Fatal("a non-admin changed the formats")
	}
}
