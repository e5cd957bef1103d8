package grpcclient_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/tjsia/chapterhouse/platform/apierr"
	"github.com/tjsia/chapterhouse/platform/auth"
	"github.com/tjsia/chapterhouse/platform/grpcclient"
	apiv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/api/v1"
)

// TestPeerError: an unreachable or late peer is DEPENDENCY_UNAVAILABLE
// naming it; the peer's own answer passes unchanged.
func TestPeerError(t *testing.T) {
	for _, c := range []codes.Code{codes.Unavailable, codes.DeadlineExceeded, codes.Canceled} {
		err := grpcclient.PeerError("membership", status.Error(c, "down"))
		if status.Code(err) != codes.Unavailable || apierr.Info(err).GetMetadata()["dependency"] != "membership" {
			t.Errorf("%v: %v, want UNAVAILABLE naming membership", c, err)
		}
	}
	own := apierr.PermissionDenied("no")
	if err := grpcclient.PeerError("membership", own); !errors.Is(err, own) && apierr.ReasonOf(err) != apiv1.ErrorReason_PERMISSION_DENIED {
		t.Errorf("the peer's own answer: %v", err)
	}
}

// TestPeerReadError: a peer's NOT_FOUND is the client's own not-found
// error and each the calling domain gave, and reads as the client's; any
// other failure is PeerError's answer.
func TestPeerReadError(t *testing.T) {
	clients, domains := errors.New("membership: not found"), errors.New("domain: not found")
	notFound := status.Error(codes.NotFound, "no such person")
	if err := grpcclient.PeerReadError("membership", notFound, clients); err != clients {
		t.Errorf("with no domain error: %v, want the client's own", err)
	}
	err := grpcclient.PeerReadError("membership", notFound, clients, domains)
	if !errors.Is(err, clients) || !errors.Is(err, domains) || err.Error() != clients.Error() {
		t.Errorf("with the domain's error: %v, want one that is both and reads as the client's", err)
	}
	down := grpcclient.PeerReadError("membership", status.Error(codes.Unavailable, "down"), clients, domains)
	if errors.Is(down, clients) || apierr.Info(down).GetMetadata()["dependency"] != "membership" {
		t.Errorf("an unreachable peer: %v, want UNAVAILABLE naming membership", down)
	}
}

// TestOnBehalfCarriesTheCallersToken: the caller's token and a deadline go
// with the call.
func TestOnBehalfCarriesTheCallersToken(t *testing.T) {
	ctx := auth.WithPrincipal(context.Background(), auth.Principal{Subject: "people/a", Token: "tok"})
	ctx, cancel := grpcclient.OnBehalf(ctx, time.Second)
	defer cancel()
	md, _ := metadata.FromOutgoingContext(ctx)
	if got := md.Get("authorization"); len(got) != 1 || got[0] != "Bearer tok" {
		t.Fatalf("authorization %v", got)
	}
	if _, ok := ctx.Deadline(); !ok {
		t.Fatal("no deadline")
	}
}
