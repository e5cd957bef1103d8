package store_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/genproto/googleapis/type/date"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/fieldmaskpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/tjsia/chapterhouse/platform/apierr"
	"github.com/tjsia/chapterhouse/platform/auth"
	"github.com/tjsia/chapterhouse/platform/events"
	"github.com/tjsia/chapterhouse/platform/eventstream"
	"github.com/tjsia/chapterhouse/platform/pagetoken"
	"github.com/tjsia/chapterhouse/platform/redistest"
	apiv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/api/v1"
	eventsv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/events/v1"
	governancev1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/governance/v1"
	membershipv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/membership/v1"

	"github.com/tjsia/chapterhouse/contracts/governance/streams"
	"github.com/tjsia/chapterhouse/services/governance/internal/domain"
	"github.com/tjsia/chapterhouse/services/governance/internal/govtest"
	"github.com/tjsia/chapterhouse/services/governance/internal/store"
)

const (
	statement = govtest.Statement
	notes     = govtest.Notes
	term1     = govtest.Term1
)

var (
	admin            = govtest.Admin
	generalSecretary = govtest.GeneralSecretary
	generalCouncil   = govtest.GeneralCouncil
	as               = govtest.As
)

type fixture struct {
	rdb    redis.UniversalClient
	svc    *domain.Service
	people *govtest.People
	ctx    context.Context
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	rdb := redistest.Start(t).Client()
	t.Cleanup(func() { rdb.Close() })
	return fixtureOn(t, rdb)
}

func fixtureOn(t *testing.T, rdb redis.UniversalClient) *fixture {
	t.Helper()
	f := &fixture{rdb: rdb, people: govtest.NewPeople(), ctx: context.Background()}
	f.svc = domain.NewService(store.New(rdb), f.people, govtest.Activities{Completed: 2}, pagetoken.NewEphemeral(), func() time.Time { return govtest.Today })
	govtest.Branch(t, f.svc, f.people)
	return f
}

func code(err error) codes.Code { return status.Code(err) }

func (f *fixture) electChair(t *testing.T) { govtest.ElectChair(t, f.svc) }

func (f *fixture) director(t *testing.T, id string) { govtest.Director(t, f.svc, f.people, id) }

func (f *fixture) outbox(t *testing.T) []*eventsv1.Envelope {
	t.Helper()
	msgs, err := f.rdb.XRange(f.ctx, streams.Branch("ai"), "-", "+").Result()
	if err != nil {
		t.Fatal(err)
	}
	var out []*eventsv1.Envelope
	for _, m := range msgs {
		env := &eventsv1.Envelope{}
		if err := proto.Unmarshal([]byte(m.Values["env"].(string)), env); err != nil {
			t.Fatal(err)
		}
		out = append(out, env)
	}
	return out
}

// race runs fn n times at once and returns each call's error.
func race(n int, fn func(i int) error) []error {
	errs := make([]error, n)
	var start, done sync.WaitGroup
	start.Add(1)
	for i := range n {
		done.Add(1)
		go func() {
			defer done.Done()
			start.Wait()
			errs[i] = fn(i)
		}()
	}
	start.Done()
	done.Wait()
	return errs
}

func succeeded(errs []error) int {
	n := 0
	for _, err := range errs {
		if err == nil {
			n++
		}
	}
	return n
}

// TestOneChairPerTermUnderConcurrency: 24 chair candidates proposed at
// once for one term; exactly one nomination is stored, and every other
// proposer is told the office is taken (G5), not a vague conflict.
func TestOneChairPerTermUnderConcurrency(t *testing.T) {
	f := newFixture(t)
	const n = 24
	for i := range n {
		id := fmt.Sprintf("c%d", i)
		f.people.Add(id, "organizations/"+id, membershipv1.Rank_RANK_PRESIDENT, &date.Date{Year: 1970, Month: 1, Day: 1})
	}
	errs := race(n, func(i int) error {
		_, err := f.svc.CreateNomination(f.ctx, generalSecretary, term1, &governancev1.Nomination{
			Position: governancev1.Position_POSITION_CHAIR, Nominee: fmt.Sprintf("people/c%d", i), QualificationStatement: statement, ConsultationNotes: notes}, "")
		return err
	})
	if got := succeeded(errs); got != 1 {
		t.Fatalf("%d chair nominations succeeded, want exactly 1: %v", got, errs)
	}
	for _, err := range errs {
		if err != nil && !hasViolation(err, apiv1.ErrorReason_OFFICE_ALREADY_FILLED) {
			t.Errorf("a losing proposer got %v, want CHARTER_VIOLATION naming OFFICE_ALREADY_FILLED", err)
		}
	}
	stored, _, err := f.svc.ListNominations(f.ctx, admin, &governancev1.ListNominationsRequest{Parent: term1})
	if err != nil || len(stored) != 1 {
		t.Fatalf("stored nominations %v %v, want 1", stored, err)
	}
}

func hasViolation(err error, reason apiv1.ErrorReason) bool {
	return apierr.ReasonOf(err) == apiv1.ErrorReason_CHARTER_VIOLATION && slices.Contains(violationReasons(err), reason.String())
}

// violationReasons are the reasons of a charter refusal's violations, in
// order.
func violationReasons(err error) []string {
	st, _ := status.FromError(err)
	var out []string
	for _, d := range st.Details() {
		if pf, ok := d.(*errdetails.PreconditionFailure); ok {
			for _, v := range pf.GetViolations() {
				out = append(out, v.GetSubject())
			}
		}
	}
	return out
}

// TestOneDirectorNomineePerUnitUnderConcurrency: the same unit's
// representative put forward 24 times at once; one nomination stands (G6).
func TestOneDirectorNomineePerUnitUnderConcurrency(t *testing.T) {
	f := newFixture(t)
	f.people.Add("wang", "organizations/tianhe", membershipv1.Rank_RANK_VICE_PRESIDENT, &date.Date{Year: 1975, Month: 1, Day: 1})
	unit := f.people.AddUnit("tianhe", "organizations/tianhe", "wang")
	errs := race(24, func(i int) error {
		_, err := f.svc.CreateNomination(f.ctx, as("wang"), term1, &governancev1.Nomination{
			Position: governancev1.Position_POSITION_DIRECTOR, Nominee: "people/wang", RepresentedMember: unit, QualificationStatement: statement}, fmt.Sprintf("d%d", i))
		return err
	})
	if got := succeeded(errs); got != 1 {
		t.Fatalf("%d director nominations succeeded, want exactly 1: %v", got, errs)
	}
	for _, err := range errs {
		if err != nil && !hasViolation(err, apiv1.ErrorReason_DIRECTOR_NOMINEE_LIMIT_EXCEEDED) {
			t.Errorf("a losing nomination got %v, want G6", err)
		}
	}
}

