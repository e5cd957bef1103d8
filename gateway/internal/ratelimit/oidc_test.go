package ratelimit_test

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"testing"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/tjsia/chapterhouse/gateway/internal/accesslog"
	"github.com/tjsia/chapterhouse/gateway/internal/ratelimit"
	"github.com/tjsia/chapterhouse/platform/auth"
)

// oidcLimits are budgets each of which a test can tell from the others by
// RateLimit-Limit.
func oidcLimits() ratelimit.Limits {
	limits := ratelimit.DefaultLimits
	limits.Anonymous = redis_rate.PerMinute(3)
	limits.Authenticated = redis_rate.PerMinute(5)
	limits.Admin = redis_rate.PerMinute(8)
	return limits
}

// TestUnlinkedIdentityDrawsOnTheAnonymousBudget: a token from an OpenID
// Connect issuer whose identity is linked to no person (issue 18) is
// served as an anonymous caller, and so draws on its address's budget:
// many such identities from one address get no more than one anonymous
// caller would.
func TestUnlinkedIdentityDrawsOnTheAnonymousBudget(t *testing.T) {
	f := newFixture(t, oidcLimits()).withProvider(t)
	h := f.gateway(t)
	allowed := 0
	for _, sub := range []string{"u-1", "u-2", "u-3", "u-4", "u-5"} {
		if rec := call(h, "/v1/activities", f.providerToken(t, sub, nil), "192.0.2.7"); rec.Code == http.StatusNoContent {
			allowed++
		}
	}
	if allowed != 3 {
		t.Fatalf("%d of 5 unlinked identities from one address allowed, want the anonymous budget of 3", allowed)
	}
}

// TestLinkedIdentityDrawsOnItsPersonsBudget: a provider token whose
// identity membership links to a person draws on that person's budget,
// not its address's: every token of theirs shares it, and others behind
// the same address keep theirs. A person granted the admin role in
// Chapterhouse gets the admin budget; a token's own roles claim grants
// none. The access log names the person.
func TestLinkedIdentityDrawsOnItsPersonsBudget(t *testing.T) {
	f := newFixture(t, oidcLimits()).withProvider(t)
	h := f.gateway(t)
	// Two sign-ins of one person, one of whose tokens claims admin.
	first := f.providerToken(t, "u-ann", nil)
	second := f.providerToken(t, "u-ann-phone", map[string]any{"roles": []string{auth.RoleAdmin}})
	f.callers.link(first, "people/ann")
	f.callers.link(second, "people/ann")
	for i, tok := range []string{first, first, first, second, second} {
		if rec := call(h, "/v1/x", tok, "192.0.2.7"); rec.Code != http.StatusNoContent || rec.Header().Get("RateLimit-Limit") != "5" {
			t.Fatalf("ann's call %d: %d, limit %q, want her budget of 5", i, rec.Code, rec.Header().Get("RateLimit-Limit"))
		}
	}
	if rec := call(h, "/v1/x", second, "192.0.2.7"); rec.Code != http.StatusTooManyRequests {
		t.Fatalf("ann's sixth call: %d, want her one budget spent across her tokens", rec.Code)
	}
	for i := range 3 {
		if rec := call(h, "/v1/x", "", "192.0.2.7"); rec.Code != http.StatusNoContent || rec.Header().Get("RateLimit-Limit") != "3" {
			t.Fatalf("anonymous call %d from ann's address: %d, want the address's budget untouched", i, rec.Code)
		}
	}

	admin := f.providerToken(t, "u-bo", nil)
	f.callers.link(admin, "people/bo", auth.RoleAdmin, auth.RoleGeneralCouncil)
	for i := range 8 {
		if rec := call(h, "/v1/x", admin, "192.0.2.8"); rec.Code != http.StatusNoContent || rec.Header().Get("RateLimit-Limit") != "8" {
			t.Fatalf("admin call %d: %d, limit %q, want the admin budget of 8", i, rec.Code, rec.Header().Get("RateLimit-Limit"))
		}
	}

	var out bytes.Buffer
	logged := accesslog.Handler(slog.New(slog.NewJSONHandler(&out, nil)), "X-Request-Id")(h)
	call(logged, "/v1/x", admin, "192.0.2.8")
	var line struct{ Principal string }
	if err := json.Unmarshal(out.Bytes(), &line); err != nil || line.Principal != "people/bo" {
		t.Fatalf("access log %s (%v), want principal people/bo", out.String(), err)
	}
}

