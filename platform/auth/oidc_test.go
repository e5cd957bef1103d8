package auth

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	josejwt "github.com/go-jose/go-jose/v4/jwt"

	"github.com/tjsia/chapterhouse/platform/auth/oidckeys"
)

// testProvider is an OpenID Connect provider over real HTTP: a discovery
// document and a JWKS, its keys and tokens made with go-jose, a library
// other than the verifier's (golang-jwt, keyfunc), so the two meet only in
// the standards (issue 18: tokens from a provider built with a different
// library).
type testProvider struct {
	server *httptest.Server
	// issuer is the provider's iss: the server's URL and a path, as
	// providers with several realms or tenants have.
	issuer string

	mu   sync.Mutex
	keys map[string]providerKey // published in the JWKS, by kid

	jwksFetches atomic.Int64
}

type providerKey struct {
	alg  jose.SignatureAlgorithm
	priv crypto.Signer
}

func newTestProvider(t *testing.T) *testProvider {
	t.Helper()
	p := &testProvider{keys: map[string]providerKey{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /realm/.well-known/openid-configuration", func(w http.ResponseWriter, _ *http.Request) {
		_ = json.NewEncoder(w).Encode(map[string]any{
			"issuer":                                p.issuer,
			"authorization_endpoint":                p.issuer + "/authorize",
			"token_endpoint":                        p.issuer + "/token",
			"jwks_uri":                              p.issuer + "/jwks",
			"response_types_supported":              []string{"code"},
			"subject_types_supported":               []string{"public"},
			"id_token_signing_alg_values_supported": []string{"RS256", "ES256", "EdDSA"},
		})
	})
	mux.HandleFunc("GET /realm/jwks", func(w http.ResponseWriter, _ *http.Request) {
		p.jwksFetches.Add(1)
		p.mu.Lock()
		var set jose.JSONWebKeySet
		for kid, k := range p.keys {
			set.Keys = append(set.Keys, jose.JSONWebKey{Key: k.priv.Public(), KeyID: kid, Algorithm: string(k.alg), Use: "sig"})
		}
		p.mu.Unlock()
		_ = json.NewEncoder(w).Encode(set)
	})
	p.server = httptest.NewServer(mux)
	t.Cleanup(p.server.Close)
	p.issuer = p.server.URL + "/realm"
	return p
}

// newKey makes a key of alg, unpublished.
func newKey(t *testing.T, alg jose.SignatureAlgorithm) providerKey {
	t.Helper()
	var priv crypto.Signer
	var err error
	switch alg {
	case jose.RS256, jose.PS256:
		priv, err = rsa.GenerateKey(rand.Reader, 2048)
	case jose.ES256:
		priv, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case jose.EdDSA:
		_, priv, err = ed25519.GenerateKey(rand.Reader)
	default:
		t.Fatalf("no key for %s", alg)
	}
	if err != nil {
		t.Fatal(err)
	}
	return providerKey{alg: alg, priv: priv}
}

// publish puts a new key of alg in the JWKS as kid and returns it.
func (p *testProvider) publish(t *testing.T, kid string, alg jose.SignatureAlgorithm) providerKey {
	t.Helper()
	k := newKey(t, alg)
	p.mu.Lock()
	p.keys[kid] = k
	p.mu.Unlock()
	return k
}

// withdraw takes kid out of the JWKS.
func (p *testProvider) withdraw(kid string) {
	p.mu.Lock()
	delete(p.keys, kid)
	p.mu.Unlock()
}

// claims are a good token's claims for subject, from this provider.
func (p *testProvider) claims(subject string) map[string]any {
	now := time.Now()
	return map[string]any{
		"iss": p.issuer,
		"sub": subject,
		"aud": "chapterhouse-app",
		"iat": now.Unix(),
		"nbf": now.Add(-time.Minute).Unix(),
		"exp": now.Add(time.Hour).Unix(),
	}
}

// sign makes a token of claims signed by k, with kid in its header (none
// if kid is empty) and extra header parameters.
func sign(t *testing.T, k providerKey, kid string, claims map[string]any, extra map[jose.HeaderKey]any) string {
	t.Helper()
	opts := (&jose.SignerOptions{}).WithType("JWT")
	if kid != "" {
		opts = opts.WithHeader("kid", kid)
	}
	for h, v := range extra {
		opts = opts.WithHeader(h, v)
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: k.alg, Key: k.priv}, opts)
	if err != nil {
		t.Fatal(err)
	}
	token, err := josejwt.Signed(signer).Claims(claims).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	return token
}

