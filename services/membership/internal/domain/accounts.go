package domain

// Invitations, account links and role bindings: who may sign in as which
// person, and which static roles that person holds. Resolve answers both
// for a signed-in identity.

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/tjsia/chapterhouse/platform/apierr"
	"github.com/tjsia/chapterhouse/platform/auth"
	"github.com/tjsia/chapterhouse/platform/ids"
	"github.com/tjsia/chapterhouse/platform/retry"
	apiv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/api/v1"
	eventsv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/events/v1"
	membershipv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/membership/v1"
)

// How long an invitation stays claimable: DefaultInvitationTTL unless the
// admin says otherwise, never more than MaxInvitationTTL, so a code left
// lying around stops working.
const (
	DefaultInvitationTTL = 14 * 24 * time.Hour
	MaxInvitationTTL     = 30 * 24 * time.Hour
)

// SystemActor is the granter of the first admin's binding, which the
// configuration names rather than a person.
const SystemActor = "system"

// FirstAdminReason is the first admin binding's reason.
const FirstAdminReason = "first admin from configuration"

// Roles maps each Role to the static role the services check.
var Roles = map[membershipv1.Role]string{
	membershipv1.Role_ROLE_ADMIN:             auth.RoleAdmin,
	membershipv1.Role_ROLE_GENERAL_SECRETARY: auth.RoleGeneralSecretary,
	membershipv1.Role_ROLE_GENERAL_COUNCIL:   auth.RoleGeneralCouncil,
}

// CodeHash is what the store keeps of an invitation's code: its SHA-256,
// hex. The codes are 160 random bits, so no salt or slow hash is needed to
// keep one from being guessed from its hash.
func CodeHash(code string) string {
	sum := sha256.Sum256([]byte(code))
	return hex.EncodeToString(sum[:])
}

// newCode draws an invitation code: 160 random bits, base32 without
// padding (32 characters, easy to read out or type).
func newCode() string {
	b := make([]byte, 20)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	return base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b)
}

// RoleBindingFilter narrows ListRoleBindings; empty fields match
// everything.
type RoleBindingFilter struct {
	Person string
	Role   membershipv1.Role
	State  membershipv1.RoleBindingState
}

// InvitationExpired reports whether inv's expire_time has passed at now.
func InvitationExpired(inv *membershipv1.Invitation, now time.Time) bool {
	return inv.GetExpireTime() != nil && !now.Before(inv.GetExpireTime().AsTime())
}

// ClaimRefusal is why inv cannot be claimed at now, or nil: a final state
// first (claimed, revoked), then expiry.
func ClaimRefusal(inv *membershipv1.Invitation, now time.Time) error {
	md := map[string]string{"invitation": inv.GetName()}
	switch inv.GetState() {
	case membershipv1.InvitationState_INVITATION_STATE_CLAIMED:
		return refusal(codes.FailedPrecondition, apiv1.ErrorReason_INVITATION_ALREADY_CLAIMED, "invitation_claimed", md)
	case membershipv1.InvitationState_INVITATION_STATE_REVOKED:
		return refusal(codes.FailedPrecondition, apiv1.ErrorReason_INVITATION_REVOKED, "invitation_revoked", md)
	}
	if InvitationExpired(inv, now) {
		md["expire_time"] = inv.GetExpireTime().AsTime().UTC().Format(time.RFC3339)
		return refusal(codes.FailedPrecondition, apiv1.ErrorReason_INVITATION_EXPIRED, "invitation_expired", md)
	}
	return nil
}

// withExpired sets the computed expired flag, as of now.
func withExpired(inv *membershipv1.Invitation, now time.Time) *membershipv1.Invitation {
	inv.Expired = InvitationExpired(inv, now)
	return inv
}

// actingPerson is the person a caller of these methods acts as: the
// principal's, which the server resolved (Resolve) from the person its
// token named or its identity's linked account, one answer for every
// method.
func (s *Service) actingPerson(_ context.Context, p auth.Principal) (string, error) {
	return p.Subject, nil
}

// accountPerson is the person of an account name: people/{p}/accounts/{a}
// → people/{p}.
func accountPerson(name string) string {
	parts := strings.SplitN(name, "/", 3)
	if len(parts) < 2 {
		return ""
	}
	return parts[0] + "/" + parts[1]
}

