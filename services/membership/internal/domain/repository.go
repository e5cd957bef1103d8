package domain

import (
	"context"
	"errors"
	"github.com/tjsia/chapterhouse/platform/auth"
	"github.com/tjsia/chapterhouse/platform/page"

	eventsv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/events/v1"
	membershipv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/membership/v1"
)

// Errors a Repository reports.
var (
	ErrNotFound = errors.New("not found")
	// ErrStale: the record changed since it was read (etag mismatch).
	ErrStale = errors.New("stale record")
)

// ConflictError: a uniqueness claim is held by Owner.
type ConflictError struct {
	// Claim is what is unique: "credit_code", "person_id",
	// "open_application", "membership".
	Claim string
	Owner string
}

func (e *ConflictError) Error() string { return "conflict on " + e.Claim + " with " + e.Owner }

// MemberIndexChange says how a member write changes the member indexes.
type MemberIndexChange struct {
	// ReleaseSubject frees the one-membership claim (on termination).
	ReleaseSubject string
	// RemovePerson / AddPerson update the person → member index.
	RemovePerson string
	AddPerson    string
}

// Repository stores membership data. Every write is atomic with its events.
type Repository interface {
	CreateOrganization(ctx context.Context, org *membershipv1.Organization, ev *eventsv1.Envelope) error
	GetOrganization(ctx context.Context, id string) (*membershipv1.Organization, error)
	UpdateOrganization(ctx context.Context, org *membershipv1.Organization, prevEtag string, ev *eventsv1.Envelope) error
	ListOrganizations(ctx context.Context, after string, size int) (page.Page[*membershipv1.Organization], error)

	CreatePerson(ctx context.Context, p *membershipv1.Person, ev *eventsv1.Envelope) error
	// RegisterPerson is CreatePerson for a person an identity registers
	// itself, keeping which identity did (PersonRegistrant).
	RegisterPerson(ctx context.Context, p *membershipv1.Person, ev *eventsv1.Envelope, registrant auth.Identity) error
	// PersonRegistrant is the identity that registered the person itself;
	// ErrNotFound when none did.
	PersonRegistrant(ctx context.Context, personID string) (auth.Identity, error)
	GetPerson(ctx context.Context, id string) (*membershipv1.Person, error)
	// UpdatePerson replaces p if its etag is still prevEtag; prevOrganization
	// and prevEmail are the record's at prevEtag, for the indexes.
	UpdatePerson(ctx context.Context, p *membershipv1.Person, prevEtag, prevOrganization, prevEmail string, ev *eventsv1.Envelope) error
	ListPeople(ctx context.Context, organization, after string, size int) (page.Page[*membershipv1.Person], error)
	// PeopleByEmail reads the ids of the people whose contact.email
	// normalises (NormalizeEmail) as email does. The index is written with
	// each person, but may still name a person whose e-mail has changed
	// since (a record an older version wrote): check the record.
	PeopleByEmail(ctx context.Context, email string) ([]string, error)

	// CreateApplication claims the applicant's one open application and
	// fails with ConflictError when it is taken, or when the applicant is
	// already a member (claim "membership").
	CreateApplication(ctx context.Context, branch string, app *membershipv1.Application, applicant string, ev *eventsv1.Envelope) error
	GetApplication(ctx context.Context, branch, id string) (*membershipv1.Application, error)
	// GetApplications reads the applications of branch with ids in one
	// round trip; those that do not exist are left out.
	GetApplications(ctx context.Context, branch string, ids []string) ([]*membershipv1.Application, error)
	// SaveApplication writes a state change; closed releases the open claim.
	SaveApplication(ctx context.Context, branch string, app *membershipv1.Application, prevEtag, applicant string, closed bool, events ...*eventsv1.Envelope) error
	// ApproveApplication closes app and creates member in one step.
	ApproveApplication(ctx context.Context, branch string, app *membershipv1.Application, prevEtag, applicant string, member *membershipv1.Member, events ...*eventsv1.Envelope) error
	ListApplications(ctx context.Context, branch string, state membershipv1.ApplicationState, after string, size int) (page.Page[*membershipv1.Application], error)
	// OpenApplication returns the id of applicant's open application, or "".
	OpenApplication(ctx context.Context, branch, applicant string) (string, error)

	GetMember(ctx context.Context, branch, id string) (*membershipv1.Member, error)
	SaveMember(ctx context.Context, branch string, m *membershipv1.Member, prevEtag string, change MemberIndexChange, events ...*eventsv1.Envelope) error
	ListMembers(ctx context.Context, branch string, filter MemberFilter, after string, size int) (page.Page[*membershipv1.Member], error)

	AccessRepository
}

