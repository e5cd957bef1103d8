// Package domain holds the governance rules (CHARTER.md G1–G9) as pure
// functions, and the use cases that apply them through a Repository: the
// branch and its charter parameters, terms, nominations, officers,
// meetings, resolutions, work plans and the compliance report.
package domain

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"google.golang.org/grpc/codes"

	"github.com/tjsia/chapterhouse/platform/apierr"
	apiv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/api/v1"
	governancev1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/governance/v1"
	membershipv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/membership/v1"

	"github.com/tjsia/chapterhouse/contracts/governance/branches"
)

// Charter rule codes enforced here.
const (
	RuleTermLimit          = "G1"
	RuleQualification      = "G2"
	RuleRepresentativeRank = "G3"
	RuleAgeLimit           = "G4"
	RuleChairRoute         = "G5"
	RuleDirectorNominee    = "G6"
	RuleSecretaryAppointer = "G7"
	RuleSecretaryEmployer  = "G8"
	RuleAssignedTasks      = "G9"
	RuleExchangeQuota      = "A1"
)

// Statements are at least this long once trimmed: a statement that says
// nothing is not a statement.
const minStatement = 20

// DefaultParameters are CHARTER.md's numbers.
func DefaultParameters() *governancev1.CharterParameters {
	return &governancev1.CharterParameters{
		MinExchangeActivitiesPerYear: 2,
		MaxConsecutiveTerms:          2,
		MinRepresentativeRank:        membershipv1.Rank_RANK_VICE_PRESIDENT,
		ChairMaxAge:                  70,
		DirectorMaxAge:               65,
		Quorum:                       &governancev1.Fraction{Numerator: 2, Denominator: 3},
		Majority:                     &governancev1.Fraction{Numerator: 1, Denominator: 2},
		MaxDirectorNomineesPerMember: 1,
	}
}

// WithDefaults returns p with every zero or unset parameter taken from
// DefaultParameters.
func WithDefaults(p *governancev1.CharterParameters) *governancev1.CharterParameters {
	d := DefaultParameters()
	if p == nil {
		return d
	}
	out := &governancev1.CharterParameters{
		MinExchangeActivitiesPerYear: pick(p.GetMinExchangeActivitiesPerYear(), d.GetMinExchangeActivitiesPerYear()),
		MaxConsecutiveTerms:          pick(p.GetMaxConsecutiveTerms(), d.GetMaxConsecutiveTerms()),
		MinRepresentativeRank:        p.GetMinRepresentativeRank(),
		ChairMaxAge:                  pick(p.GetChairMaxAge(), d.GetChairMaxAge()),
		DirectorMaxAge:               pick(p.GetDirectorMaxAge(), d.GetDirectorMaxAge()),
		Quorum:                       p.GetQuorum(),
		Majority:                     p.GetMajority(),
		MaxDirectorNomineesPerMember: pick(p.GetMaxDirectorNomineesPerMember(), d.GetMaxDirectorNomineesPerMember()),
	}
	if out.MinRepresentativeRank == membershipv1.Rank_RANK_UNSPECIFIED {
		out.MinRepresentativeRank = d.GetMinRepresentativeRank()
	}
	if out.GetQuorum().GetDenominator() == 0 {
		out.Quorum = d.GetQuorum()
	}
	if out.GetMajority().GetDenominator() == 0 {
		out.Majority = d.GetMajority()
	}
	return out
}

func pick(v, def int32) int32 {
	if v == 0 {
		return def
	}
	return v
}

// ValidateParameters checks what CEL cannot: fractions are proper.
func ValidateParameters(p *governancev1.CharterParameters, field string) []apierr.FieldViolation {
	var v []apierr.FieldViolation
	for name, f := range map[string]*governancev1.Fraction{"quorum": p.GetQuorum(), "majority": p.GetMajority()} {
		if f.GetDenominator() == 0 && f.GetNumerator() == 0 {
			continue
		}
		if f.GetDenominator() == 0 || f.GetNumerator() > f.GetDenominator() {
			v = append(v, apierr.Field(field+"."+name, "governance.fraction"))
		}
	}
	return v
}

