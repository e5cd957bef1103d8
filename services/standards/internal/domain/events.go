package domain

import (
	"context"
	"errors"
	"slices"

	"github.com/tjsia/chapterhouse/contracts/membership/termination"
	"github.com/tjsia/chapterhouse/platform/auth"
	"github.com/tjsia/chapterhouse/platform/events"
	"github.com/tjsia/chapterhouse/platform/retry"
	eventsv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/events/v1"
	standardsv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/standards/v1"
)

// HandleEvent follows membership: when a member's branch membership ends,
// it is taken off the working groups (as a participating unit) of the
// branch's standards not yet published, and its signatures lapse, each
// with the reason (CHARTER.md, "Branch membership ends"). A lead unit is
// not removed, since a standard must have one: the change is recorded for
// those who run the branch to name a new lead. It is idempotent: a
// redelivered event finds nothing left to change.
//
// A lapsed signature's record is read in every language, so it holds the
// facts, not prose: its state LAPSED says what happened and why (the
// member's branch membership ended), its member whose, and its
// withdraw_reason the words given for ending the membership, as they were
// given. The events' reasons are for the services that follow them, not
// for people, and say it in a developer's words.
func (s *Service) HandleEvent(ctx context.Context, env *eventsv1.Envelope) error {
	t, ok := termination.Of(env)
	if !ok {
		return nil
	}
	branch, member := t.Branch, t.Member
	system := auth.Principal{Subject: events.SystemActor}
	// What the events say, for developers and logs.
	why := "branch membership of " + member + " ended: " + t.Reason
	// First bar new signatures of the member, then lapse the ones there
	// are: a signing judged before the event cannot land after the lapse.
	if err := s.repo.EndMember(ctx, branch, lastSegment(member)); err != nil {
		return err
	}
	after := ""
	for {
		page, err := s.repo.ListStandards(ctx, branch, after, 100, nil)
		if err != nil {
			return err
		}
		for _, st := range page.Items {
			id := lastSegment(st.GetName())
			if !wasPublished(st) && !IsInForce(st.GetState()) && slices.Contains(st.GetParticipatingUnits(), member) {
				if err := s.dropUnit(ctx, system, branch, id, member, why); err != nil {
					return err
				}
			}
			if err := s.lapse(ctx, system, branch, id, lastSegment(member), t.Reason, why); err != nil {
				return err
			}
		}
		if page.Next == "" {
			return nil
		}
		after = page.Next
	}
}

func (s *Service) dropUnit(ctx context.Context, system auth.Principal, branch, id, member, reason string) error {
	_, err := retry.Conflicts(ctx, IsStale, func() (*standardsv1.Standard, error) {
		cur, err := s.repo.GetStandard(ctx, branch, id)
		if err != nil {
			return nil, err
		}
		i := slices.Index(cur.GetParticipatingUnits(), member)
		if i < 0 || wasPublished(cur) {
			return cur, nil
		}
		next := clone(cur)
		next.ParticipatingUnits = slices.Delete(next.ParticipatingUnits, i, i+1)
		next.UpdateTime, next.Etag = s.stamp(), newEtag()
		ev := s.envelope(ctx, system, next.GetName())
		ev.Payload = &eventsv1.Envelope_StandardUpdated{StandardUpdated: &eventsv1.StandardUpdated{Standard: next, Reason: reason}}
		return next, s.repo.SaveStandard(ctx, branch, Write{Standard: next, PrevEtag: cur.GetEtag(), Events: []*eventsv1.Envelope{ev}})
	})
	return err
}

// lapse ends member's signature of the standard id: LAPSED, with the
// words given for ending its membership (reason) as its withdraw_reason,
// and why, for the event.
func (s *Service) lapse(ctx context.Context, system auth.Principal, branch, id, member, reason, why string) error {
	_, err := retry.Conflicts(ctx, IsStale, func() (*standardsv1.Signatory, error) {
		cur, err := s.repo.GetSignatory(ctx, branch, id, member)
		if errors.Is(err, ErrNotFound) {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		if cur.GetState() != standardsv1.SignatoryState_SIGNATORY_STATE_SIGNED {
			return cur, nil
		}
		return s.unsign(ctx, system, branch, cur, standardsv1.SignatoryState_SIGNATORY_STATE_LAPSED, reason, why)
	})
	return err
}
