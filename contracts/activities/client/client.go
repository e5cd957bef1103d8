// Package client is how other services ask ActivitiesService: standards
// creates and reads the activities that promote a standard, governance
// reads A1's annual quota. Every call has a deadline and carries the
// caller's own token, so activities applies its own authorisation. When
// activities cannot be reached the answer is UNAVAILABLE
// (DEPENDENCY_UNAVAILABLE); a write whose reply was lost is
// OUTCOME_UNKNOWN.
package client

import (
	"context"
	"errors"
	"time"

	"google.golang.org/grpc"

	"github.com/tjsia/chapterhouse/platform/auth"
	"github.com/tjsia/chapterhouse/platform/grpcclient"
	activitiesv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/activities/v1"
)

// ErrNotFound: activities does not know the activity (or hides it from
// the caller), or the branch.
var ErrNotFound = errors.New("activities: not found")

// Service is the gRPC service the client calls, for grpcclient.Dial: the
// generated descriptor's name, so it cannot drift from the proto.
var Service = activitiesv1.ActivitiesService_ServiceDesc.ServiceName

// Port is where activities listens unless LISTEN_ADDR says otherwise;
// DefaultAddr, where its callers find it unless AddrEnv says otherwise.
const (
	Port        = "8083"
	DefaultAddr = "localhost:" + Port
	AddrEnv     = "ACTIVITIES_ADDR"
)

// Client asks activities over one connection.
type Client struct {
	client   activitiesv1.ActivitiesServiceClient
	timeout  time.Duration
	notFound []error
}

// New returns a client over conn with a per-call deadline. A NOT_FOUND
// answer is ErrNotFound and each of notFound (the calling domain's own).
func New(conn grpc.ClientConnInterface, timeout time.Duration, notFound ...error) *Client {
	return &Client{client: activitiesv1.NewActivitiesServiceClient(conn), timeout: timeout, notFound: notFound}
}

func (c *Client) failure(err error) error {
	return grpcclient.PeerReadError("activities", err, ErrNotFound, c.notFound...)
}

// CreateActivity creates a DRAFT activity with the caller's token; with
// the same id, a repeat returns the activity created first.
func (c *Client) CreateActivity(ctx context.Context, parent string, act *activitiesv1.Activity, id string) (*activitiesv1.Activity, error) {
	ctx, cancel := grpcclient.OnBehalf(ctx, c.timeout)
	defer cancel()
	created, err := c.client.CreateActivity(ctx, &activitiesv1.CreateActivityRequest{Parent: parent, Activity: act, ActivityId: id})
	if err != nil {
		// The activity may exist though its reply was lost: the caller
		// derives the id from what it creates it for, so a retry finds it.
		return nil, grpcclient.PeerWriteError("activities", err)
	}
	return created, nil
}

// Activity reads an activity as p reads it, with p's token (none for a
// caller without one): a missing activity and one hidden from p are both
// not found.
func (c *Client) Activity(ctx context.Context, p auth.Principal, name string) (*activitiesv1.Activity, error) {
	ctx, cancel := grpcclient.OnBehalf(auth.WithPrincipal(ctx, p), c.timeout)
	defer cancel()
	act, err := c.client.GetActivity(ctx, &activitiesv1.GetActivityRequest{Name: name})
	if err != nil {
		return nil, c.failure(err)
	}
	return act, nil
}

// AnnualQuota is A1 for a branch and year; not found when activities does
// not know the branch yet.
func (c *Client) AnnualQuota(ctx context.Context, branch string, year int32) (*activitiesv1.AnnualQuota, error) {
	ctx, cancel := grpcclient.OnBehalf(ctx, c.timeout)
	defer cancel()
	q, err := c.client.GetAnnualQuota(ctx, &activitiesv1.GetAnnualQuotaRequest{Branch: "branches/" + branch, Year: year})
	if err != nil {
		return nil, c.failure(err)
	}
	return q, nil
}
