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
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/fieldmaskpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/tjsia/chapterhouse/platform/auth"
	"github.com/tjsia/chapterhouse/platform/grpcserver"
	"github.com/tjsia/chapterhouse/platform/telemetry"
	activitiesv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/activities/v1"

	"github.com/tjsia/chapterhouse/services/activities/internal/domain"
	"github.com/tjsia/chapterhouse/services/activities/internal/server"
	"github.com/tjsia/chapterhouse/services/activities/internal/store"
)

type everyoneIsAMember struct{}

func (everyoneIsAMember) MemberFor(context.Context, string, string) (string, error) {
	return "branches/ai/members/m1", nil
}
func (everyoneIsAMember) DisplayName(_ context.Context, p string) (string, error) { return p, nil }

type role struct {
	name    string
	subject string
	roles   []string
}

var (
	anonymous = role{"anonymous", "", nil}
	admin     = role{"admin", "people/admin", []string{auth.RoleAdmin}}
	organizer = role{"organizer", "people/organizer", nil}
	alice     = role{"registrant and holder", "people/alice", nil}
	stranger  = role{"other person", "people/stranger", []string{auth.RoleGeneralCouncil}}
	everyone  = []role{anonymous, admin, organizer, alice, stranger}
	signedIn  = []role{admin, organizer, alice, stranger}
	managers  = []role{admin, organizer}
)

