package server_test

import (
	"context"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/tjsia/chapterhouse/platform/servicetest"
	activitiesv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/activities/v1"
	eventsv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/events/v1"

	"github.com/tjsia/chapterhouse/contracts/activities/streams"
	"github.com/tjsia/chapterhouse/services/activities/internal/domain"
	"github.com/tjsia/chapterhouse/services/activities/internal/server"
	"github.com/tjsia/chapterhouse/services/activities/internal/store"
)

// TestTakenAtTheDoor: a person who turns up at the door is registered and
// checked in by the organiser, over the real gRPC path; the registration
// says who took it (registrant) and who checked the person in
// (check_in_recorder), and so does the RegistrationCheckedIn event. A
// person checked in by another organiser names that one.
func TestTakenAtTheDoor(t *testing.T) {
	mr := miniredis.RunT(t)
	rdb := redis.NewClient(&redis.Options{Addr: mr.Addr()})
	t.Cleanup(func() { rdb.Close() })
	svc := servicetest.Serve(t, "activities", func(s *grpc.Server) {
		activitiesv1.RegisterActivitiesServiceServer(s, server.New(domain.NewService(store.New(rdb, nil), everyoneIsAMember{}, domain.Config{Branches: aiBranch(leader.Subject)})))
	}, servicetest.CheckNames(), servicetest.RecordReasons(reasons))
	c := activitiesv1.NewActivitiesServiceClient(svc.Conn)
	as := func(r servicetest.Role) context.Context { return svc.AsRole(t, r) }
	now := time.Now()
	a, err := c.CreateActivity(as(admin), &activitiesv1.CreateActivityRequest{Parent: "branches/ai", ActivityId: "salon", Activity: &activitiesv1.Activity{
		Kind: activitiesv1.ActivityKind_ACTIVITY_KIND_TRAINING, Title: "salon", Location: "Tianjin", Audience: activitiesv1.Audience_AUDIENCE_MEMBERS, Organizer: organizer.Subject,
		StartTime: timestamppb.New(now.Add(-time.Hour)), EndTime: timestamppb.New(now.Add(time.Hour)), RegistrationCloseTime: timestamppb.New(now.Add(time.Hour))}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.PublishActivity(as(organizer), &activitiesv1.PublishActivityRequest{Name: a.GetName()}); err != nil {
		t.Fatal(err)
	}
	// alice registered herself; the admin checks her in. bob turns up at
	// the door: the organiser registers him and checks him in.
	if _, err := c.RegisterForActivity(as(alice), &activitiesv1.RegisterForActivityRequest{Name: a.GetName()}); err != nil {
		t.Fatal(err)
	}
	reg, err := c.RegisterForActivity(as(organizer), &activitiesv1.RegisterForActivityRequest{Name: a.GetName(), Person: "people/bob"})
	if err != nil {
		t.Fatal(err)
	}
	if reg.GetRegistrant() != organizer.Subject || reg.GetPerson() != "people/bob" {
		t.Fatalf("registered at the door: %v", reg)
	}
	want := map[string]string{a.GetName() + "/registrations/bob": organizer.Subject, a.GetName() + "/registrations/alice": admin.Subject}
	for name, by := range want {
		ctx := as(organizer)
		if by == admin.Subject {
			ctx = as(admin)
		}
		in, err := c.CheckInRegistration(ctx, &activitiesv1.CheckInRegistrationRequest{Name: name})
		if err != nil {
			t.Fatal(err)
		}
		if in.GetCheckInRecorder() != by || in.GetState() != activitiesv1.RegistrationState_REGISTRATION_STATE_ATTENDED {
			t.Fatalf("checked in %v, want check_in_recorder %s", in, by)
		}
		read, err := c.GetRegistration(as(admin), &activitiesv1.GetRegistrationRequest{Name: name})
		if err != nil || read.GetCheckInRecorder() != by || read.GetRegistrant() != in.GetRegistrant() {
			t.Fatalf("read back %v (%v), want check_in_recorder %s", read, err, by)
		}
	}
	msgs, err := rdb.XRange(context.Background(), streams.Branch("ai"), "-", "+").Result()
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]string{}
	for _, m := range msgs {
		env := &eventsv1.Envelope{}
		if err := proto.Unmarshal([]byte(m.Values["env"].(string)), env); err != nil {
			t.Fatal(err)
		}
		if in := env.GetRegistrationCheckedIn(); in != nil {
			seen[in.GetRegistration().GetName()] = in.GetRegistration().GetCheckInRecorder()
			if env.GetActor() != in.GetRegistration().GetCheckInRecorder() {
				t.Errorf("event actor %s, check_in_recorder %s", env.GetActor(), in.GetRegistration().GetCheckInRecorder())
			}
		}
	}
	for name, by := range want {
		if seen[name] != by {
			t.Errorf("RegistrationCheckedIn of %s names %q, want %s", name, seen[name], by)
		}
	}
}
