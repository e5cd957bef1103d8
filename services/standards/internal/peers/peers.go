// Package peers answers the standards domain's questions to the other
// services over gRPC, through each service's own client: members from
// membership, council resolutions from governance, promotion activities
// from activities. Every call has a deadline and carries the caller's
// token; an unreachable peer is UNAVAILABLE, and the use case writes
// nothing. Each client answers NOT_FOUND as domain.ErrNotFound itself.
package peers

import (
	"context"
	"time"

	"google.golang.org/grpc"

	aclient "github.com/tjsia/chapterhouse/contracts/activities/client"
	govclient "github.com/tjsia/chapterhouse/contracts/governance/client"
	mclient "github.com/tjsia/chapterhouse/contracts/membership/client"

	"github.com/tjsia/chapterhouse/services/standards/internal/domain"
)

// Members implements domain.Members.
type Members struct{ *mclient.Client }

// NewMembers returns membership's answers over conn.
func NewMembers(conn grpc.ClientConnInterface, timeout time.Duration) *Members {
	return &Members{mclient.New(conn, timeout, domain.ErrNotFound)}
}

// Represented lists the ACTIVE members whose person is person: a
// suspended or terminated member's representative acts for it no more.
func (m *Members) Represented(ctx context.Context, branch, person string) ([]string, error) {
	return m.RepresentedActive(ctx, branch, person)
}

// NewResolutions returns governance's answers over conn.
func NewResolutions(conn grpc.ClientConnInterface, timeout time.Duration) domain.Resolutions {
	return govclient.NewResolutions(conn, timeout, domain.ErrNotFound)
}

// NewActivities returns activities over conn.
func NewActivities(conn grpc.ClientConnInterface, timeout time.Duration) domain.Activities {
	return aclient.New(conn, timeout, domain.ErrNotFound)
}
