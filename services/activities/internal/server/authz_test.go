package server_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/fieldmaskpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/tjsia/chapterhouse/contracts/governance/branches"
	"github.com/tjsia/chapterhouse/platform/auth"
	"github.com/tjsia/chapterhouse/platform/pagetoken"
	"github.com/tjsia/chapterhouse/platform/servicetest"
	activitiesv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/activities/v1"
	governancev1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/governance/v1"

	"github.com/tjsia/chapterhouse/services/activities/internal/domain"
	"github.com/tjsia/chapterhouse/services/activities/internal/server"
	"github.com/tjsia/chapterhouse/services/activities/internal/store"
)

type everyoneIsAMember struct{}

func (everyoneIsAMember) MemberFor(context.Context, string, string) (string, error) {
	return "branches/ai/members/m1", nil
}
func (everyoneIsAMember) DisplayName(_ context.Context, p string) (string, error) { return p, nil }

var (
	anonymous = servicetest.Anonymous
	admin     = servicetest.Role{Name: "admin", Subject: "people/admin", Roles: []string{auth.RoleAdmin}}
	organizer = servicetest.Role{Name: "organizer", Subject: "people/organizer"}
	alice     = servicetest.Role{Name: "registrant and holder", Subject: "people/alice"}
	stranger  = servicetest.Role{Name: "other person", Subject: "people/stranger", Roles: []string{auth.RoleGeneralCouncil}}
	// leader serves as the branch's chair (from governance's events).
	leader   = servicetest.Role{Name: "branch chair", Subject: "people/chair"}
	everyone = []servicetest.Role{anonymous, admin, organizer, alice, stranger, leader}
	signedIn = []servicetest.Role{admin, organizer, alice, stranger, leader}
	managers = []servicetest.Role{admin, organizer, leader}
)

