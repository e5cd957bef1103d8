// Package peers answers the governance domain's questions to the other
// services over gRPC, through each service's own client: people and
// members from membership, A1 from activities. Every call has a deadline
// and carries the caller's token, and governance's service credential
// (app.Run dials with it): membership authorises the caller, and shows
// governance the birth dates G4 is judged on, which the caller may not
// read. An unreachable peer is UNAVAILABLE, and the use case writes
// nothing.
package peers

import (
	"context"
	"errors"
	"time"

	"google.golang.org/grpc"

	aclient "github.com/tjsia/chapterhouse/contracts/activities/client"
	mclient "github.com/tjsia/chapterhouse/contracts/membership/client"
	"github.com/tjsia/chapterhouse/platform/apierr"
	activitiesv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/activities/v1"

	"github.com/tjsia/chapterhouse/services/governance/internal/domain"
)

// NewPeople returns membership's answers over conn; membership's NOT_FOUND
// is domain.ErrNotFound.
func NewPeople(conn grpc.ClientConnInterface, timeout time.Duration) domain.People {
	return mclient.New(conn, timeout, domain.ErrNotFound)
}

// Activities implements domain.Activities.
type Activities struct{ c *aclient.Client }

// NewActivities returns activities' answers over conn.
func NewActivities(conn grpc.ClientConnInterface, timeout time.Duration) *Activities {
	return &Activities{c: aclient.New(conn, timeout)}
}

// AnnualQuota is A1 for a branch and year.
func (a *Activities) AnnualQuota(ctx context.Context, branch string, year int32) (*activitiesv1.AnnualQuota, error) {
	q, err := a.c.AnnualQuota(ctx, branch, year)
	if errors.Is(err, aclient.ErrNotFound) {
		// Activities learns branches from governance's events; one it does
		// not know yet is one it cannot answer for, not one with nothing
		// held.
		return nil, apierr.Unavailable("activities", err)
	}
	return q, err
}
