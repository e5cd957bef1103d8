package ratelimit

import (
	"context"
	"sync"
	"time"

	"github.com/go-redis/redis_rate/v10"
)

// Asking Redis for every request was a fifth of the gateway's CPU in the
// system benchmark, and half its Redis calls. A caller who sends requests
// back to back takes its budget in leases instead: a pod takes several
// requests' worth at once from the shared budget and spends them locally.
// The shared budget is still the only source (a lease is taken from it,
// atomically, by GCRA), so no caller gets more than its budget across all
// pods; what a lease costs is that requests a pod leased but did not use
// within leaseWindow are lost to the caller, so leases grow only for a
// caller who used its last one up quickly, and a caller who sends one
// request now and then asks Redis every time, exactly as before.
const (
	// leaseWindow: a lease's requests must be spent within it, and a
	// caller whose lease ran out within it gets a larger one next time.
	leaseWindow = 250 * time.Millisecond
	// maxLeaseFraction: a lease is at most this fraction of the burst, so
	// what leases can hold back from a caller stays small.
	maxLeaseFraction = 10
	// maxLeases bounds the callers remembered; past it, callers are
	// asked per request until the expired leases are swept.
	maxLeases = 10000
)

// lease is the requests a pod holds for one budget.
type lease struct {
	remaining int           // requests held, not yet spent
	size      int           // the last lease's size
	taken     time.Time     // when it was taken
	redisLeft int           // what the shared budget had left after it
	reset     time.Duration // the shared budget's ResetAfter then
	// refusedUntil: the shared budget said no until then, so the pod
	// says no without asking (a caller over its budget must not turn
	// every refused request into a Redis call).
	refusedUntil time.Time
}

// leases hands out requests from leases, taking new ones from Redis.
type leases struct {
	limiter *redis_rate.Limiter
	now     func() time.Time
	mu      sync.Mutex
	held    map[string]*lease
}

func newLeases(limiter *redis_rate.Limiter) *leases {
	return &leases{limiter: limiter, now: time.Now, held: map[string]*lease{}}
}

// allow spends one request of key's budget: from the pod's lease when it
// holds one, otherwise from Redis (taking a lease when the caller is hot).
// The result is as redis_rate's, Remaining counting the requests held.
func (ls *leases) allow(ctx context.Context, key string, limit redis_rate.Limit) (*redis_rate.Result, error) {
	now := ls.now()
	ls.mu.Lock()
	l := ls.held[key]
	if l != nil && now.Before(l.refusedUntil) {
		res := &redis_rate.Result{Limit: limit, Allowed: 0, Remaining: 0, RetryAfter: l.refusedUntil.Sub(now), ResetAfter: l.reset}
		ls.mu.Unlock()
		return res, nil
	}
	if l != nil && l.remaining > 0 && now.Sub(l.taken) < leaseWindow {
		l.remaining--
		res := &redis_rate.Result{Limit: limit, Allowed: 1, Remaining: l.redisLeft + l.remaining, ResetAfter: l.reset, RetryAfter: -1}
		ls.mu.Unlock()
		return res, nil
	}
	size := 1
	if l != nil && l.remaining == 0 && now.Sub(l.taken) < leaseWindow {
		// Used up within the window: a hot caller; grow the lease.
		size = min(l.size*2, max(limit.Burst/maxLeaseFraction, 1))
	}
	ls.mu.Unlock()

	res, err := ls.limiter.AllowN(ctx, key, limit, size)
	if err != nil {
		return nil, err
	}
	if res.Allowed == 0 && size > 1 {
		// Not enough left for a lease: this one request, as before.
		size = 1
		if res, err = ls.limiter.AllowN(ctx, key, limit, 1); err != nil {
			return nil, err
		}
	}
	ls.mu.Lock()
	defer ls.mu.Unlock()
	if len(ls.held) >= maxLeases {
		ls.sweep(now)
	}
	if _, ok := ls.held[key]; !ok && len(ls.held) >= maxLeases {
		return res, nil
	}
	if res.Allowed == 0 {
		ls.held[key] = &lease{taken: now, reset: res.ResetAfter, refusedUntil: now.Add(res.RetryAfter)}
		return res, nil
	}
	ls.held[key] = &lease{remaining: size - 1, size: size, taken: now, redisLeft: res.Remaining, reset: res.ResetAfter}
	res.Allowed = 1
	res.Remaining += size - 1
	return res, nil
}

// sweep forgets leases past their window (their requests are lost) and
// refusals that have run out.
func (ls *leases) sweep(now time.Time) {
	for k, l := range ls.held {
		if now.Sub(l.taken) >= leaseWindow && !now.Before(l.refusedUntil) {
			delete(ls.held, k)
		}
	}
}
