package fault_test

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"google.golang.org/protobuf/proto"

	mstreams "github.com/tjsia/chapterhouse/contracts/membership/streams"
	"github.com/tjsia/chapterhouse/platform/eventstream"
	"github.com/tjsia/chapterhouse/platform/redistx"
	activitiesv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/activities/v1"
	eventsv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/events/v1"
	governancev1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/governance/v1"
	membershipv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/membership/v1"
	standardsv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/standards/v1"
	activities "github.com/tjsia/chapterhouse/services/activities/app"
	governance "github.com/tjsia/chapterhouse/services/governance/app"
	membership "github.com/tjsia/chapterhouse/services/membership/app"
	standards "github.com/tjsia/chapterhouse/services/standards/app"
)

// victim is a service a kill test kills: what the clients create in it,
// how its store keeps that, and what it does with a MemberTerminated it
// consumes from membership.
type victim struct {
	name string
	// create is the request creating a resource titled title, with an
	// id the service chooses (so only the Idempotency-Key can tell a
	// retry from a second create).
	create func(f fixtures, title string) (path string, body map[string]any)
	store  collection
	// handled reports whether the service has acted on d's termination,
	// as its API shows it.
	handled func(c caller, d doomed) bool
	// effect reports whether env (on the outbox of effectTag, by default
	// the store's) is the change the service makes for d's termination:
	// there must be exactly one.
	effect    func(env *eventsv1.Envelope, d doomed) bool
	effectTag string
	// watch is the stream on which the kill loop watches the victim's
	// consumer group; by default membership's branch stream.
	watch string
}

func decodeAs[M interface {
	proto.Message
	GetName() string
	GetTitle() string
}](m M) func([]byte) (string, string, error) {
	return func(b []byte) (string, string, error) {
		msg := proto.Clone(m).(M)
		if err := proto.Unmarshal(b, msg); err != nil {
			return "", "", err
		}
		return msg.GetName(), msg.GetTitle(), nil
	}
}

// orgSeq numbers the organisations the membership kill test creates, for
// their credit codes.
var orgSeq atomic.Int64

var victims = map[string]victim{
	// Membership produces the MemberTerminated events: killed, it must
	// still emit exactly one for every termination it acknowledged, and
	// every consumer must act on it.
	membership.Name: {
		name: membership.Name,
		create: func(_ fixtures, title string) (string, map[string]any) {
			return "/v1/organizations", map[string]any{"displayName": title,
				"creditCode": creditCode(fmt.Sprintf("91120116MA%07d", 5000000+orgSeq.Add(1)))}
		},
		store: collection{tag: mstreams.OrganizationsTag, record: "org", index: "idx",
			decode: func(b []byte) (string, string, error) {
				o := &membershipv1.Organization{}
				err := proto.Unmarshal(b, o)
				return o.GetName(), o.GetDisplayName(), err
			},
			created: func(env *eventsv1.Envelope, name string) bool {
				return env.GetOrganizationCreated().GetOrganization().GetName() == name
			},
			indexed: func(member string) string { return member },
			claims: func(b []byte) []string {
				o := &membershipv1.Organization{}
				_ = proto.Unmarshal(b, o)
				return []string{redistx.Key(mstreams.OrganizationsTag, "cc", o.GetCreditCode())}
			}},
		handled: func(c caller, d doomed) bool {
			return registrationCancelled(c, d) && nominationWithdrawn(c, d) && unitDropped(c, d)
		},
		effect: func(env *eventsv1.Envelope, d doomed) bool {
			return env.GetMemberTerminated().GetMember().GetName() == d.member
		},
		effectTag: mstreams.BranchTag("ai"),
		watch:     mstreams.Organizations(),
	},
	activities.Name: {
		name: activities.Name,
		create: func(_ fixtures, title string) (string, map[string]any) {
			return "/v1/branches/ai/activities", map[string]any{"kind": "ACTIVITY_KIND_TRAINING", "title": title,
				"audience": "AUDIENCE_PUBLIC", "location": "天津", "startTime": stamp(96 * time.Hour), "endTime": stamp(97 * time.Hour)}
		},
		store: collection{tag: "act:br:ai", record: "act", index: "idx", gate: "gate", decode: decodeAs(&activitiesv1.Activity{}),
			// A draft's creation is an event without a payload (the
			// publish is the news).
			created: func(env *eventsv1.Envelope, name string) bool {
				return env.GetSubject() == name && env.GetPayload() == nil
			}},
		handled: registrationCancelled,
		effect: func(env *eventsv1.Envelope, d doomed) bool {
			return env.GetRegistrationCancelled().GetRegistration().GetName() == d.registration
		},
	},
	governance.Name: {
		name: governance.Name,
		create: func(_ fixtures, title string) (string, map[string]any) {
			return "/v1/branches/ai/resolutions", map[string]any{"title": title, "text": "The branch adopts " + title + ".", "kind": "RESOLUTION_KIND_ORDINARY"}
		},
		store: collection{tag: "gov:br:ai", record: "res", index: "ress", gate: "resgate", decode: decodeAs(&governancev1.Resolution{}),
			created: func(env *eventsv1.Envelope, name string) bool {
				return env.GetResolutionCreated().GetResolution().GetName() == name
			}},
		handled: nominationWithdrawn,
		effect: func(env *eventsv1.Envelope, d doomed) bool {
			return env.GetNominationWithdrawn().GetNomination().GetName() == d.nomination
		},
	},
	standards.Name: {
		name: standards.Name,
		create: func(f fixtures, title string) (string, map[string]any) {
			return "/v1/branches/ai/standards", map[string]any{"kind": "STANDARD_KIND_GROUP_STANDARD", "title": title, "leadUnit": f.lead}
		},
		store: collection{tag: "std:br:ai", record: "std", index: "stds", decode: decodeAs(&standardsv1.Standard{}),
			created: func(env *eventsv1.Envelope, name string) bool {
				return env.GetStandardProposed().GetStandard().GetName() == name
			}},
		handled: unitDropped,
		effect: func(env *eventsv1.Envelope, d doomed) bool {
			return env.GetStandardUpdated().GetStandard().GetName() == d.standard
		},
	},
}