// --- days ---

// Day is a calendar day (midnight UTC stands for it).
type Day = time.Time

// AgeOn is the age in whole years on day of someone born on birth. A 29
// February birthday falls on 1 March in other years, so its age turns
// then.
func AgeOn(birth, day Day) int {
	age := day.Year() - birth.Year()
	if day.Month() < birth.Month() || (day.Month() == birth.Month() && day.Day() < birth.Day()) {
		age--
	}
	return age
}

// FirstDayOver is the first day on which someone born on birth is older
// than maxAge: their birthday of maxAge+1 years (1 March for a 29 February
// birthday in a year without one).
func FirstDayOver(birth Day, maxAge int) Day {
	y := birth.Year() + maxAge + 1
	d := time.Date(y, birth.Month(), birth.Day(), 0, 0, 0, 0, time.UTC)
	if d.Month() != birth.Month() { // 29 February in a common year rolled over
		return time.Date(y, time.March, 1, 0, 0, 0, 0, time.UTC)
	}
	return d
}

// TermDays is a term's first and last day.
func TermDays(t *governancev1.Term) (first, last Day) {
	first, _ = branches.DayOf(t.GetStartDate())
	last, _ = branches.DayOf(t.GetEndDate())
	return first, last
}

// TermState is where a term stands on day.
func TermState(t *governancev1.Term, day Day) governancev1.TermState {
	first, last := TermDays(t)
	switch {
	case day.Before(first):
		return governancev1.TermState_TERM_STATE_UPCOMING
	case day.After(last):
		return governancev1.TermState_TERM_STATE_ENDED
	}
	return governancev1.TermState_TERM_STATE_CURRENT
}

// Overlaps reports whether two terms share a day.
func Overlaps(a, b *governancev1.Term) bool {
	af, al := TermDays(a)
	bf, bl := TermDays(b)
	return !af.After(bl) && !bf.After(al)
}

// --- nominations (G1–G8) ---

// Stage is how far a nomination has come; some rules apply only at some.
type Stage int

// Stages at which the rules are judged.
const (
	// Proposing: CreateNomination and CheckEligibility.
	Proposing Stage = iota
	// Qualifying: the chair's confirmation (G6) or the general council's
	// decision (G5).
	Qualifying
	// Appointing: AppointNomination, on the day office begins.
	Appointing
)

// Candidate is everything the nomination rules judge.
type Candidate struct {
	Stage    Stage
	Position governancev1.Position
	// Nominee as membership has them; nil when unknown.
	Nominee *membershipv1.Person
	// Represented is the unit member the nominee represents; nil when the
	// nomination names none.
	Represented *membershipv1.Member
	// Individual is the nominee's own individual membership of the branch,
	// in any state; nil when they have none. Read for a director standing
	// in their own name (G6).
	Individual             *membershipv1.Member
	QualificationStatement string
	ConsultationNotes      string
	// ProposerIsGeneralSecretary: the proposer holds the
	// general_secretary role (G5).
	ProposerIsGeneralSecretary bool
	// Proposer is the proposer's person name (G7).
	Proposer string
	Term     *governancev1.Term
	// StartDate is the day office would begin (G4).
	StartDate Day
	// Terms are every term of the branch, and History every officer of
	// it, every term (G1).
	Terms   []*governancev1.Term
	History []*governancev1.Officer
	// Open are the term's PROPOSED, QUALIFIED and APPOINTED nominations,
	// this one excluded (the one chair, G5; the one secretary-general, G7;
	// one director nominee per unit, G6).
	Open []*governancev1.Nomination
	// Chair is the term's serving chair, nil when it has none (G7, G8).
	Chair *governancev1.Officer
	// ViceChairs are the term's serving vice-chairs (G8).
	ViceChairs []*governancev1.Officer
	// State is the nomination's state when it exists (G5, G6 at
	// appointment).
	State  governancev1.NominationState
	Params *governancev1.CharterParameters
}