// TestAuthorisationMatrix calls every ActivitiesService RPC as every role
// (servicetest.Matrix): denied is UNAUTHENTICATED without a token,
// PERMISSION_DENIED, or NOT_FOUND where the API hides what the caller may
// not see.
func TestAuthorisationMatrix(t *testing.T) {
	mr := miniredis.RunT(t)
	rdb := redis.NewClient(&redis.Options{Addr: mr.Addr()})
	t.Cleanup(func() { rdb.Close() })
	svc := servicetest.Serve(t, "activities", func(s *grpc.Server) {
		activitiesv1.RegisterActivitiesServiceServer(s, server.New(domain.NewService(store.New(rdb, nil), everyoneIsAMember{}, domain.Config{Branches: aiBranch(leader.Subject), Pages: pagetoken.NewEphemeral()})))
	}, servicetest.CheckNames(), servicetest.RecordReasons(reasons))
	c := activitiesv1.NewActivitiesServiceClient(svc.Conn)
	as := func(r servicetest.Role) context.Context { return svc.AsRole(t, r) }

	// Seed, as admin: a published activity run by the organizer, where
	// alice is registered; a completed training where alice attended and
	// holds a certificate; a draft of the organizer's.
	now := time.Now()
	mk := func(id string, kind activitiesv1.ActivityKind) string {
		a, err := c.CreateActivity(as(admin), &activitiesv1.CreateActivityRequest{Parent: "branches/ai", ActivityId: id, Activity: &activitiesv1.Activity{
			Kind: kind, Title: id, Location: "Tianjin", Audience: activitiesv1.Audience_AUDIENCE_MEMBERS, Organizer: organizer.Subject,
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

	const svcName = "/chapterhouse.activities.v1.ActivitiesService/"
	cases := []servicetest.Case{
		{Method: svcName + "CreateActivity", Allowed: []servicetest.Role{admin, leader}, Call: func(ctx context.Context) error {
			_, err := c.CreateActivity(ctx, &activitiesv1.CreateActivityRequest{Parent: "branches/ai", Activity: &activitiesv1.Activity{}})
			return err
		}},
		{Method: svcName + "GetActivity", Label: "published", Allowed: everyone, Call: func(ctx context.Context) error {
			_, err := c.GetActivity(ctx, &activitiesv1.GetActivityRequest{Name: pub})
			return err
		}},
		{Method: svcName + "ListActivities", Allowed: everyone, Call: func(ctx context.Context) error {
			_, err := c.ListActivities(ctx, &activitiesv1.ListActivitiesRequest{Parent: "branches/ai"})
			return err
		}},
		{Method: svcName + "UpdateActivity", Allowed: managers, Call: func(ctx context.Context) error {
			_, err := c.UpdateActivity(ctx, &activitiesv1.UpdateActivityRequest{Activity: &activitiesv1.Activity{Name: pub, Title: "x", Etag: "never-matches"},
				UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"title"}}})
			return err
		}},
		{Method: svcName + "PublishActivity", Label: "draft", Allowed: managers, Call: func(ctx context.Context) error {
			_, err := c.PublishActivity(ctx, &activitiesv1.PublishActivityRequest{Name: draft, Etag: "never-matches"})
			return err
		}},
		{Method: svcName + "CancelActivity", Allowed: managers, Call: func(ctx context.Context) error {
			_, err := c.CancelActivity(ctx, &activitiesv1.CancelActivityRequest{Name: pub, Reason: "x", Etag: "never-matches"})
			return err
		}},
		{Method: svcName + "CompleteActivity", Allowed: managers, Call: func(ctx context.Context) error {
			_, err := c.CompleteActivity(ctx, &activitiesv1.CompleteActivityRequest{Name: pub, Etag: "never-matches"})
			return err
		}},
		{Method: svcName + "RegisterForActivity", Label: "for alice", Allowed: []servicetest.Role{admin, organizer, alice, leader}, Call: func(ctx context.Context) error {
			_, err := c.RegisterForActivity(ctx, &activitiesv1.RegisterForActivityRequest{Name: pub, Person: "people/alice"})
			return err
		}},
		{Method: svcName + "GetRegistration", Label: "alice's", Allowed: []servicetest.Role{admin, organizer, alice, leader}, Call: func(ctx context.Context) error {
			_, err := c.GetRegistration(ctx, &activitiesv1.GetRegistrationRequest{Name: aliceReg})
			return err
		}},
		{Method: svcName + "ListRegistrations", Allowed: signedIn, Call: func(ctx context.Context) error {
			_, err := c.ListRegistrations(ctx, &activitiesv1.ListRegistrationsRequest{Parent: pub})
			return err
		}},
		{Method: svcName + "CancelRegistration", Label: "alice's", Allowed: []servicetest.Role{admin, organizer, alice, leader}, Call: func(ctx context.Context) error {
			_, err := c.CancelRegistration(ctx, &activitiesv1.CancelRegistrationRequest{Name: aliceReg, Etag: "never-matches"})
			return err
		}},
		{Method: svcName + "CheckInRegistration", Allowed: managers, Call: func(ctx context.Context) error {
			_, err := c.CheckInRegistration(ctx, &activitiesv1.CheckInRegistrationRequest{Name: aliceReg, Etag: "never-matches"})
			return err
		}},
		{Method: svcName + "IssueCertificate", Allowed: managers, Call: func(ctx context.Context) error {
			_, err := c.IssueCertificate(ctx, &activitiesv1.IssueCertificateRequest{Registration: trainReg})
			return err
		}},
		{Method: svcName + "GetCertificate", Allowed: []servicetest.Role{admin, organizer, alice, leader}, Call: func(ctx context.Context) error {
			_, err := c.GetCertificate(ctx, &activitiesv1.GetCertificateRequest{Name: cert.GetName()})
			return err
		}},
		{Method: svcName + "ListCertificates", Allowed: signedIn, Call: func(ctx context.Context) error {
			_, err := c.ListCertificates(ctx, &activitiesv1.ListCertificatesRequest{})
			return err
		}},
		{Method: svcName + "VerifyCertificate", Allowed: everyone, Call: func(ctx context.Context) error {
			_, err := c.VerifyCertificate(ctx, &activitiesv1.VerifyCertificateRequest{VerificationCode: cert.GetVerificationCode()})
			return err
		}},
		{Method: svcName + "RevokeCertificate", Allowed: managers, Call: func(ctx context.Context) error {
			_, err := c.RevokeCertificate(ctx, &activitiesv1.RevokeCertificateRequest{Name: cert.GetName(), Reason: "x", Etag: "never-matches"})
			return err
		}},
		{Method: svcName + "GetAnnualQuota", Allowed: signedIn, Call: func(ctx context.Context) error {
			_, err := c.GetAnnualQuota(ctx, &activitiesv1.GetAnnualQuotaRequest{Branch: "branches/ai"})
			return err
		}},
	}
	servicetest.Matrix(t, activitiesv1.ActivitiesService_ServiceDesc, everyone, as, cases)
	// Others listing registrations see only their own.
	list, err := c.ListRegistrations(as(stranger), &activitiesv1.ListRegistrationsRequest{Parent: pub})
	if err != nil || len(list.GetRegistrations()) != 0 {
		t.Fatalf("a stranger sees %d registrations (%v)", len(list.GetRegistrations()), err)
	}
}

// knownBranches is governance's branch "ai" with CHARTER.md's parameters,
// and its serving chair and secretary-general.
type knownBranches struct {
	branches.Static
	leaders []string
}

func (k knownBranches) Leaders(context.Context, string) ([]string, error) { return k.leaders, nil }

func (k knownBranches) Standing(_ context.Context, _, person string) (branches.Standing, error) {
	return branches.Standing{Leads: slices.Contains(k.leaders, person)}, nil
}

func aiBranch(leaders ...string) knownBranches {
	return knownBranches{Static: branches.Static{{Name: "branches/ai", Parameters: &governancev1.CharterParameters{MinExchangeActivitiesPerYear: 2}}}, leaders: leaders}
}