// TestDirectorsInTheirOwnName (G6): a unit's employee cannot stand for
// director in their own name, outside the unit's one place and the rank
// rule; an individual member can, once a term, however many ask at once.
func TestDirectorsInTheirOwnName(t *testing.T) {
	f := newFixture(t)
	f.people.Add("wang", "organizations/tianhe", membershipv1.Rank_RANK_VICE_PRESIDENT, &date.Date{Year: 1975, Month: 1, Day: 1})
	f.people.AddUnit("tianhe", "organizations/tianhe", "wang")
	f.people.Add("junior", "organizations/tianhe", membershipv1.Rank_RANK_STAFF, &date.Date{Year: 1990, Month: 1, Day: 1})
	before := len(f.outbox(t))
	_, err := f.svc.CreateNomination(f.ctx, as("junior"), term1, &governancev1.Nomination{
		Position: governancev1.Position_POSITION_DIRECTOR, Nominee: "people/junior", QualificationStatement: statement}, "junior")
	if !hasViolation(err, apiv1.ErrorReason_DIRECTOR_NOT_A_MEMBER) {
		t.Fatalf("a unit's employee in their own name: %v, want G6 DIRECTOR_NOT_A_MEMBER", err)
	}
	if after := len(f.outbox(t)); after != before {
		t.Fatalf("outbox grew from %d to %d on a refusal", before, after)
	}
	f.people.Add("expert", "", membershipv1.Rank_RANK_UNSPECIFIED, &date.Date{Year: 1980, Month: 1, Day: 1})
	f.people.AddIndividual("expert", "expert")
	errs := race(16, func(i int) error {
		_, err := f.svc.CreateNomination(f.ctx, as("expert"), term1, &governancev1.Nomination{
			Position: governancev1.Position_POSITION_DIRECTOR, Nominee: "people/expert", QualificationStatement: statement}, fmt.Sprintf("e%d", i))
		return err
	})
	if got := succeeded(errs); got != 1 {
		t.Fatalf("%d own-name director nominations succeeded, want exactly 1: %v", got, errs)
	}
	for _, err := range errs {
		if err != nil && !hasViolation(err, apiv1.ErrorReason_DIRECTOR_NOMINEE_LIMIT_EXCEEDED) {
			t.Errorf("a losing nomination got %v, want G6", err)
		}
	}
}

// TestOfficeEndsWithItsKind: an officer resigns, admins remove (or record
// a resignation), only admins remove, and the kind travels in the event.
func TestOfficeEndsWithItsKind(t *testing.T) {
	f := newFixture(t)
	f.electChair(t)
	officerOf := func(person string) *governancev1.Officer {
		t.Helper()
		os, _, err := f.svc.ListOfficers(f.ctx, &governancev1.ListOfficersRequest{Parent: term1, Person: "people/" + person})
		if err != nil || len(os) != 1 {
			t.Fatalf("officers of %s: %v %v", person, os, err)
		}
		return os[0]
	}
	end := func(p auth.Principal, person string, kind governancev1.OfficeEndKind) (*governancev1.Officer, error) {
		return f.svc.EndOffice(f.ctx, p, &governancev1.EndOfficeRequest{Name: officerOf(person).GetName(), Reason: "letter of 1 March", Kind: kind})
	}
	for _, id := range []string{"tianhe", "xinhe", "bohai"} {
		f.director(t, id)
	}
	cases := []struct {
		name   string
		by     auth.Principal
		person string
		kind   governancev1.OfficeEndKind
		want   governancev1.OfficeEndKind
	}{
		{"the officer resigns", as("tianhe"), "tianhe", 0, governancev1.OfficeEndKind_OFFICE_END_KIND_RESIGNATION},
		{"an admin removes", admin, "bohai", 0, governancev1.OfficeEndKind_OFFICE_END_KIND_REMOVAL},
		{"an admin records a resignation", admin, "xinhe", governancev1.OfficeEndKind_OFFICE_END_KIND_RESIGNATION, governancev1.OfficeEndKind_OFFICE_END_KIND_RESIGNATION},
	}
	before := len(f.outbox(t))
	if _, err := end(as("xinhe"), "xinhe", governancev1.OfficeEndKind_OFFICE_END_KIND_REMOVAL); code(err) != codes.PermissionDenied {
		t.Fatalf("an officer removing themselves: %v, want PERMISSION_DENIED", err)
	}
	if after := len(f.outbox(t)); after != before {
		t.Fatalf("outbox grew from %d to %d on a refusal", before, after)
	}
	for _, tc := range cases {
		o, err := end(tc.by, tc.person, tc.kind)
		if err != nil || o.GetEndKind() != tc.want || o.GetState() != governancev1.OfficerState_OFFICER_STATE_ENDED {
			t.Fatalf("%s: %v %v, want ENDED by %v", tc.name, o, err, tc.want)
		}
	}
	var kinds []governancev1.OfficeEndKind
	for _, e := range f.outbox(t)[before:] {
		if ended := e.GetOfficeEnded(); ended != nil {
			kinds = append(kinds, ended.GetOfficer().GetEndKind())
		}
	}
	if want := []governancev1.OfficeEndKind{cases[0].want, cases[1].want, cases[2].want}; !slices.Equal(kinds, want) {
		t.Fatalf("OfficeEnded kinds %v, want %v", kinds, want)
	}
}

// TestTermsAndWorkPlansRefusals: terms never overlap and only one is
// current; a year has one work plan; a plan is adopted only by a passed
// adoption resolution that names it. Each refusal writes nothing.
func TestTermsAndWorkPlansRefusals(t *testing.T) {
	f := newFixture(t)
	f.electChair(t)
	before := len(f.outbox(t))
	_, err := f.svc.CreateTerm(f.ctx, admin, "branches/ai", &governancev1.Term{Number: 2,
		StartDate: &date.Date{Year: 2029, Month: 12, Day: 31}, EndDate: &date.Date{Year: 2034, Month: 12, Day: 30}})
	if apierr.ReasonOf(err) != apiv1.ErrorReason_TERMS_OVERLAP {
		t.Fatalf("a term sharing term 1's last day: %v, want TERMS_OVERLAP", err)
	}
	if _, err := f.svc.CreateTerm(f.ctx, admin, "branches/ai", &governancev1.Term{Number: 2,
		StartDate: &date.Date{Year: 2030, Month: 1, Day: 1}, EndDate: &date.Date{Year: 2034, Month: 12, Day: 31}}); err != nil {
		t.Fatalf("the next term, from the day after: %v", err)
	}
	terms, _, err := f.svc.ListTerms(f.ctx, "branches/ai", 0, "")
	if err != nil {
		t.Fatal(err)
	}
	current := 0
	for _, term := range terms {
		if term.GetState() == governancev1.TermState_TERM_STATE_CURRENT {
			current++
		}
	}
	if len(terms) != 2 || current != 1 {
		t.Fatalf("terms %v: want two, one current", terms)
	}

	plan, err := f.svc.CreateWorkPlan(f.ctx, as("zhang"), "branches/ai", &governancev1.WorkPlan{Year: 2026, Title: "2026"}, "plan-2026")
	if err != nil {
		t.Fatal(err)
	}
	// The refusal names the year's plan by its name, a resource a client
	// can read, not by its bare id.
	_, err = f.svc.CreateWorkPlan(f.ctx, as("zhang"), "branches/ai", &governancev1.WorkPlan{Year: 2026, Title: "again"}, "plan-2026-b")
	if md := apierr.Info(err).GetMetadata(); apierr.ReasonOf(err) != apiv1.ErrorReason_WORK_PLAN_YEAR_TAKEN ||
		md["resource"] != plan.GetName() || md["work_plan"] != plan.GetName() || md["year"] != "2026" {
		t.Fatalf("a second plan for 2026: %v, want WORK_PLAN_YEAR_TAKEN naming %s", err, plan.GetName())
	}
	r, err := f.svc.CreateResolution(f.ctx, as("zhang"), "branches/ai", &governancev1.Resolution{Title: "adopt", Text: "x",
		Kind: governancev1.ResolutionKind_RESOLUTION_KIND_WORK_PLAN_ADOPTION, WorkPlan: plan.GetName()}, "adopt")
	if err != nil {
		t.Fatal(err)
	}
	mid := len(f.outbox(t))
	_, err = f.svc.UpdateWorkPlan(f.ctx, as("zhang"), &governancev1.WorkPlan{Name: plan.GetName(), AdoptingResolution: r.GetName()},
		&fieldmaskpb.FieldMask{Paths: []string{"adopting_resolution"}})
	if apierr.ReasonOf(err) != apiv1.ErrorReason_RESOLUTION_NOT_PASSED {
		t.Fatalf("adoption citing a draft resolution: %v, want RESOLUTION_NOT_PASSED", err)
	}
	got, err := f.svc.GetWorkPlan(f.ctx, plan.GetName())
	if err != nil || got.GetAdoptingResolution() != "" {
		t.Fatalf("plan after the refused adoption: %v %v", got, err)
	}
	if after := len(f.outbox(t)); after != mid || mid-before != 3 || f.outbox(t)[mid-1].GetResolutionCreated().GetResolution().GetName() != r.GetName() {
		t.Fatalf("outbox %d → %d → %d: want TermCreated, WorkPlanCreated and ResolutionCreated, and nothing for the refusals", before, mid, after)
	}
	// A work item's creation and each change are events too.
	item, err := f.svc.CreateWorkItem(f.ctx, as("zhang"), plan.GetName(), &governancev1.WorkItem{Title: "Salon",
		Source: governancev1.WorkItemSource_WORK_ITEM_SOURCE_BRANCH, DueDate: &date.Date{Year: 2026, Month: 12, Day: 31}}, "salon")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.UpdateWorkItem(f.ctx, as("zhang"), &governancev1.WorkItem{Name: item.GetName(), ProgressNote: "venue booked"},
		&fieldmaskpb.FieldMask{Paths: []string{"progress_note"}}); err != nil {
		t.Fatal(err)
	}
	events := f.outbox(t)
	created, updated := events[len(events)-2].GetWorkItemCreated(), events[len(events)-1].GetWorkItemUpdated()
	if created.GetWorkItem().GetName() != item.GetName() || updated.GetWorkItem().GetProgressNote() != "venue booked" ||
		!slices.Equal(updated.GetChangedFields(), []string{"progress_note"}) {
		t.Fatalf("work item events: %v, %v", created, updated)
	}
}

