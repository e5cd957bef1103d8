package fault_test

import (
	"context"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestRetriesUnderInjectedUnavailable: every call to every service (from
// the gateway and from the other services) goes through a proxy on the
// callee's side that answers 10% of them UNAVAILABLE: half before the
// service sees the call, half after it answered (a write applied, its
// reply lost). Clients read and create through the gateway, each create
// with its own Idempotency-Key and retried with it. Then:
//   - server attempts ÷ client calls ≤ 1.2 for each service: grpcclient
//     retries reads (GET methods) on UNAVAILABLE, at most three attempts,
//     and never a write (attempts = calls for every write method);
//   - no write is applied twice, though the writes whose reply was lost
//     had been applied: the client's retry with its key is answered with
//     the first result (a replay), because the key travels from the
//     client through the gateway; none was told that nothing changed;
//   - every create is answered.
func TestRetriesUnderInjectedUnavailable(t *testing.T) {
	const rate = 0.10
	began := time.Now()
	proxies := map[string]*faultProxy{}
	s := startSystem(t, options{via: func(name, addr string) string {
		p := startFaultProxy(t, rate, uint64(len(proxies)+1))
		p.forward(t, addr)
		proxies[name] = p
		return p.addr
	}})
	f := s.fixtures()
	std := f.admin.ok("POST", "/v1/branches/ai/standards", map[string]any{"kind": "STANDARD_KIND_GROUP_STANDARD", "title": "读取", "leadUnit": f.lead})["name"].(string)
	// A standard in force, whose promotions are the one write a service
	// makes in another (standards creates each promotion's activity).
	chair, director, works := f.council(s)
	promoted := f.published(s, chair, director, works)
	for _, p := range proxies {
		p.reset()
	}

	var n atomic.Int64
	kinds := []victim{victims["activities"], victims["governance"], victims["standards"]}
	load := writes{clients: 6, pace: 10 * time.Millisecond, deadline: time.Now().Add(60 * time.Second),
		run: fmt.Sprintf("retry-%d", time.Now().UnixNano()%1e6),
		create: func(title string) (string, map[string]any) {
			return kinds[int(n.Add(1))%len(kinds)].create(f, title)
		}}
	stopWrites := load.start(f.admin)
	promotions := writes{clients: 2, pace: 20 * time.Millisecond, deadline: time.Now().Add(60 * time.Second),
		run: fmt.Sprintf("promo-%d", time.Now().UnixNano()%1e6),
		create: func(title string) (string, map[string]any) {
			return promoted + "/promotions:schedule", map[string]any{"promotionId": title, "activity": map[string]any{"title": title,
				"audience": "AUDIENCE_PUBLIC", "capacity": 100, "location": "天津", "startTime": stamp(40 * 24 * time.Hour), "endTime": stamp(40*24*time.Hour + 3*time.Hour)}}
		}}
	stopPromotions := promotions.start(chair)
	reads := []string{"/v1/" + f.salon, "/v1/" + f.lead, "/v1/" + std, "/v1/branches/ai/terms/1", "/v1/organizations/lead"}
	var readCount, readFailed atomic.Int64
	var readOutcomes sync.Map
	done := make(chan struct{})
	var wg sync.WaitGroup
	for r := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := r; ; i++ {
				select {
				case <-done:
					return
				default:
				}
				resp := f.admin.do("GET", reads[i%len(reads)], nil)
				readCount.Add(1)
				if resp.err != nil || resp.status != http.StatusOK {
					readFailed.Add(1)
					v, _ := readOutcomes.LoadOrStore(resp.outcome(), new(atomic.Int64))
					v.(*atomic.Int64).Add(1)
				}
				time.Sleep(5 * time.Millisecond)
			}
		}()
	}
	time.Sleep(8 * time.Second)
	close(done)
	wg.Wait()
	tl := stopWrites()
	tp := stopPromotions()

	// No write applied twice, every one answered.
	ctx := context.Background()
	duplicated := 0
	for _, v := range kinds {
		st, problems, err := v.store.audit(ctx, s.rdb)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range problems {
			t.Errorf("half-written: %s", p)
		}
		for title, names := range st.byTitle {
			if strings.HasPrefix(title, load.run) && len(names) != 1 {
				duplicated++
				t.Errorf("%s applied %d times: %v", title, len(names), names)
			}
		}
	}
	for title, why := range tl.refused {
		t.Errorf("%s refused: %s", title, why)
	}
	unanswered := len(tl.titles) - len(tl.answered) - len(tl.refused)
	// Each promotion answered has exactly one activity, the one it names.
	acts, _, err := victims["activities"].store.audit(ctx, s.rdb)
	if err != nil {
		t.Fatal(err)
	}
	promoDuplicated, promoUntrue := 0, 0
	for _, title := range tp.titles {
		names := acts.byTitle[title]
		_, ok := tp.answered[title]
		switch {
		case !ok:
			t.Errorf("promotion %s never answered: %s", title, tp.refused[title])
		case len(names) != 1:
			promoDuplicated++
			t.Errorf("promotion %s has %d activities: %v", title, len(names), names)
		default:
			if a, _ := tp.bodies[title]["activity"].(string); a != names[0] {
				t.Errorf("promotion %s was answered with activity %q, stored %s", title, a, names[0])
			}
			// Its activity was made by a try after any that was told
			// nothing had been changed.
			if said, ok := tp.saidNothing[title]; ok {
				created, err := time.Parse(time.RFC3339Nano, f.admin.do("GET", "/v1/"+names[0], nil).str("createTime"))
				if err != nil || created.Before(said) {
					promoUntrue++
					t.Errorf("promotion %s: told nothing was changed at %s, but its activity was created at %s (%v)", title, said, created, err)
				}
			}
		}
	}

	// Attempts per call, by service and kind of method.
	var names []string
	for name := range proxies {
		names = append(names, name)
	}
	sort.Strings(names)
	var all, readsAll, writesAll callStats
	var per []string
	for _, name := range names {
		r, w := proxies[name].totals(true), proxies[name].totals(false)
		calls, attempts := r.calls+w.calls, r.attempts+w.attempts
		per = append(per, fmt.Sprintf("%s %d/%d = %.3f (reads %d/%d, writes %d/%d)", name, attempts, calls, float64(attempts)/float64(max(calls, 1)),
			r.attempts, r.calls, w.attempts, w.calls))
		if calls > 0 && float64(attempts)/float64(calls) > 1.2 {
			t.Errorf("%s: %d server attempts for %d client calls, more than 1.2 each", name, attempts, calls)
		}
		if w.attempts != w.calls {
			t.Errorf("%s: a write was retried by gRPC (%d attempts of %d calls)", name, w.attempts, w.calls)
		}
		for _, c := range []callStats{r, w} {
			all.attempts, all.calls, all.before, all.after = all.attempts+c.attempts, all.calls+c.calls, all.before+c.before, all.after+c.after
		}
		readsAll.attempts, readsAll.calls = readsAll.attempts+r.attempts, readsAll.calls+r.calls
		writesAll.attempts, writesAll.calls, writesAll.after = writesAll.attempts+w.attempts, writesAll.calls+w.calls, writesAll.after+w.after
	}
	var readFailures []string
	readOutcomes.Range(func(k, v any) bool {
		readFailures = append(readFailures, fmt.Sprintf("%d × %s", v.(*atomic.Int64).Load(), k))
		return true
	})
	t.Logf("10%% UNAVAILABLE injected between services: server attempts ÷ client calls = %d/%d = %.3f (reads %d/%d = %.3f, retried by grpcclient; writes %d/%d, never retried); "+
		"%d injected before the service, %d after it answered (%d of them writes applied, reply lost); %d creates (%d HTTP tries, failed: %s), %d answered as replays, %d applied twice, %d unanswered, %d told nothing was changed though applied; "+
		"%d promotions scheduled (standards creating each activity in activities: %d tries, failed: %s), %d with more than one activity, %d told nothing was changed after their activity was made; "+
		"%d reads through the gateway, %d failed (%v); by service: %s; %s",
		all.attempts, all.calls, float64(all.attempts)/float64(max(all.calls, 1)), readsAll.attempts, readsAll.calls, float64(readsAll.attempts)/float64(max(readsAll.calls, 1)),
		writesAll.attempts, writesAll.calls, all.before, all.after, writesAll.after, len(tl.titles), tl.tries, tl.failureList(), tl.replays, duplicated, unanswered, tl.appliedButNot,
		len(tp.answered), tp.tries, tp.failureList(), promoDuplicated, promoUntrue,
		readCount.Load(), readFailed.Load(), readFailures, strings.Join(per, "; "), time.Since(began).Round(time.Second))
	if float64(all.attempts)/float64(max(all.calls, 1)) > 1.2 {
		t.Errorf("server attempts ÷ client calls = %.3f, more than 1.2", float64(all.attempts)/float64(all.calls))
	}
	if unanswered > 0 {
		t.Errorf("%d creates never answered", unanswered)
	}
	if tl.appliedButNot+tp.appliedButNot > 0 {
		t.Errorf("%d creates had been applied though a try was answered that nothing was changed", tl.appliedButNot+tp.appliedButNot)
	}
	if writesAll.after == 0 || readsAll.attempts == readsAll.calls {
		t.Error("no write lost its reply, or no read was retried: the test proved nothing")
	}
}