// oidcVerifier trusts providers (audience chapterhouse-app), fetching
// again on an unknown kid at most once an hour: within a test, once.
func oidcVerifier(t *testing.T, providers ...*testProvider) *Verifier {
	t.Helper()
	var issuers []OIDCIssuer
	for _, p := range providers {
		i, err := oidckeys.DiscoverIssuer(t.Context(), p.issuer, oidckeys.Options{UnknownKIDInterval: time.Hour})
		if err != nil {
			t.Fatal(err)
		}
		issuers = append(issuers, i)
	}
	v, err := NewVerifier(nil, DefaultIssuer, "chapterhouse-app", WithOIDCIssuers(issuers...))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(v.Close)
	return v
}

func wantRefused(t *testing.T, v *Verifier, token, why string) {
	t.Helper()
	if p, err := v.Verify(t.Context(), token); !errors.Is(err, ErrUnauthenticated) {
		t.Fatalf("%s: got %+v, %v; want ErrUnauthenticated", why, p, err)
	}
}

// TestOIDCKeyRotation: keys are picked by kid; an unknown kid fetches the
// JWKS once and then verifies; a second unknown kid within the rate limit
// fetches nothing and is refused; a key the provider withdrew is refused
// once the keys are fetched again, remembered tokens included.
func TestOIDCKeyRotation(t *testing.T) {
	p := newTestProvider(t)
	k1 := p.publish(t, "k1", jose.RS256)
	v := oidcVerifier(t, p)
	if n := p.jwksFetches.Load(); n != 1 {
		t.Fatalf("%d JWKS fetches at start, want 1", n)
	}
	old := sign(t, k1, "k1", p.claims("user-1"), nil)
	if _, err := v.Verify(t.Context(), old); err != nil {
		t.Fatalf("a token signed with a published key: %v", err)
	}

	// Rotation: k2 published, k1 withdrawn.
	k2 := p.publish(t, "k2", jose.ES256)
	p.withdraw("k1")
	got, err := v.Verify(t.Context(), sign(t, k2, "k2", p.claims("user-2"), nil))
	if err != nil {
		t.Fatalf("a token signed with the new key: %v", err)
	}
	if got.Identity != (Identity{Issuer: p.issuer, Subject: "user-2"}) {
		t.Fatalf("identity = %+v", got.Identity)
	}
	if n := p.jwksFetches.Load(); n != 2 {
		t.Fatalf("%d JWKS fetches after one unknown kid, want 2 (one refresh)", n)
	}

	// The withdrawn key: a token verified before and remembered, and a
	// new one, are both refused now.
	wantRefused(t, v, old, "a remembered token of a withdrawn key")
	wantRefused(t, v, sign(t, k1, "k1", p.claims("user-1"), nil), "a new token of a withdrawn key")

	// Another unknown kid within the rate limit: no fetch, refused, even
	// though the provider has published it by now.
	k3 := p.publish(t, "k3", jose.EdDSA)
	before := p.jwksFetches.Load()
	wantRefused(t, v, sign(t, k3, "k3", p.claims("user-3"), nil), "a second unknown kid within the rate limit")
	if n := p.jwksFetches.Load(); n != before {
		t.Fatalf("%d JWKS fetches, want %d: the rate limit allows no other refresh", n, before)
	}
}