// violation is a broken rule whose text is the catalog's
// "violation.governance.<what>" with args as alternating names and values:
// every fact the text names (who, the number, the limit, the position and
// state as their enum value names, shown through their terms).
func violation(rule string, reason apiv1.ErrorReason, what string, args ...string) apierr.Violation {
	v := apierr.Rule(rule, reason, args...)
	v.Key = "violation.governance." + what
	return v
}

// CheckNomination applies G1–G8 and returns every violation, in rule-code
// order.
func CheckNomination(c Candidate) []apierr.Violation {
	var out []apierr.Violation
	add := func(v ...apierr.Violation) { out = append(out, v...) }
	add(checkTermLimit(c)...)
	add(checkStatements(c)...)
	add(checkRepresentation(c)...)
	add(checkAge(c)...)
	add(checkChairRoute(c)...)
	add(checkDirectorNominee(c)...)
	add(checkSecretary(c)...)
	return out
}

func elected(p governancev1.Position) bool {
	return p == governancev1.Position_POSITION_CHAIR || p == governancev1.Position_POSITION_VICE_CHAIR || p == governancev1.Position_POSITION_DIRECTOR
}

// ConsecutiveTerms counts the terms of the branch's chain immediately
// before term in which person held position: the term before it in time,
// the one before that, and so on; the first without it ends the run. The
// chain is the branch's terms in the order of their dates, not arithmetic
// on their numbers: CreateTerm and UpdateTerm keep numbers and dates in
// the same order without a gap in the numbers (TermFits), so both
// readings of "consecutive" (CHARTER.md: terms N and N+1) agree, and a
// record where they would not (届 1, 3 and 5 back to back) still counts 1
// and 3 as the two terms before 5. A pause between two terms' dates does
// not break the chain: the next term is the next term.
func ConsecutiveTerms(terms []*governancev1.Term, history []*governancev1.Officer, person string, position governancev1.Position, term *governancev1.Term) int {
	held := map[int32]bool{}
	for _, o := range history {
		if o.GetPerson() == person && o.GetPosition() == position {
			held[TermNumberOf(o.GetName())] = true
		}
	}
	chain := []*governancev1.Term{term}
	for _, t := range terms {
		if t.GetNumber() != term.GetNumber() {
			chain = append(chain, t)
		}
	}
	slices.SortFunc(chain, func(a, b *governancev1.Term) int {
		af, _ := TermDays(a)
		bf, _ := TermDays(b)
		return cmp.Or(af.Compare(bf), cmp.Compare(a.GetNumber(), b.GetNumber()))
	})
	i := slices.Index(chain, term)
	n := 0
	for k := i - 1; k >= 0 && held[chain[k].GetNumber()]; k-- {
		n++
	}
	return n
}

// TermFits judges a term against the branch's other terms (G1, whose
// sentence sets up the terms: "实行任期制"): they are one chain, numbered
// 1, 2, 3… without a gap, each starting after the one before it ends, so
// that "consecutive" means the same read by number or by date
// (ConsecutiveTerms). A new term (creating) takes the number after the
// branch's last (届 1 for the first) and starts after that term ends, any
// day after: the dates may lie in the past (a term served before the
// branch used Chapterhouse is recorded in its place). A term's dates stay
// after the term before it and before the term after it. nil when t fits;
// TERMS_OVERLAP when it shares a day with another term, TERM_OUT_OF_SEQUENCE
// otherwise.
func TermFits(others []*governancev1.Term, t *governancev1.Term, creating bool) error {
	if creating {
		var last *governancev1.Term
		for _, o := range others {
			if o.GetNumber() != t.GetNumber() && (last == nil || o.GetNumber() > last.GetNumber()) {
				last = o
			}
		}
		next := int32(1)
		if last != nil {
			next = last.GetNumber() + 1
		}
		if t.GetNumber() != next {
			md := map[string]string{"resource": t.GetName(), "number": itoa(next)}
			if last != nil {
				md["term"] = last.GetName()
			}
			return refusal(codes.FailedPrecondition, apiv1.ErrorReason_TERM_OUT_OF_SEQUENCE, "term_number_not_next", md)
		}
	}
	if other := overlapping(others, t); other != nil {
		return termsOverlap(t, other)
	}
	// Its neighbours in number: the chain before and after them is in
	// order already.
	var before, after *governancev1.Term
	for _, o := range others {
		switch n := o.GetNumber(); {
		case n < t.GetNumber() && (before == nil || n > before.GetNumber()):
			before = o
		case n > t.GetNumber() && (after == nil || n < after.GetNumber()):
			after = o
		}
	}
	first, last := TermDays(t)
	if _, end := TermDays(before); before != nil && !first.After(end) {
		return outOfSequence("term_starts_before_previous_ends", t, before, end)
	}
	if start, _ := TermDays(after); after != nil && !start.After(last) {
		return outOfSequence("term_ends_after_next_starts", t, after, start)
	}
	return nil
}

