package domain

import (
	"context"
	"errors"
	"fmt"

	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/tjsia/chapterhouse/platform/apierr"
	"github.com/tjsia/chapterhouse/platform/auth"
	"github.com/tjsia/chapterhouse/platform/ids"
	"github.com/tjsia/chapterhouse/platform/retry"
	eventsv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/events/v1"
	governancev1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/governance/v1"
)

// CreateNomination proposes a nominee after every rule holds; a refusal
// lists every broken rule and stores nothing. The one chair, the one
// secretary-general and a unit's director places are claimed in the same
// atomic write, so of concurrent nominations for them exactly the allowed
// number succeed and the rest are refused by the rule.
func (s *Service) CreateNomination(ctx context.Context, p auth.Principal, parent string, in *governancev1.Nomination, id string) (*governancev1.Nomination, error) {
	b, branch, term, err := s.termParent(ctx, parent, false)
	if err != nil {
		return nil, err
	}
	if v := validNomination(in, branch); len(v) > 0 {
		return nil, apierr.InvalidArgument(v...)
	}
	if id == "" {
		id = ids.Random()
	}
	name := fmt.Sprintf("%s/nominations/%s", termName(branch, term), id)
	out, err := retry.Conflicts(ctx, IsStale, func() (*governancev1.Nomination, error) {
		v, err := s.viewerOf(ctx, p, branch, nil)
		if err != nil {
			return nil, err
		}
		// An id taken by a nomination p may see is answered as a repeat
		// or a conflict; one taken by a nomination p may not see is judged
		// as a free id would be, and only when that would succeed is it
		// refused (hiddenIDTaken).
		hidden := false
		existing, err := s.repo.GetNomination(ctx, branch, term, id)
		switch {
		case err == nil:
			sees, err := v.sees(ctx, existing)
			if err != nil {
				return nil, err
			}
			if sees {
				return sameNomination(existing, in, p)
			}
			hidden = true
		case !errors.Is(err, ErrNotFound):
			return nil, err
		}
		j, err := s.judge(ctx, b, v.council, branch, term, in)
		if err != nil {
			return nil, err
		}
		if err := proposes(in, j.member)(p, j.council); err != nil {
			return nil, err
		}
		start, err := s.startDay(j.term, nil, "", false)
		if err != nil {
			return nil, err
		}
		now := s.now()
		n := &governancev1.Nomination{
			Name: name, Position: in.GetPosition(), Nominee: in.GetNominee(), RepresentedMember: in.GetRepresentedMember(),
			Proposer: p.Subject, QualificationStatement: in.GetQualificationStatement(), ConsultationNotes: in.GetConsultationNotes(),
			State:      governancev1.NominationState_NOMINATION_STATE_PROPOSED,
			CreateTime: timestamppb.New(now), UpdateTime: timestamppb.New(now), Etag: newEtag(),
		}
		// Judged as a new nomination: a nomination already under this id
		// holds its place like any other.
		probe := clone(n)
		probe.Name, probe.State = "", governancev1.NominationState_NOMINATION_STATE_UNSPECIFIED
		if v := CheckNomination(j.candidate(Proposing, probe, p.Subject, p, start)); len(v) > 0 {
			return nil, apierr.Charter(v)
		}
		if hidden {
			return nil, hiddenIDTaken(id)
		}
		claim, max := claimOf(n, j.branch.GetParameters())
		ev := s.envelope(ctx, p, n.GetName())
		ev.Payload = &eventsv1.Envelope_NominationProposed{NominationProposed: &eventsv1.NominationProposed{Nomination: n}}
		err = s.repo.CreateNomination(ctx, branch, n, claim, max, ev)
		switch {
		case errors.Is(err, ErrExists):
			return nil, ErrStale // created meanwhile: read it again
		case errors.Is(err, ErrPlaceTaken):
			// Taken since the rules read the term: the store refused by the
			// rule, which is the answer.
			return nil, apierr.Charter([]apierr.Violation{placeTaken(n, max)})
		case err != nil:
			return nil, err
		}
		return n, nil
	})
	if errors.Is(err, retry.ErrExhausted) {
		return nil, apierr.TooContended(parent)
	}
	return out, err
}

// placeTaken is the violation of the rule whose place n would take: the
// one chair (G5) or secretary-general (G7), a unit's director nominees,
// an individual's one stand (G6). The same as the rules give.
func placeTaken(n *governancev1.Nomination, max int) apierr.Violation {
	switch {
	case n.GetPosition() != governancev1.Position_POSITION_DIRECTOR:
		return officeFilled(n.GetPosition())
	case n.GetRepresentedMember() != "":
		return unitNomineesFull(n.GetRepresentedMember(), max)
	}
	return standsAlready(n.GetNominee())
}

// sameNomination answers a repeated create: the same proposal returns the
// stored nomination, a different one under the same id is a conflict.
func sameNomination(existing, in *governancev1.Nomination, p auth.Principal) (*governancev1.Nomination, error) {
	if existing.GetPosition() == in.GetPosition() && existing.GetNominee() == in.GetNominee() &&
		existing.GetRepresentedMember() == in.GetRepresentedMember() && existing.GetProposer() == p.Subject {
		return existing, nil
	}
	return nil, apierr.AlreadyExists(existing.GetName())
}