// TestOIDCVerifyRefuses: each token from or posing as an OpenID Connect
// issuer that the verifier must refuse.
func TestOIDCVerifyRefuses(t *testing.T) {
	a := newTestProvider(t)
	b := newTestProvider(t)
	stranger := newTestProvider(t)
	ka := a.publish(t, "a1", jose.RS256)
	kb := b.publish(t, "b1", jose.ES256)
	ks := stranger.publish(t, "s1", jose.RS256)
	v := oidcVerifier(t, a, b)

	with := func(p *testProvider, change func(map[string]any)) map[string]any {
		c := p.claims("user-1")
		change(c)
		return c
	}
	now := time.Now()
	rsaPub := ka.priv.Public()
	der, err := x509.MarshalPKIXPublicKey(rsaPub)
	if err != nil {
		t.Fatal(err)
	}
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	hs := providerKey{alg: jose.HS256}
	hsSigner, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.HS256, Key: pubPEM}, (&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", "a1"))
	if err != nil {
		t.Fatal(err)
	}
	hsToken, err := josejwt.Signed(hsSigner).Claims(a.claims("user-1")).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	_ = hs
	body, _ := json.Marshal(a.claims("user-1"))
	b64 := base64.RawURLEncoding.EncodeToString
	none := b64([]byte(`{"alg":"none","kid":"a1","typ":"JWT"}`)) + "." + b64(body) + "."

	tests := []struct {
		name  string
		token string
	}{
		{"an issuer not configured", sign(t, ks, "s1", stranger.claims("user-1"), nil)},
		{"an issuer not configured, signed with a trusted issuer's key", sign(t, ka, "a1", stranger.claims("user-1"), nil)},
		{"the issuer spelt otherwise (trailing slash)", sign(t, ka, "a1", with(a, func(c map[string]any) { c["iss"] = a.issuer + "/" }), nil)},
		{"issuer A's iss, signed with a key only in issuer B's JWKS", sign(t, kb, "b1", a.claims("user-1"), nil)},
		{"issuer A's iss, B's key, no kid", sign(t, kb, "", a.claims("user-1"), nil)},
		{"wrong audience", sign(t, ka, "a1", with(a, func(c map[string]any) { c["aud"] = "another-app" }), nil)},
		{"no audience", sign(t, ka, "a1", with(a, func(c map[string]any) { delete(c, "aud") }), nil)},
		{"expired", sign(t, ka, "a1", with(a, func(c map[string]any) { c["exp"] = now.Add(-time.Hour).Unix() }), nil)},
		{"no exp", sign(t, ka, "a1", with(a, func(c map[string]any) { delete(c, "exp") }), nil)},
		{"nbf in the future", sign(t, ka, "a1", with(a, func(c map[string]any) { c["nbf"] = now.Add(10 * time.Minute).Unix() }), nil)},
		{"iat in the future", sign(t, ka, "a1", with(a, func(c map[string]any) { c["iat"] = now.Add(10 * time.Minute).Unix() }), nil)},
		{"lifetime beyond the maximum", sign(t, ka, "a1", with(a, func(c map[string]any) { c["exp"] = now.Add(48 * time.Hour).Unix() }), nil)},
		{"HS256 with the issuer's public key as the secret", hsToken},
		{"alg none", none},
		{"a critical header", sign(t, ka, "a1", a.claims("user-1"), map[jose.HeaderKey]any{"crit": []string{"exp"}, "exp": 1})},
		{"exp given as a string", sign(t, ka, "a1", with(a, func(c map[string]any) { c["exp"] = "4102444800" }), nil)},
		{"a claim name in another case", sign(t, ka, "a1", with(a, func(c map[string]any) { c["Sub"] = "user-2" }), nil)},
		{"an empty subject", sign(t, ka, "a1", with(a, func(c map[string]any) { c["sub"] = "" }), nil)},
		{"a subject of 256 bytes", sign(t, ka, "a1", with(a, func(c map[string]any) { c["sub"] = strings.Repeat("x", 256) }), nil)},
		{"a subject with a control character", sign(t, ka, "a1", with(a, func(c map[string]any) { c["sub"] = "user\n1" }), nil)},
		{"an ID token (nonce) offered as an access token", sign(t, ka, "a1", with(a, func(c map[string]any) { c["nonce"] = "n-0S6_WzA2Mj" }), nil)},
		{"an ID token (at_hash) offered as an access token", sign(t, ka, "a1", with(a, func(c map[string]any) { c["at_hash"] = "77QmUPtjPfzWtF2AnpK9RQ" }), nil)},
		{"an ID token (c_hash) offered as an access token", sign(t, ka, "a1", with(a, func(c map[string]any) { c["c_hash"] = "LDktKdoQak3Pk0cnXxCltA" }), nil)},
		{"the static issuer's name, signed with an OpenID Connect key", sign(t, ka, "a1", with(a, func(c map[string]any) { c["iss"] = DefaultIssuer; c["sub"] = "people/alice" }), nil)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { wantRefused(t, v, tt.token, tt.name) })
	}
	// The control: the same provider's good token passes.
	if _, err := v.Verify(t.Context(), sign(t, ka, "a1", a.claims(strings.Repeat("x", 255)), nil)); err != nil {
		t.Fatalf("a good token: %v", err)
	}
}

// TestOIDCRolesGrantNothing: an OpenID Connect identity is not a person
// (Subject empty until an account link says which), and a roles claim in
// its token grants no role: roles are bound in Chapterhouse (issue 18).
func TestOIDCRolesGrantNothing(t *testing.T) {
	p := newTestProvider(t)
	k := p.publish(t, "k1", jose.EdDSA)
	v := oidcVerifier(t, p)
	c := p.claims("people/alice")
	c["roles"] = []string{RoleAdmin, RoleGeneralSecretary}
	got, err := v.Verify(t.Context(), sign(t, k, "k1", c, nil))
	if err != nil {
		t.Fatal(err)
	}
	if got.Subject != "" || got.PersonID() != "" || len(got.Roles) != 0 || got.IsAdmin() {
		t.Fatalf("principal = %+v: an OpenID Connect identity acts as no person and holds no role", got)
	}
	if got.Identity != (Identity{Issuer: p.issuer, Subject: "people/alice"}) {
		t.Fatalf("identity = %+v", got.Identity)
	}
}

