package domain

import (
	"context"
	"strings"

	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/tjsia/chapterhouse/platform/apierr"
	"github.com/tjsia/chapterhouse/platform/auth"
	"github.com/tjsia/chapterhouse/platform/retry"
	apiv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/api/v1"
	eventsv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/events/v1"
	governancev1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/governance/v1"
)

// decision is a qualification decision on a nomination: the chair's
// confirmation of a director (G6) or the general council's decision on a
// chair (G5).
type decision struct {
	name, etag, reason string
	// verb is the method's (confirmQualification, decide).
	verb     string
	approve  bool
	position governancev1.Position
	// may is who decides on a nomination of term.
	may func(term int32) rule
}

// decide applies a decision: APPROVE re-judges the nomination and moves it
// to QUALIFIED, REJECT to REJECTED with the reason, giving its place back.
func (s *Service) decide(ctx context.Context, p auth.Principal, d decision) (*governancev1.Nomination, error) {
	if !d.approve && strings.TrimSpace(d.reason) == "" {
		return nil, apierr.InvalidArgument(apierr.Field("reason", "governance.reject_reason"))
	}
	return retry.Write(ctx, d.name, d.etag, IsStale, func() (*governancev1.Nomination, error) {
		b, branch, term, cur, c, err := s.seenNomination(ctx, p, d.name)
		if err != nil {
			return nil, err
		}
		if c == nil {
			if c, err = s.council(ctx, branch); err != nil {
				return nil, err
			}
		}
		if err := d.may(term)(p, c); err != nil {
			return nil, err
		}
		if cur.GetPosition() != d.position {
			return nil, refusal(codes.FailedPrecondition, apiv1.ErrorReason_INVALID_STATE_TRANSITION, "wrong_decision",
				map[string]string{"resource": cur.GetName(), "action": d.verb, "state": cur.GetState().String(),
					"allowed": strings.Join(nominationAllows(cur), ","), "position": cur.GetPosition().String()})
		}
		if d.etag != "" && d.etag != cur.GetEtag() {
			return nil, apierr.EtagMismatch(cur.GetName())
		}
		if cur.GetState() != governancev1.NominationState_NOMINATION_STATE_PROPOSED {
			return nil, nominationTransition(cur, d.verb)
		}
		now := s.now()
		next := clone(cur)
		next.Decider, next.StateReason = p.Subject, d.reason
		next.DecideTime, next.UpdateTime, next.Etag = timestamppb.New(now), timestamppb.New(now), newEtag()
		ev := s.envelope(ctx, p, next.GetName())
		giveBack := ""
		if d.approve {
			j, err := s.judge(ctx, b, c, branch, term, cur)
			if err != nil {
				return nil, err
			}
			start, err := s.startDay(j.term, nil, "", false)
			if err != nil {
				return nil, err
			}
			if v := CheckNomination(j.candidate(Qualifying, cur, cur.GetProposer(), auth.Principal{}, start)); len(v) > 0 {
				return nil, apierr.Charter(v)
			}
			next.State = governancev1.NominationState_NOMINATION_STATE_QUALIFIED
			ev.Payload = &eventsv1.Envelope_NominationQualified{NominationQualified: &eventsv1.NominationQualified{Nomination: next}}
		} else {
			next.State = governancev1.NominationState_NOMINATION_STATE_REJECTED
			giveBack = release(cur, b.GetParameters())
			ev.Payload = &eventsv1.Envelope_NominationRejected{NominationRejected: &eventsv1.NominationRejected{Nomination: next, Reason: d.reason}}
		}
		if err := s.repo.SaveNomination(ctx, branch, next, cur.GetEtag(), giveBack, ev); err != nil {
			return nil, err
		}
		return next, nil
	})
}

// ConfirmNominationQualification is the branch chair's decision on a
// director (G6; who: confirmsDirector).
func (s *Service) ConfirmNominationQualification(ctx context.Context, p auth.Principal, req *governancev1.ConfirmNominationQualificationRequest) (*governancev1.Nomination, error) {
	return s.decide(ctx, p, decision{
		name: req.GetName(), etag: req.GetEtag(), reason: req.GetReason(), verb: "confirmQualification",
		approve: req.GetDecision() == governancev1.Decision_DECISION_APPROVE, position: governancev1.Position_POSITION_DIRECTOR,
		may: confirmsDirector,
	})
}

// DecideNomination is the general association council's decision on a
// chair candidate (G5; who: decidesChair).
func (s *Service) DecideNomination(ctx context.Context, p auth.Principal, req *governancev1.DecideNominationRequest) (*governancev1.Nomination, error) {
	return s.decide(ctx, p, decision{
		name: req.GetName(), etag: req.GetEtag(), reason: req.GetReason(), verb: "decide",
		approve: req.GetDecision() == governancev1.Decision_DECISION_APPROVE, position: governancev1.Position_POSITION_CHAIR,
		may: func(int32) rule { return decidesChair },
	})
}