// AccessRepository stores invitations, accounts and role bindings, all in
// one slot, so a claim links an identity and uses up its invitation in one
// step.
type AccessRepository interface {
	// CreateInvitation stores inv and its code's hash (CodeHash).
	CreateInvitation(ctx context.Context, inv *membershipv1.Invitation, codeHash string, ev *eventsv1.Envelope) error
	GetInvitation(ctx context.Context, id string) (*membershipv1.Invitation, error)
	// InvitationByCode reads the invitation whose code hashes to codeHash,
	// whatever its state; ErrNotFound when none.
	InvitationByCode(ctx context.Context, codeHash string) (*membershipv1.Invitation, error)
	SaveInvitation(ctx context.Context, inv *membershipv1.Invitation, prevEtag string, ev *eventsv1.Envelope) error
	// ClaimInvitation stores inv, claimed, if its etag is still prevEtag
	// (ErrStale), and acct, linking its identity, in one step: a
	// ConflictError "identity" (Owner: the account holding it) when the
	// identity is linked, "person_issuer" when the person is linked to
	// another identity of the issuer.
	ClaimInvitation(ctx context.Context, inv *membershipv1.Invitation, prevEtag string, acct *membershipv1.Account, ev *eventsv1.Envelope) error

	GetAccount(ctx context.Context, person, id string) (*membershipv1.Account, error)
	// AccountByIdentity reads the LINKED account of id; ErrNotFound when
	// none.
	AccountByIdentity(ctx context.Context, id auth.Identity) (*membershipv1.Account, error)
	ListAccounts(ctx context.Context, person, after string, size int) (page.Page[*membershipv1.Account], error)
	// UnlinkAccount stores acct, unlinked, if its etag is still prevEtag,
	// freeing its identity and its person's place for the issuer.
	UnlinkAccount(ctx context.Context, acct *membershipv1.Account, prevEtag string, ev *eventsv1.Envelope) error

	// CreateRoleBinding stores rb, ACTIVE: a ConflictError "role" (Owner:
	// the binding) when the person holds the role already; with
	// onlyFirstAdmin, "admin_exists" when any ACTIVE admin binding exists.
	CreateRoleBinding(ctx context.Context, rb *membershipv1.RoleBinding, onlyFirstAdmin bool, ev *eventsv1.Envelope) error
	// LinkAccount links acct's identity to its person: ConflictError
	// "identity" or "person_issuer" as for ClaimInvitation.
	LinkAccount(ctx context.Context, acct *membershipv1.Account, ev *eventsv1.Envelope) error
	// LinkAccountFirstTime is LinkAccount for an identity no account of
	// which was ever unlinked: ConflictError "identity_unlinked" when one
	// was (as IdentityUnlinked reads).
	LinkAccountFirstTime(ctx context.Context, acct *membershipv1.Account, ev *eventsv1.Envelope) error
	// IdentityUnlinked reports whether an account of id was unlinked.
	IdentityUnlinked(ctx context.Context, id auth.Identity) (bool, error)
	// BootstrapFirstAdmin stores rb, the first ACTIVE admin binding
	// ("admin_exists" when there is one), and acct, linking its identity
	// to the same person ("identity", "person_issuer" as for
	// ClaimInvitation), in one step with both events.
	BootstrapFirstAdmin(ctx context.Context, rb *membershipv1.RoleBinding, rbEv *eventsv1.Envelope, acct *membershipv1.Account, acctEv *eventsv1.Envelope) error
	GetRoleBinding(ctx context.Context, id string) (*membershipv1.RoleBinding, error)
	ListRoleBindings(ctx context.Context, filter RoleBindingFilter, after string, size int) (page.Page[*membershipv1.RoleBinding], error)
	// RevokeRoleBinding stores rb, revoked, if its etag is still prevEtag
	// and, for an admin binding, the ACTIVE admin bindings still number
	// activeAdmins (ErrStale otherwise).
	RevokeRoleBinding(ctx context.Context, rb *membershipv1.RoleBinding, prevEtag string, activeAdmins int, ev *eventsv1.Envelope) error
	// ActiveRoleCount is how many ACTIVE bindings of role there are.
	ActiveRoleCount(ctx context.Context, role membershipv1.Role) (int, error)
	// ActiveRoles are the roles person (people/{id}) holds by ACTIVE
	// bindings.
	ActiveRoles(ctx context.Context, person string) ([]membershipv1.Role, error)
}

// MemberFilter narrows ListMembers; empty fields match everything.
type MemberFilter struct {
	State        membershipv1.MemberState
	Person       string
	Organization string
}
