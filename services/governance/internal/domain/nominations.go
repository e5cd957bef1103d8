package domain

import (
	"context"
	"errors"
	"fmt"
	"path"
	"slices"
	"strings"
	"time"

	"google.golang.org/genproto/googleapis/type/date"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/types/known/fieldmaskpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/tjsia/chapterhouse/platform/apierr"
	"github.com/tjsia/chapterhouse/platform/auth"
	"github.com/tjsia/chapterhouse/platform/fieldmask"
	"github.com/tjsia/chapterhouse/platform/i18n"
	"github.com/tjsia/chapterhouse/platform/ids"
	"github.com/tjsia/chapterhouse/platform/resourcename"
	"github.com/tjsia/chapterhouse/platform/retry"
	apiv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/api/v1"
	eventsv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/events/v1"
	governancev1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/governance/v1"
	membershipv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/membership/v1"

	"github.com/tjsia/chapterhouse/contracts/governance/branches"
)

// Claims are the places of an office a term has, held by its open and
// appointed nominations: the store counts them so that concurrent
// nominations for the one chair, the one secretary-general or a unit's
// director place cannot both succeed.
const (
	claimChair     = "office:CHAIR"
	claimSecretary = "office:SECRETARY_GENERAL"
	claimDirector  = "director:"
)

// claimOf is the claim a nomination holds and how many the term has; ""
// when its office is not limited (vice-chairs).
func claimOf(n *governancev1.Nomination, params *governancev1.CharterParameters) (string, int) {
	switch n.GetPosition() {
	case governancev1.Position_POSITION_CHAIR:
		return claimChair, 1
	case governancev1.Position_POSITION_SECRETARY_GENERAL:
		return claimSecretary, 1
	case governancev1.Position_POSITION_DIRECTOR:
		if n.GetRepresentedMember() != "" {
			return claimDirector + n.GetRepresentedMember(), int(params.GetMaxDirectorNomineesPerMember())
		}
		// An individual member stands once per term, as a unit puts
		// forward its one nominee.
		return claimDirector + n.GetNominee(), 1
	}
	return "", 0
}

// release is the claim a nomination gives back when it stops holding it.
func release(n *governancev1.Nomination, params *governancev1.CharterParameters) string {
	claim, _ := claimOf(n, params)
	return claim
}

// holding are the nominations that hold their office's place: open ones,
// and appointed ones whose officer has not left office early. except is
// left out (the nomination being judged).
func holding(noms []*governancev1.Nomination, officers []*governancev1.Officer, except string) []*governancev1.Nomination {
	ended := map[string]bool{}
	for _, o := range officers {
		if o.GetState() == governancev1.OfficerState_OFFICER_STATE_ENDED {
			ended[o.GetNomination()] = true
		}
	}
	var out []*governancev1.Nomination
	for _, n := range noms {
		if n.GetName() == except || !isOpen(n.GetState()) {
			continue
		}
		if n.GetState() == governancev1.NominationState_NOMINATION_STATE_APPOINTED && ended[n.GetName()] {
			continue
		}
		out = append(out, n)
	}
	return out
}

