package domain

import (
	"context"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/tjsia/chapterhouse/platform/apierr"
	"github.com/tjsia/chapterhouse/platform/i18n"
	apiv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/api/v1"
	governancev1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/governance/v1"
	membershipv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/membership/v1"

	"github.com/tjsia/chapterhouse/contracts/governance/branches"
)

const (
	statement = "Leads applied AI research at a listed company; chairs two national standard working groups."
	notes     = "Consultation with all unit members held on 2026-10-12; no objections were raised."
)

var attested = &membershipv1.Attestation{Attester: "people/admin", AttestTime: timestamppb.New(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))}

func day(y int, m time.Month, d int) Day { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

func term(n int32) *governancev1.Term {
	start := day(2022+3*int(n-1), 1, 1)
	return &governancev1.Term{Name: termName("ai", n), Number: n, StartDate: branches.DateOf(start), EndDate: branches.DateOf(start.AddDate(3, 0, -1))}
}

// person is an attested nominee working for org at rank, born on birth.
func person(id string, birth Day, org string, rank membershipv1.Rank) *membershipv1.Person {
	return &membershipv1.Person{
		Name: "people/" + id, BirthDate: branches.DateOf(birth), BirthDateAttestation: attested,
		Organization: org, OrganizationAttestation: attested, Rank: rank, RankAttestation: attested,
	}
}

func unit(id, org, representative string) *membershipv1.Member {
	return &membershipv1.Member{Name: "branches/ai/members/" + id, Kind: membershipv1.ApplicationKind_APPLICATION_KIND_UNIT,
		Organization: org, Person: representative, State: membershipv1.MemberState_MEMBER_STATE_ACTIVE}
}

func individual(id, person string) *membershipv1.Member {
	return &membershipv1.Member{Name: "branches/ai/members/" + id, Kind: membershipv1.ApplicationKind_APPLICATION_KIND_INDIVIDUAL,
		Person: person, State: membershipv1.MemberState_MEMBER_STATE_ACTIVE}
}

func officer(id string, n int32, pos governancev1.Position, person, org string) *governancev1.Officer {
	t := term(n)
	return &governancev1.Officer{Name: termName("ai", n) + "/officers/" + id, Position: pos, Person: person, Organization: org,
		StartDate: t.GetStartDate(), EndDate: t.GetEndDate(), State: governancev1.OfficerState_OFFICER_STATE_SERVING}
}

func nomination(id string, pos governancev1.Position, member string, st governancev1.NominationState) *governancev1.Nomination {
	return &governancev1.Nomination{Name: termName("ai", 3) + "/nominations/" + id, Position: pos, RepresentedMember: member, State: st}
}

// candidate is an eligible director nominee of term 3 (2028–2030),
// representing Huiyun as its vice-president, proposed at the start of the
// term; each case changes what it tests.
func candidate() Candidate {
	return Candidate{
		Stage: Proposing, Position: governancev1.Position_POSITION_DIRECTOR,
		Nominee:                person("wang", day(1970, 5, 1), "organizations/huiyun", membershipv1.Rank_RANK_VICE_PRESIDENT),
		Represented:            unit("huiyun", "organizations/huiyun", "people/wang"),
		QualificationStatement: statement, Proposer: "people/wang",
		Term: term(3), Terms: []*governancev1.Term{term(1), term(2), term(3)}, StartDate: day(2028, 1, 1), Params: DefaultParameters(),
	}
}

func chairCandidate() Candidate {
	c := candidate()
	c.Position, c.ConsultationNotes, c.ProposerIsGeneralSecretary, c.Proposer = governancev1.Position_POSITION_CHAIR, notes, true, "people/gs"
	return c
}

func secretaryCandidate() Candidate {
	c := candidate()
	c.Position, c.Represented, c.QualificationStatement = governancev1.Position_POSITION_SECRETARY_GENERAL, nil, ""
	c.Nominee = person("li", day(1985, 3, 3), "organizations/tianhe", membershipv1.Rank_RANK_MANAGER)
	c.Chair = officer("chair", 3, governancev1.Position_POSITION_CHAIR, "people/zhang", "organizations/tianhe")
	c.Proposer = "people/zhang"
	return c
}

type ruleCase struct {
	name   string
	c      Candidate
	broken []apiv1.ErrorReason
}

func reasons(v []apierr.Violation) []apiv1.ErrorReason {
	out := make([]apiv1.ErrorReason, 0, len(v))
	for _, x := range v {
		out = append(out, x.Reason)
	}
	return out
}

func runRules(t *testing.T, rule string, cases []ruleCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(rule+"/"+tc.name, func(t *testing.T) {
			got := CheckNomination(tc.c)
			if !slices.Equal(reasons(got), tc.broken) {
				t.Fatalf("violations %v, want %v", got, tc.broken)
			}
			for _, v := range got {
				if v.Rule != rule || !strings.HasPrefix(v.Key, "violation.governance.") {
					t.Errorf("violation %+v: want rule %s and a text of governance's", v, rule)
				}
				// Every text is in the catalog, in every language, with
				// every fact it names given.
				for _, lang := range i18n.Languages() {
					raw, ok := i18n.Default().Raw(lang, v.Key)
					if !ok {
						t.Errorf("%s has no text %s", lang, v.Key)
					}
					for _, p := range i18n.Placeholders(raw) {
						name, _, _ := strings.Cut(strings.Trim(p, "{}"), "|")
						if _, set := v.Args[name]; !set && !optionalIn(raw, p) {
							t.Errorf("%s: %s names %s, which the violation does not give (%v)", lang, v.Key, p, v.Args)
						}
					}
				}
			}
		})
	}
}

