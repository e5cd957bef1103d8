package grpcclient

import (
	"context"
	"fmt"
	"strings"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/tjsia/chapterhouse/platform/apierr"
	"github.com/tjsia/chapterhouse/platform/auth"
	"github.com/tjsia/chapterhouse/platform/i18n"
	apiv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/api/v1"
)

// OnBehalf prepares a call to another service made for the caller in ctx:
// it carries the caller's own token, so the callee applies its own
// authorisation, the caller's language, and a deadline of timeout.
func OnBehalf(ctx context.Context, timeout time.Duration) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	if p, ok := auth.FromContext(ctx); ok && p.Token != "" {
		ctx = metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+p.Token)
	}
	// The callee's refusals reach the caller as they are, in the caller's
	// language.
	ctx = metadata.AppendToOutgoingContext(ctx, i18n.MetadataKey, i18n.FromContext(ctx))
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

// PeerWriteError is PeerError for a call that writes. A write that met an
// unreachable or late peer may have been applied there before the reply
// was lost, and so may the peer's own OUTCOME_UNKNOWN: both are
// OUTCOME_UNKNOWN naming it, so the client retries with the same
// Idempotency-Key (the caller must make the peer write idempotent for
// that retry, e.g. with an id derived from the request) instead of being
// told that nothing was changed. Only a peer that says it changed
// nothing (its DEPENDENCY_UNAVAILABLE), or a call that never dialled it,
// is DEPENDENCY_UNAVAILABLE.
func PeerWriteError(dependency string, err error) error {
	switch status.Code(err) {
	case codes.Unavailable, codes.DeadlineExceeded, codes.Canceled:
		if reason := apierr.ReasonOf(err); reason == apiv1.ErrorReason_DEPENDENCY_UNAVAILABLE ||
			(apierr.Info(err) == nil && strings.Contains(status.Convert(err).Message(), "Error while dialing")) {
			return apierr.Unavailable(dependency, err)
		}
		return apierr.OutcomeUnknown(dependency, err)
	}
	return PeerError(dependency, err)
}

// PeerReadError is PeerError for a call that reads, whose NOT_FOUND has a
// meaning: it is an error that is notFound (the client's own ErrNotFound)
// and each of alsoNotFound (the calling domain's ErrNotFound, given once
// to the client's constructor), so the domain tests for its own error and
// no adapter translates it.
func PeerReadError(dependency string, err, notFound error, alsoNotFound ...error) error {
	if status.Code(err) != codes.NotFound {
		return PeerError(dependency, err)
	}
	if len(alsoNotFound) == 0 {
		return notFound
	}
	return notFoundError(append([]error{notFound}, alsoNotFound...))
}

// notFoundError reads as its first error and is each of them.
type notFoundError []error

func (n notFoundError) Error() string   { return n[0].Error() }
func (n notFoundError) Unwrap() []error { return n }