// TestOIDCEmailClaims: an OpenID Connect token's email and email_verified
// claims reach the principal as OpenID Connect spells them (a string, a
// boolean); a claim of another type is ignored, the token still good, and
// only a JSON true verifies.
func TestOIDCEmailClaims(t *testing.T) {
	p := newTestProvider(t)
	k := p.publish(t, "k1", jose.ES256)
	v := oidcVerifier(t, p)
	tests := []struct {
		name     string
		claims   map[string]any
		email    string
		verified bool
	}{
		{"none", nil, "", false},
		{"verified", map[string]any{"email": "Wang.Wei@example.com", "email_verified": true}, "Wang.Wei@example.com", true},
		{"unverified", map[string]any{"email": "wang.wei@example.com", "email_verified": false}, "wang.wei@example.com", false},
		{"no email_verified", map[string]any{"email": "wang.wei@example.com"}, "wang.wei@example.com", false},
		{"email_verified a string", map[string]any{"email": "wang.wei@example.com", "email_verified": "true"}, "wang.wei@example.com", false},
		{"email_verified a number", map[string]any{"email": "wang.wei@example.com", "email_verified": 1}, "wang.wei@example.com", false},
		{"email_verified null", map[string]any{"email": "wang.wei@example.com", "email_verified": nil}, "wang.wei@example.com", false},
		{"verified, no email", map[string]any{"email_verified": true}, "", false},
		{"email not a string", map[string]any{"email": []string{"a@example.com"}, "email_verified": true}, "", false},
		{"email null", map[string]any{"email": nil, "email_verified": true}, "", false},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := p.claims(fmt.Sprintf("user-%d", i))
			for name, value := range tt.claims {
				c[name] = value
			}
			got, err := v.Verify(t.Context(), sign(t, k, "k1", c, nil))
			if err != nil {
				t.Fatal(err)
			}
			if got.Email != tt.email || got.EmailVerified != tt.verified {
				t.Fatalf("email %q verified %v; want %q %v", got.Email, got.EmailVerified, tt.email, tt.verified)
			}
		})
	}
}

// TestStaticAndOIDCTogether: the static-key issuer and an OpenID Connect
// issuer trusted side by side, each only with its own keys.
func TestStaticAndOIDCTogether(t *testing.T) {
	p := newTestProvider(t)
	k := p.publish(t, "k1", jose.RS256)
	i, err := oidckeys.DiscoverIssuer(t.Context(), p.issuer, oidckeys.Options{UnknownKIDInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	signer := newSigner(t)
	v, err := NewVerifier([]crypto.PublicKey{signer.PublicKey()}, DefaultIssuer, DefaultAudience, WithOIDCIssuers(i))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(v.Close)

	static, _ := signer.Sign("people/alice", []string{RoleAdmin}, time.Hour)
	got, err := v.Verify(t.Context(), static)
	if err != nil || got.Subject != "people/alice" || got.IsAdmin() || got.Identity != (Identity{Issuer: DefaultIssuer, Subject: "people/alice"}) {
		t.Fatalf("static token: %+v, %v", got, err)
	}
	c := p.claims("user-1")
	c["aud"] = DefaultAudience
	if got, err := v.Verify(t.Context(), sign(t, k, "k1", c, nil)); err != nil || got.Subject != "" || got.Identity.Issuer != p.issuer {
		t.Fatalf("OpenID Connect token: %+v, %v", got, err)
	}
	// The static key signing a token that names the provider as issuer.
	forged := NewSigner(signer.key, p.issuer, DefaultAudience)
	token, _ := forged.Sign("people/alice", nil, time.Hour)
	wantRefused(t, v, token, "the static key signing as the OpenID Connect issuer")
}

// TestDiscoverIssuerRefuses: an issuer whose discovery document names
// another issuer, one that does not answer, and one over plain HTTP
// elsewhere than on this machine.
func TestDiscoverIssuerRefuses(t *testing.T) {
	p := newTestProvider(t)
	p.publish(t, "k1", jose.RS256)
	real := p.issuer
	p.issuer = "https://elsewhere.example/realm"
	if _, err := oidckeys.DiscoverIssuer(t.Context(), real, oidckeys.Options{}); err == nil {
		t.Fatal("a discovery document naming another issuer was accepted")
	}
	p.issuer = real
	if _, err := oidckeys.DiscoverIssuer(t.Context(), real+"/missing", oidckeys.Options{}); err == nil {
		t.Fatal("an issuer without a discovery document was accepted")
	}
	for _, u := range []string{"http://idp.example/realm", "ftp://127.0.0.1/realm", "/realm"} {
		if _, err := oidckeys.DiscoverIssuer(t.Context(), u, oidckeys.Options{}); err == nil {
			t.Fatalf("%s accepted", u)
		}
	}
	if _, err := NewVerifier(nil, DefaultIssuer, DefaultAudience); err == nil {
		t.Fatal("a verifier trusting no issuer was made")
	}
}
