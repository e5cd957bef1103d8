package domain

import (
	"context"
	"errors"
	"time"

	"google.golang.org/genproto/googleapis/type/date"
	"google.golang.org/grpc/codes"

	"github.com/tjsia/chapterhouse/platform/apierr"
	"github.com/tjsia/chapterhouse/platform/auth"
	apiv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/api/v1"
	governancev1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/governance/v1"
	membershipv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/membership/v1"

	"github.com/tjsia/chapterhouse/contracts/governance/branches"
)

// judgement is what the rules need about a term, read together so the
// write can be conditioned on it.
type judgement struct {
	branch  *governancev1.Branch
	council *council
	term    *governancev1.Term
	noms    []*governancev1.Nomination
	nominee *membershipv1.Person
	member  *membershipv1.Member
	// individual is the nominee's own individual membership, read for a
	// director standing in their own name.
	individual *membershipv1.Member
}

// judge reads everything the rules judge a nomination on: the term, its
// nominations, the branch's officers (every term, for G1), and the nominee
// and represented member from membership. A person or member membership
// does not know is a bad reference; membership being down is UNAVAILABLE.
// c is the council when the caller has read it already (nil: read it).
func (s *Service) judge(ctx context.Context, b *governancev1.Branch, c *council, branch string, term int32, n *governancev1.Nomination) (*judgement, error) {
	if c == nil {
		var err error
		if c, err = s.council(ctx, branch); err != nil {
			return nil, err
		}
	}
	t := c.term(term)
	if t == nil {
		return nil, apierr.NotFound(termName(branch, term))
	}
	noms, err := s.repo.Nominations(ctx, branch, term)
	if err != nil {
		return nil, err
	}
	j := &judgement{branch: b, council: c, term: t, noms: noms}
	j.nominee, err = s.people.Person(ctx, n.GetNominee())
	if errors.Is(err, ErrNotFound) {
		return nil, apierr.ReferenceNotFound("nomination.nominee", n.GetNominee())
	}
	if err != nil {
		return nil, err
	}
	if m := n.GetRepresentedMember(); m != "" {
		j.member, err = s.people.Member(ctx, m)
		if errors.Is(err, ErrNotFound) {
			return nil, apierr.ReferenceNotFound("nomination.represented_member", m)
		}
		if err != nil {
			return nil, err
		}
	}
	if n.GetPosition() == governancev1.Position_POSITION_DIRECTOR && n.GetRepresentedMember() == "" {
		if j.individual, err = s.individualMember(ctx, branch, n.GetNominee()); err != nil {
			return nil, err
		}
	}
	return j, nil
}

// individualMember is person's own individual membership of branch, in any
// state; nil when they have none.
func (s *Service) individualMember(ctx context.Context, branch, person string) (*membershipv1.Member, error) {
	names, err := s.people.Represented(ctx, branch, person)
	if err != nil {
		return nil, err
	}
	for _, name := range names {
		m, err := s.people.Member(ctx, name)
		if errors.Is(err, ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		if m.GetKind() == membershipv1.ApplicationKind_APPLICATION_KIND_INDIVIDUAL {
			return m, nil
		}
	}
	return nil, nil
}

// candidate assembles the rules' input.
func (j *judgement) candidate(stage Stage, n *governancev1.Nomination, proposer string, proposerRoles auth.Principal, start Day) Candidate {
	term := j.term.GetNumber()
	var chair *governancev1.Officer
	if cs := j.council.serving(term, governancev1.Position_POSITION_CHAIR); len(cs) > 0 {
		chair = cs[0]
	}
	return Candidate{
		Stage: stage, Position: n.GetPosition(), Nominee: j.nominee, Represented: j.member, Individual: j.individual,
		QualificationStatement: n.GetQualificationStatement(), ConsultationNotes: n.GetConsultationNotes(),
		ProposerIsGeneralSecretary: proposerRoles.HasRole(auth.RoleGeneralSecretary),
		Proposer:                   proposer,
		Term:                       j.term, StartDate: start,
		Terms:      j.council.terms.Items,
		History:    j.council.officers.Items,
		Open:       holding(j.noms, j.council.officers.Items, n.GetName()),
		Chair:      chair,
		ViceChairs: j.council.serving(term, governancev1.Position_POSITION_VICE_CHAIR),
		State:      n.GetState(),
		Params:     j.branch.GetParameters(),
	}
}

// startDay is the day office would begin: the one asked for, else the
// later of the term's start and today. It lies within the term; when
// appointing it is not in the past either.
func (s *Service) startDay(t *governancev1.Term, asked *date.Date, field string, appointing bool) (Day, error) {
	first, last := TermDays(t)
	today := s.today()
	day := first
	if today.After(day) {
		day = today
	}
	if asked != nil {
		d, ok := branches.DayOf(asked)
		if !ok {
			return Day{}, apierr.InvalidArgument(apierr.Field(field, "governance.calendar_date"))
		}
		day = d
	}
	md := map[string]string{"field": field, "resource": t.GetName(), "term": t.GetName(), "date": day.Format(time.DateOnly),
		"start_date": first.Format(time.DateOnly), "end_date": last.Format(time.DateOnly)}
	if field == "" {
		delete(md, "field") // the day was not asked for: no field is wrong
	}
	switch {
	case day.Before(first) || day.After(last):
		return Day{}, refusal(codes.FailedPrecondition, apiv1.ErrorReason_DATE_OUTSIDE_TERM, "start_outside_term", md)
	case appointing && day.Before(today):
		md["today"] = today.Format(time.DateOnly)
		return Day{}, refusal(codes.FailedPrecondition, apiv1.ErrorReason_DATE_OUTSIDE_TERM, "start_in_past", md)
	}
	return day, nil
}
