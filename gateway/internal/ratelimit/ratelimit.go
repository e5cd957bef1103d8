// Package ratelimit limits each caller's requests at the gateway: a GCRA
// budget per principal in Redis (go-redis/redis_rate), so every gateway pod
// draws on the same one.
//
// The principal is the person a token the gateway has verified itself is
// linked to, as membership answers (Callers): a token names only an
// identity at its issuer, and who that is in Chapterhouse, and which roles
// they hold, only membership knows. A forged or expired token counts as no
// token, so nobody can spend another's budget or escape their own by
// inventing subjects; a caller without a verified token, or whose identity
// is linked to no one, is counted by client address. People granted the
// admin role get their own, larger budget. The public certificate
// verification, the endpoint a guesser of verification codes would hit, has
// its own tighter budget for callers without a token.
//
// A caller sending requests back to back takes its budget in small leases
// (lease.go), so a pod asks Redis once per several of its requests instead
// of once per request.
//
// A refused request is 429 RATE_LIMITED with Retry-After and the documented
// error body; every limited response carries RateLimit-Limit,
// RateLimit-Remaining and RateLimit-Reset. When Redis cannot be asked the
// request goes through (the budget is a guard, not the product) and the
// gateway reports not ready until Redis answers again.
package ratelimit

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net"
	"net/http"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/hashicorp/golang-lru/v2/expirable"
	"github.com/redis/go-redis/v9"
	"google.golang.org/grpc/codes"

	mclient "github.com/tjsia/chapterhouse/contracts/membership/client"
	"github.com/tjsia/chapterhouse/gateway/internal/accesslog"
	"github.com/tjsia/chapterhouse/gateway/internal/errorbody"
	"github.com/tjsia/chapterhouse/platform/apierr"
	"github.com/tjsia/chapterhouse/platform/auth"
	apiv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/api/v1"
)

// Limits are the budgets by kind of caller.
type Limits struct {
	// Anonymous is per client address, for callers without a valid token.
	Anonymous redis_rate.Limit
	// Authenticated is per person, for callers whose verified token's
	// identity membership links to one.
	Authenticated redis_rate.Limit
	// Admin is per person granted the admin role.
	Admin redis_rate.Limit
	// Verify is per client address, for certificate verification without
	// a token.
	Verify redis_rate.Limit
}

// DefaultLimits are the budgets unless settings say otherwise.
var DefaultLimits = Limits{
	Anonymous:     redis_rate.PerMinute(120),
	Authenticated: redis_rate.PerMinute(600),
	Admin:         redis_rate.PerMinute(3000),
	Verify:        redis_rate.PerMinute(20),
}

// VerifyPath is the public certificate verification's route.
const VerifyPath = "/v1/certificates:verify"

// ParseLimit reads "N/s", "N/m" or "N/h" (N requests per period, with a
// burst of N).
func ParseLimit(s string) (redis_rate.Limit, error) {
	n, per, ok := strings.Cut(strings.TrimSpace(s), "/")
	rate, err := strconv.Atoi(n)
	if !ok || err != nil || rate < 1 {
		return redis_rate.Limit{}, fmt.Errorf("rate limit %q: want N/s, N/m or N/h with N ≥ 1", s)
	}
	switch per {
	case "s":
		return redis_rate.PerSecond(rate), nil
	case "m":
		return redis_rate.PerMinute(rate), nil
	case "h":
		return redis_rate.PerHour(rate), nil
	}
	return redis_rate.Limit{}, fmt.Errorf("rate limit %q: the period is s, m or h", s)
}

// Callers says who a verified token's caller is: the person its identity
// is linked to and the roles granted to them, as membership answers
// (contracts/membership/client.Callers, which remembers linked answers).
type Callers interface {
	Lookup(ctx context.Context, token string) (mclient.Caller, error)
}

// DefaultUnlinkedTTL is how long the limiter remembers that a token's
// identity is linked to no one.
//
// Callers never remembers that answer (an identity about to claim its
// invitation must act as its person at once), so without this a flood of
// unlinked tokens would be a flood of lookups at membership, one per
// request. Remembering it for a few seconds bounds that to one lookup per
// token per few seconds, and costs little: the only thing that changes the
// answer is a claim (or a link made by an admin), and all it delays is that
// the limiter counts the newly linked caller by their person rather than by
// their address, for at most this long. The services ask membership
// themselves, so what the caller may do changes at once.
const DefaultUnlinkedTTL = 5 * time.Second

// unlinkedCacheSize bounds the unlinked tokens remembered, as Callers
// bounds the linked ones; past it the oldest are asked about again.
const unlinkedCacheSize = 10000

// Config configures a limiter.
type Config struct {
	Redis    redis.UniversalClient
	Verifier *auth.Verifier
	// Callers says whose budget a verified token draws on.
	Callers Callers
	// UnlinkedTTL: DefaultUnlinkedTTL when zero.
	UnlinkedTTL time.Duration
	Limits      Limits
	// TrustedProxies are the addresses (a load balancer, an ingress) whose
	// X-Forwarded-For is believed: the client is the last address in it
	// that is not one of them. Others' X-Forwarded-For is ignored.
	TrustedProxies []netip.Prefix
	Errors         *errorbody.Writer
	Logger         *slog.Logger
}