// CreateInvitation issues an invitation for an existing person; admins
// only. The returned invitation carries its code, which is stored only as
// its hash.
func (s *Service) CreateInvitation(ctx context.Context, p auth.Principal, in *membershipv1.Invitation) (*membershipv1.Invitation, error) {
	if err := requireAdmin(p, "create_invitation"); err != nil {
		return nil, err
	}
	now := s.now()
	personID, err := ParsePersonName(in.GetPerson())
	if err != nil {
		return nil, apierr.InvalidArgument(nameForm("invitation.person", in.GetPerson(), personPattern))
	}
	expire := now.Add(DefaultInvitationTTL)
	if in.GetExpireTime() != nil {
		expire = in.GetExpireTime().AsTime()
		if !expire.After(now) || expire.Sub(now) > MaxInvitationTTL {
			return nil, apierr.InvalidArgument(apierr.Field("invitation.expire_time", "membership.invitation_expiry",
				"time", expire.UTC().Format(time.RFC3339), "days", "30"))
		}
	}
	if _, err := s.repo.GetPerson(ctx, personID); err != nil {
		if errors.Is(err, ErrNotFound) {
			return nil, apierr.ReferenceNotFound("invitation.person", in.GetPerson())
		}
		return nil, err
	}
	code := newCode()
	inv := &membershipv1.Invitation{
		Name:       "invitations/" + ids.Random(),
		Person:     in.GetPerson(),
		ExpireTime: timestamppb.New(expire),
		State:      membershipv1.InvitationState_INVITATION_STATE_PENDING,
		Creator:    p.Subject,
		CreateTime: timestamppb.New(now),
		Etag:       newEtag(),
	}
	ev := s.envelope(ctx, p, inv.GetName())
	ev.Payload = &eventsv1.Envelope_InvitationCreated{InvitationCreated: &eventsv1.InvitationCreated{Invitation: inv}}
	if err := s.repo.CreateInvitation(ctx, inv, CodeHash(code), ev); err != nil {
		return nil, err
	}
	out := proto.Clone(inv).(*membershipv1.Invitation)
	out.Code = code
	return withExpired(out, now), nil
}

// GetInvitation reads an invitation: admins and the invited person;
// anyone else is answered as for a missing one.
func (s *Service) GetInvitation(ctx context.Context, p auth.Principal, name string) (*membershipv1.Invitation, error) {
	id, err := ParseInvitationName(name)
	if err != nil {
		return nil, err
	}
	inv, err := s.repo.GetInvitation(ctx, id)
	if err != nil {
		return nil, notFound(err, name)
	}
	if err := s.ownOrAdmin(ctx, p, inv.GetPerson(), apierr.NotFound(name)); err != nil {
		return nil, err
	}
	return withExpired(inv, s.now()), nil
}

// RevokeInvitation ends a PENDING invitation; admins only.
func (s *Service) RevokeInvitation(ctx context.Context, p auth.Principal, req *membershipv1.RevokeInvitationRequest) (*membershipv1.Invitation, error) {
	name := req.GetName()
	id, err := ParseInvitationName(name)
	if err != nil {
		return nil, err
	}
	if !p.IsAdmin() {
		// The invited person sees it, and is told only admins revoke;
		// anyone else is answered as for a missing one.
		if _, err := s.GetInvitation(ctx, p, name); err != nil {
			return nil, err
		}
		return nil, apierr.PermissionDenied("membership.revoke_invitation")
	}
	if strings.TrimSpace(req.GetReason()) == "" {
		return nil, apierr.InvalidArgument(apierr.Field("reason", "membership.blank"))
	}
	load := func() (*membershipv1.Invitation, error) { return s.repo.GetInvitation(ctx, id) }
	return mutate(ctx, name, req.GetEtag(), load, nil, func(cur *membershipv1.Invitation) (*membershipv1.Invitation, error) {
		if cur.GetState() != membershipv1.InvitationState_INVITATION_STATE_PENDING {
			return nil, apierr.InvalidTransition(name, "revoke", cur.GetState().String())
		}
		now := s.now()
		next := proto.Clone(cur).(*membershipv1.Invitation)
		next.State = membershipv1.InvitationState_INVITATION_STATE_REVOKED
		next.Revoker, next.RevokeTime, next.RevokeReason = p.Subject, timestamppb.New(now), req.GetReason()
		next.Etag = newEtag()
		ev := s.envelope(ctx, p, name)
		ev.Payload = &eventsv1.Envelope_InvitationRevoked{InvitationRevoked: &eventsv1.InvitationRevoked{Invitation: next}}
		if err := s.repo.SaveInvitation(ctx, next, cur.GetEtag(), ev); err != nil {
			return nil, err
		}
		return withExpired(next, now), nil
	})
}

