// Package auth verifies the bearer JWTs every Chapterhouse call carries and
// keeps the resulting principal in the request context. It trusts two kinds
// of issuer (one Verifier may trust both):
//
//   - OpenID Connect providers, named by their issuer URL (their keys kept
//     by package oidckeys, which does the I/O this package must not: the
//     domain packages import auth): their
//     keys come from the provider's discovery document and JWKS, and their
//     subjects are the provider's own, an Identity not yet linked to a
//     person;
//   - one static-key issuer (AUTH_ISSUER with AUTH_JWT_PUBLIC_KEYS), kept
//     for tests and for an operator who mints tokens with a key of their
//     own: its subjects are people ("people/<id>").
//
// No token's roles claims grant anything: the roles a person holds are
// role bindings granted in Chapterhouse, which membership keeps and the
// services resolve through Accounts.
//
// Dynamic roles (chair, representative, ...) are data and are checked by
// the services themselves.
package auth

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/golang-jwt/jwt/v5"
	lru "github.com/hashicorp/golang-lru/v2"

	"github.com/tjsia/chapterhouse/platform/resourcename"
)

// Static roles carried as claims.
const (
	RoleAdmin            = "admin"
	RoleGeneralSecretary = "general_secretary"
	RoleGeneralCouncil   = "general_council"
)

// Default issuer and audience of Chapterhouse tokens.
const (
	DefaultIssuer   = "chapterhouse"
	DefaultAudience = "chapterhouse"
)

// ErrUnauthenticated is returned for a missing, malformed, expired or
// badly signed token.
var ErrUnauthenticated = errors.New("unauthenticated")

// Identity is who signed in, as the token's issuer vouches for it: the
// issuer (iss) and its subject (sub). An identity is not yet a person:
// Chapterhouse links it to one (membership's account links).
type Identity struct {
	Issuer  string
	Subject string
}

// Principal is the verified caller.
type Principal struct {
	// Identity is the verified token's issuer and subject.
	Identity Identity
	// Subject is the person the caller acts as, "people/<id>".
	Subject string
	Roles   []string
	// Token is the raw bearer token, so a service can forward it when it
	// calls another service on the caller's behalf.
	Token string
	// Service is the Chapterhouse service making this call on the
	// caller's behalf, when it proved so with its service credential
	// (platform/servicecall); empty for a call from anywhere else. It
	// grants no method: only the private fields whose readers name the
	// service (chapterhouse.api.v1.readers) depend on it.
	Service string
	// Email and EmailVerified are the token's email and email_verified
	// claims (OpenID Connect Core §5.1), read only from an OpenID Connect
	// issuer's tokens: a static-key token never carries them. Email is
	// the claim as given (a JSON string, else ""); EmailVerified is true
	// only for the JSON boolean true. Membership may link an identity to
	// the person of a verified e-mail (AUTH_LINK_VERIFIED_EMAIL); they
	// are not part of Identity, which is the key of an account link.
	Email         string
	EmailVerified bool
}

// PersonID is the id part of Subject ("people/alice" → "alice"), or "".
func (p Principal) PersonID() string {
	id, ok := strings.CutPrefix(p.Subject, "people/")
	if !ok {
		return ""
	}
	return id
}

// HasRole reports whether the principal carries any of roles.
func (p Principal) HasRole(roles ...string) bool {
	for _, r := range roles {
		if slices.Contains(p.Roles, r) {
			return true
		}
	}
	return false
}

// IsAdmin is shorthand for HasRole(RoleAdmin).
func (p Principal) IsAdmin() bool { return p.HasRole(RoleAdmin) }

type principalKey struct{}

