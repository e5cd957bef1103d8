package domain

import (
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/tjsia/chapterhouse/platform/apierr"
	"github.com/tjsia/chapterhouse/platform/auth"
	apiv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/api/v1"
	membershipv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/membership/v1"
)

// TestClaimRefusal: an invitation is claimed once, while PENDING and
// before its expire_time; a final state is named before expiry, so a used
// or revoked invitation says so even once it has expired too.
func TestClaimRefusal(t *testing.T) {
	now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	inv := func(state membershipv1.InvitationState, expire time.Time) *membershipv1.Invitation {
		return &membershipv1.Invitation{Name: "invitations/i1", State: state, ExpireTime: timestamppb.New(expire)}
	}
	const (
		pending = membershipv1.InvitationState_INVITATION_STATE_PENDING
		claimed = membershipv1.InvitationState_INVITATION_STATE_CLAIMED
		revoked = membershipv1.InvitationState_INVITATION_STATE_REVOKED
	)
	later, earlier := now.Add(time.Hour), now.Add(-time.Hour)
	for _, tc := range []struct {
		label string
		inv   *membershipv1.Invitation
		want  apiv1.ErrorReason
	}{
		{"pending, before expiry", inv(pending, later), apiv1.ErrorReason_ERROR_REASON_UNSPECIFIED},
		{"pending, at expiry", inv(pending, now), apiv1.ErrorReason_INVITATION_EXPIRED},
		{"pending, after expiry", inv(pending, earlier), apiv1.ErrorReason_INVITATION_EXPIRED},
		{"claimed", inv(claimed, later), apiv1.ErrorReason_INVITATION_ALREADY_CLAIMED},
		{"claimed and expired", inv(claimed, earlier), apiv1.ErrorReason_INVITATION_ALREADY_CLAIMED},
		{"revoked", inv(revoked, later), apiv1.ErrorReason_INVITATION_REVOKED},
		{"revoked and expired", inv(revoked, earlier), apiv1.ErrorReason_INVITATION_REVOKED},
	} {
		err := ClaimRefusal(tc.inv, now)
		if tc.want == apiv1.ErrorReason_ERROR_REASON_UNSPECIFIED {
			if err != nil {
				t.Errorf("%s: %v, want claimable", tc.label, err)
			}
			continue
		}
		if !apierr.Is(err, tc.want) || status.Code(err) != codes.FailedPrecondition || apierr.Info(err).GetMetadata()["invitation"] != "invitations/i1" {
			t.Errorf("%s: %v, want FAILED_PRECONDITION %v naming the invitation", tc.label, err, tc.want)
		}
	}
}

// TestCodes: codes are long, random and URL-safe, and only their hashes
// are compared.
func TestCodes(t *testing.T) {
	a, b := newCode(), newCode()
	if a == b || len(a) != 32 {
		t.Fatalf("codes %q %q", a, b)
	}
	if CodeHash(a) == CodeHash(b) || CodeHash(a) != CodeHash(string([]byte(a))) || len(CodeHash(a)) != 64 {
		t.Fatal("CodeHash")
	}
}

// TestRolesMapToStaticRoles: every Role but UNSPECIFIED is a static role
// the services check.
func TestRolesMapToStaticRoles(t *testing.T) {
	want := map[membershipv1.Role]string{
		membershipv1.Role_ROLE_ADMIN: auth.RoleAdmin, membershipv1.Role_ROLE_GENERAL_SECRETARY: auth.RoleGeneralSecretary,
		membershipv1.Role_ROLE_GENERAL_COUNCIL: auth.RoleGeneralCouncil,
	}
	for v := range membershipv1.Role_name {
		r := membershipv1.Role(v)
		if r == membershipv1.Role_ROLE_UNSPECIFIED {
			continue
		}
		if Roles[r] != want[r] || Roles[r] == "" {
			t.Errorf("%v maps to %q, want %q", r, Roles[r], want[r])
		}
	}
}

func TestAccountPerson(t *testing.T) {
	for in, want := range map[string]string{"people/ann/accounts/a1": "people/ann", "bad": ""} {
		if got := accountPerson(in); got != want {
			t.Errorf("accountPerson(%q) = %q, want %q", in, got, want)
		}
	}
}
