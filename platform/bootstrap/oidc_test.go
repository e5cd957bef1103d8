package bootstrap

import (
	"crypto/ed25519"
	"crypto/rand"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/tjsia/chapterhouse/platform/auth"
	"github.com/tjsia/chapterhouse/platform/auth/oidctest"
)

// TestOIDCVerifierFromEnv: AUTH_OIDC_ISSUERS and AUTH_AUDIENCE configure
// the OpenID Connect issuers, beside the static keys or alone; neither is
// an error, as are bad intervals and an issuer that never answers (after
// the bounded wait, AUTH_OIDC_DISCOVERY_TIMEOUT).
func TestOIDCVerifierFromEnv(t *testing.T) {
	a, b := oidctest.New(t), oidctest.New(t)
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	signer := auth.NewSigner(key, auth.DefaultIssuer, "app")
	pemKey, err := auth.PublicKeyPEM(signer.PublicKey())
	if err != nil {
		t.Fatal(err)
	}
	static, err := signer.Sign("people/alice", nil, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	verifier := func(env map[string]string) (*auth.Verifier, error) {
		v, err := Verifier(t.Context(), func(k string) string { return env[k] }, slog.Default())
		if v != nil {
			t.Cleanup(v.Close)
		}
		return v, err
	}

	v, err := verifier(map[string]string{"AUTH_OIDC_ISSUERS": " " + a.Issuer + ", ," + b.Issuer, "AUTH_AUDIENCE": "app"})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []*oidctest.Provider{a, b} {
		got, err := v.Verify(t.Context(), p.Token(t, "u-1", "app", nil))
		if err != nil || got.Identity != (auth.Identity{Issuer: p.Issuer, Subject: "u-1"}) || got.Subject != "" {
			t.Fatalf("%s's token: %+v, %v", p.Issuer, got, err)
		}
		if _, err := v.Verify(t.Context(), p.Token(t, "u-1", "chapterhouse", nil)); err == nil {
			t.Fatal("a token for another audience accepted")
		}
	}
	if _, err := v.Verify(t.Context(), static); err == nil {
		t.Fatal("a static-key token accepted without AUTH_JWT_PUBLIC_KEYS")
	}

	both, err := verifier(map[string]string{"AUTH_OIDC_ISSUERS": a.Issuer, "AUTH_JWT_PUBLIC_KEYS": string(pemKey), "AUTH_AUDIENCE": "app",
		"AUTH_JWKS_REFRESH_INTERVAL": "10m", "AUTH_JWKS_UNKNOWN_KID_INTERVAL": "5m"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := both.Verify(t.Context(), static); err != nil {
		t.Fatalf("static token: %v", err)
	}
	if _, err := both.Verify(t.Context(), a.Token(t, "u-1", "app", nil)); err != nil {
		t.Fatalf("OpenID Connect token: %v", err)
	}

	down := httptest.NewServer(http.NotFoundHandler())
	down.Close()
	for name, env := range map[string]map[string]string{
		"nothing to trust":          {"AUTH_AUDIENCE": "app"},
		"a bad refresh interval":    {"AUTH_OIDC_ISSUERS": a.Issuer, "AUTH_JWKS_REFRESH_INTERVAL": "hourly"},
		"a zero unknown-kid limit":  {"AUTH_OIDC_ISSUERS": a.Issuer, "AUTH_JWKS_UNKNOWN_KID_INTERVAL": "0s"},
		"an issuer over plain HTTP": {"AUTH_OIDC_ISSUERS": "http://idp.example"},
		"an issuer that is down":    {"AUTH_OIDC_ISSUERS": a.Issuer + "," + down.URL, "AUTH_OIDC_DISCOVERY_TIMEOUT": "1ms"},
	} {
		if _, err := verifier(env); err == nil {
			t.Errorf("%s: no error", name)
		} else if name == "nothing to trust" && !strings.Contains(err.Error(), "AUTH_OIDC_ISSUERS") {
			t.Errorf("%s: %v does not say what to set", name, err)
		}
	}
}
