package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/tjsia/chapterhouse/cmd/devstack/stack"
	mstreams "github.com/tjsia/chapterhouse/contracts/membership/streams"
	"github.com/tjsia/chapterhouse/platform/auth"
	"github.com/tjsia/chapterhouse/platform/redistest"
)

// TestEventsCrossRedisInstances: membership on one redis-server, every
// other service on another, as with the chart's per-service Redis. A member
// terminated through the gateway cancels that member's registrations in
// activities, which reads membership's events from membership's Redis.
func TestEventsCrossRedisInstances(t *testing.T) {
	membershipRedis, othersRedis := redistest.Start(t), redistest.Start(t)
	s, err := stack.Start(context.Background(), stack.Options{
		RedisURL:  othersRedis.URL(),
		RedisURLs: map[string]string{"membership": membershipRedis.URL()},
		Getenv:    func(string) string { return "" },
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Stop() })
	if err := s.Seed(context.Background()); err != nil {
		t.Fatal(err)
	}
	admin := client{token: s.Token(stack.AdminSubject, auth.RoleAdmin), base: s.GatewayURL}
	rep := client{token: s.Token(stack.RepresentativeSubject), base: s.GatewayURL}

	act := admin.ok(t, "POST", "/v1/branches/ai/activities?activityId=two-redis-salon", map[string]any{
		"kind": "ACTIVITY_KIND_INDUSTRY_EXCHANGE", "title": "Members' salon", "audience": "AUDIENCE_MEMBERS",
		"location": "天津", "startTime": stamp(48 * time.Hour), "endTime": stamp(50 * time.Hour)})
	admin.ok(t, "POST", "/v1/"+act["name"].(string)+":publish", map[string]any{})
	reg := rep.ok(t, "POST", "/v1/"+act["name"].(string)+":register", map[string]any{})
	if reg["state"] != "REGISTRATION_STATE_CONFIRMED" {
		t.Fatalf("registration = %v", reg)
	}

	members := admin.ok(t, "GET", "/v1/branches/ai/members?person="+stack.RepresentativeSubject, nil)["members"].([]any)
	member := members[0].(map[string]any)["name"].(string)
	admin.ok(t, "POST", "/v1/"+member+":terminate", map[string]any{"reason": "dues unpaid"})

	deadline := time.Now().Add(15 * time.Second)
	for {
		got := admin.ok(t, "GET", "/v1/"+reg["name"].(string), nil)
		if got["state"] == "REGISTRATION_STATE_CANCELLED" {
			if !strings.Contains(got["cancelReason"].(string), "dues unpaid") {
				t.Fatalf("cancel reason = %v", got["cancelReason"])
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("registration still %v 15s after the member was terminated", got["state"])
		}
		time.Sleep(50 * time.Millisecond)
	}

	// Each service kept to its own Redis: membership's keys only in
	// membership's, activities' only in the other; the consumer's group
	// lives beside the stream it reads.
	ctx := context.Background()
	keysOf := func(url, pattern string) []string {
		c := redis.NewClient(mustParse(t, url))
		defer c.Close()
		keys, err := c.Keys(ctx, pattern).Result()
		if err != nil {
			t.Fatal(err)
		}
		return keys
	}
	if k := keysOf(othersRedis.URL(), "{mbr:*"); len(k) != 0 {
		t.Errorf("membership keys in the other Redis: %v", k)
	}
	if k := keysOf(membershipRedis.URL(), "{act:*"); len(k) != 0 {
		t.Errorf("activities keys in membership's Redis: %v", k)
	}
	c := redis.NewClient(mustParse(t, membershipRedis.URL()))
	defer c.Close()
	groups, err := c.XInfoGroups(ctx, mstreams.Branch("ai")).Result()
	if err != nil || len(groups) == 0 || groups[0].Name != "activities" {
		t.Fatalf("consumer groups on membership's branch stream = %v, %v", groups, err)
	}
}

func mustParse(t *testing.T, url string) *redis.Options {
	t.Helper()
	o, err := redis.ParseURL(url)
	if err != nil {
		t.Fatal(err)
	}
	return o
}