// ClaimInvitation links id to the invitation's person and marks the
// invitation claimed, in one store step. Every refusal changes nothing.
func (s *Service) ClaimInvitation(ctx context.Context, id auth.Identity, code string) (*membershipv1.Account, error) {
	if id.Issuer == "" || id.Subject == "" {
		return nil, apierr.Unauthenticated("token_required")
	}
	hash := CodeHash(code)
	return retry.Write(ctx, "invitations", "", isStale, func() (*membershipv1.Account, error) {
		inv, err := s.repo.InvitationByCode(ctx, hash)
		if errors.Is(err, ErrNotFound) {
			// A wrong code names nothing: it is no invitation's.
			return nil, apierr.New(codes.NotFound, apiv1.ErrorReason_NOT_FOUND, nil, apierr.Text("error.membership.invitation_code"))
		}
		if err != nil {
			return nil, err
		}
		now := s.now()
		if err := ClaimRefusal(inv, now); err != nil {
			return nil, err
		}
		if linked, err := s.repo.AccountByIdentity(ctx, id); err == nil {
			return nil, refusal(codes.FailedPrecondition, apiv1.ErrorReason_IDENTITY_ALREADY_LINKED, "identity_linked", map[string]string{"account": linked.GetName()})
		} else if !errors.Is(err, ErrNotFound) {
			return nil, err
		}
		acct := newAccount(inv.GetPerson(), id, membershipv1.LinkMethod_LINK_METHOD_INVITATION, now)
		acct.Invitation = inv.GetName()
		claimed := proto.Clone(inv).(*membershipv1.Invitation)
		claimed.State = membershipv1.InvitationState_INVITATION_STATE_CLAIMED
		claimed.Account, claimed.ClaimTime, claimed.Etag = acct.GetName(), timestamppb.New(now), newEtag()
		// The invitee acts: the person they now sign in as.
		ev := s.envelope(ctx, auth.Principal{Subject: inv.GetPerson()}, acct.GetName())
		ev.Payload = &eventsv1.Envelope_AccountLinked{AccountLinked: &eventsv1.AccountLinked{Account: acct, Invitation: claimed}}
		err = s.repo.ClaimInvitation(ctx, claimed, inv.GetEtag(), acct, ev)
		if err != nil {
			return nil, linkRefusal(err, inv.GetPerson(), id)
		}
		return acct, nil
	})
}

// GetAccount reads an account: admins and its person; anyone else is
// answered as for a missing one.
func (s *Service) GetAccount(ctx context.Context, p auth.Principal, name string) (*membershipv1.Account, error) {
	person, id, err := ParseAccountName(name)
	if err != nil {
		return nil, err
	}
	if err := s.ownOrAdmin(ctx, p, "people/"+person, apierr.NotFound(name)); err != nil {
		return nil, err
	}
	acct, err := s.repo.GetAccount(ctx, person, id)
	if err != nil {
		return nil, notFound(err, name)
	}
	return acct, nil
}

// ownOrAdmin lets admins and person themselves through, and answers
// anyone else with denied.
func (s *Service) ownOrAdmin(ctx context.Context, p auth.Principal, person string, denied error) error {
	if p.IsAdmin() {
		return nil
	}
	acting, err := s.actingPerson(ctx, p)
	if err != nil {
		return err
	}
	if acting == "" || acting != person {
		return denied
	}
	return nil
}

// ListAccounts pages through a person's accounts: admins and the person.
func (s *Service) ListAccounts(ctx context.Context, p auth.Principal, req *membershipv1.ListAccountsRequest) ([]*membershipv1.Account, string, error) {
	personID, err := ParsePersonName(req.GetParent())
	if err != nil {
		return nil, "", err
	}
	if err := s.ownOrAdmin(ctx, p, req.GetParent(), apierr.PermissionDenied("membership.list_accounts")); err != nil {
		return nil, "", err
	}
	pg, err := s.pages.Parse(req.GetPageSize(), req.GetPageToken(), "accounts", req.GetParent())
	if err != nil {
		return nil, "", err
	}
	page, err := s.repo.ListAccounts(ctx, personID, pg.After, pg.Size)
	if err != nil {
		return nil, "", err
	}
	return page.Items, pg.Next(page.Next), nil
}

