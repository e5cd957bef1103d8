package server_test

import (
	"context"
	"testing"

	"google.golang.org/grpc/codes"

	"github.com/tjsia/chapterhouse/platform/servicetest"
	membershipv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/membership/v1"
)

// TestHiddenApplicationIsMissing holds the one rule for who may see an
// application (domain.seesApplication: admins, the applicant, whoever
// submitted it): every method on an application answers anyone else
// exactly as for a missing one (servicetest.HiddenAsMissing) and writes
// nothing. Approving and rejecting are for admins alone, refused before
// the application is read: PERMISSION_DENIED, the same for both.
func TestHiddenApplicationIsMissing(t *testing.T) {
	h := newHarness(t)
	_, openApp := h.seed(t) // zhao-lei's, for haihe

	c := h.client
	const m = "/chapterhouse.membership.v1.MembershipService/"
	cases := []servicetest.UnseenCase{
		{Method: m + "GetApplication", Call: func(ctx context.Context, name string) error {
			_, err := c.GetApplication(ctx, &membershipv1.GetApplicationRequest{Name: name})
			return err
		}},
		{Method: m + "ApproveApplication", Want: codes.PermissionDenied, Call: func(ctx context.Context, name string) error {
			_, err := c.ApproveApplication(ctx, &membershipv1.ApproveApplicationRequest{Name: name})
			return err
		}},
		{Method: m + "RejectApplication", Want: codes.PermissionDenied, Call: func(ctx context.Context, name string) error {
			_, err := c.RejectApplication(ctx, &membershipv1.RejectApplicationRequest{Name: name, Reason: "x"})
			return err
		}},
		{Method: m + "WithdrawApplication", Call: func(ctx context.Context, name string) error {
			_, err := c.WithdrawApplication(ctx, &membershipv1.WithdrawApplicationRequest{Name: name})
			return err
		}},
	}
	// Applications are all membership hides: organisations, people
	// (their contacts redacted) and members are every signed-in caller's
	// to see; applications are submitted to a branch and listed by admins.
	servicetest.CoversHidden(t, membershipv1.MembershipService_ServiceDesc, []string{
		"CreateOrganization", "GetOrganization", "ListOrganizations", "UpdateOrganization", "SetGeneralMembership",
		"CreatePerson", "GetPerson", "ListPeople", "UpdatePerson", "CreateApplication", "ListApplications",
		"GetMember", "ListMembers", "SuspendMember", "ReinstateMember", "TerminateMember", "ChangeRepresentative"}, cases)
	missing := "branches/ai/applications/nosuch"
	for _, u := range []struct {
		name string
		servicetest.Unseen
	}{
		{"to another unit's representative", servicetest.Unseen{Caller: h.as(rep.Subject), Hidden: openApp, Missing: missing}},
		{"to another person", servicetest.Unseen{Caller: h.as(stranger.Subject), Hidden: openApp, Missing: missing}},
		{"without a token", servicetest.Unseen{Caller: h.as(""), Anonymous: true, Hidden: openApp, Missing: missing}},
	} {
		t.Run(u.name, func(t *testing.T) {
			u.State = h.state
			servicetest.HiddenAsMissing(t, u.Unseen, cases)
		})
	}
}
