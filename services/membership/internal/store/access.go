package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"path"
	"strconv"
	"strings"

	"github.com/redis/go-redis/v9"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/tjsia/chapterhouse/contracts/membership/streams"
	"github.com/tjsia/chapterhouse/platform/auth"
	"github.com/tjsia/chapterhouse/platform/eventstream"
	"github.com/tjsia/chapterhouse/platform/page"
	"github.com/tjsia/chapterhouse/platform/redistx"
	eventsv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/events/v1"
	membershipv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/membership/v1"

	"github.com/tjsia/chapterhouse/services/membership/internal/domain"
)

// AccessTag is the slot of invitations, accounts and role bindings:
//
//	inv:<id>                   an invitation
//	code:<sha256 of its code>  → the invitation's id (kept once claimed or
//	                             revoked, so a used code says so)
//	acct:<person>:<id>         an account; accts:<person> indexes them
//	ident:<h(issuer, subject)> → the LINKED account of an identity
//	pi:<person>:<h(issuer)>    → the person's LINKED account of an issuer
//	unlinked:<h(issuer, subject)> → the identity's account last unlinked:
//	                             kept for good, so an identity an admin
//	                             unlinked is never linked again by e-mail
//	rb:<id>                    a role binding; rbs indexes them
//	active:<role>:<person>     → the person's ACTIVE binding of the role
//	rolecount                  ACTIVE bindings per role (hash)
const AccessTag = streams.AccessTag

func invKey(id string) string    { return redistx.Key(AccessTag, "inv", id) }
func codeKey(hash string) string { return redistx.Key(AccessTag, "code", hash) }
func acctKey(person, id string) string {
	return redistx.Key(AccessTag, "acct", person, id)
}
func acctIndexKey(person string) string { return redistx.Key(AccessTag, "accts", person) }
func rbKey(id string) string            { return redistx.Key(AccessTag, "rb", id) }
func rbIndexKey() string                { return redistx.Key(AccessTag, "rbs") }
func roleCountKey() string              { return redistx.Key(AccessTag, "rolecount") }

// activeKey is keyed by the person's id, so a person name's form never
// makes two keys for one person.
func activeKey(role membershipv1.Role, person string) string {
	return redistx.Key(AccessTag, "active", role.String(), path.Base(person))
}

// identKey hashes the identity: issuers are URLs and subjects are the
// issuer's own strings, neither fit for a key as given.
func identKey(id auth.Identity) string {
	return redistx.Key(AccessTag, "ident", digest(id.Issuer+"\x00"+id.Subject))
}

// unlinkedKey marks an identity one of whose accounts was unlinked. It is
// written by UnlinkAccount from the version that added verified e-mail
// links on; accounts unlinked before carry no mark (the domain also looks
// for them among the accounts of the person it would link, see
// domain.Service.linkByEmail).
func unlinkedKey(id auth.Identity) string {
	return redistx.Key(AccessTag, "unlinked", digest(id.Issuer+"\x00"+id.Subject))
}

func personIssuerKey(person, issuer string) string {
	return redistx.Key(AccessTag, "pi", path.Base(person), digest(issuer))
}