// UnlinkAccount ends a LINKED account, keeping it: admins, or its person.
func (s *Service) UnlinkAccount(ctx context.Context, p auth.Principal, req *membershipv1.UnlinkAccountRequest) (*membershipv1.Account, error) {
	name := req.GetName()
	person, id, err := ParseAccountName(name)
	if err != nil {
		return nil, err
	}
	if err := s.ownOrAdmin(ctx, p, "people/"+person, apierr.NotFound(name)); err != nil {
		return nil, err
	}
	if strings.TrimSpace(req.GetReason()) == "" {
		return nil, apierr.InvalidArgument(apierr.Field("reason", "membership.blank"))
	}
	actor, err := s.actingPerson(ctx, p)
	if err != nil {
		return nil, err
	}
	load := func() (*membershipv1.Account, error) { return s.repo.GetAccount(ctx, person, id) }
	return mutate(ctx, name, req.GetEtag(), load, nil, func(cur *membershipv1.Account) (*membershipv1.Account, error) {
		if cur.GetState() != membershipv1.AccountState_ACCOUNT_STATE_LINKED {
			return nil, apierr.InvalidTransition(name, "unlink", cur.GetState().String())
		}
		now := s.now()
		next := proto.Clone(cur).(*membershipv1.Account)
		next.State = membershipv1.AccountState_ACCOUNT_STATE_UNLINKED
		next.Unlinker, next.UnlinkTime, next.UnlinkReason = actor, timestamppb.New(now), req.GetReason()
		next.Etag = newEtag()
		ev := s.envelope(ctx, auth.Principal{Subject: actor}, name)
		ev.Payload = &eventsv1.Envelope_AccountUnlinked{AccountUnlinked: &eventsv1.AccountUnlinked{Account: next}}
		if err := s.repo.UnlinkAccount(ctx, next, cur.GetEtag(), ev); err != nil {
			return nil, err
		}
		return next, nil
	})
}

// CreateRoleBinding grants a person a role; admins only. A person holds a
// role through one ACTIVE binding at most.
func (s *Service) CreateRoleBinding(ctx context.Context, p auth.Principal, in *membershipv1.RoleBinding) (*membershipv1.RoleBinding, error) {
	if err := requireAdmin(p, "role_bindings"); err != nil {
		return nil, err
	}
	personID, err := ParsePersonName(in.GetPerson())
	if err != nil {
		return nil, apierr.InvalidArgument(nameForm("role_binding.person", in.GetPerson(), personPattern))
	}
	var bad []apierr.FieldViolation
	if _, ok := Roles[in.GetRole()]; !ok {
		bad = append(bad, apierr.Field("role_binding.role", "membership.one_of", "values", "ROLE_ADMIN,ROLE_GENERAL_SECRETARY,ROLE_GENERAL_COUNCIL"))
	}
	if strings.TrimSpace(in.GetReason()) == "" {
		bad = append(bad, apierr.Field("role_binding.reason", "membership.blank"))
	}
	if len(bad) > 0 {
		return nil, apierr.InvalidArgument(bad...)
	}
	if _, err := s.repo.GetPerson(ctx, personID); err != nil {
		if errors.Is(err, ErrNotFound) {
			return nil, apierr.ReferenceNotFound("role_binding.person", in.GetPerson())
		}
		return nil, err
	}
	return s.grant(ctx, p.Subject, in.GetPerson(), in.GetRole(), in.GetReason(), false)
}

// grant stores an ACTIVE binding granted by granter; onlyFirstAdmin makes
// the store refuse it (ConflictError "admin_exists") when an ACTIVE admin
// binding exists.
func (s *Service) grant(ctx context.Context, granter, person string, role membershipv1.Role, reason string, onlyFirstAdmin bool) (*membershipv1.RoleBinding, error) {
	rb, ev := s.newBinding(ctx, granter, person, role, reason, s.now())
	err := s.repo.CreateRoleBinding(ctx, rb, onlyFirstAdmin, ev)
	var conflict *ConflictError
	if errors.As(err, &conflict) && conflict.Claim == "role" {
		return nil, refusal(codes.AlreadyExists, apiv1.ErrorReason_ROLE_ALREADY_GRANTED, "role_granted",
			map[string]string{"role_binding": conflict.Owner, "role": role.String(), "person": person})
	}
	if err != nil {
		return nil, err
	}
	return rb, nil
}

