// Package idp is the embedded default's OpenID Provider: a real one, built
// on zitadel/oidc's certified op package, serving discovery, JWKS,
// authorize, token, userinfo, revocation and end_session, with a
// development login page (login.go) where a person is picked from the
// seeded users instead of typing a password. It keeps everything in memory.
//
// Its access tokens are JWTs the services verify offline against its JWKS:
// iss is the issuer, aud names Chapterhouse (Config.Audience), sub is the
// provider's own stable subject for the user (not a person: Chapterhouse
// links identities to people), and no claim grants a role.
package idp

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
	"golang.org/x/text/language"

	"github.com/tjsia/chapterhouse/platform/auth"
)

// Paths the provider serves beside op's endpoints.
const (
	// LoginPath is the development login page.
	LoginPath = "/login"
	// SignedOutPath is where end_session lands when the client names no
	// post_logout_redirect_uri.
	SignedOutPath = "/signed-out"
)

// User is a person who can sign in.
type User struct {
	// Subject is the provider's stable id for the user (the tokens' sub).
	Subject string
	// Name is shown on the login page and given in the profile scope.
	Name          string
	Email         string
	EmailVerified bool
}

// Client is a registered public client (a mobile or web app): no secret,
// PKCE with S256 required, the authorization code and refresh token
// grants. A loopback redirect URI (http://127.0.0.1/callback) matches
// any port, as RFC 8252 §7.3 asks for native apps.
type Client struct {
	ID                     string
	RedirectURIs           []string
	PostLogoutRedirectURIs []string
}

// Config configures a provider.
type Config struct {
	// Issuer is the provider's URL with no path, e.g.
	// http://127.0.0.1:8081; plain http is allowed for loopback hosts only.
	Issuer string
	// Audience is the access tokens' aud besides the client id; default
	// auth.DefaultAudience, the one the services check.
	Audience string
	Users    []User
	Clients  []Client
	// SigningKey signs the tokens: an *ecdsa.PrivateKey (P-256, ES256) or
	// an *rsa.PrivateKey (RS256); nil generates a P-256 key. Its kid is its
	// RFC 7638 thumbprint.
	SigningKey crypto.Signer
	// AccessTokenLifetime bounds how long an access token (and so a
	// revoked grant) keeps working at the services; default 15 minutes.
	AccessTokenLifetime time.Duration
	// RefreshTokenLifetime; default 24 hours.
	RefreshTokenLifetime time.Duration
	// IDTokenLifetime; default 1 hour.
	IDTokenLifetime time.Duration
	// Now is the clock; default time.Now.
	Now func() time.Time

	loginURL func(authRequestID string) string
}

// Provider is a running OpenID Provider: an http.Handler serving the
// issuer's URL space.
type Provider struct {
	http.Handler
	issuer string
}

// Issuer is the provider's issuer URL.
func (p *Provider) Issuer() string { return p.issuer }

// LoginURL is the development login page's URL (it needs an
// authorization request to pick a person for).
func (p *Provider) LoginURL() string { return p.issuer + LoginPath }

