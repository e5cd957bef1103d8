package store_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/fieldmaskpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/tjsia/chapterhouse/contracts/governance/branches"
	"github.com/tjsia/chapterhouse/platform/apierr"
	"github.com/tjsia/chapterhouse/platform/auth"
	"github.com/tjsia/chapterhouse/platform/eventstream"
	"github.com/tjsia/chapterhouse/platform/pagetoken"
	"github.com/tjsia/chapterhouse/platform/redistest"
	activitiesv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/activities/v1"
	apiv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/api/v1"
	eventsv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/events/v1"
	governancev1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/governance/v1"
	membershipv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/membership/v1"

	"github.com/tjsia/chapterhouse/services/activities/internal/domain"
	"github.com/tjsia/chapterhouse/services/activities/internal/store"
)

var admin = auth.Principal{Subject: "people/admin", Roles: []string{auth.RoleAdmin}}

func person(id string) auth.Principal { return auth.Principal{Subject: "people/" + id} }

// fakeMembers answers from a map; down makes it UNAVAILABLE.
type fakeMembers struct {
	mu      sync.Mutex
	members map[string]string
	down    bool
}

func (f *fakeMembers) MemberFor(_ context.Context, _, p string) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.down {
		return "", apierr.Unavailable("membership", errors.New("connection refused"))
	}
	return f.members[p], nil
}

func (f *fakeMembers) DisplayName(_ context.Context, p string) (string, error) {
	if f.down {
		return "", apierr.Unavailable("membership", errors.New("connection refused"))
	}
	return "Name of " + p, nil
}

type fixture struct {
	rdb     redis.UniversalClient
	svc     *domain.Service
	members *fakeMembers
	now     time.Time
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	rdb := redistest.Start(t).Client()
	t.Cleanup(func() { rdb.Close() })
	return fixtureOn(rdb)
}

func fixtureOn(rdb redis.UniversalClient) *fixture {
	f := &fixture{rdb: rdb, members: &fakeMembers{members: map[string]string{}}, now: time.Now()}
	clock := func() time.Time { return f.now }
	f.svc = domain.NewService(store.New(rdb, clock), f.members, domain.Config{Branches: aiBranch(), Pages: pagetoken.NewEphemeral(), Now: clock})
	return f
}

// TestOnRedisCluster runs the registration scripts and bulk writes on a
// 3-primary Redis Cluster, which refuses any script that spans slots.
func TestOnRedisCluster(t *testing.T) {
	cluster := redistest.StartCluster(t)
	rdb := cluster.Client()
	t.Cleanup(func() { rdb.Close() })
	for name, test := range map[string]func(*testing.T, *fixture){
		"capacity under concurrency": testCapacityUnderConcurrency,
		"lifecycle and certificates": testLifecycleAndCertificates,
		"cancel activity":            testCancelActivityCancelsRegistrationsAtomically,
	} {
		t.Run(name, func(t *testing.T) {
			if err := rdb.ForEachMaster(context.Background(), func(ctx context.Context, c *redis.Client) error { return c.FlushAll(ctx).Err() }); err != nil {
				t.Fatal(err)
			}
			test(t, fixtureOn(rdb))
		})
	}
}