// EnsureFirstAdmin grants person the admin role, by "system" with
// FirstAdminReason, unless an ACTIVE admin binding exists: the
// configuration names the branch's first admin, and every later one is
// granted through the API. It is idempotent, and safe to run from every
// replica at once. It reports whether it granted.
//
// A non-zero identity is linked to person in the same step
// (LINK_METHOD_CONFIGURATION), so a branch whose people sign in only at
// its identity provider can start: its first admin signs in and acts at
// once, with no invitation to claim and no static key to mint a token.
// The link is made only with the first grant, never again, so a later
// restart cannot relink an identity the admins have since unlinked. The
// person's own record need not exist yet: the first admin creates it.
func (s *Service) EnsureFirstAdmin(ctx context.Context, person string, identity auth.Identity) (bool, error) {
	if _, err := ParsePersonName(person); err != nil {
		return false, err
	}
	if (identity.Issuer == "") != (identity.Subject == "") {
		return false, fmt.Errorf("the first admin's identity needs both an issuer and a subject, got %q and %q", identity.Issuer, identity.Subject)
	}
	n, err := s.repo.ActiveRoleCount(ctx, membershipv1.Role_ROLE_ADMIN)
	if err != nil || n > 0 {
		return false, err
	}
	if identity.Issuer == "" {
		_, err = s.grant(ctx, SystemActor, person, membershipv1.Role_ROLE_ADMIN, FirstAdminReason, true)
	} else {
		err = s.bootstrap(ctx, person, identity)
	}
	var conflict *ConflictError
	if errors.As(err, &conflict) {
		switch conflict.Claim {
		case "identity", "person_issuer":
			// Linked to someone already with no admin anywhere: the
			// configuration names an identity the branch knows otherwise.
			return false, fmt.Errorf("the first admin's identity %s %s cannot be linked to %s: %w", identity.Issuer, identity.Subject, person, err)
		}
		return false, nil // another replica got there first
	}
	if apierr.Is(err, apiv1.ErrorReason_ROLE_ALREADY_GRANTED) {
		return false, nil
	}
	return err == nil, err
}

// bootstrap grants person the first admin role and links identity to it,
// in one step.
func (s *Service) bootstrap(ctx context.Context, person string, identity auth.Identity) error {
	now := s.now()
	rb, rbEv := s.newBinding(ctx, SystemActor, person, membershipv1.Role_ROLE_ADMIN, FirstAdminReason, now)
	acct := newAccount(person, identity, membershipv1.LinkMethod_LINK_METHOD_CONFIGURATION, now)
	acctEv := s.linkedEvent(ctx, SystemActor, acct)
	return s.repo.BootstrapFirstAdmin(ctx, rb, rbEv, acct, acctEv)
}

// newBinding is an ACTIVE binding of role to person, granted by granter
// at now, with its RoleGranted event.
func (s *Service) newBinding(ctx context.Context, granter, person string, role membershipv1.Role, reason string, now time.Time) (*membershipv1.RoleBinding, *eventsv1.Envelope) {
	rb := &membershipv1.RoleBinding{
		Name:      "roleBindings/" + ids.Random(),
		Person:    person,
		Role:      role,
		Reason:    reason,
		State:     membershipv1.RoleBindingState_ROLE_BINDING_STATE_ACTIVE,
		Granter:   granter,
		GrantTime: timestamppb.New(now),
		Etag:      newEtag(),
	}
	ev := s.envelope(ctx, auth.Principal{Subject: granter}, rb.GetName())
	ev.Payload = &eventsv1.Envelope_RoleGranted{RoleGranted: &eventsv1.RoleGranted{RoleBinding: rb}}
	return rb, ev
}

// newAccount is a LINKED account of identity to person ("people/<id>"),
// linked at now by method.
func newAccount(person string, identity auth.Identity, method membershipv1.LinkMethod, now time.Time) *membershipv1.Account {
	return &membershipv1.Account{
		Name: person + "/accounts/" + ids.Random(), Issuer: identity.Issuer, Subject: identity.Subject,
		LinkMethod: method, LinkTime: timestamppb.New(now),
		State: membershipv1.AccountState_ACCOUNT_STATE_LINKED, Etag: newEtag(),
	}
}

// linkedEvent is acct's AccountLinked event, acted by actor.
func (s *Service) linkedEvent(ctx context.Context, actor string, acct *membershipv1.Account) *eventsv1.Envelope {
	ev := s.envelope(ctx, auth.Principal{Subject: actor}, acct.GetName())
	ev.Payload = &eventsv1.Envelope_AccountLinked{AccountLinked: &eventsv1.AccountLinked{Account: acct}}
	return ev
}