// New builds a provider from cfg.
func New(ctx context.Context, cfg Config) (*Provider, error) {
	_ = ctx // nothing to start: the provider lives as long as its handler
	u, err := url.Parse(cfg.Issuer)
	if err != nil || u.Host == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("idp: issuer %q must be a scheme and host with no path", cfg.Issuer)
	}
	var opts []op.Option
	switch u.Scheme {
	case "https":
	case "http":
		if !loopback(u.Hostname()) {
			return nil, fmt.Errorf("idp: issuer %q: plain http only on a loopback host", cfg.Issuer)
		}
		opts = append(opts, op.WithAllowInsecure())
	default:
		return nil, fmt.Errorf("idp: issuer %q: scheme must be http or https", cfg.Issuer)
	}
	cfg.Issuer = u.Scheme + "://" + u.Host
	if cfg.Audience == "" {
		cfg.Audience = auth.DefaultAudience
	}
	if cfg.AccessTokenLifetime <= 0 {
		cfg.AccessTokenLifetime = 15 * time.Minute
	}
	if cfg.RefreshTokenLifetime <= 0 {
		cfg.RefreshTokenLifetime = 24 * time.Hour
	}
	if cfg.IDTokenLifetime <= 0 {
		cfg.IDTokenLifetime = time.Hour
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if len(cfg.Users) == 0 || len(cfg.Clients) == 0 {
		return nil, errors.New("idp: at least one user and one client")
	}
	seen := map[string]bool{}
	for _, usr := range cfg.Users {
		if usr.Subject == "" || seen[usr.Subject] {
			return nil, fmt.Errorf("idp: user subject %q empty or repeated", usr.Subject)
		}
		seen[usr.Subject] = true
	}
	for _, c := range cfg.Clients {
		if c.ID == "" || len(c.RedirectURIs) == 0 {
			return nil, fmt.Errorf("idp: client %q needs an id and a redirect URI", c.ID)
		}
	}
	key, err := newSigningKey(cfg.SigningKey)
	if err != nil {
		return nil, err
	}
	cfg.loginURL = func(id string) string { return LoginPath + "?" + url.Values{"authRequestID": {id}}.Encode() }
	store := newStorage(cfg, key)

	var cryptoKey [32]byte // encrypts opaque tokens; this provider issues JWTs, but op wants one
	if _, err := rand.Read(cryptoKey[:]); err != nil {
		return nil, fmt.Errorf("idp: %w", err)
	}
	provider, err := op.NewProvider(&op.Config{
		CryptoKey:                cryptoKey,
		DefaultLogoutRedirectURI: SignedOutPath,
		CodeMethodS256:           true,
		GrantTypeRefreshToken:    true,
		SupportedUILocales:       []language.Tag{language.SimplifiedChinese, language.English},
		SupportedScopes:          []string{oidc.ScopeOpenID, oidc.ScopeProfile, oidc.ScopeEmail, oidc.ScopeOfflineAccess},
	}, store, op.StaticIssuer(cfg.Issuer), opts...)
	if err != nil {
		return nil, fmt.Errorf("idp: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle(LoginPath, newLogin(store, cfg.Issuer, op.AuthCallbackURL(provider)))
	mux.Handle(SignedOutPath, signedOut())
	mux.Handle("/", provider)
	return &Provider{Handler: mux, issuer: cfg.Issuer}, nil
}

func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// signingKey is the provider's one key, as op wants it for signing
// (op.SigningKey) and publishing (op.Key).
type signingKey struct {
	id  string
	alg jose.SignatureAlgorithm
	key crypto.Signer
}

func newSigningKey(k crypto.Signer) (*signingKey, error) {
	if k == nil {
		var err error
		if k, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader); err != nil {
			return nil, fmt.Errorf("idp: generate key: %w", err)
		}
	}
	var alg jose.SignatureAlgorithm
	switch k := k.(type) {
	case *ecdsa.PrivateKey:
		if k.Curve != elliptic.P256() {
			return nil, errors.New("idp: ECDSA keys must be P-256")
		}
		alg = jose.ES256
	case *rsa.PrivateKey:
		alg = jose.RS256
	default:
		return nil, fmt.Errorf("idp: unsupported key type %T", k)
	}
	thumb, err := (&jose.JSONWebKey{Key: k.Public()}).Thumbprint(crypto.SHA256)
	if err != nil {
		return nil, fmt.Errorf("idp: key thumbprint: %w", err)
	}
	return &signingKey{id: base64.RawURLEncoding.EncodeToString(thumb), alg: alg, key: k}, nil
}

func (k *signingKey) SignatureAlgorithm() jose.SignatureAlgorithm { return k.alg }
func (k *signingKey) Key() any                                    { return k.key }
func (k *signingKey) ID() string                                  { return k.id }

func (k *signingKey) public() op.Key { return publicKey{k} }

// publicKey is the key as the JWKS shows it.
type publicKey struct{ k *signingKey }

func (p publicKey) ID() string                         { return p.k.id }
func (p publicKey) Algorithm() jose.SignatureAlgorithm { return p.k.alg }
func (p publicKey) Use() string                        { return "sig" }
func (p publicKey) Key() any                           { return p.k.key.Public() }

// client is a Client as op sees it.
type client struct {
	Client
	loginURL        func(string) string
	idTokenLifetime time.Duration
}

var _ op.Client = (*client)(nil)

func (c *client) GetID() string                       { return c.ID }
func (c *client) RedirectURIs() []string              { return c.Client.RedirectURIs }
func (c *client) PostLogoutRedirectURIs() []string    { return c.Client.PostLogoutRedirectURIs }
func (c *client) ApplicationType() op.ApplicationType { return op.ApplicationTypeNative }
func (c *client) AuthMethod() oidc.AuthMethod         { return oidc.AuthMethodNone }
func (c *client) ResponseTypes() []oidc.ResponseType {
	return []oidc.ResponseType{oidc.ResponseTypeCode}
}
func (c *client) GrantTypes() []oidc.GrantType {
	return []oidc.GrantType{oidc.GrantTypeCode, oidc.GrantTypeRefreshToken}
}
func (c *client) LoginURL(id string) string           { return c.loginURL(id) }
func (c *client) AccessTokenType() op.AccessTokenType { return op.AccessTokenTypeJWT }
func (c *client) IDTokenLifetime() time.Duration      { return c.idTokenLifetime }
func (c *client) DevMode() bool                       { return false }
func (c *client) RestrictAdditionalIdTokenScopes() func([]string) []string {
	return func(s []string) []string { return s }
}
func (c *client) RestrictAdditionalAccessTokenScopes() func([]string) []string {
	return func(s []string) []string { return s }
}
func (c *client) IsScopeAllowed(string) bool { return false }

// IDTokenUserinfoClaimsAssertion puts the profile and email claims the
// scopes ask for in the ID token too, so an app can greet the person
// without a userinfo call.
func (c *client) IDTokenUserinfoClaimsAssertion() bool { return true }
func (c *client) ClockSkew() time.Duration             { return 0 }
