package app_test

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"

	"github.com/tjsia/chapterhouse/platform/bootstrap"
	"github.com/tjsia/chapterhouse/platform/grpcserver"
	"github.com/tjsia/chapterhouse/platform/servicetest"
	activitiesv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/activities/v1"
	governancev1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/governance/v1"

	"github.com/tjsia/chapterhouse/services/activities/app"

	gstreams "github.com/tjsia/chapterhouse/contracts/governance/streams"
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
		return app.Run(ctx, app.Config{ServiceConfig: cfg, MembershipAddr: down, GovernanceAddr: down})
	})
	svc.CheckHealthAndReflection(t, "chapterhouse.activities.v1.ActivitiesService")
	c := activitiesv1.NewActivitiesServiceClient(svc.Conn)
	if _, err := c.CreateActivity(svc.As(t, ""), &activitiesv1.CreateActivityRequest{Parent: "branches/ai"}); status.Code(err) != codes.Unauthenticated {
		t.Fatalf("create without a token: %v", err)
	}
	// Branches are governance's: "ai" is unknown until its BranchCreated
	// arrives, and A1's minimum is the branch's own parameter.
	if _, err := c.ListActivities(svc.As(t, ""), &activitiesv1.ListActivitiesRequest{Parent: "branches/ai"}); status.Code(err) != codes.NotFound {
		t.Fatalf("a branch governance never created: %v, want NOT_FOUND", err)
	}
	if err := gstreams.AnnounceBranch(context.Background(), rdb, &governancev1.Branch{Name: "branches/ai",
		Parameters: &governancev1.CharterParameters{MinExchangeActivitiesPerYear: 3}}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		list, err := c.ListActivities(svc.As(t, ""), &activitiesv1.ListActivitiesRequest{Parent: "branches/ai"})
		if err == nil && len(list.GetActivities()) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("public list 5s after governance created the branch: %v %v", list, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	q, err := c.GetAnnualQuota(svc.Admin(t), &activitiesv1.GetAnnualQuotaRequest{Branch: "branches/ai", Year: 2026})
	if err != nil || q.GetRequiredCount() != 3 {
		t.Fatalf("quota %v %v: want the branch's minimum, 3", q, err)
	}
	if _, err := c.VerifyCertificate(svc.As(t, ""), &activitiesv1.VerifyCertificateRequest{VerificationCode: "K7Q3-M9XD-4HRT"}); status.Code(err) != codes.NotFound {
		t.Fatalf("public verify of an unknown code: %v", err)
	}
}

// TestNotReadyWithoutItsEventSource: an activities instance that cannot
// reach membership's Redis, where the events it consumes live, reports not
// ready (while staying alive) and its log names the source and the error.
func TestNotReadyWithoutItsEventSource(t *testing.T) {
	mr := miniredis.RunT(t)
	rdb := redis.NewClient(&redis.Options{Addr: mr.Addr()})
	t.Cleanup(func() { rdb.Close() })
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	nowhere := lis.Addr().String()
	lis.Close()
	source := redis.NewClient(&redis.Options{Addr: nowhere, MaxRetries: -1, DialTimeout: 100 * time.Millisecond})
	t.Cleanup(func() { source.Close() })
	var logs servicetest.LogBuffer
	svc := servicetest.Start(t, app.Name, rdb, func(ctx context.Context, cfg bootstrap.ServiceConfig) error {
		cfg.Logger = logs.Logger()
		cfg.EventSources = map[string]redis.UniversalClient{"membership": source}
		return app.Run(ctx, app.Config{ServiceConfig: cfg, MembershipAddr: nowhere, GovernanceAddr: nowhere})
	})
	health := healthpb.NewHealthClient(svc.Conn)
	check := func(service string) healthpb.HealthCheckResponse_ServingStatus {
		resp, err := health.Check(svc.As(t, ""), &healthpb.HealthCheckRequest{Service: service})
		if err != nil {
			t.Fatal(err)
		}
		return resp.GetStatus()
	}
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(logs.String(), "events source membership") {
		if time.Now().After(deadline) {
			t.Fatalf("no log names the unreachable source:\n%s", logs.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if got := check(""); got != healthpb.HealthCheckResponse_NOT_SERVING {
		t.Fatalf("readiness = %v, want NOT_SERVING", got)
	}
	if got := check(grpcserver.LivenessService); got != healthpb.HealthCheckResponse_SERVING {
		t.Fatalf("liveness = %v, want SERVING", got)
	}
	if !strings.Contains(logs.String(), nowhere) {
		t.Fatalf("the log does not say why (the address refused):\n%s", logs.String())
	}
}