// WithPrincipal returns ctx carrying p.
func WithPrincipal(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// FromContext returns the principal of an authenticated call.
func FromContext(ctx context.Context) (Principal, bool) {
	p, ok := ctx.Value(principalKey{}).(Principal)
	return p, ok
}

type identityKey struct{}

// WithIdentity returns ctx carrying id: who signed in, whether or not that
// identity is linked to a person. A caller whose identity is not linked
// has no Principal (it is served as an anonymous caller is), but the
// methods that link it (claiming an invitation) read it here.
func WithIdentity(ctx context.Context, id Identity) context.Context {
	return context.WithValue(ctx, identityKey{}, id)
}

// IdentityFromContext returns the verified identity of the call, if its
// token verified.
func IdentityFromContext(ctx context.Context) (Identity, bool) {
	id, ok := ctx.Value(identityKey{}).(Identity)
	return id, ok
}

// Claims is the token body. Roles is read only to keep its spelling
// strict; it grants nothing.
type Claims struct {
	Roles []string `json:"roles,omitempty"`
	jwt.RegisteredClaims
}

// Verifier checks tokens from the issuers it trusts: the static-key issuer
// (keys, issuer), when it has keys, and each OpenID Connect issuer (oidc).
type Verifier struct {
	keys   []crypto.PublicKey
	issuer string
	// oidc are the OpenID Connect issuers, by issuer URL: a token is
	// checked only with the keys of the issuer its iss names.
	oidc     map[string]OIDCIssuer
	audience string
	leeway   time.Duration
	// maxLifetime bounds exp - iat (exp - now without iat).
	maxLifetime time.Duration
	// verified remembers tokens that passed, until they expire: a client
	// sends the same token with every call, and checking its signature
	// again each time was a fifth of a service's CPU under load.
	verified *lru.Cache[[sha256.Size]byte, verifiedToken]
	now      func() time.Time
}

// verifiedToken is a token that passed, and when it stops being good.
type verifiedToken struct {
	principal Principal
	expires   time.Time
	// issuer and kid, for a token of an OpenID Connect issuer that named
	// its key: the token is good only while the issuer's keys hold kid,
	// so a key the provider withdrew stops its remembered tokens too.
	issuer OIDCIssuer
	kid    string
}

// verifiedCacheSize bounds the remembered tokens: enough for every active
// session of a branch many times over, at a few hundred bytes each.
const verifiedCacheSize = 10000

// DefaultMaxLifetime is the longest a token may be valid for, unless the
// verifier is given another (WithMaxLifetime).
const DefaultMaxLifetime = 24 * time.Hour

// VerifierOption changes a Verifier's defaults.
type VerifierOption func(*Verifier)

// WithMaxLifetime sets the longest lifetime a token may claim: exp - iat,
// or exp - now for a token without iat.
func WithMaxLifetime(d time.Duration) VerifierOption {
	return func(v *Verifier) { v.maxLifetime = d }
}

// WithOIDCIssuers trusts the OpenID Connect issuers (oidckeys.DiscoverIssuer)
// too.
// The verifier owns them from then on: Close closes them.
func WithOIDCIssuers(issuers ...OIDCIssuer) VerifierOption {
	return func(v *Verifier) {
		for _, i := range issuers {
			v.oidc[i.URL()] = i
		}
	}
}

// NewVerifier builds a verifier for tokens of the static-key issuer, signed
// by any of keys (Ed25519, ECDSA or RSA public keys), and of the OpenID
// Connect issuers given WithOIDCIssuers. Without keys the static issuer is
// not trusted at all; a verifier must trust some issuer.
func NewVerifier(keys []crypto.PublicKey, issuer, audience string, opts ...VerifierOption) (*Verifier, error) {
	cache, err := lru.New[[sha256.Size]byte, verifiedToken](verifiedCacheSize)
	if err != nil {
		return nil, fmt.Errorf("auth: %w", err)
	}
	v := &Verifier{keys: keys, issuer: issuer, oidc: map[string]OIDCIssuer{}, audience: audience, leeway: 30 * time.Second, maxLifetime: DefaultMaxLifetime, verified: cache, now: time.Now}
	for _, opt := range opts {
		opt(v)
	}
	if len(keys) == 0 && len(v.oidc) == 0 {
		v.Close()
		return nil, errors.New("auth: no issuer to trust: no static verification keys and no OpenID Connect issuer")
	}
	if v.maxLifetime <= 0 {
		v.Close()
		return nil, fmt.Errorf("auth: maximum token lifetime %v is not positive", v.maxLifetime)
	}
	if _, clash := v.oidc[issuer]; clash && len(keys) > 0 {
		v.Close()
		return nil, fmt.Errorf("auth: the static issuer %q is also an OpenID Connect issuer: name it otherwise", issuer)
	}
	if audience == "" {
		v.Close()
		return nil, errors.New("auth: no audience")
	}
	return v, nil
}

// OIDCIssuer is a trusted OpenID Connect issuer's keys, as package
// oidckeys keeps them (oidckeys.DiscoverIssuer): its URL (the exact iss
// of its tokens), the keys of its JWKS by kid, whether a kid is still
// among them, and a Close that stops refreshing them.
type OIDCIssuer interface {
	URL() string
	Keyfunc(ctx context.Context) jwt.Keyfunc
	Holds(ctx context.Context, kid string) bool
	Close()
}

// Close stops refreshing the OpenID Connect issuers' keys.
func (v *Verifier) Close() {
	for _, i := range v.oidc {
		i.Close()
	}
}

// ParsePublicKeysPEM reads every PUBLIC KEY block in data.
func ParsePublicKeysPEM(data []byte) ([]crypto.PublicKey, error) {
	var keys []crypto.PublicKey
	for {
		var block *pem.Block
		block, data = pem.Decode(data)
		if block == nil {
			break
		}
		if block.Type != "PUBLIC KEY" {
			continue
		}
		key, err := x509.ParsePKIXPublicKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("auth: parse public key: %w", err)
		}
		keys = append(keys, key)
	}
	if len(keys) == 0 {
		return nil, errors.New("auth: no PUBLIC KEY block found")
	}
	return keys, nil
}

