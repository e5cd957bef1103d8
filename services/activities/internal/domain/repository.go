package domain

import (
	"context"
	"errors"

	"github.com/tjsia/chapterhouse/platform/page"
	activitiesv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/activities/v1"
	eventsv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/events/v1"
)

// Errors a Repository reports.
var (
	ErrNotFound = errors.New("not found")
	// ErrStale: the record, or the activity's registrations, changed since
	// they were read.
	ErrStale = errors.New("stale")
	// ErrExists: the id or claim is taken.
	ErrExists = errors.New("exists")
)

// IsStale reports a write that lost its race (ErrStale).
func IsStale(err error) bool { return errors.Is(err, ErrStale) }

// RegisterRefusal explains why the register or cancel script refused.
type RegisterRefusal struct {
	// Reason, registering: "STATE" (the activity is not PUBLISHED),
	// "NOT_OPEN", "CLOSED"; cancelling: "STATE" (the registration is
	// neither CONFIRMED nor WAITLISTED), "ACTSTATE" (the activity is not
	// PUBLISHED).
	Reason string
	// Detail: the state (without its enum prefix), or the window bound
	// in Unix milliseconds.
	Detail string
}

func (r *RegisterRefusal) Error() string { return "registration refused: " + r.Reason + " " + r.Detail }

// Snapshot is an activity with every registration, as of version Ver.
type Snapshot struct {
	Activity      *activitiesv1.Activity
	Registrations []*activitiesv1.Registration
	// Waitlist is the queue, head first (person ids).
	Waitlist []string
	Ver      string
}

// Repository stores activities, registrations and certificates.
type Repository interface {
	CreateActivity(ctx context.Context, branch string, a *activitiesv1.Activity, ev *eventsv1.Envelope) error
	GetActivity(ctx context.Context, branch, id string) (*activitiesv1.Activity, error)
	ListActivities(ctx context.Context, branch, after string, size int, keep func(*activitiesv1.Activity) bool) (page.Page[*activitiesv1.Activity], error)
	// SaveActivity replaces prev by a, if the stored activity is still prev;
	// for changes that do not touch registrations.
	SaveActivity(ctx context.Context, branch string, a, prev *activitiesv1.Activity, evs ...*eventsv1.Envelope) error

	Snapshot(ctx context.Context, branch, id string) (*Snapshot, error)
	// ApplySnapshot writes a (possibly nil) activity change and registration
	// changes if nothing changed since snap was taken.
	ApplySnapshot(ctx context.Context, branch string, snap *Snapshot, a *activitiesv1.Activity, changes []*activitiesv1.Registration, evs ...*eventsv1.Envelope) error

	// Register decides CONFIRMED or WAITLISTED atomically. It returns the
	// stored registration and whether it already existed.
	Register(ctx context.Context, branch, activityID string, reg *activitiesv1.Registration,
		events func(confirmed, waitlisted *activitiesv1.Registration) (*eventsv1.Envelope, *eventsv1.Envelope)) (*activitiesv1.Registration, bool, error)
	// CancelRegistration cancels and, when a place frees, promotes the
	// head of the waitlist in the same step.
	CancelRegistration(ctx context.Context, branch, activityID, person, reason, clientEtag string,
		events func(cancelled, promoted *activitiesv1.Registration) []*eventsv1.Envelope) (*activitiesv1.Registration, *activitiesv1.Registration, error)
	GetRegistration(ctx context.Context, branch, activityID, person string) (*activitiesv1.Registration, error)
	ListRegistrations(ctx context.Context, branch, activityID string) ([]*activitiesv1.Registration, error)

	// CreateCertificate claims one certificate per registration; ErrExists
	// with the existing certificate when one is there.
	CreateCertificate(ctx context.Context, c *activitiesv1.Certificate, ev *eventsv1.Envelope) (*activitiesv1.Certificate, error)
	GetCertificate(ctx context.Context, id string) (*activitiesv1.Certificate, error)
	CertificateByCode(ctx context.Context, code string) (*activitiesv1.Certificate, error)
	SaveCertificate(ctx context.Context, c *activitiesv1.Certificate, prevEtag string, ev *eventsv1.Envelope) error
	ListCertificates(ctx context.Context, after string, size int, keep func(*activitiesv1.Certificate) bool) (page.Page[*activitiesv1.Certificate], error)
}
