package domain

import (
	"context"

	"google.golang.org/protobuf/types/known/fieldmaskpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/tjsia/chapterhouse/platform/apierr"
	"github.com/tjsia/chapterhouse/platform/auth"
	"github.com/tjsia/chapterhouse/platform/fieldmask"
	"github.com/tjsia/chapterhouse/platform/retry"
	governancev1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/governance/v1"
)

var nominationPaths = []string{"qualification_statement", "consultation_notes"}

// UpdateNomination amends the statements of a PROPOSED nomination: its
// proposer, or admins.
func (s *Service) UpdateNomination(ctx context.Context, p auth.Principal, patch *governancev1.Nomination, mask *fieldmaskpb.FieldMask) (*governancev1.Nomination, error) {
	paths, err := fieldmask.Paths(mask, nominationPaths, map[string]string{
		"position": "governance.withdraw_and_propose", "nominee": "governance.withdraw_and_propose",
		"represented_member": "governance.withdraw_and_propose", "name": "immutable"})
	if err != nil {
		return nil, err
	}
	return retry.Write(ctx, patch.GetName(), patch.GetEtag(), IsStale, func() (*governancev1.Nomination, error) {
		_, branch, _, cur, _, err := s.seenNomination(ctx, p, patch.GetName())
		if err != nil {
			return nil, err
		}
		if err := amendsNomination(p, cur); err != nil {
			return nil, err
		}
		if patch.GetEtag() != "" && patch.GetEtag() != cur.GetEtag() {
			return nil, apierr.EtagMismatch(cur.GetName())
		}
		if cur.GetState() != governancev1.NominationState_NOMINATION_STATE_PROPOSED {
			return nil, nominationTransition(cur, "update")
		}
		next := clone(cur)
		fieldmask.Apply(next, patch, paths)
		next.UpdateTime, next.Etag = timestamppb.New(s.now()), newEtag()
		if err := s.repo.SaveNomination(ctx, branch, next, cur.GetEtag(), ""); err != nil {
			return nil, err
		}
		return next, nil
	})
}