// outOfSequence: t does not keep its place beside neighbour, which ends
// (or starts) on day; what says which ("error.governance.<what>").
func outOfSequence(what string, t, neighbour *governancev1.Term, day Day) error {
	return refusal(codes.FailedPrecondition, apiv1.ErrorReason_TERM_OUT_OF_SEQUENCE, what,
		map[string]string{"resource": t.GetName(), "term": neighbour.GetName(), "date": day.Format(time.DateOnly)})
}

// TermNumberOf is the term number in a name under branches/*/terms/{n}/...
func TermNumberOf(name string) int32 {
	parts := strings.Split(name, "/")
	if len(parts) < 4 || parts[2] != "terms" {
		return 0
	}
	var n int32
	if _, err := fmt.Sscan(parts[3], &n); err != nil {
		return 0
	}
	return n
}

// G1: at most max_consecutive_terms consecutive terms in the same office,
// the chair and the vice-chairs counted separately.
func checkTermLimit(c Candidate) []apierr.Violation {
	if c.Position != governancev1.Position_POSITION_CHAIR && c.Position != governancev1.Position_POSITION_VICE_CHAIR {
		return nil
	}
	max := int(c.Params.GetMaxConsecutiveTerms())
	n := ConsecutiveTerms(c.Terms, c.History, c.Nominee.GetName(), c.Position, c.Term)
	if n < max {
		return nil
	}
	return []apierr.Violation{violation(RuleTermLimit, apiv1.ErrorReason_TERM_LIMIT_EXCEEDED, "term_limit",
		"person", c.Nominee.GetName(), "served", strconv.Itoa(n), "position", c.Position.String(), "max", strconv.Itoa(max))}
}

// G2: the qualification statement of a chair, vice-chair or director.
func checkStatements(c Candidate) []apierr.Violation {
	if !elected(c.Position) || utf8.RuneCountInString(strings.TrimSpace(c.QualificationStatement)) >= minStatement {
		return nil
	}
	return []apierr.Violation{violation(RuleQualification, apiv1.ErrorReason_QUALIFICATION_STATEMENT_MISSING, "qualification_statement",
		"position", c.Position.String(), "min", strconv.Itoa(minStatement))}
}