// linkRefusal answers a link of identity to person the store refused
// for one of its claims (ConflictError), and passes any other error.
func linkRefusal(err error, person string, identity auth.Identity) error {
	var conflict *ConflictError
	if !errors.As(err, &conflict) {
		return err
	}
	switch conflict.Claim {
	case "identity":
		return refusal(codes.FailedPrecondition, apiv1.ErrorReason_IDENTITY_ALREADY_LINKED, "identity_linked", map[string]string{"account": conflict.Owner})
	case "person_issuer":
		return refusal(codes.FailedPrecondition, apiv1.ErrorReason_PERSON_ALREADY_LINKED, "person_linked",
			map[string]string{"person": person, "issuer": identity.Issuer})
	case "identity_unlinked":
		return apierr.PermissionDenied("membership.identity_unlinked")
	}
	return err
}

// GetRoleBinding reads a binding: admins and the person it binds.
func (s *Service) GetRoleBinding(ctx context.Context, p auth.Principal, name string) (*membershipv1.RoleBinding, error) {
	id, err := ParseRoleBindingName(name)
	if err != nil {
		return nil, err
	}
	rb, err := s.repo.GetRoleBinding(ctx, id)
	if err != nil {
		return nil, notFound(err, name)
	}
	if err := s.ownOrAdmin(ctx, p, rb.GetPerson(), apierr.NotFound(name)); err != nil {
		return nil, err
	}
	return rb, nil
}

// ListRoleBindings pages through bindings, oldest grant first: admins, or
// anyone for their own person.
func (s *Service) ListRoleBindings(ctx context.Context, p auth.Principal, req *membershipv1.ListRoleBindingsRequest) ([]*membershipv1.RoleBinding, string, error) {
	if req.GetPerson() != "" {
		if _, err := ParsePersonName(req.GetPerson()); err != nil {
			return nil, "", apierr.InvalidArgument(nameForm("person", req.GetPerson(), personPattern))
		}
	}
	if !p.IsAdmin() {
		acting, err := s.actingPerson(ctx, p)
		if err != nil {
			return nil, "", err
		}
		if req.GetPerson() == "" || req.GetPerson() != acting {
			return nil, "", apierr.PermissionDenied("membership.list_role_bindings")
		}
	}
	pg, err := s.pages.Parse(req.GetPageSize(), req.GetPageToken(), "roleBindings", req.GetPerson(), req.GetRole().String(), req.GetState().String())
	if err != nil {
		return nil, "", err
	}
	page, err := s.repo.ListRoleBindings(ctx, RoleBindingFilter{Person: req.GetPerson(), Role: req.GetRole(), State: req.GetState()}, pg.After, pg.Size)
	if err != nil {
		return nil, "", err
	}
	return page.Items, pg.Next(page.Next), nil
}

// RevokeRoleBinding ends an ACTIVE binding; admins only. The last ACTIVE
// admin binding is kept (LAST_ADMIN), so the branch is never left without
// an admin to grant roles.
func (s *Service) RevokeRoleBinding(ctx context.Context, p auth.Principal, req *membershipv1.RevokeRoleBindingRequest) (*membershipv1.RoleBinding, error) {
	name := req.GetName()
	id, err := ParseRoleBindingName(name)
	if err != nil {
		return nil, err
	}
	if err := requireAdmin(p, "role_bindings"); err != nil {
		return nil, err
	}
	if strings.TrimSpace(req.GetReason()) == "" {
		return nil, apierr.InvalidArgument(apierr.Field("reason", "membership.blank"))
	}
	load := func() (*membershipv1.RoleBinding, error) { return s.repo.GetRoleBinding(ctx, id) }
	return mutate(ctx, name, req.GetEtag(), load, nil, func(cur *membershipv1.RoleBinding) (*membershipv1.RoleBinding, error) {
		if cur.GetState() != membershipv1.RoleBindingState_ROLE_BINDING_STATE_ACTIVE {
			return nil, apierr.InvalidTransition(name, "revoke", cur.GetState().String())
		}
		// count is what the store conditions the revocation on: another
		// admin's revocation in between makes this one stale, and it is
		// judged again against the new count.
		count := 0
		if cur.GetRole() == membershipv1.Role_ROLE_ADMIN {
			if count, err = s.repo.ActiveRoleCount(ctx, membershipv1.Role_ROLE_ADMIN); err != nil {
				return nil, err
			}
			if count <= 1 {
				return nil, refusal(codes.FailedPrecondition, apiv1.ErrorReason_LAST_ADMIN, "last_admin", map[string]string{"role_binding": name})
			}
		}
		now := s.now()
		next := proto.Clone(cur).(*membershipv1.RoleBinding)
		next.State = membershipv1.RoleBindingState_ROLE_BINDING_STATE_REVOKED
		next.Revoker, next.RevokeTime, next.RevokeReason = p.Subject, timestamppb.New(now), req.GetReason()
		next.Etag = newEtag()
		ev := s.envelope(ctx, p, name)
		ev.Payload = &eventsv1.Envelope_RoleRevoked{RoleRevoked: &eventsv1.RoleRevoked{RoleBinding: next}}
		if err := s.repo.RevokeRoleBinding(ctx, next, cur.GetEtag(), count, ev); err != nil {
			return nil, err
		}
		return next, nil
	})
}

