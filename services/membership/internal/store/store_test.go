package store_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/redis/go-redis/v9"
	"google.golang.org/genproto/googleapis/type/date"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/tjsia/chapterhouse/contracts/governance/branches"
	"github.com/tjsia/chapterhouse/platform/auth"
	"github.com/tjsia/chapterhouse/platform/eventstream"
	"github.com/tjsia/chapterhouse/platform/pagetoken"
	"github.com/tjsia/chapterhouse/platform/redistest"
	eventsv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/events/v1"
	membershipv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/membership/v1"

	"github.com/tjsia/chapterhouse/services/membership/internal/domain"
	"github.com/tjsia/chapterhouse/services/membership/internal/store"
)

var admin = auth.Principal{Subject: "people/admin", Roles: []string{auth.RoleAdmin}}

type fixture struct {
	rdb redis.UniversalClient
	st  *store.Store
	svc *domain.Service
}

func newFixture(t *testing.T, opts ...domain.Option) *fixture {
	t.Helper()
	rdb := redistest.Start(t).Client()
	t.Cleanup(func() { rdb.Close() })
	return fixtureOn(rdb, opts...)
}

func fixtureOn(rdb redis.UniversalClient, opts ...domain.Option) *fixture {
	st := store.New(rdb)
	return &fixture{rdb: rdb, st: st, svc: domain.NewService(st, branches.Static{{Name: "branches/ai"}}, pagetoken.NewEphemeral(), nil, opts...)}
}

// TestOnRedisCluster runs the store's atomic paths on a 3-primary Redis
// Cluster: every script must stay within one slot, or the cluster refuses.
func TestOnRedisCluster(t *testing.T) {
	cluster := redistest.StartCluster(t)
	rdb := cluster.Client()
	t.Cleanup(func() { rdb.Close() })
	for name, test := range map[string]func(*testing.T, *fixture){
		"outbox":               testOutboxWritesEventExactlyWithStateChange,
		"one open application": testOneOpenApplicationUnderConcurrency,
		"lifecycle":            testApplicationLifecycle,
		"claim":                testClaimIsOneStep,
		"last admin":           testLastAdminUnderConcurrency,
		"register self":        testRegisterSelf,
		"e-mail index":         testEmailIndex,
		"verified e-mail link": testVerifiedEmailLinkOnce,
	} {
		t.Run(name, func(t *testing.T) {
			if err := rdb.ForEachMaster(context.Background(), func(ctx context.Context, c *redis.Client) error { return c.FlushAll(ctx).Err() }); err != nil {
				t.Fatal(err)
			}
			test(t, fixtureOn(rdb))
		})
	}
}

func (f *fixture) outbox(t *testing.T, tag string) []*eventsv1.Envelope {
	t.Helper()
	msgs, err := f.rdb.XRange(context.Background(), eventstream.StreamKey(tag), "-", "+").Result()
	if err != nil {
		t.Fatal(err)
	}
	out := make([]*eventsv1.Envelope, len(msgs))
	for i, m := range msgs {
		env := &eventsv1.Envelope{}
		if err := proto.Unmarshal([]byte(m.Values["env"].(string)), env); err != nil {
			t.Fatal(err)
		}
		out[i] = env
	}
	return out
}

func (f *fixture) org(t *testing.T, id, code string, general membershipv1.GeneralMembershipState) {
	t.Helper()
	ctx := context.Background()
	if _, err := f.svc.CreateOrganization(ctx, admin, &membershipv1.Organization{DisplayName: id, CreditCode: code}, id); err != nil {
		t.Fatal(err)
	}
	if general != membershipv1.GeneralMembershipState_GENERAL_MEMBERSHIP_STATE_NONE {
		if _, err := f.svc.SetGeneralMembership(ctx, admin, &membershipv1.SetGeneralMembershipRequest{Name: "organizations/" + id, State: general}); err != nil {
			t.Fatal(err)
		}
	}
}

func (f *fixture) person(t *testing.T, id, org string) {
	t.Helper()
	_, err := f.svc.CreatePerson(context.Background(), admin, &membershipv1.Person{DisplayName: id, BirthDate: &date.Date{Year: 1980, Month: 1, Day: 1}, Organization: org}, id)
	if err != nil {
		t.Fatal(err)
	}
}

func unitApp(org, rep string) *membershipv1.Application {
	return &membershipv1.Application{Applicant: &membershipv1.Application_Unit{Unit: &membershipv1.UnitApplicant{Organization: org, Representative: rep}}}
}

