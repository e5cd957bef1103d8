package ratelimit_test

import (
	"context"
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/redis/go-redis/v9"

	mclient "github.com/tjsia/chapterhouse/contracts/membership/client"
	"github.com/tjsia/chapterhouse/gateway/internal/errorbody"
	"github.com/tjsia/chapterhouse/gateway/internal/ratelimit"
	"github.com/tjsia/chapterhouse/platform/auth"
	"github.com/tjsia/chapterhouse/platform/auth/oidckeys"
	"github.com/tjsia/chapterhouse/platform/auth/oidctest"
	"github.com/tjsia/chapterhouse/platform/i18n"
	"github.com/tjsia/chapterhouse/platform/redistest"
)

// fakeCallers is membership answering who a token's caller is: the person
// and roles linked for the token, no one for any other, or err for every
// token when set (membership down).
type fakeCallers struct {
	mu     sync.Mutex
	linked map[string]mclient.Caller
	asked  map[string]int
	err    error
}

func newFakeCallers() *fakeCallers {
	return &fakeCallers{linked: map[string]mclient.Caller{}, asked: map[string]int{}}
}

func (c *fakeCallers) Lookup(_ context.Context, token string) (mclient.Caller, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.asked[token]++
	if c.err != nil {
		return mclient.Caller{}, c.err
	}
	return c.linked[token], nil
}

// link links token's identity to person, granting roles.
func (c *fakeCallers) link(token, person string, roles ...string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.linked[token] = mclient.Caller{Person: person, Roles: roles}
}

// fail makes every lookup fail with err (nil: answer again).
func (c *fakeCallers) fail(err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.err = err
}

// timesAsked is how often membership was asked about token.
func (c *fakeCallers) timesAsked(token string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.asked[token]
}

type fixture struct {
	signer  *auth.Signer
	server  *redistest.Server
	limits  ratelimit.Limits
	callers *fakeCallers
	// idp, when set, is an OpenID Connect provider the gateways trust too.
	idp *oidctest.Provider
	// unlinkedTTL is the limiters' UnlinkedTTL.
	unlinkedTTL time.Duration
	// served counts the requests that reached the handler behind.
	served atomic.Int64
}

func newFixture(t *testing.T, limits ratelimit.Limits) *fixture {
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{signer: auth.NewSigner(key, "chapterhouse-test", "chapterhouse"), server: redistest.Start(t), limits: limits, callers: newFakeCallers()}
}

// withProvider has the fixture's gateways trust an OpenID Connect
// provider too, as people sign in at one (issue 18).
func (f *fixture) withProvider(t *testing.T) *fixture {
	f.idp = oidctest.New(t)
	return f
}

// gateway is one gateway instance: its own Redis client and verifier, the
// budgets in the shared Redis, membership's answers from f.callers.
func (f *fixture) gateway(t *testing.T, proxies ...netip.Prefix) http.Handler {
	t.Helper()
	return f.gatewayWith(t, nil, proxies...)
}

