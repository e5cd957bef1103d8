package ratelimit_test

import (
	"io"
	"log/slog"
	"net/http"
	"testing"

	"github.com/go-redis/redis_rate/v10"
	"github.com/redis/go-redis/v9"

	"github.com/tjsia/chapterhouse/gateway/internal/errorbody"
	"github.com/tjsia/chapterhouse/gateway/internal/ratelimit"
	"github.com/tjsia/chapterhouse/platform/auth"
	"github.com/tjsia/chapterhouse/platform/auth/oidckeys"
	"github.com/tjsia/chapterhouse/platform/auth/oidctest"
	"github.com/tjsia/chapterhouse/platform/i18n"
)

// TestUnlinkedIdentityDrawsOnTheAnonymousBudget: a token from an OpenID
// Connect issuer whose identity is linked to no person (issue 18) is
// served as an anonymous caller, and so draws on its address's budget:
// many such identities from one address get no more than one anonymous
// caller would.
func TestUnlinkedIdentityDrawsOnTheAnonymousBudget(t *testing.T) {
	limits := ratelimit.DefaultLimits
	limits.Anonymous = redis_rate.PerMinute(3)
	f := newFixture(t, limits)
	idp := oidctest.New(t)
	issuer, err := oidckeys.DiscoverIssuer(t.Context(), idp.Issuer, oidckeys.Options{})
	if err != nil {
		t.Fatal(err)
	}
	verifier, err := auth.NewVerifier(nil, auth.DefaultIssuer, "chapterhouse", auth.WithOIDCIssuers(issuer))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(verifier.Close)
	rdb := redis.NewClient(&redis.Options{Addr: f.server.Addr})
	t.Cleanup(func() { rdb.Close() })
	l, err := ratelimit.New(ratelimit.Config{Redis: rdb, Verifier: verifier, Limits: limits,
		Errors: errorbody.NewWriter(i18n.Default(), i18n.English), Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	h := l.Handler(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) }))
	allowed := 0
	for _, sub := range []string{"u-1", "u-2", "u-3", "u-4", "u-5"} {
		if rec := call(h, "/v1/activities", idp.Token(t, sub, "chapterhouse", nil), "192.0.2.7"); rec.Code == http.StatusNoContent {
			allowed++
		}
	}
	if allowed != 3 {
		t.Fatalf("%d of 5 unlinked identities from one address allowed, want the anonymous budget of 3", allowed)
	}
}