// bracketed is a part of a text that goes when a fact in it has no value
// (as i18n renders it).
var bracketed = regexp.MustCompile(` ?\([^()]*\)|（[^（）]*）`)

// optionalIn reports whether placeholder p of text lies in a bracketed
// part, which a text may leave out.
func optionalIn(text, p string) bool {
	for _, part := range bracketed.FindAllString(text, -1) {
		if strings.Contains(part, p) {
			return true
		}
	}
	return false
}

func with(c Candidate, change func(*Candidate)) Candidate {
	change(&c)
	return c
}

// TestG1ConsecutiveTerms: at most two consecutive terms in one office; the
// chair and the vice-chairs count separately; a term out of the office
// resets the count. Consecutive is the chain of the branch's terms in time:
// terms numbered 1, 3 and 5 back to back are three consecutive terms, and
// a pause between two terms' dates does not part them.
func TestG1ConsecutiveTerms(t *testing.T) {
	chair := func(n int32) *governancev1.Officer {
		return officer("c", n, governancev1.Position_POSITION_CHAIR, "people/wang", "organizations/huiyun")
	}
	vice := func(n int32) *governancev1.Officer {
		return officer("v", n, governancev1.Position_POSITION_VICE_CHAIR, "people/wang", "organizations/huiyun")
	}
	asChair := func(history ...*governancev1.Officer) Candidate {
		return with(chairCandidate(), func(c *Candidate) { c.History = history })
	}
	runRules(t, RuleTermLimit, []ruleCase{
		{"first term", asChair(), nil},
		{"second consecutive term", asChair(chair(2)), nil},
		{"third consecutive term", asChair(chair(1), chair(2)), []apiv1.ErrorReason{apiv1.ErrorReason_TERM_LIMIT_EXCEEDED}},
		{"after a gap", asChair(chair(1)), nil},
		{"vice-chair terms do not count for the chair", asChair(vice(1), vice(2)), nil},
		{"third consecutive vice-chair term", with(asChair(vice(1), vice(2)), func(c *Candidate) {
			c.Position = governancev1.Position_POSITION_VICE_CHAIR
		}), []apiv1.ErrorReason{apiv1.ErrorReason_TERM_LIMIT_EXCEEDED}},
		{"someone else's terms", with(asChair(chair(1), chair(2)), func(c *Candidate) {
			c.Nominee = person("zhou", day(1970, 1, 1), "organizations/huiyun", membershipv1.Rank_RANK_PRESIDENT)
			c.Represented = unit("huiyun", "organizations/huiyun", "people/zhou")
		}), nil},
		{"limit raised to three", with(asChair(chair(1), chair(2)), func(c *Candidate) { c.Params.MaxConsecutiveTerms = 3 }), nil},
		{"two terms, then a gap", with(asChair(chair(1), chair(2)), func(c *Candidate) {
			c.Term, c.Terms = term(4), []*governancev1.Term{term(1), term(2), term(3), term(4)}
		}), nil},
		// Terms recorded as 届 1, 3 and 5 back to back (as before the
		// numbers were held to the sequence): 1 and 3 are the two terms
		// before 5, whatever their numbers say.
		{"terms 1, 3 and 5 back to back", with(asChair(officer("c", 1, governancev1.Position_POSITION_CHAIR, "people/wang", ""),
			officerOf(numbered(3, term(2)), "c", governancev1.Position_POSITION_CHAIR)), func(c *Candidate) {
			c.Term, c.Terms = numbered(5, term(3)), []*governancev1.Term{term(1), numbered(3, term(2)), numbered(5, term(3))}
		}), []apiv1.ErrorReason{apiv1.ErrorReason_TERM_LIMIT_EXCEEDED}},
		{"of 1, 3 and 5, a chair of 3 only", with(asChair(officerOf(numbered(3, term(2)), "c", governancev1.Position_POSITION_CHAIR)), func(c *Candidate) {
			c.Term, c.Terms = numbered(5, term(3)), []*governancev1.Term{term(1), numbered(3, term(2)), numbered(5, term(3))}
		}), nil},
		{"a pause between the terms' dates", with(asChair(chair(1), chair(2)), func(c *Candidate) {
			later := term(3)
			later.StartDate, later.EndDate = branches.DateOf(day(2031, 6, 1)), branches.DateOf(day(2034, 5, 31))
			c.Term, c.Terms = later, []*governancev1.Term{term(1), term(2), later}
		}), []apiv1.ErrorReason{apiv1.ErrorReason_TERM_LIMIT_EXCEEDED}},
	})
}

