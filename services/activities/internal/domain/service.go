package domain

import (
	"context"
	"errors"
	"slices"
	"time"

	"google.golang.org/grpc/codes"

	"github.com/tjsia/chapterhouse/contracts/governance/branches"
	"github.com/tjsia/chapterhouse/platform/apierr"
	"github.com/tjsia/chapterhouse/platform/auth"
	"github.com/tjsia/chapterhouse/platform/events"
	"github.com/tjsia/chapterhouse/platform/ids"
	"github.com/tjsia/chapterhouse/platform/pagetoken"
	"github.com/tjsia/chapterhouse/platform/resourcename"
	activitiesv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/activities/v1"
	apiv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/api/v1"
	eventsv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/events/v1"
)

// Source is the events' source name.
const Source = "activities"

// Members answers membership questions; the implementation asks the
// membership service over gRPC and returns UNAVAILABLE when it cannot.
type Members interface {
	// MemberFor returns the active member through which person qualifies
	// for members-only activities in branch, or "" when there is none.
	MemberFor(ctx context.Context, branch, person string) (string, error)
	// DisplayName returns the person's display name.
	DisplayName(ctx context.Context, person string) (string, error)
}

// Branches are governance's branches as this service knows them: which
// exist, their charter parameters (A1's minimum), and who serves as each
// one's chair and secretary-general.
type Branches interface {
	branches.Lookup
	// Leaders are the people serving today as the branch's chair or
	// secretary-general, as the directory knows them, a moment behind
	// governance.
	Leaders(ctx context.Context, branch string) ([]string, error)
	// Standing is governance's own answer, asked only before a refusal
	// (creating an activity, the first act of a new chair).
	Standing(ctx context.Context, branch, person string) (branches.Standing, error)
}

// Service is the activities use cases.
type Service struct {
	repo     Repository
	members  Members
	branches Branches
	pages    *pagetoken.Codec
	now      func() time.Time
}

// Config configures the use cases.
type Config struct {
	// Branches are governance's (a calendar is kept for each).
	Branches Branches
	// Pages signs the lists' page tokens.
	Pages *pagetoken.Codec
	Now   func() time.Time
}

// NewService returns the use cases.
func NewService(repo Repository, members Members, cfg Config) *Service {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Service{repo: repo, members: members, branches: cfg.Branches, pages: cfg.Pages, now: cfg.Now}
}

func newEtag() string { return ids.Random()[:16] }

func (s *Service) envelope(ctx context.Context, p auth.Principal, subject string) *eventsv1.Envelope {
	return events.NewEnvelope(ctx, Source, subject, p.Subject, s.now())
}

// IsOrganiser: admins and the activity's organiser manage it.
func IsOrganiser(p auth.Principal, a *activitiesv1.Activity) bool {
	return p.IsAdmin() || (p.Subject != "" && p.Subject == a.GetOrganizer())
}

// organiserCheck reports whether the caller manages an activity.
type organiserCheck func(a *activitiesv1.Activity) bool

// organisers is who manages the branch's activities: admins, each
// activity's organiser, and the branch's serving chair and
// secretary-general, whose unit runs the branch's business. The leaders
// are read once per call.
func (s *Service) organisers(ctx context.Context, p auth.Principal, branch string) (organiserCheck, error) {
	var leaders []string
	if !p.IsAdmin() && p.Subject != "" {
		var err error
		if leaders, err = s.branches.Leaders(ctx, branch); err != nil {
			return nil, err
		}
	}
	return func(a *activitiesv1.Activity) bool {
		return IsOrganiser(p, a) || (p.Subject != "" && slices.Contains(leaders, p.Subject))
	}, nil
}

func isPublic(a *activitiesv1.Activity) bool {
	return a.GetState() == activitiesv1.ActivityState_ACTIVITY_STATE_PUBLISHED || a.GetState() == activitiesv1.ActivityState_ACTIVITY_STATE_COMPLETED
}

// parseName accepts "-" as the last id; callers that need a real id
// refuse it themselves.
func parseName(name string, collections ...string) ([]string, error) {
	return resourcename.ParseWithWildcard(name, collections...)
}

func (s *Service) branch(ctx context.Context, name string) (string, error) {
	ids, err := parseName(name, "branches")
	if err != nil {
		return "", err
	}
	if ok, err := branches.Known(ctx, s.branches, ids[0]); err != nil || !ok {
		return "", unknownOr(err, name)
	}
	return ids[0], nil
}

// refuse is an error with code and reason whose text is
// "error.activities.<what>": facts, as alternating names and values, fill
// the text and are the error's metadata, for clients to read.
func refuse(code codes.Code, reason apiv1.ErrorReason, what string, facts ...string) error {
	metadata := make(map[string]string, len(facts)/2)
	for i := 0; i+1 < len(facts); i += 2 {
		metadata[facts[i]] = facts[i+1]
	}
	return apierr.New(code, reason, metadata, apierr.Text("error.activities."+what, facts...))
}