// Resolved is who a signed-in identity is, as membership knows it.
type Resolved struct {
	// Account is the LINKED account of the identity, "" if none.
	Account string
	// Person is the account's person, "" if none.
	Person string
	// Roles are the static roles of the person's ACTIVE bindings, sorted.
	Roles []string
}

// Resolve answers who p is: the person its token named (the static-key
// issuer's people/<id>) or else the one its identity's LINKED account
// names, and the static roles that person's ACTIVE bindings grant. An
// identity linked to no person resolves to no person and no roles; a
// token's roles claims count for nothing. With LinkVerifiedEmail, an
// OpenID Connect identity linked to no one may be linked here, by its
// verified e-mail (linkByEmail).
func (s *Service) Resolve(ctx context.Context, p auth.Principal) (Resolved, error) {
	var r Resolved
	if p.Identity.Issuer != "" {
		acct, err := s.repo.AccountByIdentity(ctx, p.Identity)
		if errors.Is(err, ErrNotFound) && s.linkVerifiedEmail && p.Subject == "" {
			acct, err = s.linkByEmail(ctx, p)
		}
		switch {
		case err == nil:
			r.Account, r.Person = acct.GetName(), accountPerson(acct.GetName())
		case !errors.Is(err, ErrNotFound):
			return Resolved{}, err
		}
	}
	if p.Subject != "" {
		r.Person = p.Subject
	}
	if r.Person == "" {
		return r, nil
	}
	held, err := s.repo.ActiveRoles(ctx, r.Person)
	if err != nil {
		return Resolved{}, err
	}
	r.Roles = make([]string, 0, len(held))
	for _, role := range held {
		if name, ok := Roles[role]; ok {
			r.Roles = append(r.Roles, name)
		}
	}
	slices.Sort(r.Roles)
	return r, nil
}

// NormalizeEmail is the form e-mail addresses are compared in: trimmed and
// lower-cased, the local part too (RFC 5321 lets a mail server tell
// cases apart there, but people and providers do not).
func NormalizeEmail(email string) string {
	return strings.ToLower(strings.TrimSpace(email))
}

// linkByEmail links p's identity, linked to no one, to the one person
// whose e-mail is p's verified email claim (LINK_METHOD_VERIFIED_EMAIL,
// an AccountLinked event) and returns the account; ErrNotFound when it
// links nothing, and p stays unlinked as without the option:
//
//   - the claim is not verified (email_verified true), or there is none;
//   - no person, or more than one, has that e-mail: which one is meant is
//     an admin's call, by invitation;
//   - the person is linked to another identity of the issuer already;
//   - an account of this identity was ever unlinked (an admin's or the
//     person's unlink holds; the store marks it, and an account unlinked
//     before the mark existed is found among the person's own accounts).
//
// Concurrent first calls of the identity race in the store, whose
// identity and person_issuer claims let one link; the others, refused or
// finding the person linked, read the link it made.
//
// The person is read in the people slot and linked in the access slot,
// so an e-mail changed between the two steps may still link the identity
// to the person who had it a moment before, as if it had signed in then.
func (s *Service) linkByEmail(ctx context.Context, p auth.Principal) (*membershipv1.Account, error) {
	if !p.EmailVerified || NormalizeEmail(p.Email) == "" || p.Identity.Subject == "" {
		return nil, ErrNotFound
	}
	unlinked, err := s.repo.IdentityUnlinked(ctx, p.Identity)
	if err != nil {
		return nil, err
	}
	if unlinked {
		return nil, ErrNotFound
	}
	person, err := s.onlyPersonWithEmail(ctx, p.Email)
	if err != nil {
		return nil, err
	}
	refuse, err := s.linkedElsewhere(ctx, person, p.Identity)
	if err != nil {
		return nil, err
	}
	if refuse {
		// Perhaps by this identity's own call at the same moment.
		return s.repo.AccountByIdentity(ctx, p.Identity)
	}
	acct := newAccount(person, p.Identity, membershipv1.LinkMethod_LINK_METHOD_VERIFIED_EMAIL, s.now())
	// The person signing in acts, as one claiming an invitation does.
	err = s.repo.LinkAccountFirstTime(ctx, acct, s.linkedEvent(ctx, person, acct))
	var conflict *ConflictError
	switch {
	case errors.As(err, &conflict):
		// Another call of the same identity linked it first (identity, or
		// person_issuer when it linked the same person): its link, if
		// that is what happened; no one when the person was linked to
		// another identity, or the identity unlinked, meanwhile.
		return s.repo.AccountByIdentity(ctx, p.Identity)
	case err != nil:
		return nil, err
	}
	return acct, nil
}

