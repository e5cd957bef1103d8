package servicetest

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/tjsia/chapterhouse/platform/auth"
)

// accountTable is who the fixture's provider identities are, as
// membership's account links and role bindings would say: the started
// service resolves every identity through it (auth.Accounts), exactly as
// it resolves one through membership in production, so a token's own
// claims grant nothing here either. As records each identity it mints a
// token for; an identity it does not hold is asked of others (OtherAccounts)
// when set, and is otherwise linked to nobody.
type accountTable struct {
	mu     sync.RWMutex
	linked map[auth.Identity]auth.Linked
	others auth.Accounts
}

func newAccountTable(others auth.Accounts) *accountTable {
	return &accountTable{linked: map[auth.Identity]auth.Linked{}, others: others}
}

// Linked answers from the table, then from others; an identity neither
// knows is linked to nobody (auth.Linked{}).
func (a *accountTable) Linked(ctx context.Context, p auth.Principal) (auth.Linked, error) {
	a.mu.RLock()
	l, ok := a.linked[p.Identity]
	a.mu.RUnlock()
	if ok {
		return auth.Linked{Person: l.Person, Roles: slices.Clone(l.Roles)}, nil
	}
	if a.others != nil {
		return a.others.Linked(ctx, p)
	}
	return auth.Linked{}, nil
}

// link records that id is person with roles.
func (a *accountTable) link(id auth.Identity, person string, roles []string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.linked[id] = auth.Linked{Person: person, Roles: slices.Clone(roles)}
}

// identitySubject is the provider subject As signs in with for person
// with roles: the JSON array of person and the roles, sorted and without
// repeats, e.g. ["people/admin","admin"]. One person with two role sets
// is two identities, so a test's "with the role" and "without it" never
// share a table row; the same set in any order is the same identity. The
// brackets keep it apart from the subjects AsIdentity takes.
func identitySubject(person string, roles []string) (subject string, sorted []string, err error) {
	sorted = slices.Compact(slices.Sorted(slices.Values(roles)))
	b, err := json.Marshal(append([]string{person}, sorted...))
	if err != nil {
		return "", nil, err
	}
	// An OpenID Connect subject is at most 255 bytes (auth's verifier
	// refuses a longer one).
	if len(b) > 255 {
		return "", nil, fmt.Errorf("the identity for %s with %v is %d bytes, over the 255 a subject may have", person, sorted, len(b))
	}
	return string(b), sorted, nil
}

// isTableSubject: subject has the form identitySubject gives.
func isTableSubject(subject string) bool { return strings.HasPrefix(subject, "[") }
