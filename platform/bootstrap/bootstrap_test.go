package bootstrap

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"log/slog"
	"testing"
	"time"

	"github.com/tjsia/chapterhouse/platform/auth"
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

// TestVerifierFromEnv: AUTH_TOKEN_MAX_LIFETIME caps the lifetime of the
// tokens the verifier accepts, auth.DefaultMaxLifetime when unset; a value
// that is not a positive duration is an error.
func TestVerifierFromEnv(t *testing.T) {
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	signer := auth.NewSigner(key, auth.DefaultIssuer, auth.DefaultAudience)
	pemKey, err := auth.PublicKeyPEM(signer.PublicKey())
	if err != nil {
		t.Fatal(err)
	}
	hour, err := signer.Sign("people/alice", nil, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	day, err := signer.Sign("people/alice", nil, auth.DefaultMaxLifetime)
	if err != nil {
		t.Fatal(err)
	}
	week, err := signer.Sign("people/alice", nil, 7*24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		maxLifetime string
		accepts     map[string]bool
	}{
		{"", map[string]bool{"hour": true, "day": true, "week": false}},
		{"90m", map[string]bool{"hour": true, "day": false, "week": false}},
		{"168h", map[string]bool{"hour": true, "day": true, "week": true}},
	}
	tokens := map[string]string{"hour": hour, "day": day, "week": week}
	for _, tt := range tests {
		v, err := Verifier(t.Context(), func(k string) string {
			return map[string]string{"AUTH_JWT_PUBLIC_KEYS": string(pemKey), "AUTH_TOKEN_MAX_LIFETIME": tt.maxLifetime}[k]
		}, slog.Default())
		if err != nil {
			t.Fatalf("AUTH_TOKEN_MAX_LIFETIME=%q: %v", tt.maxLifetime, err)
		}
		for name, ok := range tt.accepts {
			if _, err := v.Verify(t.Context(), tokens[name]); (err == nil) != ok {
				t.Errorf("AUTH_TOKEN_MAX_LIFETIME=%q, a token valid for a %s: %v, want accepted=%v", tt.maxLifetime, name, err, ok)
			}
		}
	}
	for _, bad := range []string{"a day", "0s", "-1h"} {
		if _, err := Verifier(t.Context(), func(k string) string {
			return map[string]string{"AUTH_JWT_PUBLIC_KEYS": string(pemKey), "AUTH_TOKEN_MAX_LIFETIME": bad}[k]
		}, slog.Default()); err == nil {
			t.Errorf("AUTH_TOKEN_MAX_LIFETIME=%q accepted", bad)
		}
	}
}
