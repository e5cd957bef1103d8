package domain

import (
	"context"
	"errors"
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
	GetPerson(ctx context.Context, id string) (*membershipv1.Person, error)
	UpdatePerson(ctx context.Context, p *membershipv1.Person, prevEtag, prevOrganization string, ev *eventsv1.Envelope) error
	ListPeople(ctx context.Context, organization, after string, size int) (page.Page[*membershipv1.Person], error)

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
}

// MemberFilter narrows ListMembers; empty fields match everything.
type MemberFilter struct {
	State        membershipv1.MemberState
	Person       string
	Organization string
}
