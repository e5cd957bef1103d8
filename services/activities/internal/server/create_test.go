package server_test

import (
	"context"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/tjsia/chapterhouse/platform/apierr"
	"github.com/tjsia/chapterhouse/platform/pagetoken"
	"github.com/tjsia/chapterhouse/platform/servicetest"
	activitiesv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/activities/v1"
	apiv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/api/v1"

	"github.com/tjsia/chapterhouse/services/activities/internal/domain"
	"github.com/tjsia/chapterhouse/services/activities/internal/server"
	"github.com/tjsia/chapterhouse/services/activities/internal/store"
)

// TestCreateWithATakenID: a create whose client-chosen id holds the same
// activity already answers it again (a retry); one that holds another is
// ALREADY_EXISTS naming it, and changes nothing.
func TestCreateWithATakenID(t *testing.T) {
	mr := miniredis.RunT(t)
	rdb := redis.NewClient(&redis.Options{Addr: mr.Addr()})
	t.Cleanup(func() { rdb.Close() })
	svc := servicetest.Serve(t, "activities", func(s *grpc.Server) {
		activitiesv1.RegisterActivitiesServiceServer(s, server.New(domain.NewService(store.New(rdb, nil), everyoneIsAMember{},
			domain.Config{Branches: aiBranch(leader.Subject), Pages: pagetoken.NewEphemeral()})))
	}, servicetest.CheckNames(), servicetest.RecordReasons(reasons))
	c := activitiesv1.NewActivitiesServiceClient(svc.Conn)
	ctx := svc.AsRole(t, admin)
	start := time.Now().Add(48 * time.Hour)
	activity := &activitiesv1.Activity{Kind: activitiesv1.ActivityKind_ACTIVITY_KIND_TRAINING, Title: "Evaluating LLM agents", Location: "天津",
		Audience: activitiesv1.Audience_AUDIENCE_MEMBERS, StartTime: timestamppb.New(start), EndTime: timestamppb.New(start.Add(time.Hour))}
	create := func(ctx context.Context, a *activitiesv1.Activity) (*activitiesv1.Activity, error) {
		return c.CreateActivity(ctx, &activitiesv1.CreateActivityRequest{Parent: "branches/ai", ActivityId: "agent-eval", Activity: a})
	}
	first, err := create(ctx, activity)
	if err != nil {
		t.Fatal(err)
	}
	again, err := create(ctx, activity)
	if err != nil || again.GetName() != first.GetName() || again.GetEtag() != first.GetEtag() {
		t.Fatalf("the same create again: %v %v, want the first activity", again, err)
	}
	other := proto.Clone(activity).(*activitiesv1.Activity)
	other.Title = "Another training"
	_, err = create(ctx, other)
	if status.Code(err) != codes.AlreadyExists || !apierr.Is(err, apiv1.ErrorReason_ALREADY_EXISTS) ||
		apierr.Info(err).GetMetadata()["resource"] != "branches/ai/activities/agent-eval" {
		t.Fatalf("another activity with the id: %v, want ALREADY_EXISTS naming branches/ai/activities/agent-eval", err)
	}
	if got, err := c.GetActivity(ctx, &activitiesv1.GetActivityRequest{Name: first.GetName()}); err != nil || got.GetTitle() != activity.GetTitle() {
		t.Fatalf("after the refusal: %v %v, want the first activity unchanged", got, err)
	}
}
