// Package stdtest holds what standards' tests share: membership,
// governance and activities as in-memory fakes, the branch as governance
// announces it, and a service over a given Redis with a clock the test
// moves.
package stdtest

import (
	"context"
	"errors"
	"path"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"google.golang.org/protobuf/proto"

	"github.com/tjsia/chapterhouse/platform/apierr"
	"github.com/tjsia/chapterhouse/platform/auth"
	"github.com/tjsia/chapterhouse/platform/pagetoken"
	activitiesv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/activities/v1"
	governancev1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/governance/v1"
	membershipv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/membership/v1"

	"github.com/tjsia/chapterhouse/contracts/governance/branches"
	"github.com/tjsia/chapterhouse/services/standards/internal/domain"
	"github.com/tjsia/chapterhouse/services/standards/internal/store"
)

// Start is the tests' clock at the start: 2026-11-25 10:00 UTC.
var Start = time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)

// The cast. Unit members: unit-a (ACTIVE, represented by ann), unit-b
// (ACTIVE, bob), unit-c (SUSPENDED, cat), unit-t (TERMINATED); ivy is an
// individual member; chair leads the branch; dan is in no member.
var (
	Admin = auth.Principal{Subject: "people/admin", Roles: []string{auth.RoleAdmin}}
	Chair = auth.Principal{Subject: "people/chair"}
	// Director sits on the council.
	Director = auth.Principal{Subject: "people/director"}
	Ann      = auth.Principal{Subject: "people/ann"}
	Bob      = auth.Principal{Subject: "people/bob"}
	Ivy      = auth.Principal{Subject: "people/ivy"}
	Dan      = auth.Principal{Subject: "people/dan"}
	Anyone   = auth.Principal{}
)

// Members of branches/ai.
const (
	UnitA = "branches/ai/members/unit-a"
	UnitB = "branches/ai/members/unit-b"
	UnitC = "branches/ai/members/unit-c"
	UnitT = "branches/ai/members/unit-t"
	IvyM  = "branches/ai/members/ivy"
)

// Members is membership as maps; SetDown makes it UNAVAILABLE.
type Members struct {
	mu      sync.Mutex
	members map[string]*membershipv1.Member
	down    bool
}

func unavailable(dep string) error {
	return apierr.Unavailable(dep, errors.New("connection refused"))
}

// Member implements domain.Members.
func (m *Members) Member(_ context.Context, name string) (*membershipv1.Member, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.down {
		return nil, unavailable("membership")
	}
	if mb, ok := m.members[name]; ok {
		return proto.Clone(mb).(*membershipv1.Member), nil
	}
	return nil, domain.ErrNotFound
}

// Represented implements domain.Members.
func (m *Members) Represented(_ context.Context, branch, person string) ([]string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.down {
		return nil, unavailable("membership")
	}
	var out []string
	for name, mb := range m.members {
		if mb.GetPerson() == person && mb.GetState() == membershipv1.MemberState_MEMBER_STATE_ACTIVE {
			out = append(out, name)
		}
	}
	return out, nil
}

// SetDown makes membership unreachable (or reachable again).
func (m *Members) SetDown(down bool) { m.mu.Lock(); m.down = down; m.mu.Unlock() }

// SetState changes a member's state.
func (m *Members) SetState(name string, s membershipv1.MemberState) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.members[name].State = s
}

// Resolutions is governance's resolutions as a map.
type Resolutions struct {
	mu  sync.Mutex
	res map[string]*governancev1.Resolution
}

// Resolution implements domain.Resolutions.
func (r *Resolutions) Resolution(_ context.Context, name string) (*governancev1.Resolution, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if res, ok := r.res[name]; ok {
		return res, nil
	}
	return nil, domain.ErrNotFound
}

// Set records an ORDINARY resolution in a state.
func (r *Resolutions) Set(name string, s governancev1.ResolutionState) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.res[name] = &governancev1.Resolution{Name: name, State: s, Kind: governancev1.ResolutionKind_RESOLUTION_KIND_ORDINARY}
}