// Verify checks raw and returns its principal. A token that passed is
// remembered, keyed by its SHA-256 (the whole token, signature included,
// so no other token can match it), until its own expiry; one that failed
// is never remembered. ctx bounds the one fetch a token may cause: a kid
// its OpenID Connect issuer's keys do not hold refreshes them (rate-limited,
// see oidckeys.Options.UnknownKIDInterval).
//
// A token of an OpenID Connect issuer gives a Principal whose Subject is
// empty: the identity (Identity) is not linked to a person here, and its
// roles claims, if any, grant nothing.
func (v *Verifier) Verify(ctx context.Context, raw string) (Principal, error) {
	key := sha256.Sum256([]byte(raw))
	if t, ok := v.verified.Get(key); ok {
		if v.now().Before(t.expires) && (t.issuer == nil || t.issuer.Holds(ctx, t.kid)) {
			return t.principal, nil
		}
		v.verified.Remove(key)
	}
	t, err := v.verify(ctx, raw)
	if err != nil {
		return Principal{}, err
	}
	v.verified.Add(key, t)
	return t.principal, nil
}

// allowedAlgs are the signature algorithms a token may use: asymmetric
// only, so no key that verifies can sign (never HS*, never none).
var allowedAlgs = []string{"EdDSA", "ES256", "ES384", "RS256", "PS256"}

// verify checks raw's signature and claims, every time.
func (v *Verifier) verify(ctx context.Context, raw string) (verifiedToken, error) {
	// The issuer a token names decides which keys may have signed it, so
	// it is read first, unverified; the parse below holds iss to it.
	unverified := &Claims{}
	if _, _, err := jwt.NewParser().ParseUnverified(raw, unverified); err != nil {
		return verifiedToken{}, fmt.Errorf("%w: %w", ErrUnauthenticated, err)
	}
	iss := unverified.Issuer
	if i, ok := v.oidc[iss]; ok {
		return v.verifyOIDC(ctx, i, raw)
	}
	if iss != v.issuer || len(v.keys) == 0 {
		return verifiedToken{}, fmt.Errorf("%w: issuer %q is not trusted", ErrUnauthenticated, iss)
	}
	return v.verifyStatic(raw)
}

// parser checks what every issuer's tokens must hold: the issuer iss, the
// audience, exp, nbf and iat, and an allowed algorithm.
func (v *Verifier) parser(iss string) *jwt.Parser {
	return jwt.NewParser(
		jwt.WithIssuer(iss),
		jwt.WithAudience(v.audience),
		jwt.WithExpirationRequired(),
		// iat no later than now + leeway: a token from a clock far ahead
		// would otherwise live longer than its issuer meant.
		jwt.WithIssuedAt(),
		jwt.WithLeeway(v.leeway),
		jwt.WithTimeFunc(v.now),
		jwt.WithValidMethods(allowedAlgs),
	)
}

