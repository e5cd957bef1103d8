package domain

import (
	"context"
	"strings"

	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/tjsia/chapterhouse/platform/apierr"
	"github.com/tjsia/chapterhouse/platform/auth"
	"github.com/tjsia/chapterhouse/platform/retry"
	eventsv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/events/v1"
	governancev1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/governance/v1"
)

// WithdrawNomination ends an open nomination: the nominee, the proposer or
// admins.
func (s *Service) WithdrawNomination(ctx context.Context, p auth.Principal, req *governancev1.WithdrawNominationRequest) (*governancev1.Nomination, error) {
	if strings.TrimSpace(req.GetReason()) == "" {
		return nil, apierr.InvalidArgument(apierr.Field("reason", "required"))
	}
	return retry.Write(ctx, req.GetName(), req.GetEtag(), IsStale, func() (*governancev1.Nomination, error) {
		b, branch, _, cur, _, err := s.seenNomination(ctx, p, req.GetName())
		if err != nil {
			return nil, err
		}
		if err := withdrawsNomination(p, cur); err != nil {
			return nil, err
		}
		if req.GetEtag() != "" && req.GetEtag() != cur.GetEtag() {
			return nil, apierr.EtagMismatch(cur.GetName())
		}
		return s.withdraw(ctx, p, b, branch, cur, req.GetReason())
	})
}

// withdraw writes an open nomination's withdrawal, giving its place back.
func (s *Service) withdraw(ctx context.Context, p auth.Principal, b *governancev1.Branch, branch string, cur *governancev1.Nomination, reason string) (*governancev1.Nomination, error) {
	if st := cur.GetState(); st != governancev1.NominationState_NOMINATION_STATE_PROPOSED && st != governancev1.NominationState_NOMINATION_STATE_QUALIFIED {
		return nil, nominationTransition(cur, "withdraw")
	}
	now := s.now()
	next := clone(cur)
	next.State, next.StateReason, next.Decider = governancev1.NominationState_NOMINATION_STATE_WITHDRAWN, reason, p.Subject
	next.UpdateTime, next.Etag = timestamppb.New(now), newEtag()
	ev := s.envelope(ctx, p, next.GetName())
	ev.Payload = &eventsv1.Envelope_NominationWithdrawn{NominationWithdrawn: &eventsv1.NominationWithdrawn{Nomination: next, Reason: reason}}
	if err := s.repo.SaveNomination(ctx, branch, next, cur.GetEtag(), release(cur, b.GetParameters()), ev); err != nil {
		return nil, err
	}
	return next, nil
}
