// Package membership asks the membership service, over gRPC, who counts as
// a member. Every call has a deadline and carries the caller's own token,
// so membership applies its own authorisation. When membership cannot be
// reached the answer is UNAVAILABLE, and the caller writes nothing.
package membership

import (
	"context"
	"fmt"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/tjsia/chapterhouse/platform/apierr"
	"github.com/tjsia/chapterhouse/platform/auth"
	apiv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/api/v1"
	membershipv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/membership/v1"
)

// Client implements domain.Members.
type Client struct {
	client  membershipv1.MembershipServiceClient
	timeout time.Duration
}

// New returns a client over conn with a per-call deadline.
func New(conn grpc.ClientConnInterface, timeout time.Duration) *Client {
	return &Client{client: membershipv1.NewMembershipServiceClient(conn), timeout: timeout}
}

func (c *Client) outgoing(ctx context.Context) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	if p, ok := auth.FromContext(ctx); ok && p.Token != "" {
		ctx = metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+p.Token)
	}
	return ctx, cancel
}

func unavailable(err error) error {
	switch status.Code(err) {
	case codes.Unavailable, codes.DeadlineExceeded, codes.Canceled:
		return apierr.Unavailable("membership", err)
	}
	return fmt.Errorf("membership: %w", err)
}

// MemberFor returns the ACTIVE member through which person qualifies: the
// member the person is (or represents), else the unit member of the
// organisation the person works for.
func (c *Client) MemberFor(ctx context.Context, branch, person string) (string, error) {
	ctx, cancel := c.outgoing(ctx)
	defer cancel()
	active := membershipv1.MemberState_MEMBER_STATE_ACTIVE
	direct, err := c.client.ListMembers(ctx, &membershipv1.ListMembersRequest{Parent: "branches/" + branch, Person: person, State: active, PageSize: 1})
	if err != nil {
		return "", unavailable(err)
	}
	if len(direct.GetMembers()) > 0 {
		return direct.GetMembers()[0].GetName(), nil
	}
	p, err := c.client.GetPerson(ctx, &membershipv1.GetPersonRequest{Name: person})
	if status.Code(err) == codes.NotFound {
		return "", nil
	}
	if err != nil {
		return "", unavailable(err)
	}
	if p.GetOrganization() == "" {
		return "", nil
	}
	unit, err := c.client.ListMembers(ctx, &membershipv1.ListMembersRequest{Parent: "branches/" + branch, Organization: p.GetOrganization(), State: active, PageSize: 1})
	if err != nil {
		return "", unavailable(err)
	}
	if len(unit.GetMembers()) > 0 {
		return unit.GetMembers()[0].GetName(), nil
	}
	return "", nil
}

// DisplayName returns the person's display name.
func (c *Client) DisplayName(ctx context.Context, person string) (string, error) {
	ctx, cancel := c.outgoing(ctx)
	defer cancel()
	p, err := c.client.GetPerson(ctx, &membershipv1.GetPersonRequest{Name: person})
	if status.Code(err) == codes.NotFound {
		return "", apierr.New(codes.FailedPrecondition, apiv1.ErrorReason_PERSON_NOT_FOUND, person+" is not registered with membership", nil)
	}
	if err != nil {
		return "", unavailable(err)
	}
	return p.GetDisplayName(), nil
}