// G3: a nominee representing a unit member is its current representative,
// works for it at min_representative_rank or above (both attested), and the
// unit is an ACTIVE member.
func checkRepresentation(c Candidate) []apierr.Violation {
	if !elected(c.Position) || c.Represented == nil {
		return nil
	}
	m, p := c.Represented, c.Nominee
	var out []apierr.Violation
	if m.GetState() != membershipv1.MemberState_MEMBER_STATE_ACTIVE {
		out = append(out, violation(RuleRepresentativeRank, apiv1.ErrorReason_MEMBER_NOT_ACTIVE, "member_not_active",
			"member", m.GetName(), "state", m.GetState().String()))
	}
	switch {
	case m.GetKind() != membershipv1.ApplicationKind_APPLICATION_KIND_UNIT:
		out = append(out, violation(RuleRepresentativeRank, apiv1.ErrorReason_NOT_REPRESENTATIVE, "individual_member_represented",
			"member", m.GetName()))
	case m.GetPerson() != p.GetName():
		out = append(out, violation(RuleRepresentativeRank, apiv1.ErrorReason_NOT_REPRESENTATIVE, "not_current_representative",
			"person", p.GetName(), "member", m.GetName()))
	case p.GetOrganization() != m.GetOrganization() || p.GetOrganizationAttestation() == nil:
		out = append(out, violation(RuleRepresentativeRank, apiv1.ErrorReason_NOT_REPRESENTATIVE, "employer_not_attested",
			"person", p.GetName(), "organization", m.GetOrganization()))
	}
	min := c.Params.GetMinRepresentativeRank()
	switch {
	case p.GetRankAttestation() == nil:
		out = append(out, violation(RuleRepresentativeRank, apiv1.ErrorReason_RANK_TOO_LOW, "rank_not_attested",
			"person", p.GetName(), "min", min.String()))
	case p.GetRank() < min:
		out = append(out, violation(RuleRepresentativeRank, apiv1.ErrorReason_RANK_TOO_LOW, "rank_too_low",
			"person", p.GetName(), "min", min.String(), "rank", p.GetRank().String()))
	}
	return out
}

// MaxAge is G4's limit for position (0: none).
func MaxAge(params *governancev1.CharterParameters, position governancev1.Position) int {
	switch position {
	case governancev1.Position_POSITION_CHAIR, governancev1.Position_POSITION_VICE_CHAIR:
		return int(params.GetChairMaxAge())
	case governancev1.Position_POSITION_DIRECTOR:
		return int(params.GetDirectorMaxAge())
	}
	return 0
}

// G4: age in whole years on the day office begins is at most the limit.
func checkAge(c Candidate) []apierr.Violation {
	max := MaxAge(c.Params, c.Position)
	if max == 0 {
		return nil
	}
	birth, ok := branches.DayOf(c.Nominee.GetBirthDate())
	if !ok || c.Nominee.GetBirthDateAttestation() == nil {
		return []apierr.Violation{violation(RuleAgeLimit, apiv1.ErrorReason_BIRTH_DATE_NOT_ATTESTED, "birth_date_not_attested",
			"person", c.Nominee.GetName(), "position", c.Position.String(), "max", strconv.Itoa(max))}
	}
	// The verdict, not the age: whoever proposes or decides may not read
	// the nominee's birth date (Person.birth_date's readers), and an age
	// on a given day would tell it within a year.
	if AgeOn(birth, c.StartDate) > max {
		return []apierr.Violation{violation(RuleAgeLimit, apiv1.ErrorReason_AGE_LIMIT_EXCEEDED, "age_limit",
			"person", c.Nominee.GetName(), "position", c.Position.String(), "max", strconv.Itoa(max), "date", c.StartDate.Format(time.DateOnly))}
	}
	return nil
}

func isOpen(s governancev1.NominationState) bool {
	return s == governancev1.NominationState_NOMINATION_STATE_PROPOSED || s == governancev1.NominationState_NOMINATION_STATE_QUALIFIED ||
		s == governancev1.NominationState_NOMINATION_STATE_APPOINTED
}

// filled reports whether an open or appointed nomination holds position.
func filled(open []*governancev1.Nomination, position governancev1.Position) bool {
	for _, n := range open {
		if n.GetPosition() == position && isOpen(n.GetState()) {
			return true
		}
	}
	return false
}

// The violations of the places a term has, one constructor each, shared
// by the rules and by the store's refusal of a claim (ClaimViolation).
// They do not name the nomination holding the place: the caller may not
// be one who sees it.

// officeFilled: the term's one chair (G5) or one secretary-general (G7)
// is nominated or appointed already (CHARTER.md §2, "设理事长1名",
// "秘书长1名").
func officeFilled(position governancev1.Position) apierr.Violation {
	rule := RuleChairRoute
	if position == governancev1.Position_POSITION_SECRETARY_GENERAL {
		rule = RuleSecretaryAppointer
	}
	return violation(rule, apiv1.ErrorReason_OFFICE_ALREADY_FILLED, "office_filled", "position", position.String())
}

