// Package govtest holds what governance's tests share: membership and
// activities as in-memory fakes, and a branch seeded through the use cases
// the charter's way (a chair elected, a secretary-general and directors
// appointed), so each test starts from a real council.
package govtest

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/type/date"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/tjsia/chapterhouse/platform/apierr"
	"github.com/tjsia/chapterhouse/platform/auth"
	activitiesv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/activities/v1"
	governancev1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/governance/v1"
	membershipv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/membership/v1"

	"github.com/tjsia/chapterhouse/services/governance/internal/domain"
)

// Statements long enough for G2 and G5.
const (
	Statement = "Leads applied AI research at a listed company; chairs two national standard working groups."
	Notes     = "Consultation with all unit members held on 2026-10-12; no objections were raised."
	// Term1 is 2025–2029, current on Today.
	Term1 = "branches/ai/terms/1"
)

// Today is the tests' fixed clock, within Term1.
var Today = time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)

// Callers with static roles.
var (
	Admin            = auth.Principal{Subject: "people/admin", Roles: []string{auth.RoleAdmin}}
	GeneralSecretary = auth.Principal{Subject: "people/gs", Roles: []string{auth.RoleGeneralSecretary}}
	GeneralCouncil   = auth.Principal{Subject: "people/gc", Roles: []string{auth.RoleGeneralCouncil}}
)

// As is a caller without static roles.
func As(id string) auth.Principal { return auth.Principal{Subject: "people/" + id} }

var attested = &membershipv1.Attestation{Attester: "people/admin", AttestTime: timestamppb.New(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))}

// People is membership as a map; Down makes it UNAVAILABLE.
type People struct {
	mu      sync.Mutex
	people  map[string]*membershipv1.Person
	members map[string]*membershipv1.Member
	down    bool
}

// NewPeople returns an empty membership.
func NewPeople() *People {
	return &People{people: map[string]*membershipv1.Person{}, members: map[string]*membershipv1.Member{}}
}

// SetDown makes every lookup UNAVAILABLE (or available again).
func (f *People) SetDown(down bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.down = down
}

func (f *People) unavailable() error {
	if f.down {
		return apierr.Unavailable("membership", errors.New("connection refused"))
	}
	return nil
}

// Person implements domain.People.
func (f *People) Person(_ context.Context, name string) (*membershipv1.Person, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.unavailable(); err != nil {
		return nil, err
	}
	if p, ok := f.people[name]; ok {
		return proto.Clone(p).(*membershipv1.Person), nil
	}
	return nil, domain.ErrNotFound
}

// Member implements domain.People.
func (f *People) Member(_ context.Context, name string) (*membershipv1.Member, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.unavailable(); err != nil {
		return nil, err
	}
	if m, ok := f.members[name]; ok {
		return proto.Clone(m).(*membershipv1.Member), nil
	}
	return nil, domain.ErrNotFound
}

// Represented implements domain.People.
func (f *People) Represented(_ context.Context, _, person string) ([]string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.unavailable(); err != nil {
		return nil, err
	}
	var out []string
	for name, m := range f.members {
		if m.GetPerson() == person {
			out = append(out, name)
		}
	}
	return out, nil
}

// Add registers a person with attested birth date, employer and rank.
func (f *People) Add(id, org string, rank membershipv1.Rank, birth *date.Date) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.people["people/"+id] = &membershipv1.Person{Name: "people/" + id, DisplayName: id,
		BirthDate: birth, BirthDateAttestation: attested, Organization: org, OrganizationAttestation: attested, Rank: rank, RankAttestation: attested}
}

// Change changes a registered person as membership would (an attestation
// withdrawn, a new rank).
func (f *People) Change(id string, change func(*membershipv1.Person)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	change(f.people["people/"+id])
}

// AddUnit admits an active unit member represented by representative.
func (f *People) AddUnit(id, org, representative string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	name := "branches/ai/members/" + id
	f.members[name] = &membershipv1.Member{Name: name, Kind: membershipv1.ApplicationKind_APPLICATION_KIND_UNIT,
		Organization: org, Person: "people/" + representative, State: membershipv1.MemberState_MEMBER_STATE_ACTIVE}
	return name
}

// AddIndividual admits person as an active individual member.
func (f *People) AddIndividual(id, person string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	name := "branches/ai/members/" + id
	f.members[name] = &membershipv1.Member{Name: name, Kind: membershipv1.ApplicationKind_APPLICATION_KIND_INDIVIDUAL,
		Person: "people/" + person, State: membershipv1.MemberState_MEMBER_STATE_ACTIVE}
	return name
}