// TestOutboxWritesEventExactlyWithStateChange: every successful write adds
// exactly one event to its slot's outbox; every refused write adds none and
// changes nothing.
func TestOutboxWritesEventExactlyWithStateChange(t *testing.T) {
	testOutboxWritesEventExactlyWithStateChange(t, newFixture(t))
}

func testOutboxWritesEventExactlyWithStateChange(t *testing.T, f *fixture) {
	ctx := context.Background()
	f.org(t, "zhiyuan", "91120116MA05JR7Q0E", membershipv1.GeneralMembershipState_GENERAL_MEMBERSHIP_STATE_NONE)
	if got := f.outbox(t, store.OrgsTag); len(got) != 1 || got[0].GetOrganizationCreated().GetOrganization().GetName() != "organizations/zhiyuan" {
		t.Fatalf("after create: outbox = %v", got)
	}

	// Refused: duplicate credit code, bad credit code, stale etag.
	_, err := f.svc.CreateOrganization(ctx, admin, &membershipv1.Organization{DisplayName: "dup", CreditCode: "91120116MA05JR7Q0E"}, "")
	if status.Code(err) != codes.AlreadyExists {
		t.Fatalf("duplicate credit code: %v", err)
	}
	_, err = f.svc.CreateOrganization(ctx, admin, &membershipv1.Organization{DisplayName: "bad", CreditCode: "91120116MA05JR7Q0F"}, "")
	if status.Code(err) != codes.InvalidArgument {
		t.Fatalf("bad credit code: %v", err)
	}
	_, err = f.svc.SetGeneralMembership(ctx, admin, &membershipv1.SetGeneralMembershipRequest{Name: "organizations/zhiyuan",
		State: membershipv1.GeneralMembershipState_GENERAL_MEMBERSHIP_STATE_ACTIVE, Etag: "stale"})
	if status.Code(err) != codes.Aborted {
		t.Fatalf("stale etag: %v", err)
	}
	if got := f.outbox(t, store.OrgsTag); len(got) != 1 {
		t.Fatalf("refused writes added events: %d", len(got))
	}
	org, err := f.svc.GetOrganization(ctx, "organizations/zhiyuan")
	if err != nil || org.GetGeneralMembershipState() != membershipv1.GeneralMembershipState_GENERAL_MEMBERSHIP_STATE_NONE {
		t.Fatalf("refused write changed the organisation: %v %v", org, err)
	}

	// Accepted: the event carries the stored state.
	updated, err := f.svc.SetGeneralMembership(ctx, admin, &membershipv1.SetGeneralMembershipRequest{Name: "organizations/zhiyuan",
		State: membershipv1.GeneralMembershipState_GENERAL_MEMBERSHIP_STATE_ACTIVE, Etag: org.GetEtag()})
	if err != nil {
		t.Fatal(err)
	}
	got := f.outbox(t, store.OrgsTag)
	if len(got) != 2 {
		t.Fatalf("outbox has %d events, want 2", len(got))
	}
	changed := got[1].GetGeneralMembershipChanged()
	if changed.GetOrganization().GetEtag() != updated.GetEtag() || changed.GetPreviousState() != membershipv1.GeneralMembershipState_GENERAL_MEMBERSHIP_STATE_NONE || got[1].GetActor() != admin.Subject {
		t.Fatalf("event does not match the change: %v", got[1])
	}
}

// TestOneOpenApplicationUnderConcurrency: of many concurrent applications
// for one applicant, exactly one is stored, with exactly one event.
func TestOneOpenApplicationUnderConcurrency(t *testing.T) {
	testOneOpenApplicationUnderConcurrency(t, newFixture(t))
}

func testOneOpenApplicationUnderConcurrency(t *testing.T, f *fixture) {
	f.org(t, "zhiyuan", "91120116MA05JR7Q0E", membershipv1.GeneralMembershipState_GENERAL_MEMBERSHIP_STATE_ACTIVE)
	f.person(t, "wang-wei", "organizations/zhiyuan")
	const n = 64
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = f.svc.CreateApplication(context.Background(), admin, "branches/ai", unitApp("organizations/zhiyuan", "people/wang-wei"), fmt.Sprintf("app-%d", i))
		}()
	}
	wg.Wait()
	ok, exists := 0, 0
	for _, err := range errs {
		switch status.Code(err) {
		case codes.OK:
			ok++
		case codes.AlreadyExists:
			exists++
		default:
			t.Fatalf("unexpected error: %v", err)
		}
	}
	if ok != 1 || exists != n-1 {
		t.Fatalf("ok=%d already_exists=%d, want 1 and %d", ok, exists, n-1)
	}
	submitted := 0
	for _, env := range f.outbox(t, store.BranchTag("ai")) {
		if env.GetApplicationSubmitted() != nil {
			submitted++
		}
	}
	if submitted != 1 {
		t.Fatalf("%d ApplicationSubmitted events, want 1", submitted)
	}
}