// onlyPersonWithEmail is the one person ("people/<id>") whose e-mail
// normalises as email does; ErrNotFound when there is none or several.
// Each person the index names is read, so an index entry an older version
// left behind (an e-mail changed since) counts for nothing.
func (s *Service) onlyPersonWithEmail(ctx context.Context, email string) (string, error) {
	ids, err := s.repo.PeopleByEmail(ctx, email)
	if err != nil {
		return "", err
	}
	var found []string
	for _, id := range ids {
		person, err := s.repo.GetPerson(ctx, id)
		if errors.Is(err, ErrNotFound) {
			continue
		}
		if err != nil {
			return "", err
		}
		if NormalizeEmail(person.GetContact().GetEmail()) != NormalizeEmail(email) {
			continue
		}
		if found = append(found, person.GetName()); len(found) > 1 {
			return "", ErrNotFound
		}
	}
	if len(found) != 1 {
		return "", ErrNotFound
	}
	return found[0], nil
}

// linkedElsewhere reports whether person's own accounts stand in the way
// of linking id to it: a LINKED one of id's issuer (the store would refuse
// it too), or an earlier account of id itself, unlinked (before the store
// marked unlinked identities, see IdentityUnlinked).
func (s *Service) linkedElsewhere(ctx context.Context, person string, id auth.Identity) (bool, error) {
	personID, err := ParsePersonName(person)
	if err != nil {
		return false, err
	}
	after := ""
	for {
		pg, err := s.repo.ListAccounts(ctx, personID, after, 100)
		if err != nil {
			return false, err
		}
		for _, a := range pg.Items {
			if a.GetIssuer() != id.Issuer {
				continue
			}
			if a.GetState() == membershipv1.AccountState_ACCOUNT_STATE_LINKED || a.GetSubject() == id.Subject {
				return true, nil
			}
		}
		if pg.Next == "" {
			return false, nil
		}
		after = pg.Next
	}
}

// Linked answers, for the server's authentication, who p is: the person
// and the roles bound to that person (Resolve).
func (s *Service) Linked(ctx context.Context, p auth.Principal) (auth.Linked, error) {
	r, err := s.Resolve(ctx, p)
	if err != nil {
		return auth.Linked{}, err
	}
	return auth.Linked{Person: r.Person, Roles: r.Roles}, nil
}

// LookupCaller answers who the caller is: p as the server resolved it for
// this very call (Resolve: the person and the roles bound to them), or an
// identity linked to no one (Subject ""). Only the account's name is read
// here, for a caller linked through one: resolving again would repeat the
// server's reads on the path every other service takes for each new token.
func (s *Service) LookupCaller(ctx context.Context, p auth.Principal) (*membershipv1.LookupCallerResponse, error) {
	if p.Identity.Issuer == "" || p.Identity.Subject == "" {
		return nil, apierr.Unauthenticated("token_required")
	}
	resp := &membershipv1.LookupCallerResponse{Issuer: p.Identity.Issuer, Subject: p.Identity.Subject, Person: p.Subject, Roles: p.Roles}
	if p.Subject == "" {
		return resp, nil
	}
	acct, err := s.repo.AccountByIdentity(ctx, p.Identity)
	switch {
	case err == nil:
		resp.Account = acct.GetName()
	case !errors.Is(err, ErrNotFound):
		return nil, err
	}
	return resp, nil
}