// SetRepresentative changes a unit member's representative.
func (f *People) SetRepresentative(member, person string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.members[member].Person = person
}

// Activities answers A1 with fixed counts.
type Activities struct{ Completed, Scheduled int32 }

// AnnualQuota implements domain.Activities.
func (f Activities) AnnualQuota(context.Context, string, int32) (*activitiesv1.AnnualQuota, error) {
	return &activitiesv1.AnnualQuota{CompletedCount: f.Completed, ScheduledCount: f.Scheduled}, nil
}

// Branch creates branch "ai" with CHARTER.md's parameters and Term1, and
// registers zhang, president of member unit huiyun.
func Branch(t testing.TB, svc *domain.Service, people *People) {
	t.Helper()
	ctx := context.Background()
	if _, err := svc.EnsureBranch(ctx, "ai", &governancev1.Branch{DisplayName: "人工智能分会"}); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.CreateTerm(ctx, Admin, "branches/ai", &governancev1.Term{Number: 1,
		StartDate: &date.Date{Year: 2025, Month: 1, Day: 1}, EndDate: &date.Date{Year: 2029, Month: 12, Day: 31}}); err != nil {
		t.Fatal(err)
	}
	people.Add("zhang", "organizations/huiyun", membershipv1.Rank_RANK_PRESIDENT, &date.Date{Year: 1970, Month: 5, Day: 1})
	people.AddUnit("huiyun", "organizations/huiyun", "zhang")
}

// ElectChair runs G5's route for zhang: proposed by the general
// association's secretary-general, decided by its council, appointed.
func ElectChair(t testing.TB, svc *domain.Service) *governancev1.Nomination {
	t.Helper()
	ctx := context.Background()
	n, err := svc.CreateNomination(ctx, GeneralSecretary, Term1, &governancev1.Nomination{
		Position: governancev1.Position_POSITION_CHAIR, Nominee: "people/zhang", RepresentedMember: "branches/ai/members/huiyun",
		QualificationStatement: Statement, ConsultationNotes: Notes}, "chair")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.DecideNomination(ctx, GeneralCouncil, &governancev1.DecideNominationRequest{Name: n.GetName(), Decision: governancev1.Decision_DECISION_APPROVE}); err != nil {
		t.Fatal(err)
	}
	n, err = svc.AppointNomination(ctx, GeneralCouncil, &governancev1.AppointNominationRequest{Name: n.GetName()})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// AppointSecretary has the chair appoint li, an employee of the chair's
// unit (G7, G8).
func AppointSecretary(t testing.TB, svc *domain.Service, people *People) *governancev1.Nomination {
	t.Helper()
	ctx := context.Background()
	people.Add("li", "organizations/huiyun", membershipv1.Rank_RANK_MANAGER, &date.Date{Year: 1985, Month: 3, Day: 3})
	n, err := svc.CreateNomination(ctx, As("zhang"), Term1, &governancev1.Nomination{
		Position: governancev1.Position_POSITION_SECRETARY_GENERAL, Nominee: "people/li"}, "secretary")
	if err != nil {
		t.Fatal(err)
	}
	if n, err = svc.AppointNomination(ctx, As("zhang"), &governancev1.AppointNominationRequest{Name: n.GetName()}); err != nil {
		t.Fatal(err)
	}
	return n
}

// Director nominates id, the vice-president and representative of a new
// unit of the same id, confirms and appoints them.
func Director(t testing.TB, svc *domain.Service, people *People, id string) *governancev1.Nomination {
	t.Helper()
	ctx := context.Background()
	people.Add(id, "organizations/"+id, membershipv1.Rank_RANK_VICE_PRESIDENT, &date.Date{Year: 1975, Month: 1, Day: 1})
	unit := people.AddUnit(id, "organizations/"+id, id)
	n, err := svc.CreateNomination(ctx, As(id), Term1, &governancev1.Nomination{
		Position: governancev1.Position_POSITION_DIRECTOR, Nominee: "people/" + id, RepresentedMember: unit, QualificationStatement: Statement}, "dir-"+id)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.ConfirmNominationQualification(ctx, As("zhang"), &governancev1.ConfirmNominationQualificationRequest{Name: n.GetName(), Decision: governancev1.Decision_DECISION_APPROVE}); err != nil {
		t.Fatal(err)
	}
	if n, err = svc.AppointNomination(ctx, As("zhang"), &governancev1.AppointNominationRequest{Name: n.GetName()}); err != nil {
		t.Fatal(err)
	}
	return n
}
