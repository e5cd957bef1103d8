package app_test

import (
	"context"
	"net"
	"testing"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/tjsia/chapterhouse/platform/bootstrap"
	"github.com/tjsia/chapterhouse/platform/servicetest"
	activitiesv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/activities/v1"

	"github.com/tjsia/chapterhouse/services/activities/app"
)

// TestRun: the assembled service serves health, reflection and its API,
// verifies tokens except on public methods, and stops cleanly.
func TestRun(t *testing.T) {
	mr := miniredis.RunT(t)
	rdb := redis.NewClient(&redis.Options{Addr: mr.Addr()})
	t.Cleanup(func() { rdb.Close() })
	// Nothing listens here: membership is "down" for this test.
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	down := lis.Addr().String()
	lis.Close()
	svc := servicetest.Start(t, app.Name, rdb, func(ctx context.Context, cfg bootstrap.ServiceConfig) error {
		return app.Run(ctx, app.Config{ServiceConfig: cfg, MembershipAddr: down})
	})
	svc.CheckHealthAndReflection(t, "chapterhouse.activities.v1.ActivitiesService")
	c := activitiesv1.NewActivitiesServiceClient(svc.Conn)
	if _, err := c.CreateActivity(svc.As(t, ""), &activitiesv1.CreateActivityRequest{Parent: "branches/ai"}); status.Code(err) != codes.Unauthenticated {
		t.Fatalf("create without a token: %v", err)
	}
	list, err := c.ListActivities(svc.As(t, ""), &activitiesv1.ListActivitiesRequest{Parent: "branches/ai"})
	if err != nil || len(list.GetActivities()) != 0 {
		t.Fatalf("public list: %v %v", list, err)
	}
	if _, err := c.VerifyCertificate(svc.As(t, ""), &activitiesv1.VerifyCertificateRequest{VerificationCode: "K7Q3-M9XD-4HRT"}); status.Code(err) != codes.NotFound {
		t.Fatalf("public verify of an unknown code: %v", err)
	}
}
