package stack

import (
	"context"
	"fmt"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"

	"github.com/tjsia/chapterhouse/cmd/devstack/signin"
	"github.com/tjsia/chapterhouse/platform/apierr"
	"github.com/tjsia/chapterhouse/platform/auth"
	apiv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/api/v1"
	membershipv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/membership/v1"
)

// DemoAccessTokenLifetime is how long the embedded provider's access
// tokens, and so the devstack's printed ones, are valid: a working day, so
// a walkthrough does not stop half-way. A real provider's are minutes;
// either way a revoked role or an unlinked account stops working within
// the services' caller cache (contracts/membership/client.CallerTTL), not
// the token's lifetime, since every service asks membership who a token's
// identity is.
const DemoAccessTokenLifetime = 8 * time.Hour

// demoSignIn is one printed demo token: the seeded person who signs in and
// the role granted to them in Chapterhouse, if any.
type demoSignIn struct {
	env, person string
	role        membershipv1.Role
	describe    string
}

var demoSignIns = []demoSignIn{
	{"ADMIN_TOKEN", AdminSubject, membershipv1.Role_ROLE_ADMIN, auth.RoleAdmin},
	{"SECRETARY_TOKEN", GeneralSecretarySubject, membershipv1.Role_ROLE_GENERAL_SECRETARY, auth.RoleGeneralSecretary},
	{"COUNCIL_TOKEN", GeneralCouncilSubject, membershipv1.Role_ROLE_GENERAL_COUNCIL, auth.RoleGeneralCouncil},
	{"REP_TOKEN", RepresentativeSubject, membershipv1.Role_ROLE_UNSPECIFIED, "representative of organizations/zhiyuan-ai"},
	{"MEMBER_TOKEN", MemberSubject, membershipv1.Role_ROLE_UNSPECIFIED, "individual member"},
}

// SignInDemo signs the demo people in at the embedded provider, through
// the authorization code flow with PKCE a mobile app uses, and returns
// their access tokens. The first admin's identity is linked by
// configuration (membership's first admin, see Start); every other person
// is linked the way a branch links its people: the admin invites them and
// they claim the invitation with their own token. The roles are granted
// as the secretariat grants them, with role bindings. It is idempotent: on
// a restart with a persistent Redis the links and bindings are kept, and
// only new tokens are minted. Seed must have created the people.
func (s *Stack) SignInDemo(ctx context.Context) ([]DemoToken, error) {
	if s.Issuer == "" {
		return nil, fmt.Errorf("stack: no identity provider to sign in at")
	}
	c, err := signin.New(ctx, signin.Config{Issuer: s.Issuer, ClientID: AppClientID, RedirectURL: AppRedirectURIs[0]})
	if err != nil {
		return nil, fmt.Errorf("stack: %w", err)
	}
	conn, err := grpc.NewClient(s.Addrs["membership"], grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return nil, fmt.Errorf("stack: dial membership: %w", err)
	}
	defer conn.Close()
	m := membershipv1.NewMembershipServiceClient(conn)
	as := func(token string) context.Context {
		return metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+token)
	}

	var out []DemoToken
	var admin string
	for _, d := range demoSignIns {
		tok, err := c.SignIn(ctx, IdentitySubject(personID(d.person)))
		if err != nil {
			return nil, fmt.Errorf("stack: sign in as %s: %w", d.person, err)
		}
		if d.person == AdminSubject {
			admin = tok.AccessToken
		}
		caller, err := m.LookupCaller(as(tok.AccessToken), &membershipv1.LookupCallerRequest{})
		if err != nil {
			return nil, fmt.Errorf("stack: who is %s: %w", d.person, err)
		}
		if d.person == AdminSubject && caller.GetPerson() != AdminSubject {
			// The first admin is linked once, at the store's first start:
			// a store first started with another issuer keeps that link.
			return nil, fmt.Errorf("stack: the first admin's identity at %s is not linked to %s: this store was first started with another issuer; "+
				"start with the same --issuer-addr, or on a fresh store", s.Issuer, AdminSubject)
		}
		switch caller.GetPerson() {
		case d.person:
		case "":
			if err := link(as(admin), as(tok.AccessToken), m, d.person); err != nil {
				return nil, err
			}
		default:
			return nil, fmt.Errorf("stack: %s's identity is linked to %s", d.person, caller.GetPerson())
		}
		if d.role != membershipv1.Role_ROLE_UNSPECIFIED {
			_, err := m.CreateRoleBinding(as(admin), &membershipv1.CreateRoleBindingRequest{RoleBinding: &membershipv1.RoleBinding{
				Person: d.person, Role: d.role, Reason: "devstack demo role"}})
			if err != nil && !apierr.Is(err, apiv1.ErrorReason_ROLE_ALREADY_GRANTED) {
				return nil, fmt.Errorf("stack: grant %s to %s: %w", d.role, d.person, err)
			}
		}
		out = append(out, DemoToken{Env: d.env, Role: d.describe, Subject: d.person, Token: tok.AccessToken})
	}
	return out, nil
}

// link has the admin invite person and the invitee claim the invitation.
func link(admin, invitee context.Context, m membershipv1.MembershipServiceClient, person string) error {
	inv, err := m.CreateInvitation(admin, &membershipv1.CreateInvitationRequest{Invitation: &membershipv1.Invitation{Person: person}})
	if err != nil {
		return fmt.Errorf("stack: invite %s: %w", person, err)
	}
	if _, err := m.ClaimInvitation(invitee, &membershipv1.ClaimInvitationRequest{Code: inv.GetCode()}); err != nil {
		return fmt.Errorf("stack: %s claims the invitation: %w", person, err)
	}
	return nil
}

// personID is the id of people/<id>.
func personID(name string) string { return name[len("people/"):] }