// published creates and publishes an activity under way (started an hour
// ago, ends in two), so registration, check-in and completion all apply.
func (f *fixture) published(t *testing.T, id string, capacity int32, audience activitiesv1.Audience, kind activitiesv1.ActivityKind) *activitiesv1.Activity {
	t.Helper()
	ctx := context.Background()
	a, err := f.svc.CreateActivity(ctx, admin, "branches/ai", &activitiesv1.Activity{
		Kind: kind, Title: "Activity " + id, Location: "Tianjin", Capacity: capacity, Audience: audience,
		StartTime: timestamppb.New(f.now.Add(-time.Hour)), EndTime: timestamppb.New(f.now.Add(2 * time.Hour)),
		RegistrationCloseTime: timestamppb.New(f.now.Add(2 * time.Hour)),
	}, id)
	if err != nil {
		t.Fatal(err)
	}
	a, err = f.svc.PublishActivity(ctx, admin, &activitiesv1.PublishActivityRequest{Name: a.GetName()})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func (f *fixture) register(t *testing.T, a *activitiesv1.Activity, who string) *activitiesv1.Registration {
	t.Helper()
	r, err := f.svc.Register(context.Background(), person(who), &activitiesv1.RegisterForActivityRequest{Name: a.GetName()})
	if err != nil {
		t.Fatalf("register %s: %v", who, err)
	}
	return r
}

func (f *fixture) outbox(t *testing.T) []*eventsv1.Envelope {
	t.Helper()
	msgs, err := f.rdb.XRange(context.Background(), eventstream.StreamKey(store.BranchTag("ai")), "-", "+").Result()
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

// TestCapacityUnderConcurrency: 500 people register at once for 50
// places. Exactly 50 are confirmed, the other 450 wait with distinct
// positions 1..450, and cancellations promote strictly in queue order.
func TestCapacityUnderConcurrency(t *testing.T) { testCapacityUnderConcurrency(t, newFixture(t)) }

func testCapacityUnderConcurrency(t *testing.T, f *fixture) {
	a := f.published(t, "rush", 50, activitiesv1.Audience_AUDIENCE_PUBLIC, activitiesv1.ActivityKind_ACTIVITY_KIND_TRAINING)
	const n = 500
	var wg sync.WaitGroup
	regs := make([]*activitiesv1.Registration, n)
	errs := make([]error, n)
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			regs[i], errs[i] = f.svc.Register(context.Background(), person(fmt.Sprintf("p%03d", i)), &activitiesv1.RegisterForActivityRequest{Name: a.GetName()})
		}()
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("register p%03d: %v", i, err)
		}
	}
	all, _, err := f.svc.ListRegistrations(context.Background(), admin, &activitiesv1.ListRegistrationsRequest{Parent: a.GetName(), PageSize: 100})
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 100 {
		t.Fatalf("a page of 100 registrations has %d", len(all))
	}
	var confirmed int
	var waiting []*activitiesv1.Registration
	for i := range n {
		r, err := f.svc.GetRegistration(context.Background(), admin, regs[i].GetName())
		if err != nil {
			t.Fatal(err)
		}
		switch r.GetState() {
		case activitiesv1.RegistrationState_REGISTRATION_STATE_CONFIRMED:
			confirmed++
		case activitiesv1.RegistrationState_REGISTRATION_STATE_WAITLISTED:
			waiting = append(waiting, r)
		default:
			t.Fatalf("%s is %v", r.GetName(), r.GetState())
		}
	}
	if confirmed != 50 || len(waiting) != 450 {
		t.Fatalf("confirmed %d waitlisted %d, want 50 and 450", confirmed, len(waiting))
	}
	sort.Slice(waiting, func(i, j int) bool { return waiting[i].GetWaitlistPosition() < waiting[j].GetWaitlistPosition() })
	for i, r := range waiting {
		if r.GetWaitlistPosition() != int32(i+1) {
			t.Fatalf("positions are not 1..450 without gaps or repeats: index %d has %d", i, r.GetWaitlistPosition())
		}
	}
	got, err := f.svc.GetActivity(context.Background(), admin, a.GetName())
	if err != nil || got.GetConfirmedCount() != 50 || got.GetWaitlistCount() != 450 {
		t.Fatalf("activity counts %d/%d (%v)", got.GetConfirmedCount(), got.GetWaitlistCount(), err)
	}
	// Cancel five confirmed registrations, concurrently: the first five in
	// the queue are promoted, nobody else.
	var cancelled []string
	for i := range n {
		if regs[i].GetState() == activitiesv1.RegistrationState_REGISTRATION_STATE_CONFIRMED && len(cancelled) < 5 {
			cancelled = append(cancelled, regs[i].GetName())
		}
	}
	for _, name := range cancelled {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := f.svc.CancelRegistration(context.Background(), admin, &activitiesv1.CancelRegistrationRequest{Name: name, Reason: "cannot come"}); err != nil {
				t.Errorf("cancel %s: %v", name, err)
			}
		}()
	}
	wg.Wait()
	for i, r := range waiting {
		now, err := f.svc.GetRegistration(context.Background(), admin, r.GetName())
		if err != nil {
			t.Fatal(err)
		}
		wantState, wantPos := activitiesv1.RegistrationState_REGISTRATION_STATE_CONFIRMED, int32(0)
		if i >= 5 {
			wantState, wantPos = activitiesv1.RegistrationState_REGISTRATION_STATE_WAITLISTED, int32(i+1-5)
		}
		if now.GetState() != wantState || now.GetWaitlistPosition() != wantPos {
			t.Fatalf("queue #%d %s is %v at %d, want %v at %d", i+1, r.GetName(), now.GetState(), now.GetWaitlistPosition(), wantState, wantPos)
		}
	}
	promoted := 0
	for _, env := range f.outbox(t) {
		if env.GetRegistrationPromoted() != nil {
			promoted++
		}
	}
	if promoted != 5 {
		t.Fatalf("%d RegistrationPromoted events, want 5", promoted)
	}
}

