// Package peers answers the governance domain's questions to the other
// services over gRPC: people and members from membership (through its own
// client), A1 from activities. Every call has a deadline and carries the
// caller's token, and governance's service credential (app.Run dials with
// it): membership authorises the caller, and shows governance the birth
// dates G4 is judged on, which the caller may not read. An unreachable
// peer is UNAVAILABLE, and the use case writes nothing.
package peers

import (
	"context"
	"errors"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	mclient "github.com/tjsia/chapterhouse/contracts/membership/client"
	"github.com/tjsia/chapterhouse/platform/apierr"
	"github.com/tjsia/chapterhouse/platform/grpcclient"
	activitiesv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/activities/v1"
	membershipv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/membership/v1"

	"github.com/tjsia/chapterhouse/services/governance/internal/domain"
)

// ActivitiesService is the gRPC service Activities calls.
const ActivitiesService = "chapterhouse.activities.v1.ActivitiesService"

// People implements domain.People.
type People struct{ c *mclient.Client }

// NewPeople returns membership's answers over conn.
func NewPeople(conn grpc.ClientConnInterface, timeout time.Duration) *People {
	return &People{c: mclient.New(conn, timeout)}
}

func notFound(err error) error {
	if errors.Is(err, mclient.ErrNotFound) {
		return domain.ErrNotFound
	}
	return err
}

// Person returns a person.
func (p *People) Person(ctx context.Context, name string) (*membershipv1.Person, error) {
	person, err := p.c.Person(ctx, name)
	return person, notFound(err)
}

// Member returns a member.
func (p *People) Member(ctx context.Context, name string) (*membershipv1.Member, error) {
	m, err := p.c.Member(ctx, name)
	return m, notFound(err)
}

// Represented lists the members whose person is person.
func (p *People) Represented(ctx context.Context, branch, person string) ([]string, error) {
	return p.c.Represented(ctx, branch, person)
}

// Activities implements domain.Activities.
type Activities struct {
	client  activitiesv1.ActivitiesServiceClient
	timeout time.Duration
}

// NewActivities returns activities' answers over conn.
func NewActivities(conn grpc.ClientConnInterface, timeout time.Duration) *Activities {
	return &Activities{client: activitiesv1.NewActivitiesServiceClient(conn), timeout: timeout}
}

// AnnualQuota is A1 for a branch and year.
func (a *Activities) AnnualQuota(ctx context.Context, branch string, year int32) (*activitiesv1.AnnualQuota, error) {
	ctx, cancel := grpcclient.OnBehalf(ctx, a.timeout)
	defer cancel()
	q, err := a.client.GetAnnualQuota(ctx, &activitiesv1.GetAnnualQuotaRequest{Branch: "branches/" + branch, Year: year})
	switch status.Code(err) {
	case codes.OK:
		return q, nil
	case codes.NotFound:
		// Activities learns branches from governance's events; one it does
		// not know yet is one it cannot answer for, not one with nothing
		// held.
		return nil, apierr.Unavailable("activities", err)
	}
	return nil, grpcclient.PeerError("activities", err)
}