// noCrit refuses a token with critical header parameters: RFC 7515
// §4.1.11, a critical extension the recipient does not understand makes
// the token invalid, and we understand none.
func noCrit(t *jwt.Token) error {
	if _, ok := t.Header["crit"]; ok {
		return errors.New("critical header parameters (crit) are not supported")
	}
	return nil
}

// verifyStatic checks a token of the static-key issuer: signed by one of
// its keys, for a person.
func (v *Verifier) verifyStatic(raw string) (verifiedToken, error) {
	parser := v.parser(v.issuer)
	var lastErr error
	for _, key := range v.keys {
		claims := &Claims{}
		_, err := parser.ParseWithClaims(raw, claims, func(t *jwt.Token) (any, error) {
			if err := noCrit(t); err != nil {
				return nil, err
			}
			if !methodMatchesKey(t.Method, key) {
				return nil, fmt.Errorf("signing method %s does not match key", t.Method.Alg())
			}
			return key, nil
		})
		if err == nil {
			if _, err := v.checkClaims(parser, raw, claims, personSubject); err != nil {
				return verifiedToken{}, fmt.Errorf("%w: %w", ErrUnauthenticated, err)
			}
			// WithExpirationRequired: ExpiresAt is set.
			return verifiedToken{
				// The subject names the person; the roles claim grants
				// nothing (the person's role bindings do, see Accounts).
				principal: Principal{Identity: Identity{Issuer: claims.Issuer, Subject: claims.Subject}, Subject: claims.Subject, Token: raw},
				expires:   claims.ExpiresAt.Time,
			}, nil
		}
		lastErr = err
	}
	return verifiedToken{}, fmt.Errorf("%w: %w", ErrUnauthenticated, lastErr)
}

// verifyOIDC checks a token of the OpenID Connect issuer i: signed by a key
// of i's JWKS (never another issuer's), its subject the provider's own.
// The principal it gives is an identity only: no person, no roles.
func (v *Verifier) verifyOIDC(ctx context.Context, i OIDCIssuer, raw string) (verifiedToken, error) {
	parser := v.parser(i.URL())
	claims := &Claims{}
	keys := fitKeys(i.Keyfunc(ctx))
	var kid string
	if _, err := parser.ParseWithClaims(raw, claims, func(t *jwt.Token) (any, error) {
		kid, _ = t.Header["kid"].(string)
		if err := noCrit(t); err != nil {
			return nil, err
		}
		return keys(t)
	}); err != nil {
		return verifiedToken{}, fmt.Errorf("%w: %w", ErrUnauthenticated, err)
	}
	body, err := v.checkClaims(parser, raw, claims, providerSubject)
	if err != nil {
		return verifiedToken{}, fmt.Errorf("%w: %w", ErrUnauthenticated, err)
	}
	email, verified := emailClaims(body)
	return verifiedToken{
		principal: Principal{Identity: Identity{Issuer: claims.Issuer, Subject: claims.Subject}, Token: raw, Email: email, EmailVerified: verified},
		expires:   claims.ExpiresAt.Time,
		issuer:    i,
		kid:       kid,
	}, nil
}

// fitKeys narrows the keys keys picks for a token to those whose type fits
// the token's algorithm.
func fitKeys(keys jwt.Keyfunc) jwt.Keyfunc {
	return func(t *jwt.Token) (any, error) {
		key, err := keys(t)
		if err != nil {
			return nil, err
		}
		switch k := key.(type) {
		case jwt.VerificationKeySet:
			var fit jwt.VerificationKeySet
			for _, one := range k.Keys {
				if methodMatchesKey(t.Method, one) {
					fit.Keys = append(fit.Keys, one)
				}
			}
			if len(fit.Keys) == 0 {
				return nil, fmt.Errorf("no key of the issuer fits signing method %s", t.Method.Alg())
			}
			return fit, nil
		default:
			if !methodMatchesKey(t.Method, key) {
				return nil, fmt.Errorf("signing method %s does not match key", t.Method.Alg())
			}
			return key, nil
		}
	}
}