// numbered is t under another number.
func numbered(n int32, t *governancev1.Term) *governancev1.Term {
	c := cloneTerm(t)
	c.Name, c.Number = termName("ai", n), n
	return c
}

// officerOf is an officer of term t.
func officerOf(t *governancev1.Term, id string, pos governancev1.Position) *governancev1.Officer {
	return &governancev1.Officer{Name: t.GetName() + "/officers/" + id, Position: pos, Person: "people/wang",
		StartDate: t.GetStartDate(), EndDate: t.GetEndDate(), State: governancev1.OfficerState_OFFICER_STATE_SERVING}
}

// TestG1TermFits: a branch's terms are one chain (G1 sets up the terms,
// and reads "consecutive" by them): numbered 1, 2, 3… without a gap, each
// starting after the one before it ends. A new term takes the next number
// and may start any day after the last ends, in the past too; a term's
// new dates keep it between its neighbours.
func TestG1TermFits(t *testing.T) {
	dated := func(n int32, from, to Day) *governancev1.Term {
		return &governancev1.Term{Name: termName("ai", n), Number: n, StartDate: branches.DateOf(from), EndDate: branches.DateOf(to)}
	}
	one, two, three := term(1), term(2), term(3) // 2022–2024, 2025–2027, 2028–2030
	overlap, outOfSequence := apiv1.ErrorReason_TERMS_OVERLAP, apiv1.ErrorReason_TERM_OUT_OF_SEQUENCE
	for _, tc := range []struct {
		name      string
		others    []*governancev1.Term
		t         *governancev1.Term
		creating  bool
		want      apiv1.ErrorReason // 0: fits
		neighbour string            // the term the refusal names
	}{
		{"the first term is 1", nil, one, true, 0, ""},
		{"the first term is not 2", nil, two, true, outOfSequence, ""},
		{"the next number", []*governancev1.Term{one}, two, true, 0, ""},
		{"a skipped number", []*governancev1.Term{one}, numbered(3, two), true, outOfSequence, one.GetName()},
		{"after 1, 3: 4, not the missing 2", []*governancev1.Term{one, numbered(3, two)}, dated(2, day(2018, 1, 1), day(2020, 12, 31)), true, outOfSequence, "branches/ai/terms/3"},
		{"from the day after the last ends", []*governancev1.Term{one}, dated(2, day(2025, 1, 1), day(2027, 12, 31)), true, 0, ""},
		{"after a pause", []*governancev1.Term{one}, dated(2, day(2026, 6, 1), day(2029, 5, 31)), true, 0, ""},
		{"in the past, after the last", []*governancev1.Term{dated(1, day(2010, 1, 1), day(2012, 12, 31))}, dated(2, day(2013, 1, 1), day(2015, 12, 31)), true, 0, ""},
		{"sharing the last's last day", []*governancev1.Term{one}, dated(2, day(2024, 12, 31), day(2027, 12, 31)), true, overlap, one.GetName()},
		{"before the last, in time", []*governancev1.Term{one}, dated(2, day(2018, 1, 1), day(2020, 12, 31)), true, outOfSequence, one.GetName()},
		{"moved into the next term", []*governancev1.Term{one, two, three}, dated(2, day(2025, 1, 1), day(2028, 6, 30)), false, overlap, three.GetName()},
		{"moved before the term it follows", []*governancev1.Term{one, two, three}, dated(2, day(2019, 1, 1), day(2020, 12, 31)), false, outOfSequence, one.GetName()},
		{"moved after the term that follows it", []*governancev1.Term{one, two, three}, dated(2, day(2031, 1, 1), day(2033, 12, 31)), false, outOfSequence, three.GetName()},
		{"shortened within its place", []*governancev1.Term{one, two, three}, dated(2, day(2025, 3, 1), day(2027, 6, 30)), false, 0, ""},
	} {
		t.Run(RuleTermLimit+"/"+tc.name, func(t *testing.T) {
			err := TermFits(tc.others, tc.t, tc.creating)
			if got := apierr.ReasonOf(err); (tc.want == 0 && err != nil) || got != tc.want {
				t.Fatalf("TermFits: %v, want %v", err, tc.want)
			}
			if err != nil && apierr.Info(err).GetMetadata()["term"] != tc.neighbour {
				t.Fatalf("the refusal names %q, want %q: %v", apierr.Info(err).GetMetadata()["term"], tc.neighbour, err)
			}
		})
	}
}