// Limiter is the rate-limiting middleware.
type Limiter struct {
	cfg    Config
	leases *leases
	// unlinked are the tokens (by SHA-256) whose identity membership
	// lately said is linked to no one (see DefaultUnlinkedTTL).
	unlinked *expirable.LRU[[sha256.Size]byte, struct{}]
}

// New returns a limiter.
func New(cfg Config) (*Limiter, error) {
	if cfg.Redis == nil || cfg.Verifier == nil || cfg.Callers == nil || cfg.Errors == nil || cfg.Logger == nil {
		return nil, errors.New("ratelimit: Config needs Redis, Verifier, Callers, Errors and Logger")
	}
	if cfg.UnlinkedTTL <= 0 {
		cfg.UnlinkedTTL = DefaultUnlinkedTTL
	}
	return &Limiter{cfg: cfg, leases: newLeases(redis_rate.NewLimiter(cfg.Redis)),
		unlinked: expirable.NewLRU[[sha256.Size]byte, struct{}](unlinkedCacheSize, nil, cfg.UnlinkedTTL)}, nil
}

// Ready reports whether the budgets can be asked.
func (l *Limiter) Ready(ctx context.Context) error {
	return l.cfg.Redis.Ping(ctx).Err()
}

// budget is whose budget a request draws on, and which.
func (l *Limiter) budget(r *http.Request) (key string, limit redis_rate.Limit) {
	if token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
		if c, ok := l.person(r.Context(), token); ok {
			accesslog.SetPrincipal(r.Context(), c.Person)
			if slices.Contains(c.Roles, auth.RoleAdmin) {
				return "admin:" + c.Person, l.cfg.Limits.Admin
			}
			return "sub:" + c.Person, l.cfg.Limits.Authenticated
		}
	}
	client := l.ClientAddr(r)
	if r.URL.Path == VerifyPath {
		return "verify:" + client, l.cfg.Limits.Verify
	}
	return "ip:" + client, l.cfg.Limits.Anonymous
}

// person is who token's caller is, when the token verifies and membership
// links its identity to a person. Otherwise the caller draws on its
// address's budget: a token that fails verification counts as none, and
// membership is asked only about verified tokens (a forged one must not
// cost it a lookup); an identity linked to no one may do only what
// anonymous callers may, so it draws on their budget.
func (l *Limiter) person(ctx context.Context, token string) (mclient.Caller, bool) {
	if _, err := l.cfg.Verifier.Verify(ctx, token); err != nil {
		return mclient.Caller{}, false
	}
	key := sha256.Sum256([]byte(token))
	if _, ok := l.unlinked.Get(key); ok {
		return mclient.Caller{}, false
	}
	c, err := l.cfg.Callers.Lookup(ctx, token)
	if err != nil {
		// Membership unreachable or failing: the request is not failed
		// here, and it gets no bigger budget than an anonymous caller's,
		// since who the caller is cannot be known. The backend answers
		// the call itself (it asks membership too, and says so when it
		// cannot).
		l.cfg.Logger.WarnContext(ctx, "rate limit: membership cannot say who the caller is; counting them by address", "err", err)
		return mclient.Caller{}, false
	}
	if c.Person == "" {
		l.unlinked.Add(key, struct{}{})
		return mclient.Caller{}, false
	}
	return c, true
}

// ClientAddr is the caller's address: the peer's, or, when the peer is a
// trusted proxy, the last address before the trusted ones in
// X-Forwarded-For.
func (l *Limiter) ClientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	addr, err := netip.ParseAddr(host)
	if err != nil || !l.trusted(addr) {
		return host
	}
	hops := strings.Split(r.Header.Get("X-Forwarded-For"), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		hop, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			break
		}
		if addr = hop; !l.trusted(hop) {
			break
		}
	}
	return addr.Unmap().String()
}

func (l *Limiter) trusted(a netip.Addr) bool {
	for _, p := range l.cfg.TrustedProxies {
		if p.Contains(a.Unmap()) {
			return true
		}
	}
	return false
}

// Handler limits next.
func (l *Limiter) Handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key, limit := l.budget(r)
		res, err := l.leases.allow(r.Context(), key, limit)
		if err != nil {
			l.cfg.Logger.WarnContext(r.Context(), "rate limit: Redis not answering; letting the request through", "err", err)
			next.ServeHTTP(w, r)
			return
		}
		h := w.Header()
		h.Set("RateLimit-Limit", strconv.Itoa(limit.Rate))
		h.Set("RateLimit-Remaining", strconv.Itoa(res.Remaining))
		h.Set("RateLimit-Reset", strconv.Itoa(seconds(res.ResetAfter)))
		if res.Allowed == 0 {
			wait := seconds(res.RetryAfter)
			h.Set("Retry-After", strconv.Itoa(wait))
			l.cfg.Errors.WriteError(w, r, apierr.New(codes.ResourceExhausted, apiv1.ErrorReason_RATE_LIMITED,
				map[string]string{"retryAfterSeconds": strconv.Itoa(wait), "limit": strconv.Itoa(limit.Rate), "periodSeconds": strconv.Itoa(int(limit.Period.Seconds()))}))
			return
		}
		next.ServeHTTP(w, r)
	})
}

// seconds rounds d up to whole seconds, at least 1 when positive.
func seconds(d time.Duration) int {
	if d <= 0 {
		return 0
	}
	return int(math.Ceil(d.Seconds()))
}
