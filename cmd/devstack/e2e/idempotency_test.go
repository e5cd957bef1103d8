package e2e

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/tjsia/chapterhouse/cmd/devstack/stack"
	"github.com/tjsia/chapterhouse/platform/idempotency"
	"github.com/tjsia/chapterhouse/services/membership/creditcode"
)

// creditCode completes a unified social credit code with its GB 32100 check
// character.
func creditCode(first17 string) string {
	code, err := creditcode.Complete(first17)
	if err != nil {
		panic(err) // the tests' own 17 characters
	}
	return code
}

// TestRetryAfterACrashWritesOnce: a write sent with an Idempotency-Key is
// applied, and the process dies before it records the answer (the key's
// record is gone, as when its pending claim expires). The client's retry
// with the same key writes nothing again: it gets the first result back as
// a replay. Before, an activity without a client-chosen id was created
// twice, and an organisation's retry was refused with its own credit code
// taken.
func TestRetryAfterACrashWritesOnce(t *testing.T) {
	admin := as(adminToken())
	crash := func(method, clientKey string) {
		t.Helper()
		// What a kill between the commit and the stored answer leaves.
		if err := sys.Redis.Del(context.Background(), idempotency.Key(stack.AdminSubject, method, clientKey)).Err(); err != nil {
			t.Fatal(err)
		}
	}
	start := time.Now().Add(48 * time.Hour).UTC()
	activity := map[string]any{"kind": "ACTIVITY_KIND_TRAINING", "title": "Crash-safe training", "audience": "AUDIENCE_PUBLIC",
		"location": "天津", "startTime": start.Format(time.RFC3339), "endTime": start.Add(time.Hour).Format(time.RFC3339)}
	count := func() int {
		page := admin.ok(t, "GET", "/v1/branches/ai/activities?pageSize=200&state=ACTIVITY_STATE_DRAFT", nil)
		n := 0
		for _, a := range page["activities"].([]any) {
			if a.(map[string]any)["title"] == "Crash-safe training" {
				n++
			}
		}
		return n
	}
	key := fmt.Sprintf("crash-%d", time.Now().UnixNano())
	first := admin.with("Idempotency-Key", key).ok(t, "POST", "/v1/branches/ai/activities", activity)
	crash("/chapterhouse.activities.v1.ActivitiesService/CreateActivity", key)
	retry := admin.with("Idempotency-Key", key).do(t, "POST", "/v1/branches/ai/activities", activity)
	if retry.status != 200 || retry.body["name"] != first["name"] || retry.header.Get("Idempotent-Replay") != "true" {
		t.Fatalf("retry after the crash: %d %s, want the first activity %v replayed", retry.status, retry.raw, first["name"])
	}
	if n := count(); n != 1 {
		t.Fatalf("%d activities after the retry, want 1", n)
	}
	// And the retry after that is an ordinary replay of the recorded answer.
	if again := admin.with("Idempotency-Key", key).do(t, "POST", "/v1/branches/ai/activities", activity); again.body["name"] != first["name"] {
		t.Fatalf("third try: %s", again.raw)
	}

	code := creditCode("91120116MA05Q7EX1")
	org := map[string]any{"displayName": "天津重试科技有限公司", "creditCode": code}
	orgKey := key + "-org"
	created := admin.with("Idempotency-Key", orgKey).ok(t, "POST", "/v1/organizations", org)
	crash("/chapterhouse.membership.v1.MembershipService/CreateOrganization", orgKey)
	again := admin.with("Idempotency-Key", orgKey).do(t, "POST", "/v1/organizations", org)
	if again.status != 200 || again.body["name"] != created["name"] {
		t.Fatalf("organisation retry after the crash: %d %s, want %v (not CREDIT_CODE_TAKEN)", again.status, again.raw, created["name"])
	}
}
