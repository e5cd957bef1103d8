package domain

import (
	"context"
	"errors"

	"github.com/tjsia/chapterhouse/contracts/membership/termination"
	"github.com/tjsia/chapterhouse/platform/auth"
	"github.com/tjsia/chapterhouse/platform/events"
	"github.com/tjsia/chapterhouse/platform/retry"
	eventsv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/events/v1"
	governancev1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/governance/v1"
)

// HandleEvent follows membership: when a member's branch membership ends,
// the offices of those representing it end and their open nominations are
// withdrawn, each with the reason (CHARTER.md, "Branch membership ends").
// It is idempotent: a redelivered event finds the offices ended and the
// nominations withdrawn, and changes nothing.
//
// A stored record is read by people in their own languages, so no prose
// is composed into it: the reason recorded is the termination's, as its
// author wrote it, and what the system did and why are facts of the
// record (an officer's end_kind MEMBERSHIP_ENDED and represented_member;
// a nomination's WITHDRAWN state, its decider "system" and its
// represented_member).
func (s *Service) HandleEvent(ctx context.Context, env *eventsv1.Envelope) error {
	t, ok := termination.Of(env)
	if !ok {
		return nil
	}
	branch, member := t.Branch, t.Member
	b, err := s.repo.GetBranch(ctx, branch)
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	system := auth.Principal{Subject: events.SystemActor}
	reason := t.Reason
	if err := s.endRepresentedOffices(ctx, system, b, branch, member, reason); err != nil {
		return err
	}
	return s.withdrawRepresentedNominations(ctx, system, b, branch, member, reason)
}

func (s *Service) endRepresentedOffices(ctx context.Context, system auth.Principal, b *governancev1.Branch, branch, member, reason string) error {
	officers, err := s.repo.Officers(ctx, branch)
	if err != nil {
		return err
	}
	today := s.today()
	for _, o := range officers.Items {
		if o.GetRepresentedMember() != member || present(ctx, o, today).GetState() != governancev1.OfficerState_OFFICER_STATE_SERVING {
			continue
		}
		term := TermNumberOf(o.GetName())
		id := o.GetName()[len(termName(branch, term)+"/officers/"):]
		_, err := retry.Conflicts(ctx, IsStale, func() (*governancev1.Officer, error) {
			cur, err := s.repo.GetOfficer(ctx, branch, term, id)
			if err != nil {
				return nil, err
			}
			if present(ctx, cur, today).GetState() != governancev1.OfficerState_OFFICER_STATE_SERVING {
				return cur, nil
			}
			return s.endOffice(ctx, system, b, branch, cur, today, governancev1.OfficeEndKind_OFFICE_END_KIND_MEMBERSHIP_ENDED, reason)
		})
		if err != nil {
			return err
		}
	}
	return nil
}

func (s *Service) withdrawRepresentedNominations(ctx context.Context, system auth.Principal, b *governancev1.Branch, branch, member, reason string) error {
	terms, err := s.repo.Terms(ctx, branch)
	if err != nil {
		return err
	}
	for _, t := range terms.Items {
		noms, err := s.repo.Nominations(ctx, branch, t.GetNumber())
		if err != nil {
			return err
		}
		for _, n := range noms {
			if n.GetRepresentedMember() != member {
				continue
			}
			id := n.GetName()[len(termName(branch, t.GetNumber())+"/nominations/"):]
			_, err := retry.Conflicts(ctx, IsStale, func() (*governancev1.Nomination, error) {
				cur, err := s.repo.GetNomination(ctx, branch, t.GetNumber(), id)
				if err != nil {
					return nil, err
				}
				if st := cur.GetState(); st != governancev1.NominationState_NOMINATION_STATE_PROPOSED && st != governancev1.NominationState_NOMINATION_STATE_QUALIFIED {
					return cur, nil
				}
				return s.withdraw(ctx, system, b, branch, cur, reason)
			})
			if err != nil {
				return err
			}
		}
	}
	return nil
}