// TestG2QualificationStatement: chair, vice-chair and director nominees
// come with a statement; the secretary-general is appointed, not elected.
func TestG2QualificationStatement(t *testing.T) {
	short := strings.Repeat("字", minStatement-1)
	runRules(t, RuleQualification, []ruleCase{
		{"recorded", candidate(), nil},
		{"exactly the minimum length", with(candidate(), func(c *Candidate) { c.QualificationStatement = strings.Repeat("字", minStatement) }), nil},
		{"one character short", with(candidate(), func(c *Candidate) { c.QualificationStatement = short }),
			[]apiv1.ErrorReason{apiv1.ErrorReason_QUALIFICATION_STATEMENT_MISSING}},
		{"blank", with(candidate(), func(c *Candidate) { c.QualificationStatement = "   \n " }),
			[]apiv1.ErrorReason{apiv1.ErrorReason_QUALIFICATION_STATEMENT_MISSING}},
		{"vice-chair without one", with(candidate(), func(c *Candidate) {
			c.Position, c.QualificationStatement = governancev1.Position_POSITION_VICE_CHAIR, ""
		}), []apiv1.ErrorReason{apiv1.ErrorReason_QUALIFICATION_STATEMENT_MISSING}},
	})
}

// TestG3RepresentativeRank: a unit's nominee is its current
// representative, works for it at VICE_PRESIDENT or above (attested), and
// the unit is an active member.
func TestG3RepresentativeRank(t *testing.T) {
	rank := func(r membershipv1.Rank) Candidate {
		return with(candidate(), func(c *Candidate) { c.Nominee.Rank = r })
	}
	runRules(t, RuleRepresentativeRank, []ruleCase{
		{"VICE_PRESIDENT", rank(membershipv1.Rank_RANK_VICE_PRESIDENT), nil},
		{"PRESIDENT", rank(membershipv1.Rank_RANK_PRESIDENT), nil},
		{"one rank below", rank(membershipv1.Rank_RANK_SENIOR_MANAGER), []apiv1.ErrorReason{apiv1.ErrorReason_RANK_TOO_LOW}},
		{"rank not attested", with(candidate(), func(c *Candidate) { c.Nominee.RankAttestation = nil }),
			[]apiv1.ErrorReason{apiv1.ErrorReason_RANK_TOO_LOW}},
		{"not its representative", with(candidate(), func(c *Candidate) { c.Represented.Person = "people/other" }),
			[]apiv1.ErrorReason{apiv1.ErrorReason_NOT_REPRESENTATIVE}},
		{"works elsewhere", with(candidate(), func(c *Candidate) { c.Nominee.Organization = "organizations/elsewhere" }),
			[]apiv1.ErrorReason{apiv1.ErrorReason_NOT_REPRESENTATIVE}},
		{"employer not attested", with(candidate(), func(c *Candidate) { c.Nominee.OrganizationAttestation = nil }),
			[]apiv1.ErrorReason{apiv1.ErrorReason_NOT_REPRESENTATIVE}},
		{"suspended member", with(candidate(), func(c *Candidate) { c.Represented.State = membershipv1.MemberState_MEMBER_STATE_SUSPENDED }),
			[]apiv1.ErrorReason{apiv1.ErrorReason_MEMBER_NOT_ACTIVE}},
		{"in their own name, as an individual member", with(candidate(), func(c *Candidate) {
			c.Represented, c.Individual = nil, individual("wang", "people/wang")
			c.Nominee.Rank = membershipv1.Rank_RANK_STAFF
		}), nil},
		{"every way at once", with(candidate(), func(c *Candidate) {
			c.Represented.State = membershipv1.MemberState_MEMBER_STATE_TERMINATED
			c.Represented.Person = "people/other"
			c.Nominee.Rank = membershipv1.Rank_RANK_MANAGER
		}), []apiv1.ErrorReason{apiv1.ErrorReason_MEMBER_NOT_ACTIVE, apiv1.ErrorReason_NOT_REPRESENTATIVE, apiv1.ErrorReason_RANK_TOO_LOW}},
	})
}