// personSubject holds a static issuer's subject to "people/<id>".
func personSubject(sub string) error {
	id, ok := strings.CutPrefix(sub, "people/")
	if !ok || !resourcename.ValidID(id) {
		return errors.New("subject must be people/<id>, the id " + resourcename.IDRule)
	}
	return nil
}

// maxSubjectLength is the longest subject an OpenID Connect issuer may
// give (OpenID Connect Core §2: at most 255 ASCII characters; we count
// bytes and allow any UTF-8 without control characters).
const maxSubjectLength = 255

// providerSubject holds an OpenID Connect issuer's subject to what an
// identity may be stored and shown as: non-empty, at most 255 bytes of
// UTF-8, no control characters.
func providerSubject(sub string) error {
	if sub == "" || len(sub) > maxSubjectLength || !utf8.ValidString(sub) {
		return fmt.Errorf("subject must be 1 to %d bytes of UTF-8", maxSubjectLength)
	}
	if strings.ContainsFunc(sub, unicode.IsControl) {
		return errors.New("subject must not hold control characters")
	}
	return nil
}

// checkClaims holds a signed token's claims to what jwt leaves unchecked:
// the claim set's own text, the subject's form (checkSubject, by issuer)
// and the lifetime. It returns the claim set's JSON text, checked.
func (v *Verifier) checkClaims(parser *jwt.Parser, raw string, claims *Claims, checkSubject func(string) error) ([]byte, error) {
	// ParseWithClaims succeeded: raw has three segments and the second
	// decodes (the same way again) to a JSON object.
	segments := strings.Split(raw, ".")
	body, err := parser.DecodeSegment(segments[1])
	if err != nil {
		return nil, fmt.Errorf("claims: %w", err)
	}
	if err := checkClaimMembers(body); err != nil {
		return nil, err
	}
	if err := checkSubject(claims.Subject); err != nil {
		return nil, err
	}
	from := v.now()
	if claims.IssuedAt != nil {
		from = claims.IssuedAt.Time
	}
	if lifetime := claims.ExpiresAt.Sub(from); lifetime > v.maxLifetime {
		return nil, fmt.Errorf("token lifetime %v exceeds the maximum %v", lifetime.Truncate(time.Second), v.maxLifetime)
	}
	return body, nil
}

// emailClaims reads the email and email_verified claims of body, a claim
// set checkClaimMembers passed (so neither is given twice nor spelt in
// another case). A claim of another JSON type than OpenID Connect's (a
// string, a boolean) is ignored rather than refused: the token still
// proves its identity, and the claims only ever add a way to link it,
// so some providers' "email_verified":"true" must not lock their users
// out, while anything but a JSON true counts as unverified.
func emailClaims(body []byte) (email string, verified bool) {
	var c struct {
		Email         json.RawMessage `json:"email"`
		EmailVerified json.RawMessage `json:"email_verified"`
	}
	if err := json.Unmarshal(body, &c); err != nil {
		return "", false
	}
	if err := json.Unmarshal(c.Email, &email); err != nil {
		email = ""
	}
	return email, email != "" && bytes.Equal(bytes.TrimSpace(c.EmailVerified), []byte("true"))
}

// claimNames are the members the verifier reads (Claims, and emailClaims
// for an OpenID Connect issuer's tokens), and numericDates those of them
// that are NumericDates.
var (
	claimNames   = []string{"iss", "sub", "aud", "exp", "nbf", "iat", "jti", "roles", "email", "email_verified"}
	numericDates = []string{"exp", "nbf", "iat"}
)