// registrationCancelled: activities cancelled d's registration.
func registrationCancelled(c caller, d doomed) bool {
	return c.do("GET", "/v1/"+d.registration, nil).str("state") == "REGISTRATION_STATE_CANCELLED"
}

// nominationWithdrawn: governance withdrew d's nomination.
func nominationWithdrawn(c caller, d doomed) bool {
	return c.do("GET", "/v1/"+d.nomination, nil).str("state") == "NOMINATION_STATE_WITHDRAWN"
}

// unitDropped: standards took d off its standard's units.
func unitDropped(c caller, d doomed) bool {
	r := c.do("GET", "/v1/"+d.standard, nil)
	units, _ := r.body["participatingUnits"].([]any)
	return r.status == http.StatusOK && !slices.Contains(units, any(d.member))
}

// TestKill9Membership, TestKill9Activities, TestKill9Governance and
// TestKill9Standards: the service's process is killed with SIGKILL five
// times and started again (as a new pod: a consumer name of its own)
// while clients create its resources through the gateway, each create
// with its own Idempotency-Key and retried with it until answered, and
// while membership ends branch memberships (retried with their keys too),
// whose MemberTerminated activities, governance and standards consume.
// Each kill comes just after a burst of terminations, once the service's
// watched consumer group holds some entries undelivered or
// unacknowledged (membership's own group is on its organisations
// stream). Then:
//   - every create is answered, and each has exactly one resource (no
//     retry applied twice), the one it was answered with;
//   - every resource was written whole (record, index, gate or claim,
//     and exactly one creation event);
//   - every termination produced exactly one MemberTerminated, each was
//     processed (its effect shows through the API: processed ÷ produced
//     = 1; for membership, by all three consumers) exactly once (one
//     effect event each), none dead-lettered;
//   - every consumer group on every stream has nothing pending or
//     unread: the killed consumers' entries were taken over.
func TestKill9Membership(t *testing.T) { killUnderLoad(t, victims[membership.Name]) }
func TestKill9Activities(t *testing.T) { killUnderLoad(t, victims[activities.Name]) }
func TestKill9Governance(t *testing.T) { killUnderLoad(t, victims[governance.Name]) }
func TestKill9Standards(t *testing.T)  { killUnderLoad(t, victims[standards.Name]) }