// TestOneChairAppointmentUnderConcurrency: 24 appointments of the decided
// chair at once make exactly one officer.
func TestOneChairAppointmentUnderConcurrency(t *testing.T) {
	f := newFixture(t)
	n, err := f.svc.CreateNomination(f.ctx, generalSecretary, term1, &governancev1.Nomination{
		Position: governancev1.Position_POSITION_CHAIR, Nominee: "people/zhang", QualificationStatement: statement, ConsultationNotes: notes}, "chair")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.DecideNomination(f.ctx, generalCouncil, &governancev1.DecideNominationRequest{Name: n.GetName(), Decision: governancev1.Decision_DECISION_APPROVE}); err != nil {
		t.Fatal(err)
	}
	errs := race(24, func(int) error {
		_, err := f.svc.AppointNomination(f.ctx, generalCouncil, &governancev1.AppointNominationRequest{Name: n.GetName()})
		return err
	})
	if got := succeeded(errs); got != 1 {
		t.Fatalf("%d appointments succeeded, want exactly 1: %v", got, errs)
	}
	for _, err := range errs {
		if err != nil && apierr.ReasonOf(err) != apiv1.ErrorReason_INVALID_STATE_TRANSITION {
			t.Errorf("a losing appointment got %v, want INVALID_STATE_TRANSITION (already APPOINTED)", err)
		}
	}
	officers, _, err := f.svc.ListOfficers(f.ctx, &governancev1.ListOfficersRequest{Parent: term1})
	if err != nil || len(officers) != 1 {
		t.Fatalf("officers %v %v, want 1", officers, err)
	}
}

// TestEveryConcurrentBallotIsCounted: 30 council members vote at once;
// the close counts all 30.
func TestEveryConcurrentBallotIsCounted(t *testing.T) {
	f := newFixture(t)
	f.electChair(t)
	const voters = 29
	for i := range voters {
		f.director(t, fmt.Sprintf("d%02d", i))
	}
	r, err := f.svc.CreateResolution(f.ctx, as("zhang"), "branches/ai", &governancev1.Resolution{
		Title: "Adopt the 2027 budget", Text: "The council adopts the budget.", Kind: governancev1.ResolutionKind_RESOLUTION_KIND_ORDINARY}, "budget")
	if err != nil {
		t.Fatal(err)
	}
	r, err = f.svc.OpenResolutionVoting(f.ctx, as("zhang"), &governancev1.OpenResolutionVotingRequest{Name: r.GetName()})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.GetEligibleVoters()) != voters+1 {
		t.Fatalf("eligible voters %v, want the chair and %d directors", r.GetEligibleVoters(), voters)
	}
	errs := race(len(r.GetEligibleVoters()), func(i int) error {
		voter := r.GetEligibleVoters()[i]
		choice := governancev1.VoteChoice_VOTE_CHOICE_YES
		if i%3 == 0 {
			choice = governancev1.VoteChoice_VOTE_CHOICE_NO
		}
		_, err := f.svc.CastResolutionVote(f.ctx, auth.Principal{Subject: voter}, &governancev1.CastResolutionVoteRequest{Name: r.GetName(), Choice: choice})
		return err
	})
	if got := succeeded(errs); got != voters+1 {
		t.Fatalf("%d ballots accepted, want %d: %v", got, voters+1, errs)
	}
	closed, err := f.svc.CloseResolutionVoting(f.ctx, as("zhang"), &governancev1.CloseResolutionVotingRequest{Name: r.GetName()})
	if err != nil {
		t.Fatal(err)
	}
	tally := closed.GetTally()
	if tally.GetYesCount()+tally.GetNoCount() != voters+1 || tally.GetNoCount() != 10 || closed.GetState() != governancev1.ResolutionState_RESOLUTION_STATE_PASSED {
		t.Fatalf("closed %v with tally %v: want all %d ballots, 10 NO, PASSED", closed.GetState(), tally, voters+1)
	}
	// A ballot after the close is refused and changes nothing.
	_, err = f.svc.CastResolutionVote(f.ctx, as("zhang"), &governancev1.CastResolutionVoteRequest{Name: r.GetName(), Choice: governancev1.VoteChoice_VOTE_CHOICE_NO})
	if apierr.ReasonOf(err) != apiv1.ErrorReason_INVALID_STATE_TRANSITION {
		t.Fatalf("late ballot: %v", err)
	}
}