func TestRegistrationRules(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	public := f.published(t, "open-day", 1, activitiesv1.Audience_AUDIENCE_PUBLIC, activitiesv1.ActivityKind_ACTIVITY_KIND_TRAINING)
	first := f.register(t, public, "alice")
	if again := f.register(t, public, "alice"); again.GetEtag() != first.GetEtag() || again.GetState() != activitiesv1.RegistrationState_REGISTRATION_STATE_CONFIRMED {
		t.Fatalf("registering twice is idempotent: %v vs %v", again, first)
	}
	if _, err := f.svc.Register(ctx, person("bob"), &activitiesv1.RegisterForActivityRequest{Name: public.GetName(), Person: "people/carol"}); status.Code(err) != codes.PermissionDenied {
		t.Fatalf("registering someone else: %v", err)
	}

	members := f.published(t, "members-only", 10, activitiesv1.Audience_AUDIENCE_MEMBERS, activitiesv1.ActivityKind_ACTIVITY_KIND_ACADEMIC_EXCHANGE)
	if _, err := f.svc.Register(ctx, person("outsider"), &activitiesv1.RegisterForActivityRequest{Name: members.GetName()}); status.Code(err) != codes.PermissionDenied {
		t.Fatalf("non-member: %v", err)
	}
	f.members.members["people/wang-wei"] = "branches/ai/members/m1"
	before := len(f.outbox(t))
	f.members.down = true
	if _, err := f.svc.Register(ctx, person("wang-wei"), &activitiesv1.RegisterForActivityRequest{Name: members.GetName()}); status.Code(err) != codes.Unavailable {
		t.Fatalf("membership down: %v", err)
	}
	if _, err := f.svc.GetRegistration(ctx, admin, members.GetName()+"/registrations/wang-wei"); status.Code(err) != codes.NotFound {
		t.Fatalf("membership down wrote a registration: %v", err)
	}
	if len(f.outbox(t)) != before {
		t.Fatal("membership down wrote an event")
	}
	f.members.down = false
	if r := f.register(t, members, "wang-wei"); r.GetMember() != "branches/ai/members/m1" {
		t.Fatalf("member registration = %v", r)
	}

	// After the window closes: refused, with the reason.
	f.now = f.now.Add(3 * time.Hour)
	_, err := f.svc.Register(ctx, person("late"), &activitiesv1.RegisterForActivityRequest{Name: public.GetName()})
	if status.Code(err) != codes.FailedPrecondition || !apierr.Is(err, domain.ReasonRegistrationClosed) {
		t.Fatalf("after close: %v", err)
	}
}

// TestLifecycleAndCertificates: check-in, completion (NO_SHOW, waitlist
// cancelled), certificates issued once and verified publicly, revocation.
func TestLifecycleAndCertificates(t *testing.T) { testLifecycleAndCertificates(t, newFixture(t)) }