// TestG4AgeLimit: age in whole years on the day office begins is at most
// 70 (chair, vice-chair) or 65 (director), correct across 29 February.
func TestG4AgeLimit(t *testing.T) {
	born := func(make func() Candidate, birth, start Day) Candidate {
		return with(make(), func(c *Candidate) {
			c.Nominee.BirthDate, c.StartDate = branches.DateOf(birth), start
			c.Term = &governancev1.Term{Name: termName("ai", 3), Number: 3, StartDate: branches.DateOf(start), EndDate: branches.DateOf(start.AddDate(3, 0, 0))}
		})
	}
	chair, director := chairCandidate, candidate
	vice := func() Candidate {
		return with(chairCandidate(), func(c *Candidate) { c.Position = governancev1.Position_POSITION_VICE_CHAIR })
	}
	over := []apiv1.ErrorReason{apiv1.ErrorReason_AGE_LIMIT_EXCEEDED}
	runRules(t, RuleAgeLimit, []ruleCase{
		{"chair 70 on their birthday", born(chair, day(1956, 6, 15), day(2026, 6, 15)), nil},
		{"chair 70 on the last day before 71", born(chair, day(1956, 6, 15), day(2027, 6, 14)), nil},
		{"chair 70 plus a day: 71", born(chair, day(1956, 6, 15), day(2027, 6, 15)), over},
		{"vice-chair 71", born(vice, day(1956, 6, 15), day(2027, 6, 15)), over},
		// A 29 February birthday falls on 1 March in a common year, and a
		// 71st birthday always falls in a common year.
		{"29 February: 69 on 28 February of a common year", born(chair, day(1956, 2, 29), day(2026, 2, 28)), nil},
		{"29 February: 70 on 1 March of a common year", born(chair, day(1956, 2, 29), day(2026, 3, 1)), nil},
		{"29 February: still 70 on 28 February", born(chair, day(1956, 2, 29), day(2027, 2, 28)), nil},
		{"29 February: 71 on 1 March", born(chair, day(1956, 2, 29), day(2027, 3, 1)), over},
		{"29 February 1952: 70 on 1 March 2022", born(chair, day(1952, 2, 29), day(2022, 3, 1)), nil},
		{"director 65 exactly", born(director, day(1963, 1, 1), day(2028, 1, 1)), nil},
		{"director 65 plus a day: 66", born(director, day(1962, 1, 1), day(2028, 1, 1)), over},
		{"director 66 from a 29 February birthday", born(director, day(1960, 2, 29), day(2026, 3, 1)), over},
		{"director 65 the day before", born(director, day(1960, 2, 29), day(2026, 2, 28)), nil},
		{"secretary-general has no limit", born(secretaryCandidate, day(1940, 1, 1), day(2028, 1, 1)), nil},
		{"birth date not attested", with(candidate(), func(c *Candidate) { c.Nominee.BirthDateAttestation = nil }),
			[]apiv1.ErrorReason{apiv1.ErrorReason_BIRTH_DATE_NOT_ATTESTED}},
		{"no birth date", with(candidate(), func(c *Candidate) { c.Nominee.BirthDate = nil }),
			[]apiv1.ErrorReason{apiv1.ErrorReason_BIRTH_DATE_NOT_ATTESTED}},
	})
}

