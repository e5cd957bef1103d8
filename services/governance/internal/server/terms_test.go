package server_test

import (
	"context"
	"testing"

	"google.golang.org/genproto/googleapis/type/date"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/fieldmaskpb"

	"github.com/tjsia/chapterhouse/platform/apierr"
	"github.com/tjsia/chapterhouse/platform/servicetest"
	apiv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/api/v1"
	governancev1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/governance/v1"

	"github.com/tjsia/chapterhouse/services/governance/internal/govtest"
)

func day(y, m, d int32) *date.Date { return &date.Date{Year: y, Month: m, Day: d} }

// TestTermsFollowOneAnother (G1): over gRPC, a branch's terms are one
// chain: the next number only, from the day after the last term ends (or
// later, or in the past), never overlapping; an update keeps a term in
// its place, and a term with officers keeps its dates. Each refusal
// writes nothing. Then G1 counts by that chain: zhang, chair of 届 1 and
// 届 2, is not eligible for 届 3.
func TestTermsFollowOneAnother(t *testing.T) {
	g := serve(t)
	svc, people, srv, c := g.svc, g.people, g.srv, g.c
	as := func(r servicetest.Role) context.Context { return srv.AsRole(t, r) }
	govtest.Branch(t, svc, people) // 届 1: 2025-01-01 to 2029-12-31, current
	govtest.ElectChair(t, svc)
	create := func(n int32, from, to *date.Date) (*governancev1.Term, error) {
		return c.CreateTerm(as(admin), &governancev1.CreateTermRequest{Parent: "branches/ai", Term: &governancev1.Term{Number: n, StartDate: from, EndDate: to}})
	}
	refused := func(what string, err error, reason apiv1.ErrorReason, neighbour string) {
		t.Helper()
		if apierr.ReasonOf(err) != reason || apierr.Info(err).GetMetadata()["term"] != neighbour {
			t.Fatalf("%s: %v, want %s naming %s", what, err, reason, neighbour)
		}
	}
	before := g.mr.Dump()
	_, err := create(3, day(2030, 1, 1), day(2034, 12, 31))
	refused("届 3 after 届 1", err, apiv1.ErrorReason_TERM_OUT_OF_SEQUENCE, govtest.Term1)
	_, err = create(2, day(2029, 6, 1), day(2034, 12, 31))
	refused("届 2 starting within 届 1", err, apiv1.ErrorReason_TERMS_OVERLAP, govtest.Term1)
	_, err = create(2, day(2019, 1, 1), day(2025, 6, 30))
	refused("届 2 overlapping 届 1 from before", err, apiv1.ErrorReason_TERMS_OVERLAP, govtest.Term1)
	_, err = create(2, day(2015, 1, 1), day(2019, 12, 31))
	refused("届 2 before 届 1", err, apiv1.ErrorReason_TERM_OUT_OF_SEQUENCE, govtest.Term1)
	if _, err := create(1, day(2025, 1, 1), day(2029, 12, 30)); status.Code(err) != codes.AlreadyExists {
		t.Fatalf("届 1 again with other dates: %v, want ALREADY_EXISTS", err)
	}
	if after := g.mr.Dump(); after != before {
		t.Fatal("a refused term was stored")
	}
	if _, err := create(1, day(2025, 1, 1), day(2029, 12, 31)); err != nil {
		t.Fatalf("届 1 repeated: %v, want it back", err)
	}
	two, err := create(2, day(2030, 1, 1), day(2034, 12, 31))
	if err != nil {
		t.Fatalf("届 2 from the day after 届 1: %v", err)
	}
	three, err := create(3, day(2036, 1, 1), day(2040, 12, 31))
	if err != nil {
		t.Fatalf("届 3 after a year's pause: %v", err)
	}

	update := func(term *governancev1.Term, from, to *date.Date) error {
		_, err := c.UpdateTerm(as(admin), &governancev1.UpdateTermRequest{Term: &governancev1.Term{Name: term.GetName(), StartDate: from, EndDate: to},
			UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"start_date", "end_date"}}})
		return err
	}
	refused("届 2 moved after 届 3", update(two, day(2041, 1, 1), day(2045, 12, 31)), apiv1.ErrorReason_TERM_OUT_OF_SEQUENCE, three.GetName())
	refused("届 3 moved before 届 2", update(three, day(2020, 1, 1), day(2021, 12, 31)), apiv1.ErrorReason_TERM_OUT_OF_SEQUENCE, two.GetName())
	refused("届 2 stretched into 届 3", update(two, day(2030, 1, 1), day(2036, 6, 30)), apiv1.ErrorReason_TERMS_OVERLAP, three.GetName())
	if err := update(two, day(2030, 1, 1), day(2035, 12, 31)); err != nil {
		t.Fatalf("届 2 until the day before 届 3: %v", err)
	}
	if err := update(&governancev1.Term{Name: govtest.Term1}, day(2025, 1, 1), day(2029, 11, 30)); apierr.ReasonOf(err) != apiv1.ErrorReason_INVALID_STATE_TRANSITION {
		t.Fatalf("届 1, which has its chair, moved: %v, want INVALID_STATE_TRANSITION", err)
	}

	// G1 by the chain: zhang chairs 届 1, and is appointed chair of 届 2.
	chair := func() *governancev1.Nomination {
		return &governancev1.Nomination{Position: governancev1.Position_POSITION_CHAIR, Nominee: "people/zhang", RepresentedMember: "branches/ai/members/huiyun",
			QualificationStatement: govtest.Statement, ConsultationNotes: govtest.Notes}
	}
	n, err := c.CreateNomination(as(generalSecretary), &governancev1.CreateNominationRequest{Parent: two.GetName(), Nomination: chair()})
	if err != nil {
		t.Fatalf("zhang for a second term: %v", err)
	}
	if _, err := c.DecideNomination(as(generalCouncil), &governancev1.DecideNominationRequest{Name: n.GetName(), Decision: governancev1.Decision_DECISION_APPROVE}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.AppointNomination(as(generalCouncil), &governancev1.AppointNominationRequest{Name: n.GetName()}); err != nil {
		t.Fatal(err)
	}
	check, err := c.CheckEligibility(as(generalSecretary), &governancev1.CheckEligibilityRequest{Parent: three.GetName(), Nomination: chair()})
	if err != nil || check.GetEligible() || len(check.GetViolations()) != 1 || check.GetViolations()[0].GetReason() != apiv1.ErrorReason_TERM_LIMIT_EXCEEDED {
		t.Fatalf("zhang for a third consecutive term: %v %v, want G1 TERM_LIMIT_EXCEEDED only", check, err)
	}
}