// TestCreditCodeUniqueUnderConcurrency: one organisation per credit code.
func TestCreditCodeUniqueUnderConcurrency(t *testing.T) {
	f := newFixture(t)
	const n = 32
	var wg sync.WaitGroup
	var mu sync.Mutex
	codesSeen := map[codes.Code]int{}
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := f.svc.CreateOrganization(context.Background(), admin, &membershipv1.Organization{DisplayName: fmt.Sprint(i), CreditCode: "91120222MA06TU8X03"}, "")
			mu.Lock()
			codesSeen[status.Code(err)]++
			mu.Unlock()
		}()
	}
	wg.Wait()
	if codesSeen[codes.OK] != 1 || codesSeen[codes.AlreadyExists] != n-1 {
		t.Fatalf("results %v, want 1 OK and %d ALREADY_EXISTS", codesSeen, n-1)
	}
	page, err := f.st.ListOrganizations(context.Background(), "", 100)
	if err != nil || len(page.Items) != 1 {
		t.Fatalf("stored %d organisations (%v), want 1", len(page.Items), err)
	}
}

// TestApplicationLifecycle covers M1, M2 and the one-membership claim
// through the real store.
func TestApplicationLifecycle(t *testing.T) { testApplicationLifecycle(t, newFixture(t)) }

func testApplicationLifecycle(t *testing.T, f *fixture) {
	ctx := context.Background()
	f.org(t, "haihe", "91120104MA06KL3W0M", membershipv1.GeneralMembershipState_GENERAL_MEMBERSHIP_STATE_NONE)
	f.person(t, "zhao-lei", "organizations/haihe")

	app, err := f.svc.CreateApplication(ctx, admin, "branches/ai", unitApp("organizations/haihe", "people/zhao-lei"), "haihe-1")
	if err != nil {
		t.Fatal(err)
	}
	if app.GetState() != membershipv1.ApplicationState_APPLICATION_STATE_AWAITING_GENERAL_MEMBERSHIP {
		t.Fatalf("M2: state = %v", app.GetState())
	}
	if _, err := f.svc.ApproveApplication(ctx, admin, &membershipv1.ApproveApplicationRequest{Name: app.GetName()}); status.Code(err) != codes.FailedPrecondition {
		t.Fatalf("M2: approve before general membership = %v", err)
	}
	// The consumer path: the organisation's event releases the application.
	if _, err := f.svc.SetGeneralMembership(ctx, admin, &membershipv1.SetGeneralMembershipRequest{Name: "organizations/haihe",
		State: membershipv1.GeneralMembershipState_GENERAL_MEMBERSHIP_STATE_ACTIVE}); err != nil {
		t.Fatal(err)
	}
	for _, env := range f.outbox(t, store.OrgsTag) {
		if err := f.svc.HandleEvent(ctx, env); err != nil {
			t.Fatalf("HandleEvent: %v", err)
		}
	}
	released, err := f.svc.GetApplication(ctx, admin, app.GetName())
	if err != nil || released.GetState() != membershipv1.ApplicationState_APPLICATION_STATE_SUBMITTED {
		t.Fatalf("M1: after general membership = %v, %v", released.GetState(), err)
	}
	approved, err := f.svc.ApproveApplication(ctx, admin, &membershipv1.ApproveApplicationRequest{Name: app.GetName()})
	if err != nil {
		t.Fatal(err)
	}
	member, err := f.svc.GetMember(ctx, admin, approved.GetMember())
	if err != nil || member.GetOrganization() != "organizations/haihe" || member.GetPerson() != "people/zhao-lei" {
		t.Fatalf("member = %v, %v", member, err)
	}
	// A member cannot apply again; after termination it may.
	if _, err := f.svc.CreateApplication(ctx, admin, "branches/ai", unitApp("organizations/haihe", "people/zhao-lei"), ""); status.Code(err) != codes.AlreadyExists {
		t.Fatalf("re-application by a member = %v", err)
	}
	terminated, err := f.svc.SetMemberState(ctx, admin, member.GetName(), "terminate", "dues unpaid", "")
	if err != nil {
		t.Fatal(err)
	}
	// The record keeps the reason as its author wrote it; that the period
	// ended with the membership is the record's fact (TERMINATED, its last
	// period), never prose composed around the reason.
	last := terminated.GetRepresentativeHistory()[len(terminated.GetRepresentativeHistory())-1]
	if last.GetEndTime() == nil || last.GetEndReason() != "dues unpaid" || terminated.GetStateReason() != "dues unpaid" ||
		terminated.GetState() != membershipv1.MemberState_MEMBER_STATE_TERMINATED {
		t.Fatalf("termination: state %v (%q), last representative period %v; want TERMINATED, the period closed, both with the reason as written",
			terminated.GetState(), terminated.GetStateReason(), last)
	}
	if _, err := f.svc.CreateApplication(ctx, admin, "branches/ai", unitApp("organizations/haihe", "people/zhao-lei"), ""); err != nil {
		t.Fatalf("re-application after termination: %v", err)
	}
	var terminatedEvent *eventsv1.MemberTerminated
	for _, env := range f.outbox(t, store.BranchTag("ai")) {
		if e := env.GetMemberTerminated(); e != nil {
			terminatedEvent = e
		}
	}
	if terminatedEvent == nil || terminatedEvent.GetReason() != "dues unpaid" || terminatedEvent.GetPeople()[0] != "people/zhao-lei" {
		t.Fatalf("MemberTerminated = %v", terminatedEvent)
	}
}