// TestG5ChairRoute: proposed only by the general association's
// secretary-general with consultation notes, decided by its council; one
// chair per term.
func TestG5ChairRoute(t *testing.T) {
	other := nomination("other", governancev1.Position_POSITION_CHAIR, "", governancev1.NominationState_NOMINATION_STATE_PROPOSED)
	runRules(t, RuleChairRoute, []ruleCase{
		{"proposed by general_secretary with notes", chairCandidate(), nil},
		{"proposed by anyone else", with(chairCandidate(), func(c *Candidate) { c.ProposerIsGeneralSecretary = false }),
			[]apiv1.ErrorReason{apiv1.ErrorReason_PROPOSER_NOT_GENERAL_SECRETARY}},
		{"without consultation notes", with(chairCandidate(), func(c *Candidate) { c.ConsultationNotes = "agreed" }),
			[]apiv1.ErrorReason{apiv1.ErrorReason_CONSULTATION_NOTES_MISSING}},
		{"a second chair nominee", with(chairCandidate(), func(c *Candidate) { c.Open = []*governancev1.Nomination{other} }),
			[]apiv1.ErrorReason{apiv1.ErrorReason_OFFICE_ALREADY_FILLED}},
		{"after the first was withdrawn", with(chairCandidate(), func(c *Candidate) {
			w := nomination("w", governancev1.Position_POSITION_CHAIR, "", governancev1.NominationState_NOMINATION_STATE_WITHDRAWN)
			c.Open = []*governancev1.Nomination{w}
		}), nil},
		{"appointed before the council decided", with(chairCandidate(), func(c *Candidate) {
			c.Stage, c.State = Appointing, governancev1.NominationState_NOMINATION_STATE_PROPOSED
		}), []apiv1.ErrorReason{apiv1.ErrorReason_QUALIFICATION_NOT_CONFIRMED}},
		{"appointed after the council decided", with(chairCandidate(), func(c *Candidate) {
			c.Stage, c.State, c.ProposerIsGeneralSecretary = Appointing, governancev1.NominationState_NOMINATION_STATE_QUALIFIED, false
		}), nil},
	})
}

// TestG6DirectorNominees: one director nominee per unit member per term,
// confirmed by the branch chair before appointment.
func TestG6DirectorNominees(t *testing.T) {
	open := func(member string, st governancev1.NominationState) func(*Candidate) {
		return func(c *Candidate) {
			c.Open = []*governancev1.Nomination{nomination("n1", governancev1.Position_POSITION_DIRECTOR, member, st)}
		}
	}
	huiyun := "branches/ai/members/huiyun"
	limit := []apiv1.ErrorReason{apiv1.ErrorReason_DIRECTOR_NOMINEE_LIMIT_EXCEEDED}
	runRules(t, RuleDirectorNominee, []ruleCase{
		{"the unit's first nominee", candidate(), nil},
		{"a second nominee from the same unit", with(candidate(), open(huiyun, governancev1.NominationState_NOMINATION_STATE_PROPOSED)), limit},
		{"the unit's nominee was appointed", with(candidate(), open(huiyun, governancev1.NominationState_NOMINATION_STATE_APPOINTED)), limit},
		{"the unit's first nominee was rejected", with(candidate(), open(huiyun, governancev1.NominationState_NOMINATION_STATE_REJECTED)), nil},
		{"an individual member in their own name", with(candidate(), func(c *Candidate) {
			c.Represented, c.Individual = nil, individual("wang", "people/wang")
		}), nil},
		{"in their own name, but no member at all (a unit's employee)", with(candidate(), func(c *Candidate) { c.Represented = nil }),
			[]apiv1.ErrorReason{apiv1.ErrorReason_DIRECTOR_NOT_A_MEMBER}},
		{"in their own name a second time", with(candidate(), func(c *Candidate) {
			c.Represented, c.Individual = nil, individual("wang", "people/wang")
			c.Open = []*governancev1.Nomination{nomination("n1", governancev1.Position_POSITION_DIRECTOR, "", governancev1.NominationState_NOMINATION_STATE_QUALIFIED)}
			c.Open[0].Nominee = "people/wang"
		}), limit},
		{"in their own name, as a suspended individual member", with(candidate(), func(c *Candidate) {
			c.Represented, c.Individual = nil, individual("wang", "people/wang")
			c.Individual.State = membershipv1.MemberState_MEMBER_STATE_SUSPENDED
		}), []apiv1.ErrorReason{apiv1.ErrorReason_DIRECTOR_NOT_A_MEMBER}},
		{"another unit's nominee", with(candidate(), open("branches/ai/members/tianhe", governancev1.NominationState_NOMINATION_STATE_PROPOSED)), nil},
		{"two allowed by the parameter", with(with(candidate(), open(huiyun, governancev1.NominationState_NOMINATION_STATE_PROPOSED)),
			func(c *Candidate) { c.Params.MaxDirectorNomineesPerMember = 2 }), nil},
		{"appointed before the chair confirmed", with(candidate(), func(c *Candidate) {
			c.Stage, c.State = Appointing, governancev1.NominationState_NOMINATION_STATE_PROPOSED
		}), []apiv1.ErrorReason{apiv1.ErrorReason_QUALIFICATION_NOT_CONFIRMED}},
		{"appointed after the chair confirmed", with(candidate(), func(c *Candidate) {
			c.Stage, c.State = Appointing, governancev1.NominationState_NOMINATION_STATE_QUALIFIED
		}), nil},
	})
}