// validNomination checks a nomination's own fields.
func validNomination(n *governancev1.Nomination, branch string) []apierr.FieldViolation {
	v := required("nomination.position", n.GetPosition() == governancev1.Position_POSITION_UNSPECIFIED)
	switch _, err := resourcename.Parse(n.GetNominee(), "people"); {
	case n.GetNominee() == "":
		v = append(v, required("nomination.nominee", true)...)
	case err != nil:
		v = append(v, nameForm("nomination.nominee", n.GetNominee(), "people/{person}"))
	}
	if m := n.GetRepresentedMember(); m != "" {
		ids, err := resourcename.Parse(m, "branches", "members")
		if err != nil || ids[0] != branch {
			v = append(v, nameForm("nomination.represented_member", m, "branches/"+branch+"/members/{member}"))
		}
	}
	return v
}

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
	if !p.HasRole(auth.RoleAdmin, auth.RoleGeneralSecretary, auth.RoleGeneralCouncil) && !j.council.isCurrentChair(p) &&
		!j.council.isCouncilMember(p) && p.Subject != in.GetNominee() && (j.member == nil || j.member.GetPerson() != p.Subject) {
		return nil, apierr.PermissionDenied("governance.check_eligibility")
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

// mayPropose is who may put a nominee forward for each position. The
// chair's route (G5) and the secretary-general's appointer (G7) are
// charter rules, so breaking them is reported with the other violations;
// for vice-chairs and directors it is a plain permission.
func (s *Service) mayPropose(ctx context.Context, p auth.Principal, j *judgement, n *governancev1.Nomination) error {
	switch n.GetPosition() {
	case governancev1.Position_POSITION_VICE_CHAIR:
		if p.IsAdmin() || j.council.isCurrentChair(p) || j.council.isCouncilMember(p) {
			return nil
		}
		return apierr.PermissionDenied("governance.propose_vice_chair")
	case governancev1.Position_POSITION_DIRECTOR:
		if p.IsAdmin() {
			return nil
		}
		if n.GetRepresentedMember() == "" && p.Subject == n.GetNominee() {
			return nil
		}
		if j.member != nil && j.member.GetPerson() == p.Subject {
			return nil
		}
		return apierr.PermissionDenied("governance.propose_director")
	}
	return nil
}

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
		// refused, as AIP-133 has it, with PERMISSION_DENIED: p never
		// learns more than that this id is not theirs to use.
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
		if err := s.mayPropose(ctx, p, j, in); err != nil {
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
			return nil, apierr.PermissionDenied("governance.nomination_id_taken", "id", id)
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

// nominationOf reads branches/{b}/terms/{n}/nominations/{id}.
func (s *Service) nominationOf(ctx context.Context, name string) (*governancev1.Branch, string, int32, *governancev1.Nomination, error) {
	b, ids, err := s.inBranch(ctx, name, false, "terms", "nominations")
	if err != nil {
		return nil, "", 0, nil, err
	}
	term, ok := termNumber(ids[1])
	if !ok {
		return nil, "", 0, nil, apierr.NotFound(name)
	}
	n, err := s.repo.GetNomination(ctx, ids[0], term, ids[2])
	if err != nil {
		return nil, "", 0, nil, notFound(err, name)
	}
	return b, ids[0], term, n, nil
}

// overseesNominations: the roles that see every nomination.
func (c *council) overseesNominations(p auth.Principal) bool {
	return p.HasRole(auth.RoleAdmin, auth.RoleGeneralSecretary, auth.RoleGeneralCouncil) || c.isCurrentChair(p) || c.isCouncilMember(p)
}

// seenNomination reads a nomination as p may see it (seen.go: who sees
// a nomination). Anyone else is answered about it, and about every action
// on it, exactly as about a missing nomination: NOT_FOUND naming name,
// before any refusal of the action (a PERMISSION_DENIED, a charter or
// state error) that would tell the two apart. The council is returned
// when the rule read it (nil when the nominee or proposer asked).
func (s *Service) seenNomination(ctx context.Context, p auth.Principal, name string) (*governancev1.Branch, string, int32, *governancev1.Nomination, *council, error) {
	b, branch, term, n, err := s.nominationOf(ctx, name)
	if err != nil {
		return nil, "", 0, nil, nil, err
	}
	if p.Subject != "" && (p.Subject == n.GetNominee() || p.Subject == n.GetProposer()) {
		return b, branch, term, n, nil, nil
	}
	v, err := s.viewerOf(ctx, p, branch, nil)
	if err != nil {
		return nil, "", 0, nil, nil, err
	}
	ok, err := v.sees(ctx, n)
	if err != nil {
		return nil, "", 0, nil, nil, err
	}
	if !ok {
		return nil, "", 0, nil, nil, apierr.NotFound(name)
	}
	return b, branch, term, n, v.council, nil
}

// GetNomination: those who may see it (seenNomination). Others learn
// nothing, not even that it exists.
func (s *Service) GetNomination(ctx context.Context, p auth.Principal, name string) (*governancev1.Nomination, error) {
	_, _, _, n, _, err := s.seenNomination(ctx, p, name)
	if err != nil {
		return nil, err
	}
	return n, nil
}

// ListNominations lists the nominations p sees (seen.go): the overseers
// every one; anyone else those of whose term they are the chair, and
// those where they are the nominee, the proposer or the represented
// member's person.
func (s *Service) ListNominations(ctx context.Context, p auth.Principal, req *governancev1.ListNominationsRequest) ([]*governancev1.Nomination, string, error) {
	_, branch, term, err := s.termParent(ctx, req.GetParent(), true)
	if err != nil {
		return nil, "", err
	}
	c, err := s.council(ctx, branch)
	if err != nil {
		return nil, "", err
	}
	v, err := s.viewerOf(ctx, p, branch, c)
	if err != nil {
		return nil, "", err
	}
	pg, err := s.pages.Parse(req.GetPageSize(), req.GetPageToken(), "nominations", req.GetParent(), req.GetPosition().String(),
		req.GetState().String(), req.GetNominee(), req.GetRepresentedMember(), fmt.Sprint(v.all), p.Subject)
	if err != nil {
		return nil, "", err
	}
	var seeErr error
	keep := func(n *governancev1.Nomination) bool {
		switch {
		case term != 0 && TermNumberOf(n.GetName()) != term,
			req.GetPosition() != 0 && n.GetPosition() != req.GetPosition(),
			req.GetState() != 0 && n.GetState() != req.GetState(),
			req.GetNominee() != "" && n.GetNominee() != req.GetNominee(),
			req.GetRepresentedMember() != "" && n.GetRepresentedMember() != req.GetRepresentedMember():
			return false
		}
		ok, err := v.sees(ctx, n)
		if err != nil {
			seeErr = err
		}
		return ok
	}
	page, err := s.repo.ListNominations(ctx, branch, pg.After, pg.Size, keep)
	if err == nil {
		err = seeErr
	}
	if err != nil {
		return nil, "", err
	}
	return page.Items, pg.Next(page.Next), nil
}

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
		if !p.IsAdmin() && p.Subject != cur.GetProposer() {
			return nil, apierr.PermissionDenied("governance.amend_nomination")
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

// decision is a qualification decision on a nomination: the chair's
// confirmation of a director (G6) or the general council's decision on a
// chair (G5).
type decision struct {
	name, etag, reason string
	// verb is the method's (confirmQualification, decide).
	verb     string
	approve  bool
	position governancev1.Position
	// allowed says whether p may decide, given the council.
	allowed func(p auth.Principal, c *council, term int32) error
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
		if err := d.allowed(p, c, term); err != nil {
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
// director (G6): the chair of the nomination's term, or the current chair
// while that term has none yet. The charter gives it to the chair alone,
// so admins cannot stand in.
func (s *Service) ConfirmNominationQualification(ctx context.Context, p auth.Principal, req *governancev1.ConfirmNominationQualificationRequest) (*governancev1.Nomination, error) {
	return s.decide(ctx, p, decision{
		name: req.GetName(), etag: req.GetEtag(), reason: req.GetReason(), verb: "confirmQualification",
		approve: req.GetDecision() == governancev1.Decision_DECISION_APPROVE, position: governancev1.Position_POSITION_DIRECTOR,
		allowed: func(p auth.Principal, c *council, term int32) error {
			chair := c.chairOf(term)
			if chair == nil && c.current != nil {
				chair = c.chairOf(c.current.GetNumber())
			}
			if chair != nil && chair.GetPerson() == p.Subject {
				return nil
			}
			return apierr.PermissionDenied("governance.confirm_director")
		},
	})
}

// DecideNomination is the general association council's decision on a
// chair candidate (G5).
func (s *Service) DecideNomination(ctx context.Context, p auth.Principal, req *governancev1.DecideNominationRequest) (*governancev1.Nomination, error) {
	return s.decide(ctx, p, decision{
		name: req.GetName(), etag: req.GetEtag(), reason: req.GetReason(), verb: "decide",
		approve: req.GetDecision() == governancev1.Decision_DECISION_APPROVE, position: governancev1.Position_POSITION_CHAIR,
		allowed: func(p auth.Principal, _ *council, _ int32) error {
			if p.HasRole(auth.RoleGeneralCouncil) {
				return nil
			}
			return apierr.PermissionDenied("governance.decide_chair")
		},
	})
}

// mayAppoint is who appoints to each position. Admins record the
// appointment of a chair the general association's council decided, and of
// a director the chair confirmed; the secretary-general is the chair's own
// appointment (G7), which nobody else makes.
func mayAppoint(p auth.Principal, c *council, n *governancev1.Nomination, term int32) error {
	chairOfTerm := c.chairOf(term)
	isTermChair := chairOfTerm != nil && chairOfTerm.GetPerson() == p.Subject
	if n.GetPosition() == governancev1.Position_POSITION_SECRETARY_GENERAL {
		if isTermChair {
			return nil
		}
		return apierr.PermissionDenied("governance.appoint_secretary")
	}
	if p.IsAdmin() {
		return nil
	}
	switch n.GetPosition() {
	case governancev1.Position_POSITION_CHAIR:
		if p.HasRole(auth.RoleGeneralCouncil) {
			return nil
		}
		return apierr.PermissionDenied("governance.appoint_chair")
	case governancev1.Position_POSITION_VICE_CHAIR:
		if c.isCurrentChair(p) || isTermChair {
			return nil
		}
		return apierr.PermissionDenied("governance.appoint_vice_chair")
	default:
		if isTermChair {
			return nil
		}
		return apierr.PermissionDenied("governance.appoint_director")
	}
}

// appointingResolution checks the resolution a vice-chair's appointment
// cites: PASSED, a VICE_CHAIR_APPOINTMENT of the same term that lists the
// nomination.
func (s *Service) appointingResolution(ctx context.Context, branch string, n *governancev1.Nomination, name string) error {
	// why is the end of its text's key, "error.governance.vice_chair_resolution.<why>";
	// facts are the metadata beyond the resolution and the nomination.
	notPassed := func(why string, facts ...string) error {
		md := map[string]string{"field": "appointing_resolution", "nomination": n.GetName()}
		if name != "" {
			md["resource"], md["resolution"] = name, name
		}
		for i := 0; i+1 < len(facts); i += 2 {
			md[facts[i]] = facts[i+1]
		}
		return refusal(codes.FailedPrecondition, apiv1.ErrorReason_RESOLUTION_NOT_PASSED, "vice_chair_resolution."+why, md)
	}
	if name == "" {
		return notPassed("required")
	}
	ids, err := resourcename.Parse(name, "branches", "resolutions")
	if err != nil || ids[0] != branch {
		return apierr.InvalidArgument(nameForm("appointing_resolution", name, "branches/"+branch+"/resolutions/{resolution}"))
	}
	r, err := s.repo.GetResolution(ctx, branch, ids[1])
	if errors.Is(err, ErrNotFound) {
		return apierr.ReferenceNotFound("appointing_resolution", name)
	}
	if err != nil {
		return err
	}
	switch {
	case r.GetState() != governancev1.ResolutionState_RESOLUTION_STATE_PASSED:
		return notPassed("state", "state", r.GetState().String())
	case r.GetKind() != governancev1.ResolutionKind_RESOLUTION_KIND_VICE_CHAIR_APPOINTMENT:
		return notPassed("kind", "kind", r.GetKind().String())
	case TermNumberOf(r.GetTerm()) != TermNumberOf(n.GetName()):
		return notPassed("term", "term", r.GetTerm(), "nomination_term", termName(branch, TermNumberOf(n.GetName())))
	case !slices.Contains(r.GetNominations(), n.GetName()):
		return notPassed("unlisted")
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
		if err := mayAppoint(p, j.council, cur, term); err != nil {
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
		if !p.IsAdmin() && p.Subject != cur.GetNominee() && p.Subject != cur.GetProposer() {
			return nil, apierr.PermissionDenied("governance.withdraw_nomination")
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

// nominationAllows are the actions (the methods' verbs) n's state allows:
// a PROPOSED nomination is amended, withdrawn, and moved on by its
// position's next step (the general council decides a chair, the branch
// chair confirms a director, a vice-chair and a secretary-general are
// appointed); a QUALIFIED one is appointed or withdrawn; the rest are final.
func nominationAllows(n *governancev1.Nomination) []string {
	switch n.GetState() {
	case governancev1.NominationState_NOMINATION_STATE_PROPOSED:
		next := "appoint"
		switch n.GetPosition() {
		case governancev1.Position_POSITION_CHAIR:
			next = "decide"
		case governancev1.Position_POSITION_DIRECTOR:
			next = "confirmQualification"
		}
		return []string{"update", next, "withdraw"}
	case governancev1.NominationState_NOMINATION_STATE_QUALIFIED:
		return []string{"appoint", "withdraw"}
	}
	return nil
}

// nominationTransition refuses action on n, whose state does not allow it.
func nominationTransition(n *governancev1.Nomination, action string) error {
	return apierr.InvalidTransition(n.GetName(), action, n.GetState().String(), nominationAllows(n)...)
}
