package grpcclient

import (
	"context"
	"fmt"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/tjsia/chapterhouse/platform/apierr"
	"github.com/tjsia/chapterhouse/platform/auth"
)

// OnBehalf prepares a call to another service made for the caller in ctx:
// it carries the caller's own token, so the callee applies its own
// authorisation, and a deadline of timeout.
func OnBehalf(ctx context.Context, timeout time.Duration) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	if p, ok := auth.FromContext(ctx); ok && p.Token != "" {
		ctx = metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+p.Token)
	}
	return ctx, cancel
}

// PeerError maps the failure of a call to dependency: a peer that could
// not be reached (or answered too late) is UNAVAILABLE, so the caller
// writes nothing and says which dependency; the peer's own Chapterhouse
// error passes unchanged; anything else is wrapped. Callers handle the
// codes their question gives a meaning to (NOT_FOUND) first.
func PeerError(dependency string, err error) error {
	switch status.Code(err) {
	case codes.Unavailable, codes.DeadlineExceeded, codes.Canceled:
		return apierr.Unavailable(dependency, err)
	}
	if apierr.Info(err) != nil {
		return err
	}
	return fmt.Errorf("%s: %w", dependency, err)
}
