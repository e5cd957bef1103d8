package domain

import (
	"context"
	"fmt"
	"path"
	"slices"

	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/tjsia/chapterhouse/platform/apierr"
	"github.com/tjsia/chapterhouse/platform/auth"
	"github.com/tjsia/chapterhouse/platform/retry"
	eventsv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/events/v1"
	governancev1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/governance/v1"

	"github.com/tjsia/chapterhouse/contracts/governance/branches"
)

// appointingResolution checks the resolution a vice-chair's appointment
// cites: PASSED, a VICE_CHAIR_APPOINTMENT of the same term that lists the
// nomination.
func (s *Service) appointingResolution(ctx context.Context, branch string, n *governancev1.Nomination, name string) error {
	c := citation{field: "appointing_resolution", name: name, kind: governancev1.ResolutionKind_RESOLUTION_KIND_VICE_CHAIR_APPOINTMENT,
		text: "vice_chair_resolution", facts: map[string]string{"nomination": n.GetName()}}
	if name == "" {
		return c.notPassed("required")
	}
	r, err := s.cited(ctx, branch, c)
	if err != nil {
		return err
	}
	switch {
	case TermNumberOf(r.GetTerm()) != TermNumberOf(n.GetName()):
		return c.notPassed("term", "term", r.GetTerm(), "nomination_term", termName(branch, TermNumberOf(n.GetName())))
	case !slices.Contains(r.GetNominations(), n.GetName()):
		return c.notPassed("unlisted")
	}
	return nil
}

// AppointNomination makes the nominee an officer after every rule holds
// again on the day office begins. The write is conditioned on the
// nomination, the branch's officers (G1's history, G8's vice-chairs) and
// the term's dates, so no concurrent change slips between the check and
// the appointment. A write that lost its race is judged again even when
// the client pinned the nomination's etag: each try compares that etag
// itself, so a changed nomination is still ETAG_MISMATCH, while a change
// of what the rules read (an office ended meanwhile) gets the rules'
// answer, not a 409 about a nomination that did not change.
func (s *Service) AppointNomination(ctx context.Context, p auth.Principal, req *governancev1.AppointNominationRequest) (*governancev1.Nomination, error) {
	return retry.Write(ctx, req.GetName(), "", IsStale, func() (*governancev1.Nomination, error) {
		b, branch, term, cur, c, err := s.seenNomination(ctx, p, req.GetName())
		if err != nil {
			return nil, err
		}
		j, err := s.judge(ctx, b, c, branch, term, cur)
		if err != nil {
			return nil, err
		}
		if err := appoints(cur, term)(p, j.council); err != nil {
			return nil, err
		}
		if req.GetEtag() != "" && req.GetEtag() != cur.GetEtag() {
			return nil, apierr.EtagMismatch(cur.GetName())
		}
		if st := cur.GetState(); st != governancev1.NominationState_NOMINATION_STATE_PROPOSED && st != governancev1.NominationState_NOMINATION_STATE_QUALIFIED {
			return nil, nominationTransition(cur, "appoint")
		}
		if cur.GetPosition() == governancev1.Position_POSITION_VICE_CHAIR {
			if err := s.appointingResolution(ctx, branch, cur, req.GetAppointingResolution()); err != nil {
				return nil, err
			}
		}
		start, err := s.startDay(j.term, req.GetStartDate(), "start_date", true)
		if err != nil {
			return nil, err
		}
		if v := CheckNomination(j.candidate(Appointing, cur, cur.GetProposer(), auth.Principal{}, start)); len(v) > 0 {
			return nil, apierr.Charter(v)
		}
		now := s.now()
		officer := &governancev1.Officer{
			Name:     fmt.Sprintf("%s/officers/%s", termName(branch, term), path.Base(cur.GetName())),
			Position: cur.GetPosition(), Person: cur.GetNominee(), RepresentedMember: cur.GetRepresentedMember(),
			Nomination: cur.GetName(), AppointingResolution: req.GetAppointingResolution(),
			StartDate: branches.DateOf(start), EndDate: clone(j.term.GetEndDate()),
			State:       governancev1.OfficerState_OFFICER_STATE_SERVING,
			AppointTime: timestamppb.New(now), Etag: newEtag(),
		}
		// G8 judges the secretary-general by the chair's unit as it was at
		// appointment; only an attested employer counts.
		if j.nominee.GetOrganizationAttestation() != nil {
			officer.Organization = j.nominee.GetOrganization()
		}
		next := clone(cur)
		next.State, next.Officer, next.AppointingResolution = governancev1.NominationState_NOMINATION_STATE_APPOINTED, officer.GetName(), req.GetAppointingResolution()
		next.AppointTime, next.UpdateTime, next.Etag = timestamppb.New(now), timestamppb.New(now), newEtag()
		ev := s.envelope(ctx, p, officer.GetName())
		ev.Payload = &eventsv1.Envelope_OfficerAppointed{OfficerAppointed: &eventsv1.OfficerAppointed{Officer: officer, Nomination: next}}
		if err := s.repo.Appoint(ctx, branch, next, cur.GetEtag(), officer, j.council.officers.Version, j.term.GetEtag(), ev); err != nil {
			return nil, err
		}
		return next, nil
	})
}