// unitNomineesFull: the unit member has its director nominees in the term
// (G6).
func unitNomineesFull(member string, max int) apierr.Violation {
	return violation(RuleDirectorNominee, apiv1.ErrorReason_DIRECTOR_NOMINEE_LIMIT_EXCEEDED, "unit_nominees_full",
		"member", member, "max", strconv.Itoa(max))
}

// standsAlready: an individual member stands for director once a term
// (G6).
func standsAlready(person string) apierr.Violation {
	return violation(RuleDirectorNominee, apiv1.ErrorReason_DIRECTOR_NOMINEE_LIMIT_EXCEEDED, "stands_already", "person", person)
}

// G5: the chair is proposed by the general association's secretary-general
// after democratic consultation, decided by its council; one per term.
func checkChairRoute(c Candidate) []apierr.Violation {
	if c.Position != governancev1.Position_POSITION_CHAIR {
		return nil
	}
	var out []apierr.Violation
	if c.Stage == Proposing && !c.ProposerIsGeneralSecretary {
		out = append(out, violation(RuleChairRoute, apiv1.ErrorReason_PROPOSER_NOT_GENERAL_SECRETARY, "proposer_not_general_secretary",
			"proposer", c.Proposer))
	}
	if utf8.RuneCountInString(strings.TrimSpace(c.ConsultationNotes)) < minStatement {
		out = append(out, violation(RuleChairRoute, apiv1.ErrorReason_CONSULTATION_NOTES_MISSING, "consultation_notes",
			"min", strconv.Itoa(minStatement)))
	}
	if filled(c.Open, c.Position) {
		out = append(out, officeFilled(c.Position))
	}
	return append(out, unqualified(c, RuleChairRoute, "chair_not_decided")...)
}

// unqualified: a chair (G5) and a director (G6) are appointed once found
// qualified (the general association's council decided on the chair, the
// branch chair confirmed the director); what is the text of each.
func unqualified(c Candidate, rule, what string) []apierr.Violation {
	if c.Stage == Appointing && c.State != governancev1.NominationState_NOMINATION_STATE_QUALIFIED {
		return []apierr.Violation{violation(rule, apiv1.ErrorReason_QUALIFICATION_NOT_CONFIRMED, what, "state", c.State.String())}
	}
	return nil
}

// G6: one director nominee per unit member per term, and the branch chair
// confirms a director's qualification before appointment.
func checkDirectorNominee(c Candidate) []apierr.Violation {
	if c.Position != governancev1.Position_POSITION_DIRECTOR {
		return nil
	}
	var out []apierr.Violation
	if c.Represented == nil && c.Individual.GetState() != membershipv1.MemberState_MEMBER_STATE_ACTIVE {
		// Standing in their own name, a nominee outside any membership (an
		// employee of a unit member, say) would escape both the unit's one
		// place and the rank rule (G3).
		out = append(out, violation(RuleDirectorNominee, apiv1.ErrorReason_DIRECTOR_NOT_A_MEMBER, "director_not_a_member",
			"person", c.Nominee.GetName()))
	}
	if c.Represented == nil {
		for _, o := range c.Open {
			if o.GetPosition() == governancev1.Position_POSITION_DIRECTOR && o.GetRepresentedMember() == "" && o.GetNominee() == c.Nominee.GetName() && isOpen(o.GetState()) {
				out = append(out, standsAlready(c.Nominee.GetName()))
				break
			}
		}
	}
	if c.Represented != nil {
		n := 0
		for _, o := range c.Open {
			if o.GetPosition() == governancev1.Position_POSITION_DIRECTOR && o.GetRepresentedMember() == c.Represented.GetName() && isOpen(o.GetState()) {
				n++
			}
		}
		if max := int(c.Params.GetMaxDirectorNomineesPerMember()); n >= max {
			out = append(out, unitNomineesFull(c.Represented.GetName(), max))
		}
	}
	return append(out, unqualified(c, RuleDirectorNominee, "director_not_confirmed")...)
}