func testLifecycleAndCertificates(t *testing.T, f *fixture) {
	ctx := context.Background()
	a := f.published(t, "eval-course", 2, activitiesv1.Audience_AUDIENCE_PUBLIC, activitiesv1.ActivityKind_ACTIVITY_KIND_EVALUATION)
	came, absent, waiting := f.register(t, a, "came"), f.register(t, a, "absent"), f.register(t, a, "waiting")
	if waiting.GetWaitlistPosition() != 1 {
		t.Fatalf("waiting = %v", waiting)
	}
	if _, err := f.svc.CheckIn(ctx, person("came"), &activitiesv1.CheckInRegistrationRequest{Name: came.GetName()}); status.Code(err) != codes.PermissionDenied {
		t.Fatalf("self check-in: %v", err)
	}
	if _, err := f.svc.CheckIn(ctx, admin, &activitiesv1.CheckInRegistrationRequest{Name: came.GetName()}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.IssueCertificate(ctx, admin, &activitiesv1.IssueCertificateRequest{Registration: came.GetName()}); status.Code(err) != codes.FailedPrecondition {
		t.Fatalf("A2: certificate before completion: %v", err)
	}
	done, err := f.svc.CompleteActivity(ctx, admin, &activitiesv1.CompleteActivityRequest{Name: a.GetName()})
	if err != nil || done.GetState() != activitiesv1.ActivityState_ACTIVITY_STATE_COMPLETED {
		t.Fatalf("complete: %v %v", done, err)
	}
	for name, want := range map[string]activitiesv1.RegistrationState{
		came.GetName(): activitiesv1.RegistrationState_REGISTRATION_STATE_ATTENDED, absent.GetName(): activitiesv1.RegistrationState_REGISTRATION_STATE_NO_SHOW,
		waiting.GetName(): activitiesv1.RegistrationState_REGISTRATION_STATE_CANCELLED,
	} {
		// Nobody wrote a reason: the completed activity is why.
		if r, err := f.svc.GetRegistration(ctx, admin, name); err != nil || r.GetState() != want || r.GetCancelReason() != "" {
			t.Fatalf("%s = %v %q (%v), want %v without a reason", name, r.GetState(), r.GetCancelReason(), err, want)
		}
	}

	cert, err := f.svc.IssueCertificate(ctx, admin, &activitiesv1.IssueCertificateRequest{Registration: came.GetName()})
	if err != nil {
		t.Fatal(err)
	}
	again, err := f.svc.IssueCertificate(ctx, admin, &activitiesv1.IssueCertificateRequest{Registration: came.GetName()})
	if err != nil || again.GetName() != cert.GetName() {
		t.Fatalf("issuing twice returns the same certificate: %v %v", again, err)
	}
	if _, err := f.svc.IssueCertificate(ctx, admin, &activitiesv1.IssueCertificateRequest{Registration: absent.GetName()}); status.Code(err) != codes.FailedPrecondition {
		t.Fatalf("A2: no certificate for a no-show: %v", err)
	}
	v, err := f.svc.VerifyCertificate(ctx, &activitiesv1.VerifyCertificateRequest{VerificationCode: cert.GetVerificationCode()})
	if err != nil || !v.GetValid() || v.GetHolderDisplayName() != "Name of people/came" || v.GetBranch() != "branches/ai" {
		t.Fatalf("verify = %v %v", v, err)
	}
	if _, err := f.svc.RevokeCertificate(ctx, admin, &activitiesv1.RevokeCertificateRequest{Name: cert.GetName(), Reason: "issued in error"}); err != nil {
		t.Fatal(err)
	}
	if v, err := f.svc.VerifyCertificate(ctx, &activitiesv1.VerifyCertificateRequest{VerificationCode: cert.GetVerificationCode()}); err != nil || v.GetValid() || v.GetRevokeTime() == nil {
		t.Fatalf("verify after revoke = %v %v", v, err)
	}
	// Not A2-certifiable: an exchange.
	x := f.published(t, "salon", 0, activitiesv1.Audience_AUDIENCE_PUBLIC, activitiesv1.ActivityKind_ACTIVITY_KIND_ACADEMIC_EXCHANGE)
	r := f.register(t, x, "guest")
	if _, err := f.svc.CheckIn(ctx, admin, &activitiesv1.CheckInRegistrationRequest{Name: r.GetName()}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.CompleteActivity(ctx, admin, &activitiesv1.CompleteActivityRequest{Name: x.GetName()}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.IssueCertificate(ctx, admin, &activitiesv1.IssueCertificateRequest{Registration: r.GetName()}); status.Code(err) != codes.FailedPrecondition {
		t.Fatalf("A2: certificate for an exchange: %v", err)
	}
	q, err := f.svc.GetAnnualQuota(ctx, &activitiesv1.GetAnnualQuotaRequest{Branch: "branches/ai"})
	if err != nil || q.GetCompletedCount() != 1 || q.GetRequiredCount() != 2 || q.GetMet() {
		t.Fatalf("A1 quota = %v %v", q, err)
	}
}

// TestCancelActivityCancelsRegistrationsAtomically and emits their events.
func TestCancelActivityCancelsRegistrationsAtomically(t *testing.T) {
	testCancelActivityCancelsRegistrationsAtomically(t, newFixture(t))
}

func testCancelActivityCancelsRegistrationsAtomically(t *testing.T, f *fixture) {
	ctx := context.Background()
	a := f.published(t, "rained-off", 1, activitiesv1.Audience_AUDIENCE_PUBLIC, activitiesv1.ActivityKind_ACTIVITY_KIND_MEETING)
	one, two := f.register(t, a, "one"), f.register(t, a, "two")
	if _, err := f.svc.CancelActivity(ctx, admin, &activitiesv1.CancelActivityRequest{Name: a.GetName()}); status.Code(err) != codes.InvalidArgument {
		t.Fatalf("cancel without a reason: %v", err)
	}
	got, err := f.svc.CancelActivity(ctx, admin, &activitiesv1.CancelActivityRequest{Name: a.GetName(), Reason: "typhoon"})
	if err != nil || got.GetState() != activitiesv1.ActivityState_ACTIVITY_STATE_CANCELLED {
		t.Fatalf("cancel = %v %v", got, err)
	}
	for _, r := range []*activitiesv1.Registration{one, two} {
		now, err := f.svc.GetRegistration(ctx, admin, r.GetName())
		// The organiser's words, as written: the activity's own state says
		// what happened, in whatever language its reader reads.
		if err != nil || now.GetState() != activitiesv1.RegistrationState_REGISTRATION_STATE_CANCELLED || now.GetCancelReason() != "typhoon" {
			t.Fatalf("%s = %v %v", r.GetName(), now, err)
		}
	}
	if _, err := f.svc.Register(ctx, person("three"), &activitiesv1.RegisterForActivityRequest{Name: a.GetName()}); status.Code(err) != codes.NotFound && status.Code(err) != codes.FailedPrecondition {
		t.Fatalf("registering for a cancelled activity: %v", err)
	}
	if _, err := f.svc.PublishActivity(ctx, admin, &activitiesv1.PublishActivityRequest{Name: a.GetName()}); status.Code(err) != codes.FailedPrecondition {
		t.Fatalf("publishing a cancelled activity: %v", err)
	}
	cancelledEvents := 0
	for _, env := range f.outbox(t) {
		if ev := env.GetRegistrationCancelled(); ev != nil {
			cancelledEvents++
			if ev.GetReason() != "typhoon" {
				t.Errorf("RegistrationCancelled reason %q, want the organiser's words", ev.GetReason())
			}
		}
	}
	if cancelledEvents != 2 {
		t.Fatalf("%d RegistrationCancelled events, want 2", cancelledEvents)
	}
}

// TestMemberTerminatedCancelsFutureMembersOnlyRegistrations, promoting the
// waitlist, with the reason recorded; it is idempotent.
func TestMemberTerminatedCancelsFutureMembersOnlyRegistrations(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.members.members = map[string]string{"people/rep": "branches/ai/members/m1", "people/other": "branches/ai/members/m2"}
	a, err := f.svc.CreateActivity(ctx, admin, "branches/ai", &activitiesv1.Activity{
		Kind: activitiesv1.ActivityKind_ACTIVITY_KIND_INDUSTRY_EXCHANGE, Title: "Future salon", Location: "Tianjin", Capacity: 1,
		Audience: activitiesv1.Audience_AUDIENCE_MEMBERS, StartTime: timestamppb.New(f.now.Add(48 * time.Hour)), EndTime: timestamppb.New(f.now.Add(50 * time.Hour)),
	}, "future-salon")
	if err != nil {
		t.Fatal(err)
	}
	if a, err = f.svc.PublishActivity(ctx, admin, &activitiesv1.PublishActivityRequest{Name: a.GetName()}); err != nil {
		t.Fatal(err)
	}
	rep, other := f.register(t, a, "rep"), f.register(t, a, "other")
	env := &eventsv1.Envelope{Id: "evt-1", Payload: &eventsv1.Envelope_MemberTerminated{MemberTerminated: &eventsv1.MemberTerminated{
		Member: &membershipv1.Member{Name: "branches/ai/members/m1"}, People: []string{"people/rep"}, Reason: "dues unpaid"}}}
	for range 2 { // delivered twice: the second changes nothing
		if err := f.svc.HandleEvent(ctx, env); err != nil {
			t.Fatal(err)
		}
	}
	r, _ := f.svc.GetRegistration(ctx, admin, rep.GetName())
	// The secretariat's words, verbatim; the member whose membership ended
	// is the registration's member.
	if r.GetState() != activitiesv1.RegistrationState_REGISTRATION_STATE_CANCELLED || r.GetCancelReason() != "dues unpaid" || r.GetMember() != "branches/ai/members/m1" {
		t.Fatalf("rep = %v", r)
	}
	o, _ := f.svc.GetRegistration(ctx, admin, other.GetName())
	if o.GetState() != activitiesv1.RegistrationState_REGISTRATION_STATE_CONFIRMED {
		t.Fatalf("the waitlisted other member should be promoted: %v", o)
	}
}

// TestCancelledRegistrationKeepsTheWords: a registration's cancel reason
// is its canceller's words as given, or none; who cancelled is the event's
// actor, never prose composed for one language.
func TestCancelledRegistrationKeepsTheWords(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	a := f.published(t, "talk", 0, activitiesv1.Audience_AUDIENCE_PUBLIC, activitiesv1.ActivityKind_ACTIVITY_KIND_MEETING)
	for who, words := range map[string]string{"travelling": "出差，无法参加", "silent": ""} {
		r := f.register(t, a, who)
		got, err := f.svc.CancelRegistration(ctx, person(who), &activitiesv1.CancelRegistrationRequest{Name: r.GetName(), Reason: words})
		if err != nil || got.GetCancelReason() != words {
			t.Fatalf("%s cancelled: %q (%v), want %q", who, got.GetCancelReason(), err, words)
		}
		if stored, err := f.svc.GetRegistration(ctx, admin, r.GetName()); err != nil || stored.GetCancelReason() != words {
			t.Fatalf("%s stored: %q (%v), want %q", who, stored.GetCancelReason(), err, words)
		}
	}
}

// TestCancelRefusedByTheRegistrationsOwnState: a registration that holds
// no place is not cancelled, and the refusal names the registration, its
// own state and what that state allows (a cancelled one is reopened by
// registering again), whatever the activity's state.
func TestCancelRefusedByTheRegistrationsOwnState(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	a := f.published(t, "seminar", 0, activitiesv1.Audience_AUDIENCE_PUBLIC, activitiesv1.ActivityKind_ACTIVITY_KIND_TRAINING)
	gone, came := f.register(t, a, "gone"), f.register(t, a, "came")
	if _, err := f.svc.CancelRegistration(ctx, person("gone"), &activitiesv1.CancelRegistrationRequest{Name: gone.GetName()}); err != nil {
		t.Fatal(err)
	}
	refused := func(when, name, state, allowed string) {
		t.Helper()
		_, err := f.svc.CancelRegistration(ctx, admin, &activitiesv1.CancelRegistrationRequest{Name: name})
		md := apierr.Info(err).GetMetadata()
		if !apierr.Is(err, apiv1.ErrorReason_INVALID_STATE_TRANSITION) || md["resource"] != name || md["action"] != "cancel" ||
			md["state"] != state || md["allowed"] != allowed {
			t.Fatalf("%s, cancelling %s: %v %v; want INVALID_STATE_TRANSITION naming it, %s, allowing %q", when, name, err, md, state, allowed)
		}
	}
	refused("the activity published", gone.GetName(), "REGISTRATION_STATE_CANCELLED", "register")
	if _, err := f.svc.CheckIn(ctx, admin, &activitiesv1.CheckInRegistrationRequest{Name: came.GetName()}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.CompleteActivity(ctx, admin, &activitiesv1.CompleteActivityRequest{Name: a.GetName()}); err != nil {
		t.Fatal(err)
	}
	refused("the activity completed", gone.GetName(), "REGISTRATION_STATE_CANCELLED", "register")
	refused("the activity completed", came.GetName(), "REGISTRATION_STATE_ATTENDED", "")
}

// TestRaisingCapacityPromotesTheWaitlist: a raised capacity promotes the
// head of the waitlist in the same step, and its RegistrationPromoted
// names no registration that freed the place (freed_by is empty when
// capacity was raised); a capacity below the confirmed is refused with
// both numbers.
func TestRaisingCapacityPromotesTheWaitlist(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	a := f.published(t, "small-room", 1, activitiesv1.Audience_AUDIENCE_PUBLIC, activitiesv1.ActivityKind_ACTIVITY_KIND_TRAINING)
	f.register(t, a, "first")
	second := f.register(t, a, "second")
	if second.GetState() != activitiesv1.RegistrationState_REGISTRATION_STATE_WAITLISTED {
		t.Fatalf("second = %v", second)
	}
	if _, err := f.svc.UpdateActivity(ctx, admin, &activitiesv1.Activity{Name: a.GetName(), Capacity: 2}, &fieldmaskpb.FieldMask{Paths: []string{"capacity"}}); err != nil {
		t.Fatal(err)
	}
	if r, err := f.svc.GetRegistration(ctx, admin, second.GetName()); err != nil || r.GetState() != activitiesv1.RegistrationState_REGISTRATION_STATE_CONFIRMED {
		t.Fatalf("second after the raise = %v (%v)", r, err)
	}
	promoted := 0
	for _, env := range f.outbox(t) {
		if ev := env.GetRegistrationPromoted(); ev != nil {
			promoted++
			if ev.GetFreedBy() != "" {
				t.Errorf("RegistrationPromoted freed_by %q, want empty: capacity was raised", ev.GetFreedBy())
			}
		}
	}
	if promoted != 1 {
		t.Fatalf("%d RegistrationPromoted, want 1", promoted)
	}
	_, err := f.svc.UpdateActivity(ctx, admin, &activitiesv1.Activity{Name: a.GetName(), Capacity: 1}, &fieldmaskpb.FieldMask{Paths: []string{"capacity"}})
	if md := apierr.Info(err).GetMetadata(); !apierr.Is(err, apiv1.ErrorReason_CAPACITY_BELOW_CONFIRMED) || md["capacity"] != "1" || md["confirmed"] != "2" {
		t.Fatalf("a capacity below the confirmed: %v", err)
	}
}

// TestListFollowsStartTimeChanges: moving an activity's start moves its
// index entry; it is listed once, in its new place.
func TestListFollowsStartTimeChanges(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	early := f.published(t, "early", 0, activitiesv1.Audience_AUDIENCE_PUBLIC, activitiesv1.ActivityKind_ACTIVITY_KIND_MEETING)
	late, err := f.svc.CreateActivity(ctx, admin, "branches/ai", &activitiesv1.Activity{
		Kind: activitiesv1.ActivityKind_ACTIVITY_KIND_MEETING, Title: "late", Location: "Tianjin", Audience: activitiesv1.Audience_AUDIENCE_PUBLIC,
		StartTime: timestamppb.New(f.now.Add(24 * time.Hour)), EndTime: timestamppb.New(f.now.Add(25 * time.Hour)),
	}, "late")
	if err != nil {
		t.Fatal(err)
	}
	names := func() []string {
		items, _, err := f.svc.ListActivities(ctx, admin, &activitiesv1.ListActivitiesRequest{Parent: "branches/ai"})
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, a := range items {
			out = append(out, a.GetName())
		}
		return out
	}
	if got := names(); len(got) != 2 || got[0] != early.GetName() {
		t.Fatalf("before = %v", got)
	}
	if _, err := f.svc.UpdateActivity(ctx, admin, &activitiesv1.Activity{Name: late.GetName(),
		StartTime: timestamppb.New(f.now.Add(-3 * time.Hour)), EndTime: timestamppb.New(f.now.Add(-2 * time.Hour))},
		&fieldmaskpb.FieldMask{Paths: []string{"start_time", "end_time"}}); err != nil {
		t.Fatal(err)
	}
	if got := names(); len(got) != 2 || got[0] != late.GetName() || got[1] != early.GetName() {
		t.Fatalf("after = %v", got)
	}
}

// knownBranches is governance's branch "ai" with CHARTER.md's parameters,
// and its serving chair and secretary-general.
type knownBranches struct {
	branches.Static
	leaders []string
}

func (k knownBranches) Leaders(context.Context, string) ([]string, error) { return k.leaders, nil }

func (k knownBranches) Standing(_ context.Context, _, person string) (branches.Standing, error) {
	return branches.Standing{Leads: slices.Contains(k.leaders, person)}, nil
}

func aiBranch(leaders ...string) knownBranches {
	return knownBranches{Static: branches.Static{{Name: "branches/ai", Parameters: &governancev1.CharterParameters{MinExchangeActivitiesPerYear: 2}}}, leaders: leaders}
}

// TestBranchLeadersOrganise: the branch's serving chair and
// secretary-general, as governance reports them, manage every activity of
// the branch; anyone else manages only their own.
func TestBranchLeadersOrganise(t *testing.T) {
	rdb := redistest.Start(t).Client()
	t.Cleanup(func() { rdb.Close() })
	f := fixtureOn(rdb)
	f.svc = domain.NewService(store.New(rdb, nil), f.members, domain.Config{Branches: aiBranch("people/chair", "people/sg"), Pages: pagetoken.NewEphemeral()})
	ctx := context.Background()
	a, err := f.svc.CreateActivity(ctx, admin, "branches/ai", &activitiesv1.Activity{
		Kind: activitiesv1.ActivityKind_ACTIVITY_KIND_ACADEMIC_EXCHANGE, Title: "Salon", Location: "Tianjin", Organizer: "people/org", Audience: activitiesv1.Audience_AUDIENCE_PUBLIC,
		StartTime: timestamppb.New(time.Now().Add(48 * time.Hour)), EndTime: timestamppb.New(time.Now().Add(50 * time.Hour)),
	}, "salon")
	if err != nil {
		t.Fatal(err)
	}
	for _, who := range []string{"chair", "sg", "org"} {
		if _, err := f.svc.PublishActivity(ctx, person(who), &activitiesv1.PublishActivityRequest{Name: a.GetName()}); err != nil &&
			apierr.ReasonOf(err) != apiv1.ErrorReason_INVALID_STATE_TRANSITION {
			t.Errorf("%s publishing: %v", who, err)
		}
	}
	if _, err := f.svc.UpdateActivity(ctx, person("director"), &activitiesv1.Activity{Name: a.GetName(), Title: "Mine now"},
		&fieldmaskpb.FieldMask{Paths: []string{"title"}}); status.Code(err) != codes.PermissionDenied {
		t.Fatalf("a council member who is not a leader: %v, want PERMISSION_DENIED", err)
	}
}
