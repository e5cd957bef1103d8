package server_test

import (
	"context"
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"net"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
	"google.golang.org/genproto/googleapis/type/date"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/fieldmaskpb"

	"github.com/tjsia/chapterhouse/platform/auth"
	"github.com/tjsia/chapterhouse/platform/grpcserver"
	"github.com/tjsia/chapterhouse/platform/telemetry"
	membershipv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/membership/v1"

	"github.com/tjsia/chapterhouse/services/membership/internal/domain"
	"github.com/tjsia/chapterhouse/services/membership/internal/server"
	"github.com/tjsia/chapterhouse/services/membership/internal/store"
)

// harness runs the membership gRPC server on miniredis with the real
// interceptors, so authentication and authorisation are both exercised.
type harness struct {
	client membershipv1.MembershipServiceClient
	signer *auth.Signer
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	mr := miniredis.RunT(t)
	rdb := redis.NewClient(&redis.Options{Addr: mr.Addr()})
	t.Cleanup(func() { rdb.Close() })
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	signer := auth.NewSigner(key, auth.DefaultIssuer, auth.DefaultAudience)
	verifier, err := auth.NewVerifier([]crypto.PublicKey{signer.PublicKey()}, auth.DefaultIssuer, auth.DefaultAudience)
	if err != nil {
		t.Fatal(err)
	}
	tel, err := telemetry.New(context.Background(), telemetry.Config{ServiceName: "membership-test", Getenv: func(string) string { return "" }})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := grpcserver.New(grpcserver.Config{Name: "membership", Telemetry: tel, Verifier: verifier})
	if err != nil {
		t.Fatal(err)
	}
	svc := domain.NewService(store.New(rdb), []string{"ai"}, nil)
	membershipv1.RegisterMembershipServiceServer(srv.GRPC(), server.New(svc))
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, lis) }()
	t.Cleanup(func() { cancel(); <-done })
	conn, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return &harness{client: membershipv1.NewMembershipServiceClient(conn), signer: signer}
}

func (h *harness) as(subject string, roles ...string) context.Context {
	// Calls are bounded by the client's default: a hung server fails the
	// test through go test's own timeout rather than a leaked context.
	ctx := context.Background()
	if subject == "" {
		return ctx
	}
	tok, err := h.signer.Sign(subject, roles, time.Hour)
	if err != nil {
		panic(err)
	}
	return metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+tok)
}

func (h *harness) admin() context.Context { return h.as("people/admin", auth.RoleAdmin) }