// TestG7SecretaryAppointer: the chair of the term appoints the one
// secretary-general.
func TestG7SecretaryAppointer(t *testing.T) {
	notChair := []apiv1.ErrorReason{apiv1.ErrorReason_PROPOSER_NOT_CHAIR}
	runRules(t, RuleSecretaryAppointer, []ruleCase{
		{"proposed by the chair", secretaryCandidate(), nil},
		{"proposed by an admin, not the chair", with(secretaryCandidate(), func(c *Candidate) { c.Proposer = "people/admin" }), notChair},
		{"proposed by someone else", with(secretaryCandidate(), func(c *Candidate) { c.Proposer = "people/other" }), notChair},
		{"the term has no chair", with(secretaryCandidate(), func(c *Candidate) {
			c.Chair, c.ViceChairs = nil, []*governancev1.Officer{officer("v", 3, governancev1.Position_POSITION_VICE_CHAIR, "people/li", "organizations/x")}
		}), notChair},
		{"a second secretary-general", with(secretaryCandidate(), func(c *Candidate) {
			c.Open = []*governancev1.Nomination{nomination("sg", governancev1.Position_POSITION_SECRETARY_GENERAL, "", governancev1.NominationState_NOMINATION_STATE_APPOINTED)}
		}), []apiv1.ErrorReason{apiv1.ErrorReason_OFFICE_ALREADY_FILLED}},
	})
}

// TestG8SecretaryEmployer: the secretary-general is an attested employee
// of the chair's unit or a serving vice-chair of the same term.
func TestG8SecretaryEmployer(t *testing.T) {
	notEligible := []apiv1.ErrorReason{apiv1.ErrorReason_SECRETARY_GENERAL_NOT_ELIGIBLE}
	runRules(t, RuleSecretaryEmployer, []ruleCase{
		{"employee of the chair's unit", secretaryCandidate(), nil},
		{"employer not attested", with(secretaryCandidate(), func(c *Candidate) { c.Nominee.OrganizationAttestation = nil }), notEligible},
		{"works elsewhere", with(secretaryCandidate(), func(c *Candidate) { c.Nominee.Organization = "organizations/elsewhere" }), notEligible},
		{"a serving vice-chair of the term", with(secretaryCandidate(), func(c *Candidate) {
			c.Nominee.Organization = "organizations/elsewhere"
			c.ViceChairs = []*governancev1.Officer{officer("v", 3, governancev1.Position_POSITION_VICE_CHAIR, "people/li", "organizations/elsewhere")}
		}), nil},
	})
}

// TestEveryBrokenRuleIsListed: a refusal names every broken rule, in
// rule-code order, not just the first.
func TestEveryBrokenRuleIsListed(t *testing.T) {
	c := with(chairCandidate(), func(c *Candidate) {
		c.History = []*governancev1.Officer{
			officer("c1", 1, governancev1.Position_POSITION_CHAIR, "people/wang", ""), officer("c2", 2, governancev1.Position_POSITION_CHAIR, "people/wang", "")}
		c.QualificationStatement, c.ConsultationNotes, c.ProposerIsGeneralSecretary = "", "", false
		c.Nominee.Rank = membershipv1.Rank_RANK_STAFF
		c.Nominee.BirthDate = branches.DateOf(day(1940, 1, 1))
	})
	var rules []string
	for _, v := range CheckNomination(c) {
		rules = append(rules, v.Rule)
	}
	if want := []string{"G1", "G2", "G3", "G4", "G5", "G5"}; !slices.Equal(rules, want) {
		t.Fatalf("rules %v, want %v", rules, want)
	}
}

