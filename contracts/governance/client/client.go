// Package client is how other services ask GovernanceService who serves in
// a branch: the source of truth behind their branch directories, asked
// before a directory's "no" is believed (directory.Confirm). Every call has
// a deadline and carries the caller's own token; when governance cannot be
// reached the answer is UNAVAILABLE (DEPENDENCY_UNAVAILABLE), never a
// refusal.
package client

import (
	"context"
	"errors"
	"time"

	"google.golang.org/grpc"

	"github.com/tjsia/chapterhouse/platform/grpcclient"
	governancev1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/governance/v1"
)

// Service is the gRPC service the client calls, for grpcclient.Dial: the
// generated descriptor's name, so it cannot drift from the proto.
var Service = governancev1.GovernanceService_ServiceDesc.ServiceName

// Port is where governance listens unless LISTEN_ADDR says otherwise;
// DefaultAddr, where its callers find it unless AddrEnv says otherwise.
const (
	Port        = "8082"
	DefaultAddr = "localhost:" + Port
	AddrEnv     = "GOVERNANCE_ADDR"
)

// ErrNotFound: governance does not know the resolution (or hides it from
// the caller).
var ErrNotFound = errors.New("governance: not found")

// Resolutions reads council resolutions.
type Resolutions struct {
	client   governancev1.GovernanceServiceClient
	timeout  time.Duration
	notFound []error
}

// NewResolutions returns governance's resolutions over conn, with a
// per-call deadline. A NOT_FOUND answer is ErrNotFound and each of
// notFound (the calling domain's own).
func NewResolutions(conn grpc.ClientConnInterface, timeout time.Duration, notFound ...error) *Resolutions {
	return &Resolutions{client: governancev1.NewGovernanceServiceClient(conn), timeout: timeout, notFound: notFound}
}

// Resolution reads a council resolution as the caller reads it.
func (r *Resolutions) Resolution(ctx context.Context, name string) (*governancev1.Resolution, error) {
	ctx, cancel := grpcclient.OnBehalf(ctx, r.timeout)
	defer cancel()
	res, err := r.client.GetResolution(ctx, &governancev1.GetResolutionRequest{Name: name})
	if err != nil {
		return nil, grpcclient.PeerReadError("governance", err, ErrNotFound, r.notFound...)
	}
	return res, nil
}

// Officers asks governance who serves in a branch.
type Officers struct {
	client  governancev1.GovernanceServiceClient
	timeout time.Duration
}

// NewOfficers returns governance's officers over conn, with a per-call
// deadline.
func NewOfficers(conn grpc.ClientConnInterface, timeout time.Duration) *Officers {
	return &Officers{client: governancev1.NewGovernanceServiceClient(conn), timeout: timeout}
}

// Serving lists the offices person serves in branch, in every term.
func (o *Officers) Serving(ctx context.Context, branch, person string) ([]*governancev1.Officer, error) {
	ctx, cancel := grpcclient.OnBehalf(ctx, o.timeout)
	defer cancel()
	var out []*governancev1.Officer
	req := &governancev1.ListOfficersRequest{Parent: "branches/" + branch + "/terms/-", Person: person,
		State: governancev1.OfficerState_OFFICER_STATE_SERVING, PageSize: 100}
	for {
		resp, err := o.client.ListOfficers(ctx, req)
		if err != nil {
			return nil, grpcclient.PeerError("governance", err)
		}
		out = append(out, resp.GetOfficers()...)
		if req.PageToken = resp.GetNextPageToken(); req.PageToken == "" {
			return out, nil
		}
	}
}
