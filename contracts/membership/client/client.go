// Package client is how other services ask MembershipService about people
// and members: who a person is, whether a member is active and who
// represents it, and through which member a person counts as one. Every
// call has a deadline and carries the caller's own token, so membership
// applies its own authorisation; the connection it is made on (the
// caller's grpcclient.Dial with a Caller) adds the calling service's
// credential, so membership shows the service the private fields whose
// readers name it (governance: a person's birth date, for G4) and no
// more. When membership cannot be reached the
// answer is UNAVAILABLE (DEPENDENCY_UNAVAILABLE), and the caller writes
// nothing.
package client

import (
	"context"
	"errors"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/tjsia/chapterhouse/platform/grpcclient"
	membershipv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/membership/v1"
)

// ErrNotFound: membership does not know the person or member.
var ErrNotFound = errors.New("membership: not found")

// Service is the gRPC service the client calls, for grpcclient.Dial: the
// generated descriptor's name, so it cannot drift from the proto.
var Service = membershipv1.MembershipService_ServiceDesc.ServiceName

// Port is where membership listens unless LISTEN_ADDR says otherwise;
// DefaultAddr, where its callers find it unless AddrEnv says otherwise.
const (
	Port        = "8081"
	DefaultAddr = "localhost:" + Port
	AddrEnv     = "MEMBERSHIP_ADDR"
)

// Client asks membership over one connection.
type Client struct {
	client   membershipv1.MembershipServiceClient
	timeout  time.Duration
	notFound []error
}

// New returns a client over conn with a per-call deadline. A NOT_FOUND
// answer is ErrNotFound and each of notFound (the calling domain's own).
func New(conn grpc.ClientConnInterface, timeout time.Duration, notFound ...error) *Client {
	return &Client{client: membershipv1.NewMembershipServiceClient(conn), timeout: timeout, notFound: notFound}
}

func (c *Client) outgoing(ctx context.Context) (context.Context, context.CancelFunc) {
	return grpcclient.OnBehalf(ctx, c.timeout)
}

// failure maps an error of a call: NOT_FOUND to ErrNotFound (and the
// caller's own), a transport failure to UNAVAILABLE, anything else
// (membership's own answer, such as PERMISSION_DENIED) unchanged.
func (c *Client) failure(err error) error {
	return grpcclient.PeerReadError("membership", err, ErrNotFound, c.notFound...)
}

// Person returns a person (people/<id>).
func (c *Client) Person(ctx context.Context, name string) (*membershipv1.Person, error) {
	ctx, cancel := c.outgoing(ctx)
	defer cancel()
	p, err := c.client.GetPerson(ctx, &membershipv1.GetPersonRequest{Name: name})
	if err != nil {
		return nil, c.failure(err)
	}
	return p, nil
}

// Member returns a member (branches/<b>/members/<id>).
func (c *Client) Member(ctx context.Context, name string) (*membershipv1.Member, error) {
	ctx, cancel := c.outgoing(ctx)
	defer cancel()
	m, err := c.client.GetMember(ctx, &membershipv1.GetMemberRequest{Name: name})
	if err != nil {
		return nil, c.failure(err)
	}
	return m, nil
}

// MemberFor returns the ACTIVE member through which person counts as a
// member of branch: the member the person is (or represents), else the
// unit member of the organisation the person works for; "" when none.
func (c *Client) MemberFor(ctx context.Context, branch, person string) (string, error) {
	ctx, cancel := c.outgoing(ctx)
	defer cancel()
	active := membershipv1.MemberState_MEMBER_STATE_ACTIVE
	direct, err := c.client.ListMembers(ctx, &membershipv1.ListMembersRequest{Parent: "branches/" + branch, Person: person, State: active, PageSize: 1})
	if err != nil {
		return "", c.failure(err)
	}
	if len(direct.GetMembers()) > 0 {
		return direct.GetMembers()[0].GetName(), nil
	}
	p, err := c.client.GetPerson(ctx, &membershipv1.GetPersonRequest{Name: person})
	if status.Code(err) == codes.NotFound {
		return "", nil
	}
	if err != nil {
		return "", c.failure(err)
	}
	if p.GetOrganization() == "" {
		return "", nil
	}
	unit, err := c.client.ListMembers(ctx, &membershipv1.ListMembersRequest{Parent: "branches/" + branch, Organization: p.GetOrganization(), State: active, PageSize: 1})
	if err != nil {
		return "", c.failure(err)
	}
	if len(unit.GetMembers()) > 0 {
		return unit.GetMembers()[0].GetName(), nil
	}
	return "", nil
}

// Represented returns the members of branch whose person is person: the
// individual member they are and the unit members they represent, in any
// state.
func (c *Client) Represented(ctx context.Context, branch, person string) ([]string, error) {
	return c.represented(ctx, branch, person, membershipv1.MemberState_MEMBER_STATE_UNSPECIFIED)
}

// RepresentedActive is Represented for the ACTIVE members only: those a
// person may act for today.
func (c *Client) RepresentedActive(ctx context.Context, branch, person string) ([]string, error) {
	return c.represented(ctx, branch, person, membershipv1.MemberState_MEMBER_STATE_ACTIVE)
}

func (c *Client) represented(ctx context.Context, branch, person string, state membershipv1.MemberState) ([]string, error) {
	ctx, cancel := c.outgoing(ctx)
	defer cancel()
	var names []string
	token := ""
	for {
		resp, err := c.client.ListMembers(ctx, &membershipv1.ListMembersRequest{Parent: "branches/" + branch, Person: person, State: state, PageSize: 100, PageToken: token})
		if err != nil {
			return nil, c.failure(err)
		}
		for _, m := range resp.GetMembers() {
			names = append(names, m.GetName())
		}
		if token = resp.GetNextPageToken(); token == "" {
			return names, nil
		}
	}
}