// TestMembershipDownCountsByAddress: when membership cannot say who a
// verified token's caller is, the request still reaches the handler (the
// backend answers it), drawing on its address's anonymous budget, never a
// bigger one.
func TestMembershipDownCountsByAddress(t *testing.T) {
	limits := oidcLimits()
	limits.Authenticated = redis_rate.PerMinute(100)
	f := newFixture(t, limits).withProvider(t)
	h := f.gateway(t)
	tok := f.providerToken(t, "u-ann", nil)
	f.callers.link(tok, "people/ann", auth.RoleAdmin)
	f.callers.fail(status.Error(codes.Unavailable, "membership is down"))
	for i := range 3 {
		if rec := call(h, "/v1/x", tok, "192.0.2.7"); rec.Code != http.StatusNoContent || rec.Header().Get("RateLimit-Limit") != "3" {
			t.Fatalf("call %d with membership down: %d, limit %q, want passed on within the address's budget of 3", i, rec.Code, rec.Header().Get("RateLimit-Limit"))
		}
	}
	if n := f.served.Load(); n != 3 {
		t.Fatalf("%d requests reached the handler, want 3", n)
	}
	if rec := call(h, "/v1/x", "", "192.0.2.7"); rec.Code != http.StatusTooManyRequests {
		t.Fatalf("an anonymous call from the same address: %d, want its budget spent", rec.Code)
	}
	// Membership back: the person's own budget, at once (a failure is
	// remembered by no one).
	f.callers.fail(nil)
	if rec := call(h, "/v1/x", tok, "192.0.2.7"); rec.Code != http.StatusNoContent || rec.Header().Get("RateLimit-Limit") != "8" {
		t.Fatalf("membership back: %d, limit %q, want the admin budget of 8", rec.Code, rec.Header().Get("RateLimit-Limit"))
	}
}

// TestUnlinkedAnswerRememberedBriefly: membership is asked about an
// unlinked token once per UnlinkedTTL, however many requests carry it;
// once the identity is linked (it claimed its invitation), its requests
// draw on the person's budget when that time is up, not before.
func TestUnlinkedAnswerRememberedBriefly(t *testing.T) {
	f := newFixture(t, oidcLimits()).withProvider(t)
	h := f.gateway(t) // DefaultUnlinkedTTL, longer than this part takes
	tok := f.providerToken(t, "u-newcomer", nil)
	for range 3 {
		call(h, "/v1/x", tok, "192.0.2.7")
	}
	if n := f.callers.timesAsked(tok); n != 1 {
		t.Fatalf("membership asked %d times about one unlinked token, want once", n)
	}
	f.callers.link(tok, "people/newcomer")
	if rec := call(h, "/v1/x", tok, "192.0.2.8"); rec.Header().Get("RateLimit-Limit") != "3" || f.callers.timesAsked(tok) != 1 {
		t.Fatalf("just after the claim: limit %q after %d lookups, want the remembered answer (anonymous, 3)", rec.Header().Get("RateLimit-Limit"), f.callers.timesAsked(tok))
	}

	// A gateway remembering for a short time asks again once it is up.
	f.unlinkedTTL = 100 * time.Millisecond
	short := f.gateway(t)
	later := f.providerToken(t, "u-later", nil)
	if rec := call(short, "/v1/x", later, "192.0.2.9"); rec.Header().Get("RateLimit-Limit") != "3" {
		t.Fatalf("unlinked: limit %q, want the anonymous 3", rec.Header().Get("RateLimit-Limit"))
	}
	f.callers.link(later, "people/later")
	time.Sleep(f.unlinkedTTL + 200*time.Millisecond)
	rec := call(short, "/v1/x", later, "192.0.2.9")
	if rec.Code != http.StatusNoContent || rec.Header().Get("RateLimit-Limit") != "5" {
		t.Fatalf("after the claim and the TTL: %d, limit %q, want the person's budget of 5", rec.Code, rec.Header().Get("RateLimit-Limit"))
	}
	if n := f.callers.timesAsked(later); n != 2 {
		t.Fatalf("membership asked %d times, want twice", n)
	}
}