// TestChangeRepresentativeKeepsHistory and moves the person index.
func TestChangeRepresentativeKeepsHistory(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.org(t, "zhiyuan", "91120116MA05JR7Q0E", membershipv1.GeneralMembershipState_GENERAL_MEMBERSHIP_STATE_ACTIVE)
	f.person(t, "wang-wei", "organizations/zhiyuan")
	f.person(t, "zhang-san", "organizations/zhiyuan")
	f.person(t, "outsider", "")
	app, err := f.svc.CreateApplication(ctx, admin, "branches/ai", unitApp("organizations/zhiyuan", "people/wang-wei"), "")
	if err != nil {
		t.Fatal(err)
	}
	app, err = f.svc.ApproveApplication(ctx, admin, &membershipv1.ApproveApplicationRequest{Name: app.GetName()})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.ChangeRepresentative(ctx, admin, &membershipv1.ChangeRepresentativeRequest{Name: app.GetMember(), Representative: "people/outsider", Reason: "x"}); status.Code(err) != codes.FailedPrecondition {
		t.Fatalf("outsider as representative = %v", err)
	}
	m, err := f.svc.ChangeRepresentative(ctx, admin, &membershipv1.ChangeRepresentativeRequest{Name: app.GetMember(), Representative: "people/zhang-san", Reason: "wang-wei retired"})
	if err != nil {
		t.Fatal(err)
	}
	h := m.GetRepresentativeHistory()
	if len(h) != 2 || h[0].GetPerson() != "people/wang-wei" || h[0].GetEndTime() == nil || h[0].GetEndReason() != "wang-wei retired" || h[1].GetPerson() != "people/zhang-san" || h[1].GetEndTime() != nil {
		t.Fatalf("history = %v", h)
	}
	for person, want := range map[string]int{"people/zhang-san": 1, "people/wang-wei": 0} {
		items, _, err := f.svc.ListMembers(ctx, admin, &membershipv1.ListMembersRequest{Parent: "branches/ai", Person: person})
		if err != nil || len(items) != want {
			t.Fatalf("members for %s = %d (%v), want %d", person, len(items), err, want)
		}
	}
}

// TestPaging walks pages, with and without filters, and rejects a token
// used with other filters.
func TestPaging(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	for i := range 25 {
		_, err := f.svc.CreatePerson(ctx, admin, &membershipv1.Person{DisplayName: "p", BirthDate: &date.Date{Year: 1980, Month: 1, Day: 1}}, fmt.Sprintf("person-%02d", i))
		if err != nil {
			t.Fatal(err)
		}
	}
	var names []string
	token := ""
	for pages := 0; ; pages++ {
		items, next, err := f.svc.ListPeople(ctx, "", 10, token)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range items {
			names = append(names, p.GetName())
		}
		if next == "" {
			if pages != 2 {
				t.Fatalf("took %d pages, want 3", pages+1)
			}
			break
		}
		token = next
	}
	if len(names) != 25 || names[0] != "people/person-00" || names[24] != "people/person-24" {
		t.Fatalf("paged %d people: %v", len(names), names)
	}
	_, next, _ := f.svc.ListPeople(ctx, "", 10, "")
	if _, _, err := f.svc.ListPeople(ctx, "organizations/other", 10, next); status.Code(err) != codes.InvalidArgument {
		t.Fatalf("token with other filters = %v", err)
	}
	if _, _, err := f.svc.ListPeople(ctx, "", 10, "not-a-token"); status.Code(err) != codes.InvalidArgument {
		t.Fatalf("garbage token = %v", err)
	}
}
