package app_test

import (
	"context"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/tjsia/chapterhouse/platform/bootstrap"
	"github.com/tjsia/chapterhouse/platform/servicetest"
	standardsv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/standards/v1"

	"github.com/tjsia/chapterhouse/services/standards/app"
)

// TestSkeleton: until its own issue lands the service starts, serves health
// and reflection, verifies tokens, and answers UNIMPLEMENTED.
func TestSkeleton(t *testing.T) {
	svc := servicetest.Start(t, app.Name, nil, func(ctx context.Context, cfg bootstrap.ServiceConfig) error {
		return app.Run(ctx, app.Config{ServiceConfig: cfg})
	})
	svc.CheckHealthAndReflection(t, "chapterhouse.standards.v1.StandardsService")
	c := standardsv1.NewStandardsServiceClient(svc.Conn)

	ctx := svc.As(t, "")
	if _, err := c.CreateStandard(ctx, &standardsv1.CreateStandardRequest{Parent: "branches/ai"}); status.Code(err) != codes.Unauthenticated {
		t.Fatalf("without a token: %v, want UNAUTHENTICATED", err)
	}
	ctx = svc.Admin(t)
	if _, err := c.CreateStandard(ctx, &standardsv1.CreateStandardRequest{Parent: "branches/ai"}); status.Code(err) != codes.Unimplemented {
		t.Fatalf("with a token: %v, want UNIMPLEMENTED", err)
	}
	// A public method needs no token.
	ctx = svc.As(t, "")
	if _, err := c.ListStandards(ctx, &standardsv1.ListStandardsRequest{Parent: "branches/ai"}); status.Code(err) != codes.Unimplemented {
		t.Fatalf("public method without a token: %v, want UNIMPLEMENTED", err)
	}
}
