package client

import (
	"context"
	"crypto/sha256"
	"errors"
	"time"

	"github.com/hashicorp/golang-lru/v2/expirable"
	"google.golang.org/grpc/metadata"

	"github.com/tjsia/chapterhouse/platform/auth"
	"github.com/tjsia/chapterhouse/platform/i18n"
	membershipv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/membership/v1"
)

// Caller is who a signed-in caller is, as membership resolves the
// identity its token names: the person the identity is linked to ("" when
// none) and the static roles that person's ACTIVE role bindings grant.
type Caller struct {
	Issuer, Subject string
	// Person is people/{id}, or "" for an identity linked to no person.
	Person string
	// Roles are "admin", "general_secretary", "general_council", sorted.
	Roles []string
	// Account is the link, people/{id}/accounts/{account}, or "".
	Account string
}

// CallerTTL is how long Callers remembers an answer: a revoked role or an
// unlink reaches a service that resolves callers through it within this
// time, on top of nothing else (the token's lifetime does not matter).
const CallerTTL = 30 * time.Second

// callerCacheSize bounds the remembered tokens, as the verifier's cache.
const callerCacheSize = 10000

// Callers resolves bearer tokens to callers through membership's
// LookupCaller, with the token itself as the credential, remembering each
// answer for a while (CallerTTL) so a service does not ask for every call.
type Callers struct {
	client *Client
	cache  *expirable.LRU[[sha256.Size]byte, Caller]
}

// NewCallers resolves through c, remembering each answer for ttl
// (CallerTTL when 0).
func NewCallers(c *Client, ttl time.Duration) *Callers {
	if ttl <= 0 {
		ttl = CallerTTL
	}
	return &Callers{client: c, cache: expirable.NewLRU[[sha256.Size]byte, Caller](callerCacheSize, nil, ttl)}
}

// ErrNoToken: there is no token to resolve.
var ErrNoToken = errors.New("membership: no token to resolve")

// Lookup returns who token's caller is. Answers are remembered by the
// token's SHA-256; a failure, and an identity linked to no person, are
// never remembered. Membership's own refusal
// (UNAUTHENTICATED for a token it does not accept) passes unchanged, and
// an unreachable membership is UNAVAILABLE.
func (cs *Callers) Lookup(ctx context.Context, token string) (Caller, error) {
	if token == "" {
		return Caller{}, ErrNoToken
	}
	key := sha256.Sum256([]byte(token))
	if c, ok := cs.cache.Get(key); ok {
		return c, nil
	}
	ctx, cancel := context.WithTimeout(ctx, cs.client.timeout)
	defer cancel()
	// The token is the caller's own, whatever principal ctx carries.
	ctx = metadata.NewOutgoingContext(ctx, metadata.Pairs("authorization", "Bearer "+token, i18n.MetadataKey, i18n.FromContext(ctx)))
	resp, err := cs.client.client.LookupCaller(ctx, &membershipv1.LookupCallerRequest{})
	if err != nil {
		return Caller{}, cs.client.failure(err)
	}
	c := Caller{Issuer: resp.GetIssuer(), Subject: resp.GetSubject(), Person: resp.GetPerson(), Roles: resp.GetRoles(), Account: resp.GetAccount()}
	// An identity linked to no one is asked about again: it is about to
	// claim its invitation, and the same token must work as the person
	// at once, not a cache's lifetime later.
	if c.Person != "" {
		cs.cache.Add(key, c)
	}
	return c, nil
}

// Linked answers, for a service's authentication, who p is: membership's
// answer for p's own token.
func (cs *Callers) Linked(ctx context.Context, p auth.Principal) (auth.Linked, error) {
	c, err := cs.Lookup(ctx, p.Token)
	if err != nil {
		return auth.Linked{}, err
	}
	return auth.Linked{Person: c.Person, Roles: c.Roles}, nil
}
