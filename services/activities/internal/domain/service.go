package domain

import (
	"context"
	"errors"
	"time"

	"github.com/tjsia/chapterhouse/platform/apierr"
	"github.com/tjsia/chapterhouse/platform/auth"
	"github.com/tjsia/chapterhouse/platform/events"
	"github.com/tjsia/chapterhouse/platform/ids"
	"github.com/tjsia/chapterhouse/platform/resourcename"
	activitiesv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/activities/v1"
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

// Service is the activities use cases.
type Service struct {
	repo        Repository
	members     Members
	branches    map[string]bool
	now         func() time.Time
	minExchange int
}

// Config configures the use cases.
type Config struct {
	Branches []string
	Now      func() time.Time
	// MinExchangeActivities is min_exchange_activities_per_year (A1).
	MinExchangeActivities int
}

// NewService returns the use cases.
func NewService(repo Repository, members Members, cfg Config) *Service {
	set := map[string]bool{}
	for _, b := range cfg.Branches {
		set[b] = true
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.MinExchangeActivities <= 0 {
		cfg.MinExchangeActivities = DefaultMinExchangeActivities
	}
	return &Service{repo: repo, members: members, branches: set, now: cfg.Now, minExchange: cfg.MinExchangeActivities}
}

func newEtag() string { return ids.Random()[:16] }

func (s *Service) envelope(ctx context.Context, p auth.Principal, subject string) *eventsv1.Envelope {
	return events.NewEnvelope(ctx, Source, subject, p.Subject, s.now())
}

// IsOrganiser: admins and the activity's organiser manage it.
func IsOrganiser(p auth.Principal, a *activitiesv1.Activity) bool {
	return p.IsAdmin() || (p.Subject != "" && p.Subject == a.GetOrganizer())
}

func isPublic(a *activitiesv1.Activity) bool {
	return a.GetState() == activitiesv1.ActivityState_ACTIVITY_STATE_PUBLISHED || a.GetState() == activitiesv1.ActivityState_ACTIVITY_STATE_COMPLETED
}

// parseName accepts "-" as the last id; callers that need a real id
// refuse it themselves.
func parseName(name string, collections ...string) ([]string, error) {
	return resourcename.ParseWithWildcard(name, collections...)
}

func (s *Service) branch(name string) (string, error) {
	ids, err := parseName(name, "branches")
	if err != nil {
		return "", err
	}
	if !s.branches[ids[0]] {
		return "", apierr.NotFound(name)
	}
	return ids[0], nil
}

func (s *Service) activityName(name string) (branch, id string, err error) {
	ids, err := parseName(name, "branches", "activities")
	if err != nil {
		return "", "", err
	}
	if !s.branches[ids[0]] || ids[1] == "-" {
		return "", "", apierr.NotFound(name)
	}
	return ids[0], ids[1], nil
}

func (s *Service) registrationName(name string) (branch, activity, person string, err error) {
	ids, err := parseName(name, "branches", "activities", "registrations")
	if err != nil {
		return "", "", "", err
	}
	if !s.branches[ids[0]] || ids[1] == "-" || ids[2] == "-" {
		return "", "", "", apierr.NotFound(name)
	}
	return ids[0], ids[1], ids[2], nil
}

func notFound(err error, name string) error {
	if errors.Is(err, ErrNotFound) {
		return apierr.NotFound(name)
	}
	return err
}

// loadActivity reads an activity; callers who may not see it get NOT_FOUND.
func (s *Service) loadActivity(ctx context.Context, p auth.Principal, name string) (string, string, *activitiesv1.Activity, error) {
	branch, id, err := s.activityName(name)
	if err != nil {
		return "", "", nil, err
	}
	a, err := s.repo.GetActivity(ctx, branch, id)
	if err != nil {
		return "", "", nil, notFound(err, name)
	}
	if !isPublic(a) && !IsOrganiser(p, a) {
		return "", "", nil, apierr.NotFound(name)
	}
	return branch, id, a, nil
}