// G7 and G8: the chair of the term appoints the secretary-general, and
// nobody else (not even admins, whose word would replace the chair's), one
// per term, who is an employee of the chair's
// unit or a serving vice-chair of the same term.
func checkSecretary(c Candidate) []apierr.Violation {
	if c.Position != governancev1.Position_POSITION_SECRETARY_GENERAL {
		return nil
	}
	var out []apierr.Violation
	if c.Stage != Qualifying {
		switch {
		case c.Chair == nil:
			out = append(out, violation(RuleSecretaryAppointer, apiv1.ErrorReason_PROPOSER_NOT_CHAIR, "no_chair"))
		case c.Stage == Proposing && c.Proposer != c.Chair.GetPerson():
			out = append(out, violation(RuleSecretaryAppointer, apiv1.ErrorReason_PROPOSER_NOT_CHAIR, "proposer_not_chair",
				"chair", c.Chair.GetPerson(), "proposer", c.Proposer))
		}
	}
	if filled(c.Open, c.Position) {
		out = append(out, officeFilled(c.Position))
	}
	employee := c.Chair != nil && c.Chair.GetOrganization() != "" && c.Nominee.GetOrganization() == c.Chair.GetOrganization() &&
		c.Nominee.GetOrganizationAttestation() != nil
	viceChair := false
	for _, v := range c.ViceChairs {
		viceChair = viceChair || v.GetPerson() == c.Nominee.GetName()
	}
	if !employee && !viceChair {
		args := []string{"person", c.Nominee.GetName()}
		if c.Chair != nil && c.Chair.GetOrganization() != "" {
			// Without it the text names the chair's unit without naming it.
			args = append(args, "organization", c.Chair.GetOrganization())
		}
		out = append(out, violation(RuleSecretaryEmployer, apiv1.ErrorReason_SECRETARY_GENERAL_NOT_ELIGIBLE, "secretary_not_eligible", args...))
	}
	return out
}

// --- council voting ---

// Tally counts a resolution's ballots: eligible are the voters snapshotted
// at opening; attendees, for a resolution voted at a meeting, the people
// present (nil otherwise); ballots map voters to their latest choice.
func Tally(eligible, attendees []string, ballots map[string]governancev1.VoteChoice, quorum, majority *governancev1.Fraction) *governancev1.Tally {
	isEligible := map[string]bool{}
	for _, e := range eligible {
		isEligible[e] = true
	}
	present := map[string]bool{}
	for _, a := range attendees {
		if isEligible[a] {
			present[a] = true
		}
	}
	t := &governancev1.Tally{EligibleCount: int32(len(eligible))}
	for voter, choice := range ballots {
		if !isEligible[voter] {
			continue
		}
		present[voter] = true
		switch choice {
		case governancev1.VoteChoice_VOTE_CHOICE_YES:
			t.YesCount++
		case governancev1.VoteChoice_VOTE_CHOICE_NO:
			t.NoCount++
		case governancev1.VoteChoice_VOTE_CHOICE_ABSTAIN:
			t.AbstainCount++
		}
	}
	t.PresentCount = int32(len(present))
	// ceil(eligible × q) in integers.
	num, den := int64(quorum.GetNumerator()), int64(quorum.GetDenominator())
	t.QuorumRequired = int32((int64(t.EligibleCount)*num + den - 1) / den)
	t.QuorumMet = t.PresentCount >= t.QuorumRequired && t.PresentCount > 0
	cast := int64(t.YesCount + t.NoCount + t.AbstainCount)
	t.YesRequired = int32(cast*int64(majority.GetNumerator())/int64(majority.GetDenominator()) + 1)
	return t
}

// Passed: the quorum is met and YES reaches the majority of votes cast.
func Passed(t *governancev1.Tally) bool {
	return t.GetQuorumMet() && t.GetYesCount() >= t.GetYesRequired()
}
