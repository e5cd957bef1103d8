// Package auth verifies the bearer JWTs every Chapterhouse call carries and
// keeps the resulting principal in the request context. Static roles come
// from the token's claims; dynamic roles (chair, representative, ...) are
// data and are checked by the services themselves.
package auth

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
	lru "github.com/hashicorp/golang-lru/v2"
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

// Principal is the verified caller.
type Principal struct {
	// Subject is the token's sub claim, "people/<id>".
	Subject string
	Roles   []string
	// Token is the raw bearer token, so a service can forward it when it
	// calls another service on the caller's behalf.
	Token string
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

// Claims is the token body.
type Claims struct {
	Roles []string `json:"roles,omitempty"`
	jwt.RegisteredClaims
}

// Verifier checks signatures against a fixed set of public keys.
type Verifier struct {
	keys     []crypto.PublicKey
	issuer   string
	audience string
	leeway   time.Duration
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
}

// verifiedCacheSize bounds the remembered tokens: enough for every active
// session of a branch many times over, at a few hundred bytes each.
const verifiedCacheSize = 10000

// NewVerifier builds a verifier for tokens signed by any of keys (Ed25519,
// ECDSA or RSA public keys).
func NewVerifier(keys []crypto.PublicKey, issuer, audience string) (*Verifier, error) {
	if len(keys) == 0 {
		return nil, errors.New("auth: no verification keys")
	}
	cache, err := lru.New[[sha256.Size]byte, verifiedToken](verifiedCacheSize)
	if err != nil {
		return nil, fmt.Errorf("auth: %w", err)
	}
	return &Verifier{keys: keys, issuer: issuer, audience: audience, leeway: 30 * time.Second, verified: cache, now: time.Now}, nil
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
// is never remembered.
func (v *Verifier) Verify(raw string) (Principal, error) {
	key := sha256.Sum256([]byte(raw))
	if t, ok := v.verified.Get(key); ok {
		if v.now().Before(t.expires) {
			return t.principal, nil
		}
		v.verified.Remove(key)
	}
	p, expires, err := v.verify(raw)
	if err != nil {
		return Principal{}, err
	}
	v.verified.Add(key, verifiedToken{principal: p, expires: expires})
	return p, nil
}

// verify checks raw's signature and claims, every time.
func (v *Verifier) verify(raw string) (Principal, time.Time, error) {
	var lastErr error
	for _, key := range v.keys {
		claims := &Claims{}
		_, err := jwt.ParseWithClaims(raw, claims, func(t *jwt.Token) (any, error) {
			if !methodMatchesKey(t.Method, key) {
				return nil, fmt.Errorf("signing method %s does not match key", t.Method.Alg())
			}
			return key, nil
		},
			jwt.WithIssuer(v.issuer),
			jwt.WithAudience(v.audience),
			jwt.WithExpirationRequired(),
			jwt.WithLeeway(v.leeway),
			jwt.WithTimeFunc(v.now),
			jwt.WithValidMethods([]string{"EdDSA", "ES256", "ES384", "RS256", "PS256"}),
		)
		if err == nil {
			if !strings.HasPrefix(claims.Subject, "people/") || len(claims.Subject) <= len("people/") {
				return Principal{}, time.Time{}, fmt.Errorf("%w: subject must be people/<id>", ErrUnauthenticated)
			}
			// WithExpirationRequired: ExpiresAt is set.
			return Principal{Subject: claims.Subject, Roles: claims.Roles, Token: raw}, claims.ExpiresAt.Time, nil
		}
		lastErr = err
	}
	return Principal{}, time.Time{}, fmt.Errorf("%w: %w", ErrUnauthenticated, lastErr)
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

// Sign mints a token for subject with roles, valid for ttl.
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