// gatewayWith is gateway with hook on its Redis client, when not nil.
func (f *fixture) gatewayWith(t *testing.T, hook redis.Hook, proxies ...netip.Prefix) http.Handler {
	t.Helper()
	rdb := redis.NewClient(&redis.Options{Addr: f.server.Addr})
	if hook != nil {
		rdb.AddHook(hook)
	}
	t.Cleanup(func() { rdb.Close() })
	var opts []auth.VerifierOption
	if f.idp != nil {
		issuer, err := oidckeys.DiscoverIssuer(t.Context(), f.idp.Issuer, oidckeys.Options{})
		if err != nil {
			t.Fatal(err)
		}
		opts = append(opts, auth.WithOIDCIssuers(issuer))
	}
	verifier, err := auth.NewVerifier([]crypto.PublicKey{f.signer.PublicKey()}, "chapterhouse-test", "chapterhouse", opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(verifier.Close)
	l, err := ratelimit.New(ratelimit.Config{Redis: rdb, Verifier: verifier, Callers: f.callers, UnlinkedTTL: f.unlinkedTTL,
		Limits: f.limits, TrustedProxies: proxies,
		Errors: errorbody.NewWriter(i18n.Default(), i18n.English), Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	return l.Handler(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		f.served.Add(1)
		w.WriteHeader(http.StatusNoContent)
	}))
}

// token is a static-key token for subject, its identity linked to the
// person subject names with roles, as membership would answer. The token
// itself claims no roles: they are granted in Chapterhouse only.
func (f *fixture) token(t *testing.T, subject string, roles ...string) string {
	t.Helper()
	tok, err := f.signer.Sign(subject, nil, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	f.callers.link(tok, subject, roles...)
	return tok
}

// providerToken is a token from f.idp for subject (an identity at the
// provider), with the extra claims; linked to no one until f.callers
// links it.
func (f *fixture) providerToken(t *testing.T, subject string, extra map[string]any) string {
	t.Helper()
	return f.idp.Token(t, subject, "chapterhouse", extra)
}

func call(h http.Handler, path, token, from string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodGet, path, nil)
	r.RemoteAddr = from + ":40000"
	if token != "" {
		r.Header.Set("Authorization", "Bearer "+token)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	return rec
}

// TestGatewaysShareOneBudget: two gateway instances on one redis-server
// draw on one budget per principal; the refusal is 429 RATE_LIMITED with
// Retry-After, the RateLimit headers and the documented body.
func TestGatewaysShareOneBudget(t *testing.T) {
	limits := ratelimit.DefaultLimits
	limits.Authenticated = redis_rate.PerMinute(5)
	f := newFixture(t, limits)
	a, b := f.gateway(t), f.gateway(t)
	token := f.token(t, "people/li-na")
	allowed := 0
	var refused *httptest.ResponseRecorder
	for i := range 8 {
		rec := call([]http.Handler{a, b}[i%2], "/v1/people/li-na", token, "192.0.2.1")
		switch rec.Code {
		case http.StatusNoContent:
			allowed++
		case http.StatusTooManyRequests:
			refused = rec
		default:
			t.Fatalf("status %d", rec.Code)
		}
		if rec.Header().Get("RateLimit-Limit") != "5" || rec.Header().Get("RateLimit-Remaining") == "" || rec.Header().Get("RateLimit-Reset") == "" {
			t.Fatalf("RateLimit headers %v", rec.Header())
		}
	}
	if allowed != 5 || refused == nil {
		t.Fatalf("%d of 8 allowed across two gateways, want the one budget of 5", allowed)
	}
	if wait, err := strconv.Atoi(refused.Header().Get("Retry-After")); err != nil || wait < 1 || wait > 60 {
		t.Fatalf("Retry-After %q", refused.Header().Get("Retry-After"))
	}
	var body struct {
		Error struct {
			Code     int               `json:"code"`
			Status   string            `json:"status"`
			Reason   string            `json:"reason"`
			Domain   string            `json:"domain"`
			Metadata map[string]string `json:"metadata"`
		} `json:"error"`
	}
	if err := json.Unmarshal(refused.Body.Bytes(), &body); err != nil {
		t.Fatal(err)
	}
	if e := body.Error; e.Code != 429 || e.Status != "RESOURCE_EXHAUSTED" || e.Reason != "RATE_LIMITED" || e.Domain != "chapterhouse" ||
		e.Metadata["retryAfterSeconds"] != refused.Header().Get("Retry-After") {
		t.Fatalf("body %s", refused.Body.String())
	}
	// Another principal has a budget of their own.
	if rec := call(a, "/v1/people/li-na", f.token(t, "people/wang-wei"), "192.0.2.1"); rec.Code != http.StatusNoContent {
		t.Fatalf("another person: %d", rec.Code)
	}
}

// TestBudgetResetsOnTime: a budget of one a second refuses the next call
// at once, still refuses it half a second later, and takes it after the
// Retry-After it gave.
func TestBudgetResetsOnTime(t *testing.T) {
	limits := ratelimit.DefaultLimits
	limits.Authenticated = redis_rate.PerSecond(1)
	f := newFixture(t, limits)
	h := f.gateway(t)
	token := f.token(t, "people/li-na")
	if rec := call(h, "/v1/x", token, "192.0.2.1"); rec.Code != http.StatusNoContent {
		t.Fatalf("first: %d", rec.Code)
	}
	refused := call(h, "/v1/x", token, "192.0.2.1")
	if refused.Code != http.StatusTooManyRequests || refused.Header().Get("Retry-After") != "1" {
		t.Fatalf("second: %d, Retry-After %q", refused.Code, refused.Header().Get("Retry-After"))
	}
	time.Sleep(500 * time.Millisecond)
	if rec := call(h, "/v1/x", token, "192.0.2.1"); rec.Code != http.StatusTooManyRequests {
		t.Fatalf("half a second later: %d, want still refused", rec.Code)
	}
	time.Sleep(600 * time.Millisecond)
	if rec := call(h, "/v1/x", token, "192.0.2.1"); rec.Code != http.StatusNoContent {
		t.Fatalf("after Retry-After: %d, want taken", rec.Code)
	}
}

// TestWhoseBudget: a forged token spends its address's anonymous budget,
// not the subject it names, and costs membership no lookup; people granted
// the admin role have their own, and a token's own roles claim grants
// none; certificate verification without a token has its tighter one;
// behind a trusted proxy the client is the address before it in
// X-Forwarded-For.
func TestWhoseBudget(t *testing.T) {
	limits := ratelimit.Limits{
		Anonymous: redis_rate.PerMinute(3), Authenticated: redis_rate.PerMinute(3),
		Admin: redis_rate.PerMinute(10), Verify: redis_rate.PerMinute(1),
	}
	f := newFixture(t, limits)
	h := f.gateway(t, netip.MustParsePrefix("10.0.0.0/8"))
	li := f.token(t, "people/li-na")
	forged := li[:len(li)-4] + "AAAA"
	for range 3 {
		call(h, "/v1/x", forged, "192.0.2.7")
	}
	if rec := call(h, "/v1/x", "", "192.0.2.7"); rec.Code != http.StatusTooManyRequests {
		t.Fatalf("the forged token's address: %d, want its budget spent", rec.Code)
	}
	if n := f.callers.timesAsked(forged); n != 0 {
		t.Fatalf("membership asked %d times about a forged token, want never", n)
	}
	if rec := call(h, "/v1/x", li, "192.0.2.7"); rec.Code != http.StatusNoContent {
		t.Fatalf("the real li-na: %d, want her own budget untouched", rec.Code)
	}
	admin := f.token(t, "people/admin", auth.RoleAdmin)
	for i := range 10 {
		if rec := call(h, "/v1/x", admin, "192.0.2.8"); rec.Code != http.StatusNoContent || rec.Header().Get("RateLimit-Limit") != "10" {
			t.Fatalf("admin call %d: %d, limit %q", i, rec.Code, rec.Header().Get("RateLimit-Limit"))
		}
	}
	claimsAdmin, err := f.signer.Sign("people/wang-wei", []string{auth.RoleAdmin}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	f.callers.link(claimsAdmin, "people/wang-wei")
	if rec := call(h, "/v1/x", claimsAdmin, "192.0.2.8"); rec.Code != http.StatusNoContent || rec.Header().Get("RateLimit-Limit") != "3" {
		t.Fatalf("a token claiming admin, granted no role: %d, limit %q, want the authenticated budget of 3", rec.Code, rec.Header().Get("RateLimit-Limit"))
	}
	if rec := call(h, ratelimit.VerifyPath, "", "192.0.2.9"); rec.Code != http.StatusNoContent {
		t.Fatalf("first verification: %d", rec.Code)
	}
	if rec := call(h, ratelimit.VerifyPath, "", "192.0.2.9"); rec.Code != http.StatusTooManyRequests {
		t.Fatalf("second verification: %d, want the tighter budget spent", rec.Code)
	}
	if rec := call(h, "/v1/x", "", "192.0.2.9"); rec.Code != http.StatusNoContent {
		t.Fatalf("another call from the verifier's address: %d, want the anonymous budget", rec.Code)
	}
	// Through a trusted proxy, each client has its own budget.
	proxied := func(client string) int {
		r := httptest.NewRequest(http.MethodGet, ratelimit.VerifyPath, nil)
		r.RemoteAddr = "10.1.2.3:5000"
		r.Header.Set("X-Forwarded-For", "203.0.113.1, "+client+", 10.9.9.9")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		return rec.Code
	}
	if proxied("198.51.100.1") != http.StatusNoContent || proxied("198.51.100.2") != http.StatusNoContent || proxied("198.51.100.1") != http.StatusTooManyRequests {
		t.Fatal("behind a trusted proxy, the client before it in X-Forwarded-For has the budget")
	}
}

// TestParseLimit reads the settings' form.
func TestParseLimit(t *testing.T) {
	for in, want := range map[string]redis_rate.Limit{"5/s": redis_rate.PerSecond(5), "600/m": redis_rate.PerMinute(600), "1/h": redis_rate.PerHour(1)} {
		if got, err := ratelimit.ParseLimit(in); err != nil || got != want {
			t.Errorf("%s: %v %v", in, got, err)
		}
	}
	for _, bad := range []string{"", "5", "0/m", "-1/s", "5/d", "x/m"} {
		if _, err := ratelimit.ParseLimit(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// countingHook counts the commands a client sends to Redis.
type countingHook struct{ n *atomic.Int64 }

func (countingHook) DialHook(next redis.DialHook) redis.DialHook { return next }
func (h countingHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error { h.n.Add(1); return next(ctx, cmd) }
}
func (h countingHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error { h.n.Add(int64(len(cmds))); return next(ctx, cmds) }
}

// TestHotCallersLeaseTheirBudget: a caller sending back to back asks
// Redis for a fraction of its requests (the pod leases several at once),
// yet two pods never let through more than the one shared budget; a
// caller who pauses asks Redis for every request, so a lease never holds
// back the budget of an occasional caller.
func TestHotCallersLeaseTheirBudget(t *testing.T) {
	limits := ratelimit.DefaultLimits
	limits.Authenticated = redis_rate.PerMinute(200) // burst 200; leases of up to 20
	f := newFixture(t, limits)
	var asked atomic.Int64
	a, b := f.gatewayWith(t, countingHook{&asked}), f.gatewayWith(t, countingHook{&asked})
	hot := f.token(t, "people/hot")
	allowed := 0
	for i := range 400 {
		if call([]http.Handler{a, b}[i%2], "/v1/x", hot, "192.0.2.1").Code == http.StatusNoContent {
			allowed++
		}
	}
	// The budget refills 200 a minute (a few in the test's own time).
	if allowed > 205 || allowed < 160 {
		t.Fatalf("%d of 400 back-to-back requests allowed across two pods, want the budget of 200 (less what leases held back)", allowed)
	}
	if n := asked.Load(); n > 200 {
		t.Fatalf("Redis asked %d times for 400 requests, want far fewer", n)
	}
	t.Logf("hot caller: %d of 400 allowed with %d Redis calls", allowed, asked.Load())

	// An occasional caller: one request per lease window, each asked of
	// Redis, and each spending exactly one of the shared budget.
	asked.Store(0)
	slow := f.token(t, "people/slow")
	for range 4 {
		if rec := call(a, "/v1/x", slow, "192.0.2.1"); rec.Code != http.StatusNoContent || rec.Header().Get("RateLimit-Remaining") == "" {
			t.Fatalf("slow caller: %d", rec.Code)
		}
		time.Sleep(300 * time.Millisecond)
	}
	if n := asked.Load(); n != 4 {
		t.Fatalf("Redis asked %d times for 4 spaced requests, want 4", n)
	}
}
