package store_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/tjsia/chapterhouse/platform/redistx"
	activitiesv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/activities/v1"
	eventsv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/events/v1"
	membershipv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/membership/v1"

	"github.com/tjsia/chapterhouse/services/activities/internal/store"
)

// TestEveryStartTimeIsListed: activities starting in 1900, just before and
// at 1970 and in 2300 are listed in start order, count towards A1 in their
// year and take part in the membership-ended cascade. (Index keys written
// as decimal milliseconds once lost every time before 1970 or after 2286.)
func TestEveryStartTimeIsListed(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.members.members["people/rep"] = "branches/ai/members/m1"
	epoch := time.Unix(0, 0).UTC()
	starts := []time.Time{
		time.Date(2300, 1, 1, 9, 0, 0, 0, time.UTC),
		epoch.Add(time.Millisecond),
		time.Date(1900, 6, 1, 9, 0, 0, 0, time.UTC),
		epoch,
		epoch.Add(-time.Millisecond),
		time.Date(1969, 7, 20, 20, 17, 0, 0, time.UTC),
	}
	var regs []string
	for i, start := range starts {
		f.now = start.Add(-48 * time.Hour)
		a, err := f.svc.CreateActivity(ctx, admin, "branches/ai", &activitiesv1.Activity{
			Kind: activitiesv1.ActivityKind_ACTIVITY_KIND_ACADEMIC_EXCHANGE, Title: fmt.Sprint("at ", start), Location: "Tianjin",
			Audience: activitiesv1.Audience_AUDIENCE_MEMBERS, TimeZone: "UTC",
			StartTime: timestamppb.New(start), EndTime: timestamppb.New(start.Add(2 * time.Hour)),
		}, fmt.Sprintf("a%d", i))
		if err != nil {
			t.Fatalf("create at %v: %v", start, err)
		}
		if _, err := f.svc.PublishActivity(ctx, admin, &activitiesv1.PublishActivityRequest{Name: a.GetName()}); err != nil {
			t.Fatalf("publish at %v: %v", start, err)
		}
		regs = append(regs, f.register(t, a, "rep").GetName())
	}

	// Listed, in start order across 1970.
	var got []time.Time
	page := ""
	for {
		items, next, err := f.svc.ListActivities(ctx, admin, &activitiesv1.ListActivitiesRequest{Parent: "branches/ai", PageSize: 2, PageToken: page})
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range items {
			got = append(got, a.GetStartTime().AsTime())
		}
		if page = next; page == "" {
			break
		}
	}
	want := slices.Clone(starts)
	slices.SortFunc(want, func(a, b time.Time) int { return a.Compare(b) })
	if !slices.EqualFunc(got, want, time.Time.Equal) {
		t.Fatalf("listed starts %v\nwant        %v", got, want)
	}

	// A1 counts each in its own year.
	for year, n := range map[int32]int32{1900: 1, 1969: 2, 1970: 2, 2300: 1} {
		q, err := f.svc.GetAnnualQuota(ctx, &activitiesv1.GetAnnualQuotaRequest{Branch: "branches/ai", Year: year})
		if err != nil {
			t.Fatal(err)
		}
		if q.GetScheduledCount() != n {
			t.Errorf("A1 %d: %d scheduled, want %d", year, q.GetScheduledCount(), n)
		}
	}

	// Membership ends before any of them started: every registration goes.
	f.now = time.Date(1899, 1, 1, 0, 0, 0, 0, time.UTC)
	env := &eventsv1.Envelope{Id: "ghost-cascade", Payload: &eventsv1.Envelope_MemberTerminated{MemberTerminated: &eventsv1.MemberTerminated{
		Member: &membershipv1.Member{Name: "branches/ai/members/m1"}, People: []string{"people/rep"}, Reason: "dues unpaid"}}}
	if err := f.svc.HandleEvent(ctx, env); err != nil {
		t.Fatal(err)
	}
	for _, name := range regs {
		r, err := f.svc.GetRegistration(ctx, admin, name)
		if err != nil {
			t.Fatal(err)
		}
		if r.GetState() != activitiesv1.RegistrationState_REGISTRATION_STATE_CANCELLED {
			t.Errorf("%s is %v after the cascade", name, r.GetState())
		}
	}
}

// TestReindexRewritesOldEntries: index entries of the old decimal form are
// rewritten at start, so they sort and move with their activity again.
func TestReindexRewritesOldEntries(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	a := f.published(t, "old-entry", 0, activitiesv1.Audience_AUDIENCE_PUBLIC, activitiesv1.ActivityKind_ACTIVITY_KIND_ACADEMIC_EXCHANGE)
	index := redistx.Key(store.BranchTag("ai"), "idx")
	old := fmt.Sprintf("%013d:old-entry", a.GetStartTime().AsTime().UnixMilli())
	members, err := f.rdb.ZRange(ctx, index, 0, -1).Result()
	if err != nil || len(members) != 1 {
		t.Fatalf("index = %v, %v", members, err)
	}
	// As a version before the fix would have written it.
	if err := f.rdb.ZRem(ctx, index, members[0]).Err(); err != nil {
		t.Fatal(err)
	}
	if err := f.rdb.ZAdd(ctx, index, redisZ(old)).Err(); err != nil {
		t.Fatal(err)
	}
	n, err := store.New(f.rdb, nil).Reindex(ctx, "ai")
	if err != nil || n != 1 {
		t.Fatalf("Reindex = %d, %v; want 1", n, err)
	}
	if n, _ := store.New(f.rdb, nil).Reindex(ctx, "ai"); n != 0 {
		t.Fatalf("a second Reindex rewrote %d", n)
	}
	after, _ := f.rdb.ZRange(ctx, index, 0, -1).Result()
	if len(after) != 1 || after[0] != members[0] {
		t.Fatalf("index after Reindex = %v, want %v", after, members)
	}
}

func redisZ(member string) redis.Z { return redis.Z{Member: member} }