func digest(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// indexMember orders an index by time, then id: "<SortableTime>:<id>".
func indexMember(t *timestamppb.Timestamp, id string) string {
	return redistx.SortableTime(t.AsTime()) + ":" + id
}

// memberID is the id of an index member.
func memberID(member string) string {
	_, id, _ := strings.Cut(member, ":")
	return id
}

// CreateInvitation stores inv and its code's hash.
func (s *Store) CreateInvitation(ctx context.Context, inv *membershipv1.Invitation, codeHash string, ev *eventsv1.Envelope) error {
	id := path.Base(inv.GetName())
	tx := newTx(AccessTag).ExpectEtag("invitation_id", invKey(id), "").ExpectAbsent("code", codeKey(codeHash))
	if err := tx.PutMessage(invKey(id), inv, inv.GetEtag()); err != nil {
		return err
	}
	tx.Set(codeKey(codeHash), id)
	if err := eventstream.Append(tx, AccessTag, ev); err != nil {
		return err
	}
	return s.commit(ctx, tx)
}

// GetInvitation reads one invitation.
func (s *Store) GetInvitation(ctx context.Context, id string) (*membershipv1.Invitation, error) {
	return get(ctx, s.client, invKey(id), &membershipv1.Invitation{})
}

// InvitationByCode reads the invitation of a code's hash.
func (s *Store) InvitationByCode(ctx context.Context, codeHash string) (*membershipv1.Invitation, error) {
	id, err := s.client.Get(ctx, codeKey(codeHash)).Result()
	if errors.Is(err, redis.Nil) {
		return nil, domain.ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	return s.GetInvitation(ctx, id)
}

// SaveInvitation replaces inv if its etag is still prevEtag.
func (s *Store) SaveInvitation(ctx context.Context, inv *membershipv1.Invitation, prevEtag string, ev *eventsv1.Envelope) error {
	key := invKey(path.Base(inv.GetName()))
	tx := newTx(AccessTag).ExpectEtag("etag", key, prevEtag)
	if err := tx.PutMessage(key, inv, inv.GetEtag()); err != nil {
		return err
	}
	if err := eventstream.Append(tx, AccessTag, ev); err != nil {
		return err
	}
	return s.commit(ctx, tx)
}

// ClaimInvitation marks inv claimed and links acct, in one step.
func (s *Store) ClaimInvitation(ctx context.Context, inv *membershipv1.Invitation, prevEtag string, acct *membershipv1.Account, ev *eventsv1.Envelope) error {
	ikey := invKey(path.Base(inv.GetName()))
	tx := newTx(AccessTag).ExpectEtag("etag", ikey, prevEtag)
	if err := link(tx, acct); err != nil {
		return err
	}
	if err := tx.PutMessage(ikey, inv, inv.GetEtag()); err != nil {
		return err
	}
	if err := eventstream.Append(tx, AccessTag, ev); err != nil {
		return err
	}
	return s.commit(ctx, tx)
}

// LinkAccount links acct's identity to its person.
func (s *Store) LinkAccount(ctx context.Context, acct *membershipv1.Account, ev *eventsv1.Envelope) error {
	tx := newTx(AccessTag)
	if err := link(tx, acct); err != nil {
		return err
	}
	if err := eventstream.Append(tx, AccessTag, ev); err != nil {
		return err
	}
	return s.commit(ctx, tx)
}

// LinkAccountFirstTime links acct's identity to its person as LinkAccount
// does, and only if no account of the identity was ever unlinked:
// ConflictError "identity_unlinked" (Owner: the account unlinked) when one
// was.
func (s *Store) LinkAccountFirstTime(ctx context.Context, acct *membershipv1.Account, ev *eventsv1.Envelope) error {
	tx := newTx(AccessTag).ExpectAbsent("identity_unlinked", unlinkedKey(auth.Identity{Issuer: acct.GetIssuer(), Subject: acct.GetSubject()}))
	if err := link(tx, acct); err != nil {
		return err
	}
	if err := eventstream.Append(tx, AccessTag, ev); err != nil {
		return err
	}
	return s.commit(ctx, tx)
}

// IdentityUnlinked reads whether an account of identity was unlinked (as
// UnlinkAccount marks it).
func (s *Store) IdentityUnlinked(ctx context.Context, identity auth.Identity) (bool, error) {
	n, err := s.client.Exists(ctx, unlinkedKey(identity)).Result()
	return n > 0, err
}

// link adds to tx the writes that link acct's identity to its person,
// with the claims that keep an identity linked to one person and a person
// to one identity of each issuer.
func link(tx *redistx.Tx, acct *membershipv1.Account) error {
	person, id, err := domain.ParseAccountName(acct.GetName())
	if err != nil {
		return err
	}
	identity := auth.Identity{Issuer: acct.GetIssuer(), Subject: acct.GetSubject()}
	tx.ExpectAbsent("identity", identKey(identity)).
		ExpectAbsent("person_issuer", personIssuerKey(person, acct.GetIssuer())).
		ExpectEtag("account_id", acctKey(person, id), "")
	if err := tx.PutMessage(acctKey(person, id), acct, acct.GetEtag()); err != nil {
		return err
	}
	tx.Result(acctKey(person, id)).
		Set(identKey(identity), acct.GetName()).
		Set(personIssuerKey(person, acct.GetIssuer()), acct.GetName()).
		ZAdd(acctIndexKey(person), 0, indexMember(acct.GetLinkTime(), id))
	return nil
}

// GetAccount reads one account.
func (s *Store) GetAccount(ctx context.Context, person, id string) (*membershipv1.Account, error) {
	return get(ctx, s.client, acctKey(person, id), &membershipv1.Account{})
}

// AccountByIdentity reads the identity's LINKED account.
func (s *Store) AccountByIdentity(ctx context.Context, identity auth.Identity) (*membershipv1.Account, error) {
	name, err := s.client.Get(ctx, identKey(identity)).Result()
	if errors.Is(err, redis.Nil) {
		return nil, domain.ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	person, id, err := domain.ParseAccountName(name)
	if err != nil {
		return nil, err
	}
	return s.GetAccount(ctx, person, id)
}

// ListAccounts pages through a person's accounts, oldest link first.
func (s *Store) ListAccounts(ctx context.Context, person, after string, size int) (page.Page[*membershipv1.Account], error) {
	return redistx.ScanPage(ctx, s.client, acctIndexKey(person), after, size,
		func(member string) string { return acctKey(person, memberID(member)) },
		func() *membershipv1.Account { return &membershipv1.Account{} }, nil)
}

// UnlinkAccount stores acct, unlinked, and frees its identity and its
// person's place for the issuer, marking the identity as once unlinked.
func (s *Store) UnlinkAccount(ctx context.Context, acct *membershipv1.Account, prevEtag string, ev *eventsv1.Envelope) error {
	person, id, err := domain.ParseAccountName(acct.GetName())
	if err != nil {
		return err
	}
	key := acctKey(person, id)
	tx := newTx(AccessTag).ExpectEtag("etag", key, prevEtag)
	if err := tx.PutMessage(key, acct, acct.GetEtag()); err != nil {
		return err
	}
	identity := auth.Identity{Issuer: acct.GetIssuer(), Subject: acct.GetSubject()}
	tx.Del(identKey(identity)).
		Del(personIssuerKey(person, acct.GetIssuer())).
		Set(unlinkedKey(identity), acct.GetName())
	if err := eventstream.Append(tx, AccessTag, ev); err != nil {
		return err
	}
	return s.commit(ctx, tx)
}

// CreateRoleBinding stores rb, ACTIVE, claiming its person's role.
func (s *Store) CreateRoleBinding(ctx context.Context, rb *membershipv1.RoleBinding, onlyFirstAdmin bool, ev *eventsv1.Envelope) error {
	tx, err := bind(rb, onlyFirstAdmin)
	if err != nil {
		return err
	}
	if err := eventstream.Append(tx, AccessTag, ev); err != nil {
		return err
	}
	return s.commit(ctx, tx)
}

// BootstrapFirstAdmin stores rb, the first admin's binding, and acct, the
// configured identity's link to the same person, in one step: both or
// neither, so a start that fails half-way is simply run again.
func (s *Store) BootstrapFirstAdmin(ctx context.Context, rb *membershipv1.RoleBinding, rbEv *eventsv1.Envelope, acct *membershipv1.Account, acctEv *eventsv1.Envelope) error {
	tx, err := bind(rb, true)
	if err != nil {
		return err
	}
	if err := link(tx, acct); err != nil {
		return err
	}
	if err := eventstream.Append(tx, AccessTag, rbEv); err != nil {
		return err
	}
	if err := eventstream.Append(tx, AccessTag, acctEv); err != nil {
		return err
	}
	return s.commit(ctx, tx)
}

// bind is a transaction that stores rb, ACTIVE, claiming its person's
// role; onlyFirstAdmin also expects no ACTIVE admin binding.
func bind(rb *membershipv1.RoleBinding, onlyFirstAdmin bool) (*redistx.Tx, error) {
	id := path.Base(rb.GetName())
	tx := newTx(AccessTag).
		ExpectEtag("role_binding_id", rbKey(id), "").
		ExpectAbsent("role", activeKey(rb.GetRole(), rb.GetPerson()))
	if onlyFirstAdmin {
		tx.ExpectHashFieldBelow("admin_exists", roleCountKey(), membershipv1.Role_ROLE_ADMIN.String(), 1)
	}
	if err := tx.PutMessage(rbKey(id), rb, rb.GetEtag()); err != nil {
		return nil, err
	}
	tx.Set(activeKey(rb.GetRole(), rb.GetPerson()), rb.GetName()).
		HIncrBy(roleCountKey(), rb.GetRole().String(), 1).
		ZAdd(rbIndexKey(), 0, indexMember(rb.GetGrantTime(), id))
	return tx, nil
}

// GetRoleBinding reads one binding.
func (s *Store) GetRoleBinding(ctx context.Context, id string) (*membershipv1.RoleBinding, error) {
	return get(ctx, s.client, rbKey(id), &membershipv1.RoleBinding{})
}

// ListRoleBindings pages through the bindings, oldest grant first,
// filtering while it scans (the bindings are few).
func (s *Store) ListRoleBindings(ctx context.Context, f domain.RoleBindingFilter, after string, size int) (page.Page[*membershipv1.RoleBinding], error) {
	keep := func(rb *membershipv1.RoleBinding) bool {
		return (f.Person == "" || rb.GetPerson() == f.Person) &&
			(f.Role == membershipv1.Role_ROLE_UNSPECIFIED || rb.GetRole() == f.Role) &&
			(f.State == membershipv1.RoleBindingState_ROLE_BINDING_STATE_UNSPECIFIED || rb.GetState() == f.State)
	}
	return redistx.ScanPage(ctx, s.client, rbIndexKey(), after, size,
		func(member string) string { return rbKey(memberID(member)) },
		func() *membershipv1.RoleBinding { return &membershipv1.RoleBinding{} }, keep)
}

// RevokeRoleBinding stores rb, revoked, freeing its person's role; an
// admin binding only while the admins still number activeAdmins.
func (s *Store) RevokeRoleBinding(ctx context.Context, rb *membershipv1.RoleBinding, prevEtag string, activeAdmins int, ev *eventsv1.Envelope) error {
	key := rbKey(path.Base(rb.GetName()))
	tx := newTx(AccessTag).ExpectEtag("etag", key, prevEtag)
	if rb.GetRole() == membershipv1.Role_ROLE_ADMIN {
		tx.ExpectHashField("etag", roleCountKey(), rb.GetRole().String(), strconv.Itoa(activeAdmins))
	}
	if err := tx.PutMessage(key, rb, rb.GetEtag()); err != nil {
		return err
	}
	tx.Del(activeKey(rb.GetRole(), rb.GetPerson())).HIncrBy(roleCountKey(), rb.GetRole().String(), -1)
	if err := eventstream.Append(tx, AccessTag, ev); err != nil {
		return err
	}
	return s.commit(ctx, tx)
}

// ActiveRoleCount reads the count of role's ACTIVE bindings.
func (s *Store) ActiveRoleCount(ctx context.Context, role membershipv1.Role) (int, error) {
	n, err := s.client.HGet(ctx, roleCountKey(), role.String()).Int()
	if errors.Is(err, redis.Nil) {
		return 0, nil
	}
	return n, err
}

// ActiveRoles reads which roles person holds, in one round trip.
func (s *Store) ActiveRoles(ctx context.Context, person string) ([]membershipv1.Role, error) {
	roles := []membershipv1.Role{membershipv1.Role_ROLE_ADMIN, membershipv1.Role_ROLE_GENERAL_SECRETARY, membershipv1.Role_ROLE_GENERAL_COUNCIL}
	keys := make([]string, len(roles))
	for i, r := range roles {
		keys[i] = activeKey(r, person)
	}
	vals, err := s.client.MGet(ctx, keys...).Result()
	if err != nil {
		return nil, err
	}
	var held []membershipv1.Role
	for i, v := range vals {
		if v != nil {
			held = append(held, roles[i])
		}
	}
	return held, nil
}
