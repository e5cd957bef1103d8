package server_test

import (
	"context"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/fieldmaskpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/tjsia/chapterhouse/platform/servicetest"
	activitiesv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/activities/v1"

	"github.com/tjsia/chapterhouse/services/activities/internal/domain"
	"github.com/tjsia/chapterhouse/services/activities/internal/server"
	"github.com/tjsia/chapterhouse/services/activities/internal/store"
)

// TestHiddenActivityIsMissing holds the one rule for what a caller may not
// see (domain.requireVisible): an activity that is not published or
// completed is its organisers' alone, and every method that names it or
// anything under it answers others exactly as for a missing activity
// (servicetest.HiddenAsMissing), writing nothing. A draft is hidden from
// a stranger and from a caller without a token; a cancelled activity from
// the person registered for it, whose registration goes with it.
func TestHiddenActivityIsMissing(t *testing.T) {
	mr := miniredis.RunT(t)
	rdb := redis.NewClient(&redis.Options{Addr: mr.Addr()})
	t.Cleanup(func() { rdb.Close() })
	svc := servicetest.Serve(t, "activities", func(s *grpc.Server) {
		activitiesv1.RegisterActivitiesServiceServer(s, server.New(domain.NewService(store.New(rdb, nil), everyoneIsAMember{}, domain.Config{Branches: aiBranch(leader.Subject)})))
	}, servicetest.CheckNames(), servicetest.RecordReasons(reasons))
	c := activitiesv1.NewActivitiesServiceClient(svc.Conn)
	as := func(r servicetest.Role) context.Context { return svc.AsRole(t, r) }

	// The organizer's draft training, and a training alice registered for
	// before it was cancelled.
	now := time.Now()
	mk := func(id string) string {
		a, err := c.CreateActivity(as(admin), &activitiesv1.CreateActivityRequest{Parent: "branches/ai", ActivityId: id, Activity: &activitiesv1.Activity{
			Kind: activitiesv1.ActivityKind_ACTIVITY_KIND_TRAINING, Title: id, Location: "Tianjin", Audience: activitiesv1.Audience_AUDIENCE_MEMBERS, Organizer: organizer.Subject,
			StartTime: timestamppb.New(now.Add(-time.Hour)), EndTime: timestamppb.New(now.Add(time.Hour)), RegistrationCloseTime: timestamppb.New(now.Add(time.Hour))}})
		if err != nil {
			t.Fatal(err)
		}
		return a.GetName()
	}
	draft, cancelled := mk("draft"), mk("cancelled")
	if _, err := c.PublishActivity(as(organizer), &activitiesv1.PublishActivityRequest{Name: cancelled}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.RegisterForActivity(as(alice), &activitiesv1.RegisterForActivityRequest{Name: cancelled}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CancelActivity(as(organizer), &activitiesv1.CancelActivityRequest{Name: cancelled, Reason: "the venue closed"}); err != nil {
		t.Fatal(err)
	}
	// alice's certificate of a completed training: hers, its organisers'
	// and admins' to see (domain.mayRead).
	train := mk("train")
	if _, err := c.PublishActivity(as(organizer), &activitiesv1.PublishActivityRequest{Name: train}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.RegisterForActivity(as(alice), &activitiesv1.RegisterForActivityRequest{Name: train}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CheckInRegistration(as(organizer), &activitiesv1.CheckInRegistrationRequest{Name: train + "/registrations/alice"}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CompleteActivity(as(organizer), &activitiesv1.CompleteActivityRequest{Name: train}); err != nil {
		t.Fatal(err)
	}
	cert, err := c.IssueCertificate(as(organizer), &activitiesv1.IssueCertificateRequest{Registration: train + "/registrations/alice"})
	if err != nil {
		t.Fatal(err)
	}

	const m = "/chapterhouse.activities.v1.ActivitiesService/"
	cases := []servicetest.UnseenCase{
		{Method: m + "GetActivity", Call: func(ctx context.Context, act string) error {
			_, err := c.GetActivity(ctx, &activitiesv1.GetActivityRequest{Name: act})
			return err
		}},
		{Method: m + "UpdateActivity", Call: func(ctx context.Context, act string) error {
			_, err := c.UpdateActivity(ctx, &activitiesv1.UpdateActivityRequest{Activity: &activitiesv1.Activity{Name: act, Title: "renamed"},
				UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"title"}}})
			return err
		}},
		{Method: m + "PublishActivity", Call: func(ctx context.Context, act string) error {
			_, err := c.PublishActivity(ctx, &activitiesv1.PublishActivityRequest{Name: act})
			return err
		}},
		{Method: m + "CancelActivity", Call: func(ctx context.Context, act string) error {
			_, err := c.CancelActivity(ctx, &activitiesv1.CancelActivityRequest{Name: act, Reason: "x"})
			return err
		}},
		{Method: m + "CompleteActivity", Call: func(ctx context.Context, act string) error {
			_, err := c.CompleteActivity(ctx, &activitiesv1.CompleteActivityRequest{Name: act})
			return err
		}},
		{Method: m + "RegisterForActivity", Call: func(ctx context.Context, act string) error {
			_, err := c.RegisterForActivity(ctx, &activitiesv1.RegisterForActivityRequest{Name: act})
			return err
		}},
		{Method: m + "ListRegistrations", Call: func(ctx context.Context, act string) error {
			_, err := c.ListRegistrations(ctx, &activitiesv1.ListRegistrationsRequest{Parent: act})
			return err
		}},
		{Method: m + "GetRegistration", Label: "alice's", Call: func(ctx context.Context, act string) error {
			_, err := c.GetRegistration(ctx, &activitiesv1.GetRegistrationRequest{Name: act + "/registrations/alice"})
			return err
		}},
		{Method: m + "GetRegistration", Label: "the caller's", Call: func(ctx context.Context, act string) error {
			_, err := c.GetRegistration(ctx, &activitiesv1.GetRegistrationRequest{Name: act + "/registrations/stranger"})
			return err
		}},
		{Method: m + "CancelRegistration", Label: "alice's", Call: func(ctx context.Context, act string) error {
			_, err := c.CancelRegistration(ctx, &activitiesv1.CancelRegistrationRequest{Name: act + "/registrations/alice"})
			return err
		}},
		{Method: m + "CancelRegistration", Label: "the caller's", Call: func(ctx context.Context, act string) error {
			_, err := c.CancelRegistration(ctx, &activitiesv1.CancelRegistrationRequest{Name: act + "/registrations/stranger"})
			return err
		}},
		{Method: m + "CheckInRegistration", Call: func(ctx context.Context, act string) error {
			_, err := c.CheckInRegistration(ctx, &activitiesv1.CheckInRegistrationRequest{Name: act + "/registrations/alice"})
			return err
		}},
		{Method: m + "IssueCertificate", Call: func(ctx context.Context, act string) error {
			_, err := c.IssueCertificate(ctx, &activitiesv1.IssueCertificateRequest{Registration: act + "/registrations/alice"})
			return err
		}},
	}
	certificateCases := []servicetest.UnseenCase{
		{Method: m + "GetCertificate", Call: func(ctx context.Context, name string) error {
			_, err := c.GetCertificate(ctx, &activitiesv1.GetCertificateRequest{Name: name})
			return err
		}},
		{Method: m + "RevokeCertificate", Call: func(ctx context.Context, name string) error {
			_, err := c.RevokeCertificate(ctx, &activitiesv1.RevokeCertificateRequest{Name: name, Reason: "x"})
			return err
		}},
	}
	// The others name no activity or certificate: creating and listing in
	// a branch, listing one's own certificates, verifying by code, the
	// branch's quota.
	servicetest.CoversHidden(t, activitiesv1.ActivitiesService_ServiceDesc,
		[]string{"CreateActivity", "ListActivities", "ListCertificates", "VerifyCertificate", "GetAnnualQuota"}, cases, certificateCases)
	t.Run("a certificate, to a stranger", func(t *testing.T) {
		servicetest.HiddenAsMissing(t, servicetest.Unseen{Caller: as(stranger), Hidden: cert.GetName(), Missing: "certificates/nosuch", State: mr.Dump}, certificateCases)
	})
	for _, u := range []struct {
		name string
		servicetest.Unseen
	}{
		{"a draft, to a stranger", servicetest.Unseen{Caller: as(stranger), Hidden: draft, Missing: "branches/ai/activities/nosuch"}},
		{"a draft, without a token", servicetest.Unseen{Caller: as(anonymous), Anonymous: true, Hidden: draft, Missing: "branches/ai/activities/nosuch"}},
		{"a cancelled activity, to its registrant", servicetest.Unseen{Caller: as(alice), Hidden: cancelled, Missing: "branches/ai/activities/nosuch"}},
	} {
		t.Run(u.name, func(t *testing.T) {
			u.State = mr.Dump
			servicetest.HiddenAsMissing(t, u.Unseen, cases)
		})
	}

	// The organisers still see and act: the rule hides nothing from them.
	if _, err := c.ListRegistrations(as(organizer), &activitiesv1.ListRegistrationsRequest{Parent: cancelled}); err != nil {
		t.Fatalf("the organizer lists the registrations of a cancelled activity: %v", err)
	}
}