// TestAuthorisationMatrix calls every ActivitiesService RPC as every role.
// Denied is UNAUTHENTICATED without a token, PERMISSION_DENIED, or
// NOT_FOUND where the API hides what the caller may not see.
func TestAuthorisationMatrix(t *testing.T) {
	mr := miniredis.RunT(t)
	rdb := redis.NewClient(&redis.Options{Addr: mr.Addr()})
	t.Cleanup(func() { rdb.Close() })
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	signer := auth.NewSigner(key, auth.DefaultIssuer, auth.DefaultAudience)
	verifier, _ := auth.NewVerifier([]crypto.PublicKey{signer.PublicKey()}, auth.DefaultIssuer, auth.DefaultAudience)
	tel, err := telemetry.New(context.Background(), telemetry.Config{ServiceName: "activities-test", Getenv: func(string) string { return "" }})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := grpcserver.New(grpcserver.Config{Name: "activities", Telemetry: tel, Verifier: verifier})
	if err != nil {
		t.Fatal(err)
	}
	svc := domain.NewService(store.New(rdb, nil), everyoneIsAMember{}, domain.Config{Branches: []string{"ai"}})
	activitiesv1.RegisterActivitiesServiceServer(srv.GRPC(), server.New(svc))
	lis, _ := net.Listen("tcp", "127.0.0.1:0")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, lis) }()
	t.Cleanup(func() { cancel(); <-done })
	conn, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	c := activitiesv1.NewActivitiesServiceClient(conn)
	as := func(r role) context.Context {
		if r.subject == "" {
			return context.Background()
		}
		tok, _ := signer.Sign(r.subject, r.roles, time.Hour)
		return metadata.AppendToOutgoingContext(context.Background(), "authorization", "Bearer "+tok)
	}

	// Seed, as admin: a published activity run by the organizer, where
	// alice is registered; a completed training where alice attended and
	// holds a certificate; a draft of the organizer's.
	now := time.Now()
	mk := func(id string, kind activitiesv1.ActivityKind) string {
		a, err := c.CreateActivity(as(admin), &activitiesv1.CreateActivityRequest{Parent: "branches/ai", ActivityId: id, Activity: &activitiesv1.Activity{
			Kind: kind, Title: id, Location: "Tianjin", Audience: activitiesv1.Audience_AUDIENCE_MEMBERS, Organizer: organizer.subject,
			StartTime: timestamppb.New(now.Add(-time.Hour)), EndTime: timestamppb.New(now.Add(time.Hour)), RegistrationCloseTime: timestamppb.New(now.Add(time.Hour))}})
		if err != nil {
			t.Fatal(err)
		}
		return a.GetName()
	}
	pub, train, draft := mk("pub", activitiesv1.ActivityKind_ACTIVITY_KIND_ACADEMIC_EXCHANGE), mk("train", activitiesv1.ActivityKind_ACTIVITY_KIND_TRAINING), mk("draft", activitiesv1.ActivityKind_ACTIVITY_KIND_MEETING)
	for _, name := range []string{pub, train} {
		if _, err := c.PublishActivity(as(admin), &activitiesv1.PublishActivityRequest{Name: name}); err != nil {
			t.Fatal(err)
		}
		if _, err := c.RegisterForActivity(as(alice), &activitiesv1.RegisterForActivityRequest{Name: name}); err != nil {
			t.Fatal(err)
		}
	}
	aliceReg, trainReg := pub+"/registrations/alice", train+"/registrations/alice"
	if _, err := c.CheckInRegistration(as(admin), &activitiesv1.CheckInRegistrationRequest{Name: trainReg}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CompleteActivity(as(admin), &activitiesv1.CompleteActivityRequest{Name: train}); err != nil {
		t.Fatal(err)
	}
	cert, err := c.IssueCertificate(as(admin), &activitiesv1.IssueCertificateRequest{Registration: trainReg})
	if err != nil {
		t.Fatal(err)
	}

	type call func(ctx context.Context) error
	cases := []struct {
		rpc     string
		allowed []role
		call    call
	}{
		{"CreateActivity", []role{admin}, func(ctx context.Context) error {
			_, err := c.CreateActivity(ctx, &activitiesv1.CreateActivityRequest{Parent: "branches/ai", Activity: &activitiesv1.Activity{}})
			return err
		}},
		{"GetActivity (published)", everyone, func(ctx context.Context) error {
			_, err := c.GetActivity(ctx, &activitiesv1.GetActivityRequest{Name: pub})
			return err
		}},
		{"ListActivities", everyone, func(ctx context.Context) error {
			_, err := c.ListActivities(ctx, &activitiesv1.ListActivitiesRequest{Parent: "branches/ai"})
			return err
		}},
		{"UpdateActivity", managers, func(ctx context.Context) error {
			_, err := c.UpdateActivity(ctx, &activitiesv1.UpdateActivityRequest{Activity: &activitiesv1.Activity{Name: pub, Title: "x", Etag: "never-matches"},
				UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"title"}}})
			return err
		}},
		{"PublishActivity (draft)", managers, func(ctx context.Context) error {
			_, err := c.PublishActivity(ctx, &activitiesv1.PublishActivityRequest{Name: draft, Etag: "never-matches"})
			return err
		}},
		{"CancelActivity", managers, func(ctx context.Context) error {
			_, err := c.CancelActivity(ctx, &activitiesv1.CancelActivityRequest{Name: pub, Reason: "x", Etag: "never-matches"})
			return err
		}},
		{"CompleteActivity", managers, func(ctx context.Context) error {
			_, err := c.CompleteActivity(ctx, &activitiesv1.CompleteActivityRequest{Name: pub, Etag: "never-matches"})
			return err
		}},
		{"RegisterForActivity (for alice)", []role{admin, organizer, alice}, func(ctx context.Context) error {
			_, err := c.RegisterForActivity(ctx, &activitiesv1.RegisterForActivityRequest{Name: pub, Person: "people/alice"})
			return err
		}},
		{"GetRegistration (alice's)", []role{admin, organizer, alice}, func(ctx context.Context) error {
			_, err := c.GetRegistration(ctx, &activitiesv1.GetRegistrationRequest{Name: aliceReg})
			return err
		}},
		{"ListRegistrations", signedIn, func(ctx context.Context) error {
			_, err := c.ListRegistrations(ctx, &activitiesv1.ListRegistrationsRequest{Parent: pub})
			return err
		}},
		{"CancelRegistration (alice's)", []role{admin, organizer, alice}, func(ctx context.Context) error {
			_, err := c.CancelRegistration(ctx, &activitiesv1.CancelRegistrationRequest{Name: aliceReg, Etag: "never-matches"})
			return err
		}},
		{"CheckInRegistration", managers, func(ctx context.Context) error {
			_, err := c.CheckInRegistration(ctx, &activitiesv1.CheckInRegistrationRequest{Name: aliceReg, Etag: "never-matches"})
			return err
		}},
		{"IssueCertificate", managers, func(ctx context.Context) error {
			_, err := c.IssueCertificate(ctx, &activitiesv1.IssueCertificateRequest{Registration: trainReg})
			return err
		}},
		{"GetCertificate", []role{admin, organizer, alice}, func(ctx context.Context) error {
			_, err := c.GetCertificate(ctx, &activitiesv1.GetCertificateRequest{Name: cert.GetName()})
			return err
		}},
		{"ListCertificates", signedIn, func(ctx context.Context) error {
			_, err := c.ListCertificates(ctx, &activitiesv1.ListCertificatesRequest{})
			return err
		}},
		{"VerifyCertificate", everyone, func(ctx context.Context) error {
			_, err := c.VerifyCertificate(ctx, &activitiesv1.VerifyCertificateRequest{VerificationCode: cert.GetVerificationCode()})
			return err
		}},
		{"RevokeCertificate", managers, func(ctx context.Context) error {
			_, err := c.RevokeCertificate(ctx, &activitiesv1.RevokeCertificateRequest{Name: cert.GetName(), Reason: "x", Etag: "never-matches"})
			return err
		}},
		{"GetAnnualQuota", signedIn, func(ctx context.Context) error {
			_, err := c.GetAnnualQuota(ctx, &activitiesv1.GetAnnualQuotaRequest{Branch: "branches/ai"})
			return err
		}},
	}
	if got, want := len(cases), len(activitiesv1.ActivitiesService_ServiceDesc.Methods); got != want {
		t.Fatalf("matrix covers %d RPCs, the service has %d", got, want)
	}
	for _, tc := range cases {
		for _, r := range everyone {
			t.Run(tc.rpc+"/"+r.name, func(t *testing.T) {
				allowed := false
				for _, a := range tc.allowed {
					allowed = allowed || a.name == r.name
				}
				err := tc.call(as(r))
				code := status.Code(err)
				denied := code == codes.PermissionDenied || code == codes.Unauthenticated || code == codes.NotFound
				if allowed && denied {
					t.Fatalf("%s should be allowed: %v", r.name, err)
				}
				if !allowed && !denied {
					t.Fatalf("%s should be denied: %v", r.name, err)
				}
			})
		}
	}
	// Others listing registrations see only their own.
	list, err := c.ListRegistrations(as(stranger), &activitiesv1.ListRegistrationsRequest{Parent: pub})
	if err != nil || len(list.GetRegistrations()) != 0 {
		t.Fatalf("a stranger sees %d registrations (%v)", len(list.GetRegistrations()), err)
	}
}
