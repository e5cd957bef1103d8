package fault_test

import (
	"fmt"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"
)

// writes is a load of creates through the gateway: clients send creates
// one after another until stopped, every create with its own
// Idempotency-Key and retried with that key, as the API tells a client to,
// until it is answered or the deadline passes.
type writes struct {
	clients int
	// pace between one client's creates.
	pace     time.Duration
	deadline time.Time
	// create is the request of the n-th create, whose resource is named
	// title.
	create func(title string) (path string, body map[string]any)
	// run prefixes every title, so a test finds its own resources.
	run string
}

// tally is what the clients of a writes load saw.
type tally struct {
	mu sync.Mutex
	// titles are every create's, in the order they started.
	titles []string
	// tries counts every request sent; failures, by outcome, the ones
	// that were not answered 200 ("503 OUTCOME_UNKNOWN", ...).
	tries    int
	failures map[string]int
	// answered maps a title to the name of the resource its create was
	// answered with.
	answered map[string]string
	// bodies are the answers themselves, by title.
	bodies map[string]map[string]any
	// saidNothing is, by title, when a try was last answered that
	// nothing had been changed (DEPENDENCY_UNAVAILABLE): what the
	// request did must have happened after that.
	saidNothing map[string]time.Time
	replays     int
	// appliedButNot counts creates answered, in the end, by a replay
	// (so an earlier try had applied them) whose every earlier failure
	// said that nothing had been changed (DEPENDENCY_UNAVAILABLE, or
	// still in progress): one of those answers was untrue.
	appliedButNot int
	// ownClaim counts creates whose first try was answered
	// IDEMPOTENCY_KEY_IN_PROGRESS: no other try of theirs was running, so
	// the claim in the way was their own.
	ownClaim int
	// refused are creates answered with an error that is no reason to
	// retry (a 4xx other than in-progress, a 500), with the answer.
	refused map[string]string
}

// retryable: the answer tells the client to try again with the same key.
func retryable(r reply) bool {
	if r.err != nil {
		return true
	}
	switch r.status {
	case http.StatusServiceUnavailable, http.StatusBadGateway, http.StatusGatewayTimeout:
		return true
	case http.StatusConflict:
		return r.reason() == "IDEMPOTENCY_KEY_IN_PROGRESS"
	}
	return false
}

// notApplied: the answer says the request changed nothing.
func notApplied(r reply) bool {
	return r.reason() == "DEPENDENCY_UNAVAILABLE" || r.reason() == "IDEMPOTENCY_KEY_IN_PROGRESS"
}

// start runs the load as c; stop ends it once every create started has
// been answered (or the deadline passed) and returns the tally.
func (l writes) start(c caller) (stop func() *tally) {
	t := &tally{failures: map[string]int{}, answered: map[string]string{}, bodies: map[string]map[string]any{}, saidNothing: map[string]time.Time{}, refused: map[string]string{}}
	var wg sync.WaitGroup
	done := make(chan struct{})
	for cl := range l.clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-done:
					return
				default:
				}
				title := fmt.Sprintf("%s-%02d-%04d", l.run, cl, i)
				t.mu.Lock()
				t.titles = append(t.titles, title)
				t.mu.Unlock()
				l.one(c, title, t)
				time.Sleep(l.pace)
			}
		}()
	}
	return func() *tally { close(done); wg.Wait(); return t }
}

func (l writes) one(c caller, title string, t *tally) {
	path, body := l.create(title)
	key := "key-" + title
	onlyNotApplied := true
	failed := false
	for try := 0; time.Now().Before(l.deadline); try++ {
		r := c.do("POST", path, body, "Idempotency-Key", key)
		t.mu.Lock()
		t.tries++
		if try == 0 && r.reason() == "IDEMPOTENCY_KEY_IN_PROGRESS" {
			t.ownClaim++
		}
		switch {
		case r.err == nil && r.status == http.StatusOK:
			t.answered[title] = r.str("name")
			t.bodies[title] = r.body
			if r.header.Get("Idempotent-Replay") == "true" {
				t.replays++
				if failed && onlyNotApplied {
					t.appliedButNot++
				}
			}
			t.mu.Unlock()
			return
		case retryable(r):
			t.failures[r.outcome()]++
			if r.reason() == "DEPENDENCY_UNAVAILABLE" {
				t.saidNothing[title] = time.Now()
			}
			failed = true
			onlyNotApplied = onlyNotApplied && notApplied(r)
		default:
			t.failures[r.outcome()]++
			t.refused[title] = fmt.Sprintf("%s: %s", r.outcome(), r.raw)
			t.mu.Unlock()
			return
		}
		t.mu.Unlock()
		time.Sleep(50 * time.Millisecond)
	}
}

// failureList is the failures, most frequent first: "37 × 503
// OUTCOME_UNKNOWN, 2 × transport error".
func (t *tally) failureList() string {
	type kv struct {
		k string
		n int
	}
	var all []kv
	for k, n := range t.failures {
		all = append(all, kv{k, n})
	}
	sort.Slice(all, func(i, j int) bool { return all[i].n > all[j].n || all[i].n == all[j].n && all[i].k < all[j].k })
	var parts []string
	for _, e := range all {
		parts = append(parts, fmt.Sprintf("%d × %s", e.n, e.k))
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}

// failed is the number of failed tries.
func (t *tally) failed() int {
	n := 0
	for _, v := range t.failures {
		n += v
	}
	return n
}
