// Package peers answers the standards domain's questions to the other
// services over gRPC: members from membership (through its own client),
// council resolutions from governance, promotion activities from
// activities. Every call has a deadline and carries the caller's token;
// an unreachable peer is UNAVAILABLE, and the use case writes nothing.
package peers

import (
	"context"
	"errors"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	mclient "github.com/tjsia/chapterhouse/contracts/membership/client"
	"github.com/tjsia/chapterhouse/platform/auth"
	"github.com/tjsia/chapterhouse/platform/grpcclient"
	activitiesv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/activities/v1"
	governancev1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/governance/v1"
	membershipv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/membership/v1"

	"github.com/tjsia/chapterhouse/services/standards/internal/domain"
)

// ActivitiesService is the gRPC service the activities peer calls, for
// grpcclient.Dial (governance's is its client package's Service).
const ActivitiesService = "chapterhouse.activities.v1.ActivitiesService"

// Members implements domain.Members.
type Members struct{ c *mclient.Client }

// NewMembers returns membership's answers over conn.
func NewMembers(conn grpc.ClientConnInterface, timeout time.Duration) *Members {
	return &Members{c: mclient.New(conn, timeout)}
}

// Member returns a member.
func (m *Members) Member(ctx context.Context, name string) (*membershipv1.Member, error) {
	member, err := m.c.Member(ctx, name)
	if errors.Is(err, mclient.ErrNotFound) {
		return nil, domain.ErrNotFound
	}
	return member, err
}

// Represented lists the ACTIVE members whose person is person: a
// suspended or terminated member's representative acts for it no more.
func (m *Members) Represented(ctx context.Context, branch, person string) ([]string, error) {
	return m.c.RepresentedActive(ctx, branch, person)
}

// Resolutions implements domain.Resolutions.
type Resolutions struct {
	client  governancev1.GovernanceServiceClient
	timeout time.Duration
}

// NewResolutions returns governance's answers over conn.
func NewResolutions(conn grpc.ClientConnInterface, timeout time.Duration) *Resolutions {
	return &Resolutions{client: governancev1.NewGovernanceServiceClient(conn), timeout: timeout}
}

// Resolution reads a council resolution.
func (r *Resolutions) Resolution(ctx context.Context, name string) (*governancev1.Resolution, error) {
	ctx, cancel := grpcclient.OnBehalf(ctx, r.timeout)
	defer cancel()
	res, err := r.client.GetResolution(ctx, &governancev1.GetResolutionRequest{Name: name})
	if status.Code(err) == codes.NotFound {
		return nil, domain.ErrNotFound
	}
	if err != nil {
		return nil, grpcclient.PeerError("governance", err)
	}
	return res, nil
}

// Activities implements domain.Activities.
type Activities struct {
	client  activitiesv1.ActivitiesServiceClient
	timeout time.Duration
}

// NewActivities returns activities over conn.
func NewActivities(conn grpc.ClientConnInterface, timeout time.Duration) *Activities {
	return &Activities{client: activitiesv1.NewActivitiesServiceClient(conn), timeout: timeout}
}

// CreateActivity creates a DRAFT activity with the caller's token; with
// the same id, a repeat returns the activity created first.
func (a *Activities) CreateActivity(ctx context.Context, parent string, act *activitiesv1.Activity, id string) (*activitiesv1.Activity, error) {
	ctx, cancel := grpcclient.OnBehalf(ctx, a.timeout)
	defer cancel()
	created, err := a.client.CreateActivity(ctx, &activitiesv1.CreateActivityRequest{Parent: parent, Activity: act, ActivityId: id})
	if err != nil {
		// The activity may exist though its reply was lost: the id is
		// derived from the promotion, so the client's retry finds it.
		return nil, grpcclient.PeerWriteError("activities", err)
	}
	return created, nil
}

// Activity reads an activity as p reads it, with p's token (none for a
// caller without one): NOT_FOUND, for a missing activity or one hidden
// from p, is domain.ErrNotFound.
func (a *Activities) Activity(ctx context.Context, p auth.Principal, name string) (*activitiesv1.Activity, error) {
	ctx, cancel := grpcclient.OnBehalf(auth.WithPrincipal(ctx, p), a.timeout)
	defer cancel()
	act, err := a.client.GetActivity(ctx, &activitiesv1.GetActivityRequest{Name: name})
	if status.Code(err) == codes.NotFound {
		return nil, domain.ErrNotFound
	}
	if err != nil {
		return nil, grpcclient.PeerError("activities", err)
	}
	return act, nil
}