func killUnderLoad(t *testing.T, v victim) {
	const kills, burst = 5, 5
	began := time.Now()
	s := startSystem(t, options{})
	f := s.fixtures()
	dd := f.doom(s, kills*burst)
	ctx := context.Background()
	stream := mstreams.Branch("ai")
	if v.watch != "" {
		stream = v.watch
	}
	effectTag := v.store.tag
	if v.effectTag != "" {
		effectTag = v.effectTag
	}

	load := writes{clients: 8, pace: 20 * time.Millisecond, deadline: time.Now().Add(60 * time.Second),
		run: fmt.Sprintf("kill-%s-%d", v.name, time.Now().UnixNano()%1e6), create: func(title string) (string, map[string]any) { return v.create(f, title) }}
	stop := load.start(f.admin)

	// group is the victim's consumer group on membership's branch stream;
	// pending counts entries delivered and not acknowledged, lag those
	// not yet delivered.
	group := func() (pending, lag int64) {
		groups, err := s.rdb.XInfoGroups(ctx, stream).Result()
		if err != nil {
			return -1, -1
		}
		for _, g := range groups {
			if g.Name == v.name {
				return g.Pending, g.Lag
			}
		}
		return 0, -1 // no group yet: nothing read
	}
	type atKill struct{ pending, lag int64 }
	var atKills []atKill
	for k := range kills {
		var wg sync.WaitGroup
		for _, d := range dd[k*burst : (k+1)*burst] {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := f.admin.try("POST", "/v1/"+d.member+":terminate", map[string]any{"reason": "dues unpaid"}); err != nil {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		// Kill while the consumer holds entries, when it is caught
		// within a second; otherwise while they wait unread.
		var p, l int64
		for deadline := time.Now().Add(time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
			if p, l = group(); p > 0 {
				break
			}
		}
		if err := s.procs[v.name][0].Kill(); err != nil {
			t.Fatal(err)
		}
		atKills = append(atKills, atKill{p, l})
		time.Sleep(100 * time.Millisecond)
		s.restart(v.name, 0)
		time.Sleep(200 * time.Millisecond)
	}
	tl := stop()

	// Every termination processed, nothing left pending or unread.
	handled := 0
	eventually(t, 30*time.Second, func() string {
		handled = 0
		for _, d := range dd {
			if v.handled(f.admin, d) {
				handled++
			}
		}
		if p, l := group(); handled < len(dd) || p != 0 || l != 0 {
			return fmt.Sprintf("%d of %d terminations handled, %d pending, %d unread", handled, len(dd), p, l)
		}
		return ""
	})

	// And every event of every stream, the victim's own included, reached
	// every group that consumes it.
	groups := s.caughtUp(30 * time.Second)

	// Produced: one MemberTerminated per terminated member.
	produced := 0
	mbr, err := outbox(ctx, s.rdb, mstreams.BranchTag("ai"))
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range dd {
		n := 0
		for _, env := range mbr {
			if env.GetMemberTerminated().GetMember().GetName() == d.member {
				n++
			}
		}
		if n != 1 {
			t.Errorf("%s: %d MemberTerminated events, want 1", d.member, n)
		}
		produced += n
	}
	// Processed once: one effect event per termination.
	own, err := outbox(ctx, s.rdb, effectTag)
	if err != nil {
		t.Fatal(err)
	}
	twice := 0
	for _, d := range dd {
		n := 0
		for _, env := range own {
			if v.effect(env, d) {
				n++
			}
		}
		if n != 1 {
			twice++
			t.Errorf("%s's termination: %d effect events in %s's outbox %s, want 1", d.member, n, v.name, effectTag)
		}
	}
	dead, err := s.rdb.XLen(ctx, eventstream.DeadLetterKey(stream, v.name)).Result()
	if err != nil && err != redis.Nil {
		t.Fatal(err)
	}
	consumers, err := s.rdb.XInfoConsumers(ctx, stream, v.name).Result()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range consumers {
		if c.Pending != 0 {
			t.Errorf("consumer %s still holds %d entries", c.Name, c.Pending)
		}
	}
	held, heldEntries := 0, int64(0)
	for _, k := range atKills {
		if k.pending > 0 {
			held++
			heldEntries += k.pending
		}
	}

	// Every create answered, once.
	st, problems, err := v.store.audit(ctx, s.rdb)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("half-written: %s", p)
	}
	duplicated, missing := 0, 0
	for _, title := range tl.titles {
		name, ok := tl.answered[title]
		switch {
		case !ok:
			missing++
			if why := tl.refused[title]; why != "" {
				t.Errorf("%s refused: %s", title, why)
			}
		case len(st.byTitle[title]) != 1:
			duplicated++
			t.Errorf("%s: %d resources %v (answered %s)", title, len(st.byTitle[title]), st.byTitle[title], name)
		case st.byTitle[title][0] != name:
			t.Errorf("%s: answered %s, stored %s", title, name, st.byTitle[title][0])
		}
	}
	t.Logf("%s kill -9 ×%d under load: %d creates (%d tries; failed tries: %s; %d answered as replays, %d of them after answers that said nothing was changed), %d unanswered, %d applied twice, %d half-written; "+
		"MemberTerminated %d produced, %d processed (%.3f), %d processed twice, %d dead-lettered; %d of %d kills took entries the consumer held (%d entries), all taken over; %d consumer groups on every stream caught up; %s",
		v.name, len(atKills), len(tl.titles), tl.tries, tl.failureList(), tl.replays, tl.appliedButNot, missing, duplicated, len(problems),
		produced, handled, float64(handled)/float64(max(produced, 1)), twice, dead, held, len(atKills), heldEntries, groups, time.Since(began).Round(time.Second))
	if missing > 0 {
		t.Errorf("%d creates never answered", missing)
	}
	if dead != 0 {
		t.Errorf("%d entries dead-lettered", dead)
	}
	if tl.appliedButNot > 0 {
		t.Errorf("%d creates had been applied though a try was answered that nothing was changed", tl.appliedButNot)
	}
	if tl.failed() == 0 {
		t.Error("no create failed: the kills did not meet the load, and the test proved nothing")
	}
	if held == 0 {
		t.Error("no kill took entries the consumer held: the test did not kill a consumer mid-stream")
	}
}
