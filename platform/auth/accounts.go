package auth

import "context"

// Linked is who a signed-in identity is in Chapterhouse: the person its
// account is linked to ("people/<id>", "" when none) and the static roles
// that person's active role bindings grant. Membership keeps both; the
// token's issuer vouches only for the identity.
type Linked struct {
	Person string
	Roles  []string
}

// Accounts answers who the identity of a verified principal is linked to,
// and which roles that person holds. A principal whose token named its
// person (the static-key issuer's people/<id>) is that person; any other
// is the person its account link says, or no one. Membership answers from
// its own store; every other service asks membership with the caller's
// own token (contracts/membership/client).
type Accounts interface {
	Linked(ctx context.Context, p Principal) (Linked, error)
}
