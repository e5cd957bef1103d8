package call_test

import (
	"context"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/tjsia/chapterhouse/platform/auth"
	"github.com/tjsia/chapterhouse/platform/call"
)

func TestAsAndWith(t *testing.T) {
	use := func(p auth.Principal) (string, error) { return p.Subject, nil }
	if _, err := call.As(context.Background(), use); status.Code(err) != codes.Unauthenticated {
		t.Fatalf("without a caller: %v", err)
	}
	ctx := auth.WithPrincipal(context.Background(), auth.Principal{Subject: "people/ann"})
	if got, err := call.As(ctx, use); err != nil || got != "people/ann" {
		t.Fatalf("with a caller: %q %v", got, err)
	}
	if call.Anyone(context.Background()).Subject != "" || call.Anyone(ctx).Subject != "people/ann" {
		t.Fatal("Anyone")
	}
	ran := false
	if _, err := call.With("standard", false, func() (int, error) { ran = true; return 1, nil }); status.Code(err) != codes.InvalidArgument || ran {
		t.Fatalf("a missing resource: %v (use ran: %v)", err, ran)
	}
	if n, err := call.With("standard", true, func() (int, error) { return 1, nil }); n != 1 || err != nil {
		t.Fatalf("present: %d %v", n, err)
	}
}
