package domain

import (
	"context"

	"github.com/tjsia/chapterhouse/platform/apierr"
	"github.com/tjsia/chapterhouse/platform/auth"
	"github.com/tjsia/chapterhouse/platform/i18n"
	apiv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/api/v1"
	governancev1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/governance/v1"

	"github.com/tjsia/chapterhouse/contracts/governance/branches"
)

// CheckEligibility judges a prospective nomination by every rule and
// writes nothing. A proposer other than the caller is judged without
// static roles: roles travel in tokens, and only the caller's is at hand.
func (s *Service) CheckEligibility(ctx context.Context, p auth.Principal, req *governancev1.CheckEligibilityRequest) (*governancev1.CheckEligibilityResponse, error) {
	b, branch, term, err := s.termParent(ctx, req.GetParent(), false)
	if err != nil {
		return nil, err
	}
	in := req.GetNomination()
	if v := validNomination(in, branch); len(v) > 0 {
		return nil, apierr.InvalidArgument(v...)
	}
	j, err := s.judge(ctx, b, nil, branch, term, in)
	if err != nil {
		return nil, err
	}
	if err := checksEligibility(in, j.member)(p, j.council); err != nil {
		return nil, err
	}
	proposer, roles := p.Subject, p
	if req.GetProposer() != "" && req.GetProposer() != p.Subject {
		proposer, roles = req.GetProposer(), auth.Principal{Subject: req.GetProposer()}
	}
	start, err := s.startDay(j.term, req.GetStartDate(), "start_date", false)
	if err != nil {
		return nil, err
	}
	probe := clone(in)
	probe.Name, probe.State = "", governancev1.NominationState_NOMINATION_STATE_UNSPECIFIED
	v := CheckNomination(j.candidate(Proposing, probe, proposer, roles, start))
	return &governancev1.CheckEligibilityResponse{Eligible: len(v) == 0, Violations: toViolations(ctx, v), StartDate: branches.DateOf(start)}, nil
}

// toViolations are the answer's violations, their texts in the caller's
// language, the same texts a refusal of the nomination gives.
func toViolations(ctx context.Context, v []apierr.Violation) []*governancev1.Violation {
	out := make([]*governancev1.Violation, 0, len(v))
	for _, x := range v {
		out = append(out, &governancev1.Violation{Rule: x.Rule, Reason: x.Reason, Message: i18n.In(ctx, x.Text()), Field: fieldOf(x.Reason)})
	}
	return out
}

// fieldOf is the request field a violation concerns.
func fieldOf(r apiv1.ErrorReason) string {
	switch r {
	case apiv1.ErrorReason_QUALIFICATION_STATEMENT_MISSING:
		return "nomination.qualification_statement"
	case apiv1.ErrorReason_CONSULTATION_NOTES_MISSING:
		return "nomination.consultation_notes"
	case apiv1.ErrorReason_MEMBER_NOT_ACTIVE, apiv1.ErrorReason_DIRECTOR_NOMINEE_LIMIT_EXCEEDED:
		return "nomination.represented_member"
	case apiv1.ErrorReason_PROPOSER_NOT_GENERAL_SECRETARY, apiv1.ErrorReason_PROPOSER_NOT_CHAIR:
		return "proposer"
	case apiv1.ErrorReason_OFFICE_ALREADY_FILLED:
		return "nomination.position"
	}
	return "nomination.nominee"
}