// Put records a resolution as governance holds it.
func (r *Resolutions) Put(res *governancev1.Resolution) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.res[res.GetName()] = proto.Clone(res).(*governancev1.Resolution)
}

// Approve records the council's PASSED STANDARD_APPROVAL resolution
// approving standard, and returns its name.
func (r *Resolutions) Approve(standard string) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	name := "branches/ai/resolutions/approve-" + path.Base(standard)
	r.res[name] = &governancev1.Resolution{Name: name, State: governancev1.ResolutionState_RESOLUTION_STATE_PASSED,
		Kind: governancev1.ResolutionKind_RESOLUTION_KIND_STANDARD_APPROVAL, Standard: standard}
	return name
}

// Activities creates activities in a map; SetDown makes it UNAVAILABLE.
type Activities struct {
	mu      sync.Mutex
	created map[string]*activitiesv1.Activity
	down    bool
}

// CreateActivity implements domain.Activities: idempotent on id, as the
// real service is.
func (a *Activities) CreateActivity(_ context.Context, parent string, act *activitiesv1.Activity, id string) (*activitiesv1.Activity, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.down {
		return nil, unavailable("activities")
	}
	name := parent + "/activities/" + id
	if existing, ok := a.created[name]; ok {
		return existing, nil
	}
	c := proto.Clone(act).(*activitiesv1.Activity)
	c.Name, c.State = name, activitiesv1.ActivityState_ACTIVITY_STATE_DRAFT
	a.created[name] = c
	return c, nil
}

// Activity implements domain.Activities as activities answers: a DRAFT or
// CANCELLED activity is seen only by its organisers (admins and the
// branch's chair), and is NOT_FOUND to anyone else, as a missing one.
func (a *Activities) Activity(_ context.Context, p auth.Principal, name string) (*activitiesv1.Activity, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.down {
		return nil, unavailable("activities")
	}
	act, ok := a.created[name]
	if !ok {
		return nil, domain.ErrNotFound
	}
	organiser := p.IsAdmin() || p.Subject == Chair.Subject
	if st := act.GetState(); !organiser && st != activitiesv1.ActivityState_ACTIVITY_STATE_PUBLISHED && st != activitiesv1.ActivityState_ACTIVITY_STATE_COMPLETED {
		return nil, domain.ErrNotFound
	}
	return proto.Clone(act).(*activitiesv1.Activity), nil
}

// Publish publishes a created activity, as its organisers would through
// activities.
func (a *Activities) Publish(name string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.created[name].State = activitiesv1.ActivityState_ACTIVITY_STATE_PUBLISHED
}

// SetDown makes activities unreachable (or reachable again).
func (a *Activities) SetDown(down bool) { a.mu.Lock(); a.down = down; a.mu.Unlock() }

// Created are the activities created so far.
func (a *Activities) Created() []*activitiesv1.Activity {
	a.mu.Lock()
	defer a.mu.Unlock()
	var out []*activitiesv1.Activity
	for _, c := range a.created {
		out = append(out, c)
	}
	return out
}

// Branches is governance's branch "ai" (default code formats) with chair
// as its leader, and chair and Director on its council, as the branch
// directory knows them; Governance is governance itself behind it.
type Branches struct {
	branches.Static
	Governance *Governance
}

// Leaders implements domain.Branches.
func (Branches) Leaders(context.Context, string) ([]string, error) {
	return []string{Chair.Subject}, nil
}

// Council implements domain.Branches.
func (Branches) Council(context.Context, string) ([]string, error) {
	return []string{Chair.Subject, Director.Subject}, nil
}

// Standing implements domain.Branches: governance's own answer.
func (b Branches) Standing(_ context.Context, _, person string) (branches.Standing, error) {
	return b.Governance.standing(person), nil
}