// seed: organisation zhiyuan (ACTIVE in the general association) with
// people wang-wei (its representative and member m) and zhang-san; an open
// application from haihe (waiting, M2); a stranger.
func (h *harness) seed(t *testing.T) (member, openApp string) {
	t.Helper()
	c, ctx := h.client, h.admin()
	must := func(_ any, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(c.CreateOrganization(ctx, &membershipv1.CreateOrganizationRequest{OrganizationId: "zhiyuan", Organization: &membershipv1.Organization{DisplayName: "Zhiyuan", CreditCode: "91120116MA05JR7Q0E"}}))
	must(c.CreateOrganization(ctx, &membershipv1.CreateOrganizationRequest{OrganizationId: "haihe", Organization: &membershipv1.Organization{DisplayName: "Haihe", CreditCode: "91120104MA06KL3W0M"}}))
	must(c.SetGeneralMembership(ctx, &membershipv1.SetGeneralMembershipRequest{Name: "organizations/zhiyuan", State: membershipv1.GeneralMembershipState_GENERAL_MEMBERSHIP_STATE_ACTIVE}))
	born := &date.Date{Year: 1975, Month: 1, Day: 1}
	for id, org := range map[string]string{"wang-wei": "organizations/zhiyuan", "zhang-san": "organizations/zhiyuan", "zhao-lei": "organizations/haihe", "stranger": ""} {
		must(c.CreatePerson(ctx, &membershipv1.CreatePersonRequest{PersonId: id, Person: &membershipv1.Person{DisplayName: id, BirthDate: born, Organization: org,
			Contact: &membershipv1.ContactInfo{Email: id + "@example.com"}}}))
	}
	app, err := c.CreateApplication(ctx, &membershipv1.CreateApplicationRequest{Parent: "branches/ai", Application: &membershipv1.Application{
		Applicant: &membershipv1.Application_Unit{Unit: &membershipv1.UnitApplicant{Organization: "organizations/zhiyuan", Representative: "people/wang-wei"}}}})
	must(app, err)
	approved, err := c.ApproveApplication(ctx, &membershipv1.ApproveApplicationRequest{Name: app.GetName()})
	must(approved, err)
	open, err := c.CreateApplication(ctx, &membershipv1.CreateApplicationRequest{Parent: "branches/ai", Application: &membershipv1.Application{
		Applicant: &membershipv1.Application_Unit{Unit: &membershipv1.UnitApplicant{Organization: "organizations/haihe", Representative: "people/zhao-lei"}}}})
	must(open, err)
	return approved.GetMember(), open.GetName()
}

type role struct {
	name    string
	subject string
	roles   []string
}

var (
	anonymous  = role{"anonymous", "", nil}
	admin      = role{"admin", "people/admin", []string{auth.RoleAdmin}}
	secretary  = role{"general_secretary", "people/general-secretary", []string{auth.RoleGeneralSecretary}}
	council    = role{"general_council", "people/general-council", []string{auth.RoleGeneralCouncil}}
	rep        = role{"representative", "people/wang-wei", nil}
	applicant  = role{"applicant", "people/zhao-lei", nil}
	stranger   = role{"other person", "people/stranger", nil}
	everyRole  = []role{anonymous, admin, secretary, council, rep, applicant, stranger}
	signedIn   = []role{admin, secretary, council, rep, applicant, stranger}
	adminsOnly = []role{admin}
)

// TestAuthorisationMatrix calls every MembershipService RPC as every role
// and checks who is let through. "Denied" is UNAUTHENTICATED without a
// token, PERMISSION_DENIED otherwise, or NOT_FOUND where the API hides a
// private resource's existence (applications).
func TestAuthorisationMatrix(t *testing.T) {
	h := newHarness(t)
	member, openApp := h.seed(t)

	type call func(ctx context.Context, c membershipv1.MembershipServiceClient) error
	cases := []struct {
		rpc     string
		allowed []role
		call    call
	}{
		{"CreateOrganization", adminsOnly, func(ctx context.Context, c membershipv1.MembershipServiceClient) error {
			_, err := c.CreateOrganization(ctx, &membershipv1.CreateOrganizationRequest{Organization: &membershipv1.Organization{DisplayName: "X", CreditCode: "91120222MA06TU8X03"}})
			return err
		}},
		{"GetOrganization", signedIn, func(ctx context.Context, c membershipv1.MembershipServiceClient) error {
			_, err := c.GetOrganization(ctx, &membershipv1.GetOrganizationRequest{Name: "organizations/zhiyuan"})
			return err
		}},
		{"ListOrganizations", signedIn, func(ctx context.Context, c membershipv1.MembershipServiceClient) error {
			_, err := c.ListOrganizations(ctx, &membershipv1.ListOrganizationsRequest{})
			return err
		}},
		{"UpdateOrganization", adminsOnly, func(ctx context.Context, c membershipv1.MembershipServiceClient) error {
			_, err := c.UpdateOrganization(ctx, &membershipv1.UpdateOrganizationRequest{Organization: &membershipv1.Organization{Name: "organizations/haihe", DisplayName: "Haihe Data"},
				UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"display_name"}}})
			return err
		}},
		{"SetGeneralMembership", []role{admin, secretary}, func(ctx context.Context, c membershipv1.MembershipServiceClient) error {
			_, err := c.SetGeneralMembership(ctx, &membershipv1.SetGeneralMembershipRequest{Name: "organizations/haihe", State: membershipv1.GeneralMembershipState_GENERAL_MEMBERSHIP_STATE_PENDING})
			return err
		}},
		// Everyone may register themselves; only admins may register others.
		{"CreatePerson (someone else)", adminsOnly, func(ctx context.Context, c membershipv1.MembershipServiceClient) error {
			_, err := c.CreatePerson(ctx, &membershipv1.CreatePersonRequest{PersonId: "newcomer", Person: &membershipv1.Person{DisplayName: "N", BirthDate: &date.Date{Year: 1990, Month: 1, Day: 1}}})
			return err
		}},
		{"GetPerson", signedIn, func(ctx context.Context, c membershipv1.MembershipServiceClient) error {
			_, err := c.GetPerson(ctx, &membershipv1.GetPersonRequest{Name: "people/wang-wei"})
			return err
		}},
		{"ListPeople", signedIn, func(ctx context.Context, c membershipv1.MembershipServiceClient) error {
			_, err := c.ListPeople(ctx, &membershipv1.ListPeopleRequest{})
			return err
		}},
		{"UpdatePerson (wang-wei)", []role{admin, rep}, func(ctx context.Context, c membershipv1.MembershipServiceClient) error {
			_, err := c.UpdatePerson(ctx, &membershipv1.UpdatePersonRequest{Person: &membershipv1.Person{Name: "people/wang-wei", Title: "VP"},
				UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"title"}}})
			return err
		}},
		{"CreateApplication (for zhao-lei)", []role{admin, applicant}, func(ctx context.Context, c membershipv1.MembershipServiceClient) error {
			_, err := c.CreateApplication(ctx, &membershipv1.CreateApplicationRequest{Parent: "branches/ai", Application: &membershipv1.Application{
				Applicant: &membershipv1.Application_Unit{Unit: &membershipv1.UnitApplicant{Organization: "organizations/haihe", Representative: "people/zhao-lei"}}}})
			return err
		}},
		{"GetApplication (zhao-lei's)", []role{admin, applicant}, func(ctx context.Context, c membershipv1.MembershipServiceClient) error {
			_, err := c.GetApplication(ctx, &membershipv1.GetApplicationRequest{Name: openApp})
			return err
		}},
		{"ListApplications", adminsOnly, func(ctx context.Context, c membershipv1.MembershipServiceClient) error {
			_, err := c.ListApplications(ctx, &membershipv1.ListApplicationsRequest{Parent: "branches/ai"})
			return err
		}},
		{"ApproveApplication", adminsOnly, func(ctx context.Context, c membershipv1.MembershipServiceClient) error {
			_, err := c.ApproveApplication(ctx, &membershipv1.ApproveApplicationRequest{Name: openApp})
			return err
		}},
		{"RejectApplication", adminsOnly, func(ctx context.Context, c membershipv1.MembershipServiceClient) error {
			_, err := c.RejectApplication(ctx, &membershipv1.RejectApplicationRequest{Name: openApp, Reason: "test", Etag: "never-matches"})
			return err
		}},
		{"WithdrawApplication", []role{admin, applicant}, func(ctx context.Context, c membershipv1.MembershipServiceClient) error {
			_, err := c.WithdrawApplication(ctx, &membershipv1.WithdrawApplicationRequest{Name: openApp, Etag: "never-matches"})
			return err
		}},
		{"GetMember", signedIn, func(ctx context.Context, c membershipv1.MembershipServiceClient) error {
			_, err := c.GetMember(ctx, &membershipv1.GetMemberRequest{Name: member})
			return err
		}},
		{"ListMembers", signedIn, func(ctx context.Context, c membershipv1.MembershipServiceClient) error {
			_, err := c.ListMembers(ctx, &membershipv1.ListMembersRequest{Parent: "branches/ai"})
			return err
		}},
		{"SuspendMember", adminsOnly, func(ctx context.Context, c membershipv1.MembershipServiceClient) error {
			_, err := c.SuspendMember(ctx, &membershipv1.SuspendMemberRequest{Name: member, Reason: "test", Etag: "never-matches"})
			return err
		}},
		{"ReinstateMember", adminsOnly, func(ctx context.Context, c membershipv1.MembershipServiceClient) error {
			_, err := c.ReinstateMember(ctx, &membershipv1.ReinstateMemberRequest{Name: member, Reason: "test"})
			return err
		}},
		{"TerminateMember", adminsOnly, func(ctx context.Context, c membershipv1.MembershipServiceClient) error {
			_, err := c.TerminateMember(ctx, &membershipv1.TerminateMemberRequest{Name: member, Reason: "test", Etag: "never-matches"})
			return err
		}},
		{"ChangeRepresentative", []role{admin, rep}, func(ctx context.Context, c membershipv1.MembershipServiceClient) error {
			_, err := c.ChangeRepresentative(ctx, &membershipv1.ChangeRepresentativeRequest{Name: member, Representative: "people/zhang-san", Reason: "test", Etag: "never-matches"})
			return err
		}},
	}
	if got, want := len(cases), len(membershipv1.MembershipService_ServiceDesc.Methods); got != want {
		t.Fatalf("matrix covers %d RPCs, the service has %d", got, want)
	}
	for _, tc := range cases {
		for _, r := range everyRole {
			t.Run(tc.rpc+"/"+r.name, func(t *testing.T) {
				allowed := false
				for _, a := range tc.allowed {
					allowed = allowed || a.name == r.name
				}
				err := tc.call(h.as(r.subject, r.roles...), h.client)
				code := status.Code(err)
				denied := code == codes.PermissionDenied || code == codes.Unauthenticated ||
					(code == codes.NotFound && tc.rpc != "GetOrganization")
				if r.name == "anonymous" && code != codes.Unauthenticated {
					t.Fatalf("without a token: %v, want UNAUTHENTICATED", err)
				}
				if allowed && denied {
					t.Fatalf("%s should be allowed, got %v", r.name, err)
				}
				if !allowed && !denied {
					t.Fatalf("%s should be denied, got %v", r.name, err)
				}
			})
		}
	}
}

// TestContactVisibility: contact details only for the person and admins.
func TestContactVisibility(t *testing.T) {
	h := newHarness(t)
	h.seed(t)
	for _, tc := range []struct {
		r    role
		sees bool
	}{{admin, true}, {rep, true}, {stranger, false}, {secretary, false}} {
		p, err := h.client.GetPerson(h.as(tc.r.subject, tc.r.roles...), &membershipv1.GetPersonRequest{Name: "people/wang-wei"})
		if err != nil {
			t.Fatal(err)
		}
		if got := p.GetContact().GetEmail() != ""; got != tc.sees {
			t.Errorf("%s sees contact = %v, want %v", tc.r.name, got, tc.sees)
		}
	}
	list, err := h.client.ListPeople(h.as(stranger.subject), &membershipv1.ListPeopleRequest{})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range list.GetPeople() {
		if p.GetContact() != nil && p.GetName() != stranger.subject {
			t.Errorf("stranger sees %s's contact", p.GetName())
		}
	}
}
