package store_test

import (
	"sort"
	"testing"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/fieldmaskpb"

	"github.com/tjsia/chapterhouse/platform/apierr"
	apiv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/api/v1"
	governancev1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/governance/v1"
)

// TestStandardApprovalNamesItsStandard (S1: the council approves the
// standards the branch drafts): a STANDARD_APPROVAL resolution names the
// one standard it approves, a standard of its own branch; no other kind
// names one. Governance judges the name's form and branch, not the
// standard (the standards service does, when an approval cites it). Each
// refusal names the field and stores nothing; an amendment is held to
// the same rule.
func TestStandardApprovalNamesItsStandard(t *testing.T) {
	f := newFixture(t)
	f.electChair(t)
	const (
		approval = governancev1.ResolutionKind_RESOLUTION_KIND_STANDARD_APPROVAL
		ordinary = governancev1.ResolutionKind_RESOLUTION_KIND_ORDINARY
		std      = "branches/ai/standards/annotation-quality"
	)
	for _, tt := range []struct {
		name     string
		kind     governancev1.ResolutionKind
		standard string
		refused  bool
	}{
		{"S1: an approval names its standard", approval, std, false},
		{"S1: an approval without a standard", approval, "", true},
		{"S1: an ordinary resolution names no standard", ordinary, std, true},
		{"S1: a vice-chair appointment names no standard", governancev1.ResolutionKind_RESOLUTION_KIND_VICE_CHAIR_APPOINTMENT, std, true},
		{"S1: a standard of another branch", approval, "branches/other/standards/annotation-quality", true},
		{"S1: not a standard's name", approval, "branches/ai/activities/annotation-quality", true},
		{"S1: a bad id", approval, "branches/ai/standards/Annotation_Quality", true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			before := dump(t, f)
			in := &governancev1.Resolution{Title: "批准发布标准", Text: "理事会同意发布。", Kind: tt.kind, Standard: tt.standard}
			if tt.kind == governancev1.ResolutionKind_RESOLUTION_KIND_VICE_CHAIR_APPOINTMENT {
				in.Nominations = []string{term1 + "/nominations/none"}
			}
			r, err := f.svc.CreateResolution(f.ctx, as("zhang"), "branches/ai", in, "")
			if !tt.refused {
				if err != nil || r.GetStandard() != tt.standard || r.GetKind() != tt.kind {
					t.Fatalf("created %v, %v", r, err)
				}
				return
			}
			if code(err) != codes.InvalidArgument || !hasFieldViolation(err, "resolution.standard") {
				t.Fatalf("%v, want INVALID_ARGUMENT on resolution.standard", err)
			}
			if after := dump(t, f); after != before {
				t.Fatal("the refusal stored something")
			}
		})
	}
	// An amendment: an ordinary resolution becomes an approval only with
	// its standard, and an approval stops being one only without it.
	r, err := f.svc.CreateResolution(f.ctx, as("zhang"), "branches/ai", &governancev1.Resolution{Title: "t", Text: "x", Kind: ordinary}, "")
	if err != nil {
		t.Fatal(err)
	}
	mask := func(paths ...string) *fieldmaskpb.FieldMask { return &fieldmaskpb.FieldMask{Paths: paths} }
	_, err = f.svc.UpdateResolution(f.ctx, as("zhang"), &governancev1.Resolution{Name: r.GetName(), Kind: approval}, mask("kind"))
	if !hasFieldViolation(err, "resolution.standard") {
		t.Fatalf("an approval amended without its standard: %v", err)
	}
	r, err = f.svc.UpdateResolution(f.ctx, as("zhang"), &governancev1.Resolution{Name: r.GetName(), Kind: approval, Standard: std}, mask("kind", "standard"))
	if err != nil || r.GetStandard() != std {
		t.Fatalf("amended to an approval: %v %v", r, err)
	}
	_, err = f.svc.UpdateResolution(f.ctx, as("zhang"), &governancev1.Resolution{Name: r.GetName(), Kind: ordinary}, mask("kind"))
	if !hasFieldViolation(err, "resolution.standard") {
		t.Fatalf("an ordinary resolution amended keeping a standard: %v", err)
	}
}

func hasFieldViolation(err error, field string) bool {
	if !apierr.Is(err, apiv1.ErrorReason_INVALID_ARGUMENT) {
		return false
	}
	for _, d := range status.Convert(err).Details() {
		if br, ok := d.(*errdetails.BadRequest); ok {
			for _, v := range br.GetFieldViolations() {
				if v.GetField() == field {
					return true
				}
			}
		}
	}
	return false
}

// dump is every key of the fixture's Redis with its type and value, for
// "stored nothing".
func dump(t *testing.T, f *fixture) string {
	t.Helper()
	keys, err := f.rdb.Keys(f.ctx, "*").Result()
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(keys)
	out := ""
	for _, k := range keys {
		v, err := f.rdb.Dump(f.ctx, k).Result()
		if err != nil {
			t.Fatal(err)
		}
		out += k + "=" + v + "\n"
	}
	return out
}