// checkClaimMembers reads the claim set's members as written, since
// encoding/json hides two things from the Claims it fills: it matches member
// names case-insensitively ("Exp" or "SUB" would be read as exp and sub, the
// last of several winning), and a NumericDate takes a string holding a
// number ("exp":"1893456000"). RFC 7519 names are case-sensitive and its
// NumericDate is a JSON number, so either is refused, as is a claim given
// twice (§4: names must be unique).
func checkClaimMembers(body []byte) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return errors.New("claims are not a JSON object")
	}
	seen := make(map[string]bool, len(claimNames))
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return fmt.Errorf("claims: %w", err)
		}
		name, _ := t.(string) // an object's keys are strings
		var value json.RawMessage
		if err := dec.Decode(&value); err != nil {
			return fmt.Errorf("claims: %w", err)
		}
		if slices.Contains(idTokenClaims, name) {
			return fmt.Errorf("claim %q: an ID token is not an access token", name)
		}
		for _, c := range claimNames {
			if !strings.EqualFold(name, c) {
				continue
			}
			if name != c {
				return fmt.Errorf("claim %q: claim names are case-sensitive", c)
			}
			if seen[c] {
				return fmt.Errorf("claim %q given twice", c)
			}
			seen[c] = true
			if slices.Contains(numericDates, c) && !isJSONNumber(value) {
				return fmt.Errorf("claim %q must be a JSON number", c)
			}
		}
	}
	return nil
}

// idTokenClaims are members only an ID token carries (OpenID Connect Core
// §2, §3.1.3.6, §3.3.2.11). An ID token is for the client that signed in,
// not for an API: providers such as zitadel's sign it with the same key,
// audience and type as the access token, so these claims are what tells
// the two apart, and a token holding any of them is refused.
var idTokenClaims = []string{"nonce", "at_hash", "c_hash", "s_hash"}

// isJSONNumber reports whether value, one valid JSON value, is a number.
func isJSONNumber(value json.RawMessage) bool {
	value = bytes.TrimSpace(value)
	return len(value) > 0 && (value[0] == '-' || ('0' <= value[0] && value[0] <= '9'))
}

func methodMatchesKey(m jwt.SigningMethod, key crypto.PublicKey) bool {
	switch key.(type) {
	case ed25519.PublicKey:
		_, ok := m.(*jwt.SigningMethodEd25519)
		return ok
	case *ecdsa.PublicKey:
		_, ok := m.(*jwt.SigningMethodECDSA)
		return ok
	case *rsa.PublicKey:
		switch m.(type) {
		case *jwt.SigningMethodRSA, *jwt.SigningMethodRSAPSS:
			return true
		}
	}
	return false
}

// Signer mints tokens. Chapterhouse itself never issues tokens in
// production; the signer serves the dev launcher and tests.
type Signer struct {
	key      ed25519.PrivateKey
	issuer   string
	audience string
}

// NewSigner returns a signer for key.
func NewSigner(key ed25519.PrivateKey, issuer, audience string) *Signer {
	return &Signer{key: key, issuer: issuer, audience: audience}
}

// PublicKey is the key that verifies this signer's tokens.
func (s *Signer) PublicKey() crypto.PublicKey { return s.key.Public() }

// Sign mints a token for subject with a roles claim, valid for ttl. The
// claim grants nothing (tests use it to show exactly that, and to tell
// apart tokens of one subject); a verifier
// refuses a ttl beyond its maximum lifetime (DefaultMaxLifetime unless set
// otherwise).
func (s *Signer) Sign(subject string, roles []string, ttl time.Duration) (string, error) {
	now := time.Now()
	claims := Claims{
		Roles: roles,
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    s.issuer,
			Subject:   subject,
			Audience:  jwt.ClaimStrings{s.audience},
			IssuedAt:  jwt.NewNumericDate(now),
			NotBefore: jwt.NewNumericDate(now.Add(-time.Minute)),
			ExpiresAt: jwt.NewNumericDate(now.Add(ttl)),
		},
	}
	tok, err := jwt.NewWithClaims(jwt.SigningMethodEdDSA, claims).SignedString(s.key)
	if err != nil {
		return "", fmt.Errorf("auth: sign: %w", err)
	}
	return tok, nil
}

// PublicKeyPEM encodes key as a PEM PUBLIC KEY block.
func PublicKeyPEM(key crypto.PublicKey) ([]byte, error) {
	der, err := x509.MarshalPKIXPublicKey(key)
	if err != nil {
		return nil, fmt.Errorf("auth: marshal public key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), nil
}