// TestCloseWaitsForTheLastBallot: a ballot landing between the count and
// the close makes the close count again, so the recorded tally is final.
func TestCloseWaitsForTheLastBallot(t *testing.T) {
	f := newFixture(t)
	f.electChair(t)
	f.director(t, "d1")
	st := store.New(f.rdb)
	r, err := f.svc.CreateResolution(f.ctx, as("zhang"), "branches/ai", &governancev1.Resolution{
		Title: "t", Text: "x", Kind: governancev1.ResolutionKind_RESOLUTION_KIND_ORDINARY}, "r1")
	if err != nil {
		t.Fatal(err)
	}
	if r, err = f.svc.OpenResolutionVoting(f.ctx, as("zhang"), &governancev1.OpenResolutionVotingRequest{Name: r.GetName()}); err != nil {
		t.Fatal(err)
	}
	before, err := st.Ballots(f.ctx, "ai", "r1")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.CastResolutionVote(f.ctx, as("d1"), &governancev1.CastResolutionVoteRequest{Name: r.GetName(), Choice: governancev1.VoteChoice_VOTE_CHOICE_YES}); err != nil {
		t.Fatal(err)
	}
	closed := proto.Clone(r).(*governancev1.Resolution)
	closed.State, closed.Etag = governancev1.ResolutionState_RESOLUTION_STATE_FAILED, "next"
	if err := st.CloseResolution(f.ctx, "ai", closed, r.GetEtag(), before.Version, nil); !domain.IsStale(err) {
		t.Fatalf("close on a stale count: %v, want ErrStale", err)
	}
}

// TestRefusalStoresNothing: a nomination breaking several rules is refused
// with all of them, and neither a record nor an event is written.
func TestRefusalStoresNothing(t *testing.T) {
	f := newFixture(t)
	before := len(f.outbox(t))
	f.people.Add("old", "organizations/tianhe", membershipv1.Rank_RANK_MANAGER, &date.Date{Year: 1950, Month: 1, Day: 1})
	_, err0 := f.svc.CreateNomination(f.ctx, as("old"), term1, &governancev1.Nomination{
		Position: governancev1.Position_POSITION_CHAIR, Nominee: "people/old", RepresentedMember: "branches/ai/members/huiyun"}, "bad")
	if got, want := violationReasons(err0), []string{"QUALIFICATION_STATEMENT_MISSING", "NOT_REPRESENTATIVE", "RANK_TOO_LOW", "AGE_LIMIT_EXCEEDED",
		"PROPOSER_NOT_GENERAL_SECRETARY", "CONSULTATION_NOTES_MISSING"}; !slices.Equal(got, want) {
		t.Fatalf("violations %v, want %v (%v)", got, want, err0)
	}
	if _, err := f.svc.GetNomination(f.ctx, admin, term1+"/nominations/bad"); code(err) != codes.NotFound {
		t.Fatalf("refused nomination stored: %v", err)
	}
	// The dry run gives the same verdict, and writes nothing either.
	check, err := f.svc.CheckEligibility(f.ctx, as("old"), &governancev1.CheckEligibilityRequest{Parent: term1, Nomination: &governancev1.Nomination{
		Position: governancev1.Position_POSITION_CHAIR, Nominee: "people/old", RepresentedMember: "branches/ai/members/huiyun"}})
	if err != nil {
		t.Fatal(err)
	}
	var dry []string
	for _, v := range check.GetViolations() {
		dry = append(dry, v.GetReason().String())
	}
	if !slices.Equal(dry, violationReasons(err0)) || check.GetEligible() {
		t.Fatalf("dry run %v, want the refusal's %v", dry, violationReasons(err0))
	}
	if after := len(f.outbox(t)); after != before {
		t.Fatalf("outbox grew from %d to %d on a refusal", before, after)
	}
	// Membership down: UNAVAILABLE, nothing stored.
	f.people.SetDown(true)
	_, err = f.svc.CreateNomination(f.ctx, generalSecretary, term1, &governancev1.Nomination{
		Position: governancev1.Position_POSITION_CHAIR, Nominee: "people/zhang", QualificationStatement: statement, ConsultationNotes: notes}, "down")
	if code(err) != codes.Unavailable {
		t.Fatalf("membership down: %v", err)
	}
	f.people.SetDown(false)
	if _, err := f.svc.GetNomination(f.ctx, admin, term1+"/nominations/down"); code(err) != codes.NotFound {
		t.Fatalf("nomination stored while membership was down: %v", err)
	}
}

// TestMemberTerminatedCascade: when a unit's membership ends, its
// representatives' offices end and their open nominations are withdrawn,
// each with the reason; the places are given back; a redelivery changes
// nothing. The records keep the termination's reason as its author wrote
// it, and say what the system did by their facts (the office's end_kind
// and represented_member; the nomination's state, decider and
// represented_member), never in composed prose no reader's language could
// render.
func TestMemberTerminatedCascade(t *testing.T) {
	f := newFixture(t)
	f.electChair(t)
	f.director(t, "tianhe")
	tianhe := "branches/ai/members/tianhe"
	open, err := f.svc.CreateNomination(f.ctx, as("zhang"), term1, &governancev1.Nomination{Position: governancev1.Position_POSITION_VICE_CHAIR,
		Nominee: "people/tianhe", RepresentedMember: tianhe, QualificationStatement: statement}, "vc-tianhe")
	if err != nil {
		t.Fatal(err)
	}
	ev := &eventsv1.Envelope{Id: "ev1", Payload: &eventsv1.Envelope_MemberTerminated{MemberTerminated: &eventsv1.MemberTerminated{
		Member: &membershipv1.Member{Name: tianhe}, Reason: "dues unpaid"}}}
	for range 2 {
		if err := f.svc.HandleEvent(f.ctx, ev); err != nil {
			t.Fatal(err)
		}
	}
	officers, _, err := f.svc.ListOfficers(f.ctx, &governancev1.ListOfficersRequest{Parent: term1, RepresentedMember: tianhe})
	if err != nil || len(officers) != 1 {
		t.Fatalf("officers %v %v", officers, err)
	}
	if o := officers[0]; o.GetState() != governancev1.OfficerState_OFFICER_STATE_ENDED || o.GetEndReason() != "dues unpaid" ||
		o.GetEndKind() != governancev1.OfficeEndKind_OFFICE_END_KIND_MEMBERSHIP_ENDED || o.GetRepresentedMember() != tianhe {
		t.Fatalf("office after termination: %v, want ENDED for MEMBERSHIP_ENDED of %s with the reason as written", o, tianhe)
	}
	withdrawn, err := f.svc.GetNomination(f.ctx, admin, open.GetName())
	if err != nil {
		t.Fatal(err)
	}
	if withdrawn.GetState() != governancev1.NominationState_NOMINATION_STATE_WITHDRAWN || withdrawn.GetStateReason() != "dues unpaid" ||
		withdrawn.GetDecider() != events.SystemActor || withdrawn.GetRepresentedMember() != tianhe {
		t.Fatalf("open nomination after termination: %v, want WITHDRAWN by %s with the reason as written", withdrawn, events.SystemActor)
	}
	ended, withdrawals := 0, 0
	for _, e := range f.outbox(t) {
		if e.GetOfficeEnded() != nil {
			ended++
			if r := e.GetOfficeEnded().GetReason(); r != "dues unpaid" {
				t.Errorf("OfficeEnded reason %q, want the termination's", r)
			}
		}
		if w := e.GetNominationWithdrawn(); w != nil && w.GetNomination().GetName() == open.GetName() {
			withdrawals++
			if w.GetReason() != "dues unpaid" {
				t.Errorf("NominationWithdrawn reason %q, want the termination's", w.GetReason())
			}
		}
	}
	if ended != 1 || withdrawals != 1 {
		t.Fatalf("%d OfficeEnded and %d NominationWithdrawn events, want 1 each (a redelivery must not end it twice)", ended, withdrawals)
	}
	// The unit's place is free again: a new representative can be put
	// forward.
	f.people.Add("zhou", "organizations/tianhe", membershipv1.Rank_RANK_PRESIDENT, &date.Date{Year: 1970, Month: 1, Day: 1})
	f.people.SetRepresentative("branches/ai/members/tianhe", "people/zhou")
	if _, err := f.svc.CreateNomination(f.ctx, as("zhou"), term1, &governancev1.Nomination{Position: governancev1.Position_POSITION_DIRECTOR,
		Nominee: "people/zhou", RepresentedMember: "branches/ai/members/tianhe", QualificationStatement: statement}, ""); err != nil {
		t.Fatalf("nomination after the office ended: %v", err)
	}
}