func unknownOr(err error, name string) error {
	if err != nil {
		return err
	}
	return apierr.NotFound(name)
}

func (s *Service) activityName(ctx context.Context, name string) (branch, id string, err error) {
	ids, err := parseName(name, "branches", "activities")
	if err != nil {
		return "", "", err
	}
	if ids[1] == "-" {
		return "", "", apierr.NotFound(name)
	}
	if ok, err := branches.Known(ctx, s.branches, ids[0]); err != nil || !ok {
		return "", "", unknownOr(err, name)
	}
	return ids[0], ids[1], nil
}

func (s *Service) registrationName(ctx context.Context, name string) (branch, activity, person string, err error) {
	ids, err := parseName(name, "branches", "activities", "registrations")
	if err != nil {
		return "", "", "", err
	}
	if ids[1] == "-" || ids[2] == "-" {
		return "", "", "", apierr.NotFound(name)
	}
	if ok, err := branches.Known(ctx, s.branches, ids[0]); err != nil || !ok {
		return "", "", "", unknownOr(err, name)
	}
	return ids[0], ids[1], ids[2], nil
}

func notFound(err error, name string) error {
	if errors.Is(err, ErrNotFound) {
		return apierr.NotFound(name)
	}
	return err
}

// managing parses an activity's name and tells whether the caller manages
// the activities of its branch, for a write that reads the activity itself.
func (s *Service) managing(ctx context.Context, p auth.Principal, name string) (branch, id string, organises organiserCheck, err error) {
	if branch, id, err = s.activityName(ctx, name); err != nil {
		return "", "", nil, err
	}
	if organises, err = s.organisers(ctx, p, branch); err != nil {
		return "", "", nil, err
	}
	return branch, id, organises, nil
}

// mayView is the one rule for who sees an activity, and with it
// everything under it (its registrations, their check-in, the issue of
// their certificates): anyone once it is published or completed, its
// organisers (organiserCheck) always. A draft or a cancelled activity is
// theirs alone.
func mayView(a *activitiesv1.Activity, organiser bool) bool {
	return isPublic(a) || organiser
}

// requireVisible answers a caller who may not see a (mayView) exactly as
// a missing activity is answered: NOT_FOUND naming name, the name the
// caller sent. Every method that names an activity or something under it
// asks before any answer of its own (a PERMISSION_DENIED, a state error,
// an empty list), each of which would tell a hidden activity from one
// that does not exist.
func requireVisible(a *activitiesv1.Activity, organiser bool, name string) error {
	if mayView(a, organiser) {
		return nil
	}
	return apierr.NotFound(name)
}

// requireOrganiser lets organisers through; a caller who may not see the
// activity is told it is not found (requireVisible), one who may is
// refused: only the activity's organisers may do action (a method's verb).
func requireOrganiser(a *activitiesv1.Activity, organiser bool, name, action string) error {
	if organiser {
		return nil
	}
	if err := requireVisible(a, false, name); err != nil {
		return err
	}
	switch action {
	case "checkIn":
		return apierr.PermissionDenied("activities.check_in", "activity", a.GetName())
	case "issue":
		return apierr.PermissionDenied("activities.issue", "activity", a.GetName())
	}
	return apierr.PermissionDenied("activities.manage", "activity", a.GetName(), "action", action)
}

// visibleActivity reads the activity branch/id as the caller (organises)
// may see it: NOT_FOUND naming name when it is missing or hidden.
// organiser says whether the caller manages it.
func (s *Service) visibleActivity(ctx context.Context, organises organiserCheck, branch, id, name string) (a *activitiesv1.Activity, organiser bool, err error) {
	a, err = s.repo.GetActivity(ctx, branch, id)
	if err != nil {
		return nil, false, notFound(err, name)
	}
	organiser = organises(a)
	if err := requireVisible(a, organiser, name); err != nil {
		return nil, false, err
	}
	return a, organiser, nil
}

// seenActivity is visibleActivity for p. The branch's leaders are read
// before the activity, so a missing and a hidden activity cost the same
// calls and fail alike when the directory cannot answer.
func (s *Service) seenActivity(ctx context.Context, p auth.Principal, branch, id, name string) (*activitiesv1.Activity, bool, error) {
	organises, err := s.organisers(ctx, p, branch)
	if err != nil {
		return nil, false, err
	}
	return s.visibleActivity(ctx, organises, branch, id, name)
}

// loadActivity reads an activity; callers who may not see it get NOT_FOUND.
// organiser says whether the caller manages it.
func (s *Service) loadActivity(ctx context.Context, p auth.Principal, name string) (branch, id string, a *activitiesv1.Activity, organiser bool, err error) {
	if branch, id, err = s.activityName(ctx, name); err != nil {
		return "", "", nil, false, err
	}
	if a, organiser, err = s.seenActivity(ctx, p, branch, id, name); err != nil {
		return "", "", nil, false, err
	}
	return branch, id, a, organiser, nil
}
