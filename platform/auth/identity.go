package auth

import "context"

type identityKey struct{}

// WithIdentity returns ctx carrying id: a verified caller's identity, for
// a call whose identity is not (yet) linked to a person, so no principal
// stands for it.
func WithIdentity(ctx context.Context, id Identity) context.Context {
	return context.WithValue(ctx, identityKey{}, id)
}

// IdentityFromContext returns the identity WithIdentity put in ctx.
func IdentityFromContext(ctx context.Context) (Identity, bool) {
	id, ok := ctx.Value(identityKey{}).(Identity)
	return id, ok
}
