package fault_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// TestRedisKill9LosesNoAcknowledgedWrite: the services' redis-server, with
// the production durability settings (AOF, appendfsync always), is killed
// with SIGKILL five times and started again on the same port and
// directory, while clients create people, activities, resolutions and
// standards through the gateway (each create with its own
// Idempotency-Key, retried with it until answered). Every create that was
// answered 200 is there afterwards, with its title; every failed try was
// answered 503 with a documented reason (DEPENDENCY_UNAVAILABLE: nothing
// changed; OUTCOME_UNKNOWN: retry with the same key) or 409
// IDEMPOTENCY_KEY_IN_PROGRESS (a retry while the first try's claim
// stands), never 500; nothing is applied twice or half-written.
func TestRedisKill9LosesNoAcknowledgedWrite(t *testing.T) {
	const kills = 5
	began := time.Now()
	s := startSystem(t, options{redisArgs: []string{"--appendonly", "yes", "--appendfsync", "always"}})
	f := s.fixtures()
	var n atomic.Int64
	kinds := []func(title string) (string, map[string]any){
		func(title string) (string, map[string]any) {
			return "/v1/people?personId=" + title, map[string]any{"displayName": title, "birthDate": map[string]any{"year": 1980, "month": 1, "day": 2}}
		},
		func(title string) (string, map[string]any) { return victims["activities"].create(f, title) },
		func(title string) (string, map[string]any) { return victims["governance"].create(f, title) },
		func(title string) (string, map[string]any) { return victims["standards"].create(f, title) },
	}
	load := writes{clients: 8, pace: 10 * time.Millisecond, deadline: time.Now().Add(60 * time.Second),
		run: fmt.Sprintf("redis-%d", time.Now().UnixNano()%1e6),
		create: func(title string) (string, map[string]any) {
			return kinds[int(n.Add(1))%len(kinds)](title)
		}}
	stop := load.start(f.admin)
	for range kills {
		time.Sleep(700 * time.Millisecond)
		if err := s.store.Kill(); err != nil {
			t.Fatal(err)
		}
		// Longer than go-redis's own retries of a command (three, at
		// most 512 ms apart), so the outage reaches the clients.
		time.Sleep(1200 * time.Millisecond)
		if err := s.store.Restart(); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(500 * time.Millisecond)
	tl := stop()

	// What a client was told when a try failed.
	documented := map[string]bool{"503 DEPENDENCY_UNAVAILABLE": true, "503 OUTCOME_UNKNOWN": true, "409 IDEMPOTENCY_KEY_IN_PROGRESS": true}
	for outcome, count := range tl.failures {
		if !documented[outcome] {
			t.Errorf("%d tries answered %s: not a documented answer to a store outage", count, outcome)
		}
	}
	for title, why := range tl.refused {
		t.Errorf("%s refused: %s", title, why)
	}

	// Every acknowledged create is there, with its title.
	lost := 0
	for title, name := range tl.answered {
		r := f.admin.do("GET", "/v1/"+name, nil)
		if r.status != http.StatusOK || (r.str("title") != title && r.str("displayName") != title) {
			lost++
			t.Errorf("acknowledged %s (%s) is gone: %d %s", name, title, r.status, r.raw)
		}
	}
	// And once, whole.
	ctx := context.Background()
	duplicated, halves := 0, 0
	for _, v := range []victim{victims["activities"], victims["governance"], victims["standards"]} {
		st, problems, err := v.store.audit(ctx, s.rdb)
		if err != nil {
			t.Fatal(err)
		}
		halves += len(problems)
		for _, p := range problems {
			t.Errorf("half-written: %s", p)
		}
		for title, names := range st.byTitle {
			if strings.HasPrefix(title, load.run) && len(names) > 1 {
				duplicated++
				t.Errorf("%s applied %d times: %v", title, len(names), names)
			}
		}
	}
	// The consumers resumed where they were: every event reached every
	// group, none waits.
	groups := s.caughtUp(30 * time.Second)
	unanswered := len(tl.titles) - len(tl.answered) - len(tl.refused)
	t.Logf("redis kill -9 ×%d (AOF, appendfsync always) under load through the gateway: %d creates, %d acknowledged, %d lost, %d unanswered; "+
		"%d tries, failed tries: %s; %d creates refused as in progress at their first try; %d answered as replays (%d after answers that said nothing was changed); %d applied twice, %d half-written; %d consumer groups caught up; %s",
		kills, len(tl.titles), len(tl.answered), lost, unanswered, tl.tries, tl.failureList(), tl.ownClaim, tl.replays, tl.appliedButNot, duplicated, halves,
		groups, time.Since(began).Round(time.Second))
	if unanswered > 0 {
		t.Errorf("%d creates never answered", unanswered)
	}
	if tl.ownClaim > 0 {
		t.Errorf("%d creates were refused as in progress at their first try, by their own claim", tl.ownClaim)
	}
	if tl.appliedButNot > 0 {
		t.Errorf("%d creates had been applied though a try was answered that nothing was changed", tl.appliedButNot)
	}
	if tl.failed() == 0 {
		t.Error("no try failed: the kills did not meet the load, and the test proved nothing")
	}
}