// Governance knows what the directory knows, and the chairs it appointed
// a moment ago that the directory has not heard of yet; it counts how
// often it is asked.
type Governance struct {
	mu        sync.Mutex
	newChairs []string
	asked     int
}

// Appoint makes person a chair governance knows and the directory not yet.
func (g *Governance) Appoint(person string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.newChairs = append(g.newChairs, person)
}

// Asked is how often governance was asked.
func (g *Governance) Asked() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.asked
}

func (g *Governance) standing(person string) branches.Standing {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.asked++
	leads := person == Chair.Subject || slices.Contains(g.newChairs, person)
	return branches.Standing{Leads: leads, OnCouncil: leads || person == Director.Subject}
}

// Clock is a time the test moves.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// Now reads it.
func (c *Clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }

// Advance moves it on.
func (c *Clock) Advance(d time.Duration) { c.mu.Lock(); c.now = c.now.Add(d); c.mu.Unlock() }

// Fixture is a standards service with its fakes.
type Fixture struct {
	Svc         *domain.Service
	Store       *store.Store
	Members     *Members
	Resolutions *Resolutions
	Activities  *Activities
	Clock       *Clock
	Governance  *Governance
}

// Passed and Failed are ORDINARY resolutions of branches/ai (a standard's
// approval cites its own: Resolutions.Approve).
const (
	Passed = "branches/ai/resolutions/adopt-std"
	Failed = "branches/ai/resolutions/failed"
)

// New returns the service over client, with the cast above.
func New(t testing.TB, client redis.UniversalClient) *Fixture {
	t.Helper()
	return NewWith(t, client, nil)
}

// NewWith is New with the service's repository wrapped (nil: the store
// itself), for a test that steps in between the service's reads and its
// writes.
func NewWith(t testing.TB, client redis.UniversalClient, wrap func(domain.Repository) domain.Repository) *Fixture {
	t.Helper()
	unit := func(person string, s membershipv1.MemberState) *membershipv1.Member {
		return &membershipv1.Member{Kind: membershipv1.ApplicationKind_APPLICATION_KIND_UNIT, Person: person, State: s}
	}
	members := &Members{members: map[string]*membershipv1.Member{
		UnitA: unit(Ann.Subject, membershipv1.MemberState_MEMBER_STATE_ACTIVE),
		UnitB: unit(Bob.Subject, membershipv1.MemberState_MEMBER_STATE_ACTIVE),
		UnitC: unit("people/cat", membershipv1.MemberState_MEMBER_STATE_SUSPENDED),
		UnitT: unit("people/tom", membershipv1.MemberState_MEMBER_STATE_TERMINATED),
		IvyM: {Kind: membershipv1.ApplicationKind_APPLICATION_KIND_INDIVIDUAL, Person: Ivy.Subject,
			State: membershipv1.MemberState_MEMBER_STATE_ACTIVE},
	}}
	for name, m := range members.members {
		m.Name = name
	}
	res := &Resolutions{res: map[string]*governancev1.Resolution{}}
	res.Set(Passed, governancev1.ResolutionState_RESOLUTION_STATE_PASSED)
	res.Set(Failed, governancev1.ResolutionState_RESOLUTION_STATE_FAILED)
	acts := &Activities{created: map[string]*activitiesv1.Activity{}}
	clock := &Clock{now: Start}
	st := store.New(client)
	var repo domain.Repository = st
	if wrap != nil {
		repo = wrap(st)
	}
	gov := &Governance{}
	svc := domain.NewService(domain.Config{
		Repo: repo, Members: members, Resolutions: res, Activities: acts, Now: clock.Now, Pages: pagetoken.NewEphemeral(),
		Branches: Branches{Static: branches.Static{{Name: "branches/ai", DisplayName: "人工智能分会", StandardCodeFormats: branches.DefaultCodeFormats()}},
			Governance: gov},
	})
	return &Fixture{Svc: svc, Store: st, Members: members, Resolutions: res, Activities: acts, Clock: clock, Governance: gov}
}
