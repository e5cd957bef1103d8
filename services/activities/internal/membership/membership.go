// Package membership answers the activities domain's membership questions
// through membership's own client (contracts/membership/client).
package membership

import (
	"context"
	"errors"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"

	mclient "github.com/tjsia/chapterhouse/contracts/membership/client"
	"github.com/tjsia/chapterhouse/platform/apierr"
	apiv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/api/v1"
)

// Client implements domain.Members.
type Client struct{ c *mclient.Client }

// New returns a client over conn with a per-call deadline.
func New(conn grpc.ClientConnInterface, timeout time.Duration) *Client {
	return &Client{c: mclient.New(conn, timeout)}
}

// MemberFor returns the ACTIVE member through which person qualifies.
func (c *Client) MemberFor(ctx context.Context, branch, person string) (string, error) {
	return c.c.MemberFor(ctx, branch, person)
}

// DisplayName returns the person's display name.
func (c *Client) DisplayName(ctx context.Context, person string) (string, error) {
	p, err := c.c.Person(ctx, person)
	if errors.Is(err, mclient.ErrNotFound) {
		return "", apierr.New(codes.FailedPrecondition, apiv1.ErrorReason_PERSON_NOT_FOUND, map[string]string{"person": person},
			apierr.Text("error.activities.person_not_found", "person", person))
	}
	if err != nil {
		return "", err
	}
	return p.GetDisplayName(), nil
}
