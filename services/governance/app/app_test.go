package app_test

import (
	"context"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/tjsia/chapterhouse/platform/bootstrap"
	"github.com/tjsia/chapterhouse/platform/servicetest"
	governancev1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/governance/v1"

	"github.com/tjsia/chapterhouse/services/governance/app"
)

// TestSkeleton: until its own issue lands the service starts, serves health
// and reflection, verifies tokens, and answers UNIMPLEMENTED.
func TestSkeleton(t *testing.T) {
	svc := servicetest.Start(t, app.Name, nil, func(ctx context.Context, cfg bootstrap.ServiceConfig) error {
		return app.Run(ctx, app.Config{ServiceConfig: cfg})
	})
	svc.CheckHealthAndReflection(t, "chapterhouse.governance.v1.GovernanceService")
	c := governancev1.NewGovernanceServiceClient(svc.Conn)

	ctx := svc.As(t, "")
	if _, err := c.ListTerms(ctx, &governancev1.ListTermsRequest{Parent: "branches/ai"}); status.Code(err) != codes.Unauthenticated {
		t.Fatalf("without a token: %v, want UNAUTHENTICATED", err)
	}
	// GetBranch is public in the proto: no token needed, even unimplemented.
	if _, err := c.GetBranch(ctx, &governancev1.GetBranchRequest{Name: "branches/ai"}); status.Code(err) != codes.Unimplemented {
		t.Fatalf("public method without a token: %v, want UNIMPLEMENTED", err)
	}
	ctx = svc.Admin(t)
	if _, err := c.ListTerms(ctx, &governancev1.ListTermsRequest{Parent: "branches/ai"}); status.Code(err) != codes.Unimplemented {
		t.Fatalf("with a token: %v, want UNIMPLEMENTED", err)
	}
}
