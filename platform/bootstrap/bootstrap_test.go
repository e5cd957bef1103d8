package bootstrap

import (
	"context"
	"testing"

	"github.com/tjsia/chapterhouse/platform/redistest"
)

// TestEventSourcesFromEnv: a consumer reads each producer's events from
// <PRODUCER>_REDIS_URL when it is set and differs from its own Redis, and
// from its own Redis otherwise; a missing own Redis is an error.
func TestEventSourcesFromEnv(t *testing.T) {
	own, membership := redistest.Start(t), redistest.Start(t)
	ctx := context.Background()
	env := func(vars map[string]string) func(string) string {
		return func(k string) string { return vars[k] }
	}
	needs := Needs{Redis: true, EventSources: []string{"membership", "governance"}}
	deps, closeAll, err := FromEnv(ctx, env(map[string]string{
		"REDIS_URL":            own.URL(),
		"MEMBERSHIP_REDIS_URL": membership.URL(),
		"GOVERNANCE_REDIS_URL": own.URL(),
	}), "activities", needs)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = closeAll(ctx) }()
	if err := deps.Redis.Set(ctx, "who", "own", 0).Err(); err != nil {
		t.Fatal(err)
	}
	if err := deps.EventSource("membership").Set(ctx, "who", "membership", 0).Err(); err != nil {
		t.Fatal(err)
	}
	for source, want := range map[string]string{"membership": "membership", "governance": "own", "standards": "own"} {
		if got, err := deps.EventSource(source).Get(ctx, "who").Result(); err != nil || got != want {
			t.Errorf("%s's events are read from the %q Redis (%v), want the %q one", source, got, err, want)
		}
	}
	if _, _, err := FromEnv(ctx, env(map[string]string{"MEMBERSHIP_REDIS_URL": membership.URL()}), "activities", needs); err == nil {
		t.Fatal("no REDIS_URL: want an error")
	}
}