// TestOnRedisCluster: every governance write is one script on one slot,
// so the whole route runs on a 3-primary Redis Cluster.
func TestOnRedisCluster(t *testing.T) {
	cluster := redistest.StartCluster(t)
	rdb := cluster.Client()
	t.Cleanup(func() { rdb.Close() })
	f := fixtureOn(t, rdb)
	f.electChair(t)
	f.director(t, "tianhe")
	r, err := f.svc.CreateResolution(f.ctx, as("zhang"), "branches/ai", &governancev1.Resolution{Title: "t", Text: "x", Kind: governancev1.ResolutionKind_RESOLUTION_KIND_ORDINARY}, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.OpenResolutionVoting(f.ctx, as("zhang"), &governancev1.OpenResolutionVotingRequest{Name: r.GetName()}); err != nil {
		t.Fatal(err)
	}
	for _, who := range []string{"zhang", "tianhe"} {
		if _, err := f.svc.CastResolutionVote(f.ctx, as(who), &governancev1.CastResolutionVoteRequest{Name: r.GetName(), Choice: governancev1.VoteChoice_VOTE_CHOICE_YES}); err != nil {
			t.Fatal(err)
		}
	}
	if r, err = f.svc.CloseResolutionVoting(f.ctx, as("zhang"), &governancev1.CloseResolutionVotingRequest{Name: r.GetName()}); err != nil || r.GetState() != governancev1.ResolutionState_RESOLUTION_STATE_PASSED {
		t.Fatalf("close: %v %v", r, err)
	}
	if _, err := f.svc.GetComplianceReport(f.ctx, admin, "branches/ai", 0); err != nil {
		t.Fatal(err)
	}
	if n, err := rdb.XLen(f.ctx, eventstream.StreamKey(streams.BranchTag("ai"))).Result(); err != nil || n == 0 {
		t.Fatalf("outbox on the cluster: %d %v", n, err)
	}
}

// TestViceChairByResolution: a vice-chair is appointed only on a passed
// VICE_CHAIR_APPOINTMENT resolution of the term's council that lists the
// nomination; a serving vice-chair may then be secretary-general (G8)
// though they work elsewhere.
func TestViceChairByResolution(t *testing.T) {
	f := newFixture(t)
	f.electChair(t)
	f.director(t, "d1")
	f.director(t, "d2")
	f.people.Add("qian", "organizations/qian-lab", membershipv1.Rank_RANK_PRESIDENT, &date.Date{Year: 1968, Month: 8, Day: 8})
	n, err := f.svc.CreateNomination(f.ctx, as("d1"), term1, &governancev1.Nomination{
		Position: governancev1.Position_POSITION_VICE_CHAIR, Nominee: "people/qian", QualificationStatement: statement}, "vc")
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.svc.AppointNomination(f.ctx, as("zhang"), &governancev1.AppointNominationRequest{Name: n.GetName()})
	if apierr.ReasonOf(err) != apiv1.ErrorReason_RESOLUTION_NOT_PASSED {
		t.Fatalf("appointment without a resolution: %v", err)
	}
	r, err := f.svc.CreateResolution(f.ctx, as("zhang"), "branches/ai", &governancev1.Resolution{Title: "Appoint a vice-chair", Text: "Qian is appointed.",
		Kind: governancev1.ResolutionKind_RESOLUTION_KIND_VICE_CHAIR_APPOINTMENT, Nominations: []string{n.GetName()}}, "vc-res")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.OpenResolutionVoting(f.ctx, as("zhang"), &governancev1.OpenResolutionVotingRequest{Name: r.GetName()}); err != nil {
		t.Fatal(err)
	}
	_, err = f.svc.AppointNomination(f.ctx, as("zhang"), &governancev1.AppointNominationRequest{Name: n.GetName(), AppointingResolution: r.GetName()})
	if apierr.ReasonOf(err) != apiv1.ErrorReason_RESOLUTION_NOT_PASSED {
		t.Fatalf("appointment while the resolution is voting: %v", err)
	}
	for _, who := range []string{"zhang", "d1", "d2"} {
		if _, err := f.svc.CastResolutionVote(f.ctx, as(who), &governancev1.CastResolutionVoteRequest{Name: r.GetName(), Choice: governancev1.VoteChoice_VOTE_CHOICE_YES}); err != nil {
			t.Fatal(err)
		}
	}
	if r, err = f.svc.CloseResolutionVoting(f.ctx, as("zhang"), &governancev1.CloseResolutionVotingRequest{Name: r.GetName()}); err != nil || r.GetState() != governancev1.ResolutionState_RESOLUTION_STATE_PASSED {
		t.Fatalf("close: %v %v", r, err)
	}
	n, err = f.svc.AppointNomination(f.ctx, as("zhang"), &governancev1.AppointNominationRequest{Name: n.GetName(), AppointingResolution: r.GetName()})
	if err != nil || n.GetAppointingResolution() != r.GetName() {
		t.Fatalf("appointment on the passed resolution: %v %v", n, err)
	}
	// G8: the serving vice-chair, who works for another organisation, may
	// be the secretary-general.
	sg, err := f.svc.CreateNomination(f.ctx, as("zhang"), term1, &governancev1.Nomination{Position: governancev1.Position_POSITION_SECRETARY_GENERAL, Nominee: "people/qian"}, "sg")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.AppointNomination(f.ctx, as("zhang"), &governancev1.AppointNominationRequest{Name: sg.GetName()}); err != nil {
		t.Fatalf("secretary-general who is a serving vice-chair: %v", err)
	}
}

// TestWithdrawnResolutionTakesNoBallots: withdrawing a resolution during
// voting stops ballots in the same step.
func TestWithdrawnResolutionTakesNoBallots(t *testing.T) {
	f := newFixture(t)
	f.electChair(t)
	r, err := f.svc.CreateResolution(f.ctx, as("zhang"), "branches/ai", &governancev1.Resolution{Title: "t", Text: "x", Kind: governancev1.ResolutionKind_RESOLUTION_KIND_ORDINARY}, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.OpenResolutionVoting(f.ctx, as("zhang"), &governancev1.OpenResolutionVotingRequest{Name: r.GetName()}); err != nil {
		t.Fatal(err)
	}
	if r, err = f.svc.WithdrawResolution(f.ctx, as("zhang"), &governancev1.WithdrawResolutionRequest{Name: r.GetName(), Reason: "superseded"}); err != nil ||
		r.GetState() != governancev1.ResolutionState_RESOLUTION_STATE_WITHDRAWN || r.GetStateReason() != "superseded" {
		t.Fatalf("withdraw: %v %v", r, err)
	}
	_, err = f.svc.CastResolutionVote(f.ctx, as("zhang"), &governancev1.CastResolutionVoteRequest{Name: r.GetName(), Choice: governancev1.VoteChoice_VOTE_CHOICE_YES})
	if apierr.ReasonOf(err) != apiv1.ErrorReason_INVALID_STATE_TRANSITION {
		t.Fatalf("ballot on a withdrawn resolution: %v", err)
	}
}

// TestAVoterWhoLeftCastsNoBallot: a council member whose office ends while
// voting is open is refused a ballot afterwards.
func TestAVoterWhoLeftCastsNoBallot(t *testing.T) {
	f := newFixture(t)
	f.electChair(t)
	f.director(t, "tianhe")
	r, err := f.svc.CreateResolution(f.ctx, as("zhang"), "branches/ai", &governancev1.Resolution{Title: "t", Text: "x", Kind: governancev1.ResolutionKind_RESOLUTION_KIND_ORDINARY}, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.OpenResolutionVoting(f.ctx, as("zhang"), &governancev1.OpenResolutionVotingRequest{Name: r.GetName()}); err != nil {
		t.Fatal(err)
	}
	officers, _, err := f.svc.ListOfficers(f.ctx, &governancev1.ListOfficersRequest{Parent: term1, Person: "people/tianhe"})
	if err != nil || len(officers) != 1 {
		t.Fatalf("officers %v %v", officers, err)
	}
	if _, err := f.svc.EndOffice(f.ctx, as("tianhe"), &governancev1.EndOfficeRequest{Name: officers[0].GetName(), Reason: "moved abroad"}); err != nil {
		t.Fatal(err)
	}
	_, err = f.svc.CastResolutionVote(f.ctx, as("tianhe"), &governancev1.CastResolutionVoteRequest{Name: r.GetName(), Choice: governancev1.VoteChoice_VOTE_CHOICE_YES})
	if apierr.ReasonOf(err) != apiv1.ErrorReason_NOT_AN_ELIGIBLE_VOTER {
		t.Fatalf("a ballot after the office ended: %v, want NOT_AN_ELIGIBLE_VOTER", err)
	}
	if _, err := f.svc.CastResolutionVote(f.ctx, as("zhang"), &governancev1.CastResolutionVoteRequest{Name: r.GetName(), Choice: governancev1.VoteChoice_VOTE_CHOICE_YES}); err != nil {
		t.Fatalf("the chair still votes: %v", err)
	}
}

// TestComplianceReportFindings: an officer passing the age limit within
// the term is flagged (G4, a warning), an overdue task of the general
// association is a breach (G9), the missing secretary-general a vacancy,
// A1 below the minimum in the current year a warning; findings are in
// rule-code order and the verdict follows the breaches.
func TestComplianceReportFindings(t *testing.T) {
	f := newFixture(t)
	// 68 at appointment, 71 on 2029-06-01, before the term ends.
	f.people.Add("zhang", "organizations/huiyun", membershipv1.Rank_RANK_PRESIDENT, &date.Date{Year: 1958, Month: 6, Day: 1})
	f.electChair(t)
	plan, err := f.svc.CreateWorkPlan(f.ctx, admin, "branches/ai", &governancev1.WorkPlan{Year: 2026, Title: "2026"}, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.CreateWorkItem(f.ctx, generalSecretary, plan.GetName(), &governancev1.WorkItem{Title: "Survey",
		Source: governancev1.WorkItemSource_WORK_ITEM_SOURCE_GENERAL_ASSOCIATION, DueDate: &date.Date{Year: 2026, Month: 10, Day: 31}}, ""); err != nil {
		t.Fatal(err)
	}
	report, err := f.svc.GetComplianceReport(f.ctx, admin, "branches/ai", 0)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, x := range report.GetFindings() {
		got = append(got, fmt.Sprintf("%s/%s/%s", x.GetRule(), x.GetReason(), strings.TrimPrefix(x.GetSeverity().String(), "FINDING_SEVERITY_")))
	}
	want := []string{"G4/AGE_LIMIT_EXCEEDED/WARNING", "G7/OFFICE_VACANT/BREACH", "G9/ASSIGNED_TASK_OVERDUE/BREACH", "G9/WORK_PLAN_NOT_ADOPTED/WARNING"}
	if !slices.Equal(got, want) || report.GetCompliant() {
		t.Fatalf("findings %v (compliant %v), want %v and not compliant", got, report.GetCompliant(), want)
	}
	issue := report.GetAgeLimitIssues()[0]
	if issue.GetAge() != 68 || issue.GetExceedDate().GetYear() != 2029 || issue.GetExceedDate().GetMonth() != 6 || issue.GetExceedDate().GetDay() != 1 {
		t.Fatalf("age issue %v", issue)
	}
	if report.GetExchangeActivities().GetRequiredCount() != 2 || !report.GetExchangeActivities().GetMet() {
		t.Fatalf("A1 %v: two completed against the branch's minimum of 2", report.GetExchangeActivities())
	}
}

// bypassed is the store as a domain meets it when its check of a term's
// nominations ran before a rival was stored, on every try: just before
// the first write, rival stores a nomination for the same place, and
// every read of the term's nominations leaves it out. Only the store's
// own claim then stands between the rule and a second holder.
type bypassed struct {
	*store.Store
	rival  func() string
	once   sync.Once
	hidden string
}

func (b *bypassed) Nominations(ctx context.Context, branch string, term int32) ([]*governancev1.Nomination, error) {
	all, err := b.Store.Nominations(ctx, branch, term)
	return slices.DeleteFunc(all, func(n *governancev1.Nomination) bool { return n.GetName() == b.hidden }), err
}

func (b *bypassed) CreateNomination(ctx context.Context, branch string, n *governancev1.Nomination, claim string, max int, ev *eventsv1.Envelope) error {
	b.once.Do(func() { b.hidden = b.rival() })
	return b.Store.CreateNomination(ctx, branch, n, claim, max, ev)
}

// TestTheStoresRefusalIsTheRule: when a rival takes the last place of an
// office between the rules' read and the write (made deterministic with
// bypassed, on a real redis-server), the script's refusal is the charter
// error of that place, with its rule: 400 CHARTER_VIOLATION, not a
// conflict retried until it is a 500, nor a 409. One case per place the
// store counts: the chair (G5), the secretary-general (G7), a unit's
// director nominee and an individual's own stand (G6).
func TestTheStoresRefusalIsTheRule(t *testing.T) {
	director := func(nominee, member string) *governancev1.Nomination {
		return &governancev1.Nomination{Position: governancev1.Position_POSITION_DIRECTOR, Nominee: nominee, RepresentedMember: member, QualificationStatement: statement}
	}
	for _, tc := range []struct {
		name   string
		rule   string
		reason apiv1.ErrorReason
		// setup readies the fixture and returns who proposes, and the
		// nomination of the rival and of the late proposer.
		setup func(t *testing.T, f *fixture) (auth.Principal, *governancev1.Nomination, *governancev1.Nomination)
	}{
		{"one chair", "G5", apiv1.ErrorReason_OFFICE_ALREADY_FILLED, func(t *testing.T, f *fixture) (auth.Principal, *governancev1.Nomination, *governancev1.Nomination) {
			chair := func(nominee string) *governancev1.Nomination {
				return &governancev1.Nomination{Position: governancev1.Position_POSITION_CHAIR, Nominee: nominee, QualificationStatement: statement, ConsultationNotes: notes}
			}
			f.people.Add("chen", "organizations/chen", membershipv1.Rank_RANK_PRESIDENT, &date.Date{Year: 1970, Month: 1, Day: 1})
			return generalSecretary, chair("people/zhang"), chair("people/chen")
		}},
		{"one secretary-general", "G7", apiv1.ErrorReason_OFFICE_ALREADY_FILLED, func(t *testing.T, f *fixture) (auth.Principal, *governancev1.Nomination, *governancev1.Nomination) {
			f.electChair(t)
			for _, id := range []string{"li", "sun"} {
				f.people.Add(id, "organizations/huiyun", membershipv1.Rank_RANK_MANAGER, &date.Date{Year: 1985, Month: 3, Day: 3})
			}
			secretary := func(nominee string) *governancev1.Nomination {
				return &governancev1.Nomination{Position: governancev1.Position_POSITION_SECRETARY_GENERAL, Nominee: nominee}
			}
			return as("zhang"), secretary("people/li"), secretary("people/sun")
		}},
		{"a unit's director nominee", "G6", apiv1.ErrorReason_DIRECTOR_NOMINEE_LIMIT_EXCEEDED, func(t *testing.T, f *fixture) (auth.Principal, *governancev1.Nomination, *governancev1.Nomination) {
			f.people.Add("wang", "organizations/tianhe", membershipv1.Rank_RANK_VICE_PRESIDENT, &date.Date{Year: 1975, Month: 1, Day: 1})
			unit := f.people.AddUnit("tianhe", "organizations/tianhe", "wang")
			return as("wang"), director("people/wang", unit), director("people/wang", unit)
		}},
		{"an individual's one stand", "G6", apiv1.ErrorReason_DIRECTOR_NOMINEE_LIMIT_EXCEEDED, func(t *testing.T, f *fixture) (auth.Principal, *governancev1.Nomination, *governancev1.Nomination) {
			f.people.Add("expert", "", membershipv1.Rank_RANK_UNSPECIFIED, &date.Date{Year: 1980, Month: 1, Day: 1})
			f.people.AddIndividual("expert", "expert")
			return as("expert"), director("people/expert", ""), director("people/expert", "")
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			proposer, rival, late := tc.setup(t, f)
			racing := &bypassed{Store: store.New(f.rdb), rival: func() string {
				n, err := f.svc.CreateNomination(f.ctx, proposer, term1, rival, "rival")
				if err != nil {
					t.Errorf("the rival: %v", err)
				}
				return n.GetName()
			}}
			svc := domain.NewService(racing, f.people, govtest.Activities{Completed: 2}, pagetoken.NewEphemeral(), func() time.Time { return govtest.Today })
			_, err := svc.CreateNomination(f.ctx, proposer, term1, late, "late")
			if code(err) != codes.FailedPrecondition || apierr.ReasonOf(err) != apiv1.ErrorReason_CHARTER_VIOLATION ||
				!slices.Equal(violationReasons(err), []string{tc.reason.String()}) || apierr.Info(err).GetMetadata()["rules"] != tc.rule {
				t.Fatalf("the late nomination: %v; want CHARTER_VIOLATION with %s %s only", err, tc.rule, tc.reason)
			}
			if _, err := f.svc.GetNomination(f.ctx, admin, term1+"/nominations/late"); code(err) != codes.NotFound {
				t.Fatalf("the refused nomination was stored: %v", err)
			}
		})
	}
}

// interleaved is the store with a change made between a write's reads
// and the write itself, once: meanwhile runs just before the first
// appointment or term change is written.
type interleaved struct {
	*store.Store
	meanwhile func()
	once      sync.Once
}

func (s *interleaved) SaveTerm(ctx context.Context, branch string, t *governancev1.Term, prevEtag, termsVersion, officersVersion string, ev *eventsv1.Envelope) error {
	s.once.Do(s.meanwhile)
	return s.Store.SaveTerm(ctx, branch, t, prevEtag, termsVersion, officersVersion, ev)
}

func (s *interleaved) Appoint(ctx context.Context, branch string, n *governancev1.Nomination, prevEtag string, o *governancev1.Officer, officersVersion, termEtag string, evs ...*eventsv1.Envelope) error {
	s.once.Do(s.meanwhile)
	return s.Store.Appoint(ctx, branch, n, prevEtag, o, officersVersion, termEtag, evs...)
}

// TestAppointmentRaceIsJudgedByTheRules: qian, a serving vice-chair, may
// be the secretary-general (G8); the chair appoints him with the
// nomination's etag pinned, and between the rules' read and the write
// qian's vice-chair office ends (made deterministic with interleaved, on
// redis-server). The nomination did not change, so the answer is the
// rules' on what did: 400 CHARTER_VIOLATION with G8, not 409 ETAG_MISMATCH.
// Nothing is written.
func TestAppointmentRaceIsJudgedByTheRules(t *testing.T) {
	f := newFixture(t)
	f.electChair(t)
	f.director(t, "d1")
	f.director(t, "d2")
	f.people.Add("qian", "organizations/qian-lab", membershipv1.Rank_RANK_PRESIDENT, &date.Date{Year: 1968, Month: 8, Day: 8})
	vice, err := f.svc.CreateNomination(f.ctx, as("d1"), term1, &governancev1.Nomination{
		Position: governancev1.Position_POSITION_VICE_CHAIR, Nominee: "people/qian", QualificationStatement: statement}, "vc")
	if err != nil {
		t.Fatal(err)
	}
	r, err := f.svc.CreateResolution(f.ctx, as("zhang"), "branches/ai", &governancev1.Resolution{Title: "Appoint a vice-chair", Text: "Qian is appointed.",
		Kind: governancev1.ResolutionKind_RESOLUTION_KIND_VICE_CHAIR_APPOINTMENT, Nominations: []string{vice.GetName()}}, "vc-res")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.OpenResolutionVoting(f.ctx, as("zhang"), &governancev1.OpenResolutionVotingRequest{Name: r.GetName()}); err != nil {
		t.Fatal(err)
	}
	for _, who := range []string{"zhang", "d1", "d2"} {
		if _, err := f.svc.CastResolutionVote(f.ctx, as(who), &governancev1.CastResolutionVoteRequest{Name: r.GetName(), Choice: governancev1.VoteChoice_VOTE_CHOICE_YES}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := f.svc.CloseResolutionVoting(f.ctx, as("zhang"), &governancev1.CloseResolutionVotingRequest{Name: r.GetName()}); err != nil {
		t.Fatal(err)
	}
	if vice, err = f.svc.AppointNomination(f.ctx, as("zhang"), &governancev1.AppointNominationRequest{Name: vice.GetName(), AppointingResolution: r.GetName()}); err != nil {
		t.Fatal(err)
	}
	sg, err := f.svc.CreateNomination(f.ctx, as("zhang"), term1, &governancev1.Nomination{Position: governancev1.Position_POSITION_SECRETARY_GENERAL, Nominee: "people/qian"}, "sg")
	if err != nil {
		t.Fatal(err)
	}

	racing := &interleaved{Store: store.New(f.rdb), meanwhile: func() {
		if _, err := f.svc.EndOffice(f.ctx, admin, &governancev1.EndOfficeRequest{Name: vice.GetOfficer(), Reason: "stepped down"}); err != nil {
			t.Errorf("ending qian's vice-chair office: %v", err)
		}
	}}
	svc := domain.NewService(racing, f.people, govtest.Activities{Completed: 2}, pagetoken.NewEphemeral(), func() time.Time { return govtest.Today })
	_, err = svc.AppointNomination(f.ctx, as("zhang"), &governancev1.AppointNominationRequest{Name: sg.GetName(), Etag: sg.GetEtag()})
	if apierr.ReasonOf(err) != apiv1.ErrorReason_CHARTER_VIOLATION || !slices.Equal(violationReasons(err), []string{apiv1.ErrorReason_SECRETARY_GENERAL_NOT_ELIGIBLE.String()}) {
		t.Fatalf("appointing once the vice-chair office ended: %v; want CHARTER_VIOLATION with G8 SECRETARY_GENERAL_NOT_ELIGIBLE", err)
	}
	if got, err := f.svc.GetNomination(f.ctx, admin, sg.GetName()); err != nil || got.GetState() != governancev1.NominationState_NOMINATION_STATE_PROPOSED || got.GetEtag() != sg.GetEtag() {
		t.Fatalf("the nomination after the refusal: %v %v", got, err)
	}
}

// TestTermChangeRaceIsJudgedByTheRules: 届 1's end moved into 2030 with its
// etag pinned, while 届 2, from 2030-01-01, is created between the read and
// the write (interleaved, on redis-server). The term itself did not
// change, so the answer is the rule's on the terms that did: TERMS_OVERLAP
// naming 届 2, not 409 ETAG_MISMATCH.
func TestTermChangeRaceIsJudgedByTheRules(t *testing.T) {
	f := newFixture(t)
	one, err := f.svc.GetTerm(f.ctx, term1)
	if err != nil {
		t.Fatal(err)
	}
	racing := &interleaved{Store: store.New(f.rdb), meanwhile: func() {
		if _, err := f.svc.CreateTerm(f.ctx, admin, "branches/ai", &governancev1.Term{Number: 2,
			StartDate: &date.Date{Year: 2030, Month: 1, Day: 1}, EndDate: &date.Date{Year: 2034, Month: 12, Day: 31}}); err != nil {
			t.Errorf("届 2: %v", err)
		}
	}}
	svc := domain.NewService(racing, f.people, govtest.Activities{Completed: 2}, pagetoken.NewEphemeral(), func() time.Time { return govtest.Today })
	_, err = svc.UpdateTerm(f.ctx, admin, &governancev1.Term{Name: term1, EndDate: &date.Date{Year: 2030, Month: 6, Day: 30}, Etag: one.GetEtag()},
		&fieldmaskpb.FieldMask{Paths: []string{"end_date"}})
	if apierr.ReasonOf(err) != apiv1.ErrorReason_TERMS_OVERLAP || apierr.Info(err).GetMetadata()["term"] != "branches/ai/terms/2" {
		t.Fatalf("届 1 moved into 届 2, created meanwhile: %v; want TERMS_OVERLAP naming branches/ai/terms/2", err)
	}
	if got, err := f.svc.GetTerm(f.ctx, term1); err != nil || got.GetEtag() != one.GetEtag() {
		t.Fatalf("届 1 after the refusal: %v %v", got, err)
	}
}

// TestRecordedBallotNeverReplacesTheVotersOwn: the secretariat records a
// show of hands while a voter casts their own ballot. Whichever lands
// first, the voter's own ballot is the one that stands: recorded after
// it, the record is refused (OWN_BALLOT_CAST) and stores nothing; recorded
// before it, the own ballot replaces it. A record is all or nothing, with
// its event naming the recorder.
func TestRecordedBallotNeverReplacesTheVotersOwn(t *testing.T) {
	f := newFixture(t)
	f.electChair(t)
	f.director(t, "d1")
	f.director(t, "d2")
	m, err := f.svc.CreateMeeting(f.ctx, admin, "branches/ai", &governancev1.Meeting{Title: "Council", Kind: governancev1.MeetingKind_MEETING_KIND_COUNCIL,
		StartTime: timestamppb.New(govtest.Today), Attendees: []string{"people/zhang", "people/d1", "people/d2"}}, "m1")
	if err != nil {
		t.Fatal(err)
	}
	m.State = governancev1.MeetingState_MEETING_STATE_HELD
	if _, err := f.svc.UpdateMeeting(f.ctx, admin, m, &fieldmaskpb.FieldMask{Paths: []string{"state"}}); err != nil {
		t.Fatal(err)
	}
	for round := range 8 {
		id := fmt.Sprintf("r%d", round)
		r, err := f.svc.CreateResolution(f.ctx, as("zhang"), "branches/ai", &governancev1.Resolution{Title: "t", Text: "x",
			Kind: governancev1.ResolutionKind_RESOLUTION_KIND_ORDINARY, Meeting: m.GetName()}, id)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.OpenResolutionVoting(f.ctx, as("zhang"), &governancev1.OpenResolutionVotingRequest{Name: r.GetName()}); err != nil {
			t.Fatal(err)
		}
		events := len(f.outbox(t))
		errs := race(2, func(i int) error {
			if i == 0 {
				_, err := f.svc.CastResolutionVote(f.ctx, as("d1"), &governancev1.CastResolutionVoteRequest{Name: r.GetName(), Choice: governancev1.VoteChoice_VOTE_CHOICE_NO})
				return err
			}
			_, err := f.svc.RecordResolutionBallots(f.ctx, admin, &governancev1.RecordResolutionBallotsRequest{Name: r.GetName(), Meeting: m.GetName(),
				Method: governancev1.BallotMethod_BALLOT_METHOD_SHOW_OF_HANDS, Ballots: []*governancev1.RecordedBallot{
					{Voter: "people/d2", Choice: governancev1.VoteChoice_VOTE_CHOICE_YES},
					{Voter: "people/d1", Choice: governancev1.VoteChoice_VOTE_CHOICE_YES},
				}})
			return err
		})
		if errs[0] != nil {
			t.Fatalf("round %d: own ballot: %v", round, errs[0])
		}
		d1, err := f.svc.GetVote(f.ctx, r.GetName()+"/votes/d1")
		if err != nil || d1.GetChoice() != governancev1.VoteChoice_VOTE_CHOICE_NO || d1.GetRecorder() != "" {
			t.Fatalf("round %d: d1's ballot %v (%v), want their own NO", round, d1, err)
		}
		d2, err := f.svc.GetVote(f.ctx, r.GetName()+"/votes/d2")
		recorded := 0
		for _, ev := range f.outbox(t)[events:] {
			if rec := ev.GetResolutionBallotsRecorded(); rec != nil {
				recorded++
				if rec.GetRecorder() != admin.Subject || ev.GetActor() != admin.Subject || rec.GetMeeting() != m.GetName() || len(rec.GetVotes()) != 2 {
					t.Fatalf("round %d: event %v", round, rec)
				}
			}
		}
		switch {
		case errs[1] == nil:
			if err != nil || d2.GetRecorder() != admin.Subject || d2.GetMeeting() != m.GetName() || recorded != 1 {
				t.Fatalf("round %d: recorded, but d2's ballot %v (%v), %d events", round, d2, err, recorded)
			}
		case apierr.ReasonOf(errs[1]) == apiv1.ErrorReason_BALLOTS_REFUSED:
			if code(err) != codes.NotFound || recorded != 0 {
				t.Fatalf("round %d: refused, but d2's ballot %v (%v), %d events", round, d2, err, recorded)
			}
		default:
			t.Fatalf("round %d: record: %v", round, errs[1])
		}
	}
}