// TestTally: quorum and majority from the parameters (CHARTER.md, "Council
// voting"): 2/3 of the eligible present, YES more than half the votes cast.
func TestTally(t *testing.T) {
	nine := []string{"a", "b", "c", "d", "e", "f", "g", "h", "i"}
	ballots := func(yes, no, abstain int) map[string]governancev1.VoteChoice {
		out := map[string]governancev1.VoteChoice{}
		for i := 0; i < yes+no+abstain; i++ {
			choice := governancev1.VoteChoice_VOTE_CHOICE_YES
			if i >= yes {
				choice = governancev1.VoteChoice_VOTE_CHOICE_NO
			}
			if i >= yes+no {
				choice = governancev1.VoteChoice_VOTE_CHOICE_ABSTAIN
			}
			out[nine[i]] = choice
		}
		return out
	}
	p := DefaultParameters()
	for _, tc := range []struct {
		name             string
		attendees        []string
		yes, no, abstain int
		quorum, passed   bool
		quorumRequired   int32
		yesRequired      int32
	}{
		{"quorum is 6 of 9; 5 present", nil, 5, 0, 0, false, false, 6, 3},
		{"6 present, 4 of 6 yes", nil, 4, 2, 0, true, true, 6, 4},
		{"6 present, 3 of 6 yes is not more than half", nil, 3, 3, 0, true, false, 6, 4},
		{"abstentions count as cast", nil, 3, 1, 2, true, false, 6, 4},
		{"attendees who did not vote count as present", []string{"f", "g", "h"}, 3, 0, 0, true, true, 6, 2},
		{"an outsider's ballot is not counted", nil, 0, 0, 0, false, false, 6, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := ballots(tc.yes, tc.no, tc.abstain)
			if tc.name == "an outsider's ballot is not counted" {
				b = map[string]governancev1.VoteChoice{"outsider": governancev1.VoteChoice_VOTE_CHOICE_YES}
			}
			got := Tally(nine, tc.attendees, b, p.GetQuorum(), p.GetMajority())
			if got.GetQuorumMet() != tc.quorum || Passed(got) != tc.passed || got.GetQuorumRequired() != tc.quorumRequired || got.GetYesRequired() != tc.yesRequired {
				t.Fatalf("tally %v: want quorum %v (need %d), passed %v (need %d yes)", got, tc.quorum, tc.quorumRequired, tc.passed, tc.yesRequired)
			}
		})
	}
}

// TestCouncil: every serving officer sits on the council, except a
// secretary-general holding no other office.
func TestCouncil(t *testing.T) {
	officers := []*governancev1.Officer{
		officer("c", 3, governancev1.Position_POSITION_CHAIR, "people/zhang", ""),
		officer("v", 3, governancev1.Position_POSITION_VICE_CHAIR, "people/li", ""),
		officer("sgv", 3, governancev1.Position_POSITION_SECRETARY_GENERAL, "people/li", ""),
		officer("sg", 3, governancev1.Position_POSITION_SECRETARY_GENERAL, "people/wu", ""),
		officer("d", 3, governancev1.Position_POSITION_DIRECTOR, "people/wang", ""),
	}
	ended := officer("e", 3, governancev1.Position_POSITION_DIRECTOR, "people/gone", "")
	ended.State = governancev1.OfficerState_OFFICER_STATE_ENDED
	got := branches.Council(append(officers, ended), day(2028, 6, 1))
	if want := []string{"people/li", "people/wang", "people/zhang"}; !slices.Equal(got, want) {
		t.Fatalf("council %v, want %v", got, want)
	}
}

// TestTermEndEndsOffices: from the day after the term's last day an
// officer reads as ENDED because the term ended, with nothing written;
// the reason names the day, in the reader's language.
func TestTermEndEndsOffices(t *testing.T) {
	o := officer("d", 3, governancev1.Position_POSITION_DIRECTOR, "people/wang", "organizations/huiyun")
	last, _ := branches.DayOf(o.GetEndDate())
	if got := present(context.Background(), o, last); got.GetState() != governancev1.OfficerState_OFFICER_STATE_SERVING || got.GetEndKind() != 0 {
		t.Fatalf("on the term's last day: %v", got)
	}
	for lang, want := range map[string]string{
		i18n.English: "The term ended on " + last.Format(time.DateOnly) + ".",
		i18n.Chinese: "该届任期已于 " + last.Format(time.DateOnly) + " 届满。",
	} {
		got := present(i18n.WithLanguage(context.Background(), lang), o, last.AddDate(0, 0, 1))
		if got.GetState() != governancev1.OfficerState_OFFICER_STATE_ENDED || got.GetEndKind() != governancev1.OfficeEndKind_OFFICE_END_KIND_TERM_ENDED ||
			got.GetEndReason() != want {
			t.Fatalf("the day after the term, in %s: %v, want the reason %q", lang, got, want)
		}
	}
	if o.GetState() != governancev1.OfficerState_OFFICER_STATE_SERVING {
		t.Fatal("present changed the stored officer")
	}
}
