package app_test

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/tjsia/chapterhouse/platform/apierr"
	"github.com/tjsia/chapterhouse/platform/bootstrap"
	"github.com/tjsia/chapterhouse/platform/servicetest"
	apiv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/api/v1"
	governancev1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/governance/v1"
	standardsv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/standards/v1"

	gstreams "github.com/tjsia/chapterhouse/contracts/governance/streams"

	"github.com/tjsia/chapterhouse/services/standards/app"
)

// TestRun: the assembled service learns its branches from governance's
// events, serves health, reflection and its API, verifies tokens except on
// the public methods, and answers UNAVAILABLE, writing nothing, when
// membership (which judges S1) is down.
func TestRun(t *testing.T) {
	mr := miniredis.RunT(t)
	rdb := redis.NewClient(&redis.Options{Addr: mr.Addr()})
	t.Cleanup(func() { rdb.Close() })
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	down := lis.Addr().String()
	lis.Close()
	svc := servicetest.Start(t, app.Name, rdb, func(ctx context.Context, cfg bootstrap.ServiceConfig) error {
		return app.Run(ctx, app.Config{ServiceConfig: cfg, MembershipAddr: down, GovernanceAddr: down, ActivitiesAddr: down,
			FollowInterval: 50 * time.Millisecond})
	})
	svc.CheckHealthAndReflection(t, "chapterhouse.standards.v1.StandardsService")
	c := standardsv1.NewStandardsServiceClient(svc.Conn)

	if _, err := c.CreateStandard(svc.As(t, ""), &standardsv1.CreateStandardRequest{Parent: "branches/ai"}); status.Code(err) != codes.Unauthenticated {
		t.Fatalf("create without a token: %v, want UNAUTHENTICATED", err)
	}
	if _, err := c.ListStandards(svc.As(t, ""), &standardsv1.ListStandardsRequest{Parent: "branches/ai"}); !apierr.Is(err, apiv1.ErrorReason_UNKNOWN_BRANCH) {
		t.Fatalf("a branch governance never created: %v, want UNKNOWN_BRANCH", err)
	}
	if err := gstreams.AnnounceBranch(context.Background(), rdb, &governancev1.Branch{Name: "branches/ai", DisplayName: "人工智能分会"}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		list, err := c.ListStandards(svc.As(t, ""), &standardsv1.ListStandardsRequest{Parent: "branches/ai"})
		if err == nil && len(list.GetStandards()) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("public list 5s after governance created the branch: %v %v", list, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	_, err = c.CreateStandard(svc.Admin(t), &standardsv1.CreateStandardRequest{Parent: "branches/ai", Standard: &standardsv1.Standard{
		Kind: standardsv1.StandardKind_STANDARD_KIND_GROUP_STANDARD, Title: "人工智能 数据标注 质量要求", LeadUnit: "branches/ai/members/unit-a"}})
	if status.Code(err) != codes.Unavailable || !apierr.Is(err, apiv1.ErrorReason_DEPENDENCY_UNAVAILABLE) {
		t.Fatalf("proposal with membership down: %v, want UNAVAILABLE", err)
	}
	list, err := c.ListStandards(svc.Admin(t), &standardsv1.ListStandardsRequest{Parent: "branches/ai"})
	if err != nil || len(list.GetStandards()) != 0 {
		t.Fatalf("after the refusal: %v %v, want no standards", list, err)
	}
}
