package server_test

import (
	"context"
	"strings"
	"testing"
	"unicode"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/fieldmaskpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/tjsia/chapterhouse/platform/apierr"
	"github.com/tjsia/chapterhouse/platform/i18n"
	"github.com/tjsia/chapterhouse/platform/servicetest"
	apiv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/api/v1"
	governancev1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/governance/v1"
	membershipv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/membership/v1"

	"github.com/tjsia/chapterhouse/services/governance/internal/govtest"
)

// fact is something a text names: a value as it is (a person, a number,
// a date), or an enum value or action, which each language names by its
// term.
type fact struct {
	value string
	term  bool
}

func is(value string) fact                    { return fact{value: value} }
func termOf(value string) fact                { return fact{value: value, term: true} }
func positionOf(p governancev1.Position) fact { return termOf(p.String()) }

// in is how a text in lang shows the fact: a term through the catalog
// (as it renders one: the value itself when the catalog has no term).
func (f fact) in(lang string) string {
	if f.term {
		if text, ok := i18n.Default().Raw(lang, "term."+f.value); ok {
			return text
		}
	}
	return f.value
}

func hasChinese(s string) bool {
	for _, r := range s {
		if unicode.Is(unicode.Han, r) {
			return true
		}
	}
	return false
}

// inLanguage is ctx asking for lang, as the gateway forwards it.
func inLanguage(ctx context.Context, lang string) context.Context {
	return metadata.AppendToOutgoingContext(ctx, i18n.MetadataKey, lang)
}

// localized is the google.rpc.LocalizedMessage of err.
func localized(err error) *errdetails.LocalizedMessage {
	for _, d := range status.Convert(err).Details() {
		if m, ok := d.(*errdetails.LocalizedMessage); ok {
			return m
		}
	}
	return nil
}

// checkText holds a text people read in lang to the promise: it
// names every fact, and the Chinese one is Chinese (the English one is
// not).
func checkText(t *testing.T, what, lang, text string, facts []fact) {
	t.Helper()
	for _, f := range facts {
		if !strings.Contains(text, f.in(lang)) {
			t.Errorf("%s in %s: %q does not name %q", what, lang, text, f.in(lang))
		}
	}
	if chinese := hasChinese(text); chinese != (lang == i18n.Chinese) {
		t.Errorf("%s in %s: %q (Chinese: %v)", what, lang, text, chinese)
	}
}

// broken is a charter rule a refusal must list, with the facts its text
// names.
type broken struct {
	rule   string
	reason apiv1.ErrorReason
	facts  []fact
}

// TestCharterRefusalsInBothLanguages: every charter rule governance
// enforces (G1–G8) refuses a nomination over the real gRPC path in the
// caller's language, zh-CN or en as accept-language asks: each broken
// rule's violation names the same facts in both (the person, the day, the
// limit, the office, the state; never the nominee's age, which is as
// private as their birth date), the Chinese one in Chinese; the
// top message lists the rules, in a LocalizedMessage of the caller's
// locale, and content-language says which. A refusal stores nothing.
func TestCharterRefusalsInBothLanguages(t *testing.T) {
	g := serve(t)
	svc, people, srv, c := g.svc, g.people, g.srv, g.c
	as := func(r servicetest.Role) context.Context { return srv.AsRole(t, r) }
	ctx := context.Background()
	govtest.Branch(t, svc, people) // zhang of huiyun chairs 届 1 (2025–2029); today is 2026-11-25
	govtest.ElectChair(t, svc)
	govtest.Director(t, svc, people, "tianhe")

	// G1: zhang chairs 届 2 as well, and so may not chair 届 3.
	for n, first := range []int32{2030, 2035} {
		if _, err := svc.CreateTerm(ctx, govtest.Admin, "branches/ai", &governancev1.Term{Number: int32(n + 2),
			StartDate: day(first, 1, 1), EndDate: day(first+4, 12, 31)}); err != nil {
			t.Fatal(err)
		}
	}
	term2, term3 := "branches/ai/terms/2", "branches/ai/terms/3"
	second, err := svc.CreateNomination(ctx, govtest.GeneralSecretary, term2, &governancev1.Nomination{Position: governancev1.Position_POSITION_CHAIR,
		Nominee: "people/zhang", RepresentedMember: "branches/ai/members/huiyun", QualificationStatement: govtest.Statement, ConsultationNotes: govtest.Notes}, "chair-2")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.DecideNomination(ctx, govtest.GeneralCouncil, &governancev1.DecideNominationRequest{Name: second.GetName(), Decision: governancev1.Decision_DECISION_APPROVE}); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.AppointNomination(ctx, govtest.GeneralCouncil, &governancev1.AppointNominationRequest{Name: second.GetName()}); err != nil {
		t.Fatal(err)
	}

	people.Add("old", "organizations/old", membershipv1.Rank_RANK_PRESIDENT, day(1950, 3, 1))      // 76 today
	people.Add("unattested", "organizations/u", membershipv1.Rank_RANK_PRESIDENT, day(1980, 1, 1)) // birth date not attested
	people.Change("unattested", func(p *membershipv1.Person) { p.BirthDateAttestation = nil })
	people.Add("low", "organizations/low", membershipv1.Rank_RANK_MANAGER, day(1980, 1, 1))
	people.AddUnit("low", "organizations/low", "low")
	people.Add("wu", "organizations/xinhe", membershipv1.Rank_RANK_PRESIDENT, day(1975, 1, 1))
	people.Add("xinhe-rep", "organizations/xinhe", membershipv1.Rank_RANK_PRESIDENT, day(1975, 1, 1))
	people.AddUnit("xinhe", "organizations/xinhe", "xinhe-rep")
	people.Add("outsider", "organizations/elsewhere", membershipv1.Rank_RANK_PRESIDENT, day(1975, 1, 1))
	people.Add("zhou", "organizations/tianhe", membershipv1.Rank_RANK_PRESIDENT, day(1975, 1, 1))
	people.AddIndividual("zhou-self", "zhou")
	proposed, err := svc.CreateNomination(ctx, govtest.As("zhou"), govtest.Term1, &governancev1.Nomination{Position: governancev1.Position_POSITION_DIRECTOR,
		Nominee: "people/zhou", QualificationStatement: govtest.Statement}, "zhou")
	if err != nil {
		t.Fatal(err)
	}

	nominate := func(parent string, n *governancev1.Nomination) func(context.Context, ...grpc.CallOption) error {
		return func(ctx context.Context, opts ...grpc.CallOption) error {
			_, err := c.CreateNomination(ctx, &governancev1.CreateNominationRequest{Parent: parent, Nomination: n}, opts...)
			return err
		}
	}
	viceChair := func(nominee string) *governancev1.Nomination {
		return &governancev1.Nomination{Position: governancev1.Position_POSITION_VICE_CHAIR, Nominee: nominee, QualificationStatement: govtest.Statement}
	}
	cases := []struct {
		name  string
		as    servicetest.Role
		call  func(context.Context, ...grpc.CallOption) error
		rules string
		want  []broken
		// private are what no text may say, in any language.
		private []string
	}{{
		name: "G1: a third consecutive term as chair", as: generalSecretary, rules: "G1",
		call: nominate(term3, &governancev1.Nomination{Position: governancev1.Position_POSITION_CHAIR, Nominee: "people/zhang",
			RepresentedMember: "branches/ai/members/huiyun", QualificationStatement: govtest.Statement, ConsultationNotes: govtest.Notes}),
		want: []broken{{"G1", apiv1.ErrorReason_TERM_LIMIT_EXCEEDED, []fact{is("people/zhang"), is("2"), positionOf(governancev1.Position_POSITION_CHAIR)}}},
	}, {
		name: "G2 and G3: a short statement, a manager for a unit", as: servicetest.Role{Name: "low", Subject: "people/low"}, rules: "G2,G3",
		call: nominate(govtest.Term1, &governancev1.Nomination{Position: governancev1.Position_POSITION_DIRECTOR, Nominee: "people/low",
			RepresentedMember: "branches/ai/members/low", QualificationStatement: "expert"}),
		want: []broken{
			{"G2", apiv1.ErrorReason_QUALIFICATION_STATEMENT_MISSING, []fact{positionOf(governancev1.Position_POSITION_DIRECTOR), is("20")}},
			{"G3", apiv1.ErrorReason_RANK_TOO_LOW, []fact{is("people/low"), termOf(membershipv1.Rank_RANK_VICE_PRESIDENT.String()), termOf(membershipv1.Rank_RANK_MANAGER.String())}},
		},
	}, {
		name: "G3: not the unit's representative", as: admin, rules: "G3",
		call: nominate(govtest.Term1, &governancev1.Nomination{Position: governancev1.Position_POSITION_DIRECTOR, Nominee: "people/wu",
			RepresentedMember: "branches/ai/members/xinhe", QualificationStatement: govtest.Statement}),
		want: []broken{{"G3", apiv1.ErrorReason_NOT_REPRESENTATIVE, []fact{is("people/wu"), is("branches/ai/members/xinhe")}}},
	}, {
		// The verdict, not the age, which would give the birth date away
		// (Person.birth_date's readers).
		name: "G4: over the vice-chairs' age limit", as: chair, rules: "G4", call: nominate(govtest.Term1, viceChair("people/old")),
		want: []broken{{"G4", apiv1.ErrorReason_AGE_LIMIT_EXCEEDED,
			[]fact{is("people/old"), is("2026-11-25"), is("70"), positionOf(governancev1.Position_POSITION_VICE_CHAIR)}}},
		private: []string{"76", "1950"},
	}, {
		name: "G4: no attested birth date", as: chair, rules: "G4", call: nominate(govtest.Term1, viceChair("people/unattested")),
		want: []broken{{"G4", apiv1.ErrorReason_BIRTH_DATE_NOT_ATTESTED,
			[]fact{is("people/unattested"), is("70"), positionOf(governancev1.Position_POSITION_VICE_CHAIR)}}},
	}, {
		name: "G5: a second chair, proposed by an admin without consultation", as: admin, rules: "G5",
		call: nominate(govtest.Term1, &governancev1.Nomination{Position: governancev1.Position_POSITION_CHAIR, Nominee: "people/wu",
			QualificationStatement: govtest.Statement}),
		want: []broken{
			{"G5", apiv1.ErrorReason_PROPOSER_NOT_GENERAL_SECRETARY, []fact{is("people/admin")}},
			{"G5", apiv1.ErrorReason_CONSULTATION_NOTES_MISSING, []fact{is("20")}},
			{"G5", apiv1.ErrorReason_OFFICE_ALREADY_FILLED, []fact{positionOf(governancev1.Position_POSITION_CHAIR)}},
		},
	}, {
		name: "G6: a director outside any membership", as: servicetest.Role{Name: "outsider", Subject: "people/outsider"}, rules: "G6",
		call: nominate(govtest.Term1, &governancev1.Nomination{Position: governancev1.Position_POSITION_DIRECTOR, Nominee: "people/outsider",
			QualificationStatement: govtest.Statement}),
		want: []broken{{"G6", apiv1.ErrorReason_DIRECTOR_NOT_A_MEMBER, []fact{is("people/outsider")}}},
	}, {
		name: "G6: the unit's one director place taken", as: admin, rules: "G6",
		call: nominate(govtest.Term1, &governancev1.Nomination{Position: governancev1.Position_POSITION_DIRECTOR, Nominee: "people/tianhe",
			RepresentedMember: "branches/ai/members/tianhe", QualificationStatement: govtest.Statement}),
		want: []broken{{"G6", apiv1.ErrorReason_DIRECTOR_NOMINEE_LIMIT_EXCEEDED, []fact{is("branches/ai/members/tianhe"), is("1")}}},
	}, {
		name: "G6: appointed before the chair confirms", as: chair, rules: "G6",
		call: func(ctx context.Context, opts ...grpc.CallOption) error {
			_, err := c.AppointNomination(ctx, &governancev1.AppointNominationRequest{Name: proposed.GetName()}, opts...)
			return err
		},
		want: []broken{{"G6", apiv1.ErrorReason_QUALIFICATION_NOT_CONFIRMED, []fact{termOf(governancev1.NominationState_NOMINATION_STATE_PROPOSED.String())}}},
	}, {
		name: "G7 and G8: a secretary-general not the chair's choice, from elsewhere", as: admin, rules: "G7,G8",
		call: nominate(govtest.Term1, &governancev1.Nomination{Position: governancev1.Position_POSITION_SECRETARY_GENERAL, Nominee: "people/outsider"}),
		want: []broken{
			{"G7", apiv1.ErrorReason_PROPOSER_NOT_CHAIR, []fact{is("people/zhang"), is("people/admin")}},
			{"G8", apiv1.ErrorReason_SECRETARY_GENERAL_NOT_ELIGIBLE, []fact{is("people/outsider"), is("organizations/huiyun")}},
		},
	}}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := g.mr.Dump()
			descriptions := map[string]map[apiv1.ErrorReason]string{}
			for _, lang := range i18n.Languages() {
				var header metadata.MD
				err := tc.call(inLanguage(as(tc.as), lang), grpc.Header(&header))
				if status.Code(err) != codes.FailedPrecondition || apierr.ReasonOf(err) != apiv1.ErrorReason_CHARTER_VIOLATION ||
					apierr.Info(err).GetMetadata()["rules"] != tc.rules {
					t.Fatalf("in %s: %v, want CHARTER_VIOLATION of %s", lang, err, tc.rules)
				}
				if got := header.Get(i18n.ResponseMetadataKey); len(got) != 1 || got[0] != lang {
					t.Errorf("content-language %v, want %s", got, lang)
				}
				top := localized(err)
				if top.GetLocale() != lang {
					t.Errorf("LocalizedMessage %v, want locale %s", top, lang)
				}
				var rules []fact
				for _, r := range strings.Split(tc.rules, ",") {
					rules = append(rules, is(r))
				}
				checkText(t, "the message", lang, top.GetMessage(), rules)
				got := map[apiv1.ErrorReason]string{}
				for _, v := range apierr.Violations(err) {
					got[apiv1.ErrorReason(apiv1.ErrorReason_value[v.GetSubject()])] = v.GetDescription()
				}
				if len(got) != len(tc.want) {
					t.Errorf("in %s: violations %v, want %d", lang, apierr.Violations(err), len(tc.want))
				}
				descriptions[lang] = got
				for _, w := range tc.want {
					text, ok := got[w.reason]
					if !ok {
						t.Errorf("in %s: no %s violation of %s in %v", lang, w.reason, w.rule, apierr.Violations(err))
						continue
					}
					checkText(t, w.rule+" "+w.reason.String(), lang, text, w.facts)
					for _, p := range tc.private {
						if strings.Contains(text, p) {
							t.Errorf("in %s: %q gives away %s", lang, text, p)
						}
					}
					if !strings.Contains(top.GetMessage(), text) {
						t.Errorf("in %s: the message %q does not list %q", lang, top.GetMessage(), text)
					}
				}
			}
			for reason, en := range descriptions[i18n.English] {
				if descriptions[i18n.Chinese][reason] == en {
					t.Errorf("%s reads the same in both languages: %q", reason, en)
				}
			}
			if g.mr.Dump() != before {
				t.Error("a refused request changed what is stored")
			}
		})
	}
}

// TestAnswerTextsInCallersLanguage: the texts of governance's answers are
// the caller's language too, with content-language naming it: a
// checkEligibility result's violations read exactly as the refusal of the
// same nomination does, and every compliance finding names its facts.
func TestAnswerTextsInCallersLanguage(t *testing.T) {
	g := serve(t)
	svc, people, srv, c := g.svc, g.people, g.srv, g.c
	as := func(r servicetest.Role) context.Context { return srv.AsRole(t, r) }
	govtest.Branch(t, svc, people)
	govtest.ElectChair(t, svc)
	people.Add("old", "organizations/old", membershipv1.Rank_RANK_PRESIDENT, day(1950, 3, 1))
	old := &governancev1.Nomination{Position: governancev1.Position_POSITION_VICE_CHAIR, Nominee: "people/old", QualificationStatement: govtest.Statement}

	for _, lang := range i18n.Languages() {
		var header metadata.MD
		check, err := c.CheckEligibility(inLanguage(as(chair), lang), &governancev1.CheckEligibilityRequest{Parent: govtest.Term1, Nomination: old}, grpc.Header(&header))
		if err != nil {
			t.Fatal(err)
		}
		if got := header.Get(i18n.ResponseMetadataKey); len(got) != 1 || got[0] != lang {
			t.Errorf("checkEligibility: content-language %v, want %s", got, lang)
		}
		_, refusal := c.CreateNomination(inLanguage(as(chair), lang), &governancev1.CreateNominationRequest{Parent: govtest.Term1, Nomination: old})
		refused := apierr.Violations(refusal)
		if check.GetEligible() || len(check.GetViolations()) != 1 || len(refused) != 1 {
			t.Fatalf("in %s: check %v and refusal %v, want G4 in both", lang, check, refusal)
		}
		v := check.GetViolations()[0]
		checkText(t, "checkEligibility", lang, v.GetMessage(),
			[]fact{is("people/old"), is("2026-11-25"), is("70"), positionOf(governancev1.Position_POSITION_VICE_CHAIR)})
		if v.GetRule() != "G4" || v.GetReason() != apiv1.ErrorReason_AGE_LIMIT_EXCEEDED || v.GetMessage() != refused[0].GetDescription() {
			t.Errorf("in %s: checkEligibility says %v, the refusal %v", lang, v, refused[0])
		}

		// 届 1 has no secretary-general (G7) and 2026 no work plan (G9).
		report, err := c.GetComplianceReport(inLanguage(as(admin), lang), &governancev1.GetComplianceReportRequest{Name: "branches/ai"}, grpc.Header(&header))
		if err != nil {
			t.Fatal(err)
		}
		if got := header.Get(i18n.ResponseMetadataKey); len(got) != 1 || got[0] != lang {
			t.Errorf("complianceReport: content-language %v, want %s", got, lang)
		}
		want := map[string][]fact{
			"OFFICE_VACANT":     {is(govtest.Term1), positionOf(governancev1.Position_POSITION_SECRETARY_GENERAL)},
			"WORK_PLAN_MISSING": {is("2026")},
		}
		for _, f := range report.GetFindings() {
			facts, ok := want[f.GetReason()]
			if !ok {
				t.Errorf("unexpected finding %v", f)
				continue
			}
			delete(want, f.GetReason())
			checkText(t, "finding "+f.GetReason(), lang, f.GetMessage(), facts)
		}
		if len(want) > 0 {
			t.Errorf("in %s: findings %v lack %v", lang, report.GetFindings(), want)
		}
	}
}

// TestRefusalsInBothLanguages: governance's other refusals read in the
// caller's language with the same facts: a state that forbids an action
// names the state, the action and what it allows through their terms; a
// day outside the term names the day and the term's dates; a field's
// text is in the caller's language.
func TestRefusalsInBothLanguages(t *testing.T) {
	g := serve(t)
	svc, people, srv, c := g.svc, g.people, g.srv, g.c
	as := func(r servicetest.Role) context.Context { return srv.AsRole(t, r) }
	ctx := context.Background()
	govtest.Branch(t, svc, people)
	govtest.ElectChair(t, svc)
	people.Add("zhou", "organizations/zhou", membershipv1.Rank_RANK_PRESIDENT, day(1975, 1, 1))
	people.AddIndividual("zhou", "zhou")
	director, err := svc.CreateNomination(ctx, govtest.As("zhou"), govtest.Term1, &governancev1.Nomination{Position: governancev1.Position_POSITION_DIRECTOR,
		Nominee: "people/zhou", QualificationStatement: govtest.Statement}, "zhou")
	if err != nil {
		t.Fatal(err)
	}
	people.Add("qian", "organizations/qian", membershipv1.Rank_RANK_PRESIDENT, day(1975, 1, 1))
	withdrawn, err := svc.CreateNomination(ctx, govtest.As("zhang"), govtest.Term1, &governancev1.Nomination{Position: governancev1.Position_POSITION_VICE_CHAIR,
		Nominee: "people/qian", QualificationStatement: govtest.Statement}, "qian")
	if err != nil {
		t.Fatal(err)
	}
	if withdrawn, err = svc.WithdrawNomination(ctx, govtest.As("zhang"), &governancev1.WithdrawNominationRequest{Name: withdrawn.GetName(), Reason: "declined"}); err != nil {
		t.Fatal(err)
	}

	meeting, err := svc.CreateMeeting(ctx, govtest.As("zhang"), "branches/ai", &governancev1.Meeting{Title: "Council", Kind: governancev1.MeetingKind_MEETING_KIND_COUNCIL,
		StartTime: timestamppb.New(govtest.Today)}, "council")
	if err != nil {
		t.Fatal(err)
	}
	stateMask := &fieldmaskpb.FieldMask{Paths: []string{"state"}}
	if meeting, err = svc.UpdateMeeting(ctx, govtest.As("zhang"), &governancev1.Meeting{Name: meeting.GetName(), State: governancev1.MeetingState_MEETING_STATE_HELD}, stateMask); err != nil {
		t.Fatal(err)
	}
	plan, err := svc.CreateWorkPlan(ctx, govtest.As("zhang"), "branches/ai", &governancev1.WorkPlan{Year: 2026, Title: "2026"}, "plan")
	if err != nil {
		t.Fatal(err)
	}
	item, err := svc.CreateWorkItem(ctx, govtest.As("zhang"), plan.GetName(), &governancev1.WorkItem{Title: "Salon", Source: governancev1.WorkItemSource_WORK_ITEM_SOURCE_BRANCH}, "salon")
	if err != nil {
		t.Fatal(err)
	}
	if item, err = svc.UpdateWorkItem(ctx, govtest.As("zhang"), &governancev1.WorkItem{Name: item.GetName(), State: governancev1.WorkItemState_WORK_ITEM_STATE_DONE}, stateMask); err != nil {
		t.Fatal(err)
	}
	// A passed ordinary resolution, cited where another kind is needed.
	ordinary, err := svc.CreateResolution(ctx, govtest.As("zhang"), "branches/ai", &governancev1.Resolution{Title: "Thanks", Text: "The council thanks its members.",
		Kind: governancev1.ResolutionKind_RESOLUTION_KIND_ORDINARY}, "thanks")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.OpenResolutionVoting(ctx, govtest.As("zhang"), &governancev1.OpenResolutionVotingRequest{Name: ordinary.GetName()}); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.CastResolutionVote(ctx, govtest.As("zhang"), &governancev1.CastResolutionVoteRequest{Name: ordinary.GetName(), Choice: governancev1.VoteChoice_VOTE_CHOICE_YES}); err != nil {
		t.Fatal(err)
	}
	if ordinary, err = svc.CloseResolutionVoting(ctx, govtest.As("zhang"), &governancev1.CloseResolutionVotingRequest{Name: ordinary.GetName()}); err != nil ||
		ordinary.GetState() != governancev1.ResolutionState_RESOLUTION_STATE_PASSED {
		t.Fatalf("the ordinary resolution: %v %v", ordinary, err)
	}
	viceChair, err := svc.CreateNomination(ctx, govtest.As("zhang"), govtest.Term1, &governancev1.Nomination{Position: governancev1.Position_POSITION_VICE_CHAIR,
		Nominee: "people/zhou", QualificationStatement: govtest.Statement}, "zhou-vc")
	if err != nil {
		t.Fatal(err)
	}
	people.Add("li", "organizations/huiyun", membershipv1.Rank_RANK_MANAGER, day(1985, 3, 3))
	secretaryGeneral, err := svc.CreateNomination(ctx, govtest.As("zhang"), govtest.Term1, &governancev1.Nomination{Position: governancev1.Position_POSITION_SECRETARY_GENERAL,
		Nominee: "people/li"}, "li")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.CreateBranch(ctx, govtest.Admin, &governancev1.Branch{DisplayName: "没有届期的分会"}, "new"); err != nil {
		t.Fatal(err)
	}
	updateMeeting := func(state governancev1.MeetingState) func(context.Context) error {
		return func(ctx context.Context) error {
			_, err := c.UpdateMeeting(ctx, &governancev1.UpdateMeetingRequest{Meeting: &governancev1.Meeting{Name: meeting.GetName(), State: state}, UpdateMask: stateMask})
			return err
		}
	}

	cases := []struct {
		name   string
		as     servicetest.Role
		call   func(context.Context) error
		code   codes.Code
		reason apiv1.ErrorReason
		facts  []fact
		// field is the field whose violation names fieldFacts, if any.
		field      string
		fieldFacts []fact
	}{{
		name: "appointing a withdrawn nomination", as: chair, code: codes.FailedPrecondition, reason: apiv1.ErrorReason_INVALID_STATE_TRANSITION,
		call: func(ctx context.Context) error {
			_, err := c.AppointNomination(ctx, &governancev1.AppointNominationRequest{Name: withdrawn.GetName()})
			return err
		},
		facts: []fact{is(withdrawn.GetName()), termOf(governancev1.NominationState_NOMINATION_STATE_WITHDRAWN.String()), termOf("appoint"), termOf("none")},
	}, {
		name: "the general council deciding on a director", as: generalCouncil, code: codes.FailedPrecondition, reason: apiv1.ErrorReason_INVALID_STATE_TRANSITION,
		call: func(ctx context.Context) error {
			_, err := c.DecideNomination(ctx, &governancev1.DecideNominationRequest{Name: director.GetName(), Decision: governancev1.Decision_DECISION_APPROVE})
			return err
		},
		facts: []fact{is(director.GetName()), positionOf(governancev1.Position_POSITION_DIRECTOR), termOf("decide"), termOf("confirmQualification")},
	}, {
		name: "office beginning after the term", as: chair, code: codes.FailedPrecondition, reason: apiv1.ErrorReason_DATE_OUTSIDE_TERM,
		call: func(ctx context.Context) error {
			_, err := c.CheckEligibility(ctx, &governancev1.CheckEligibilityRequest{Parent: govtest.Term1, StartDate: day(2030, 6, 1),
				Nomination: &governancev1.Nomination{Position: governancev1.Position_POSITION_VICE_CHAIR, Nominee: "people/qian"}})
			return err
		},
		facts: []fact{is("2030-06-01"), is(govtest.Term1), is("2025-01-01"), is("2029-12-31")},
	}, {
		name: "a term ending before it starts", as: admin, code: codes.InvalidArgument, reason: apiv1.ErrorReason_INVALID_ARGUMENT,
		call: func(ctx context.Context) error {
			_, err := c.CreateTerm(ctx, &governancev1.CreateTermRequest{Parent: "branches/ai", Term: &governancev1.Term{Number: 2,
				StartDate: day(2030, 1, 1), EndDate: day(2029, 1, 1)}})
			return err
		},
		facts: []fact{is("term.end_date")}, field: "term.end_date", fieldFacts: []fact{is("start_date")},
	}, {
		name: "a held meeting cancelled", as: chair, code: codes.FailedPrecondition, reason: apiv1.ErrorReason_INVALID_STATE_TRANSITION,
		call:  updateMeeting(governancev1.MeetingState_MEETING_STATE_CANCELLED),
		facts: []fact{is(meeting.GetName()), termOf(governancev1.MeetingState_MEETING_STATE_HELD.String()), termOf(governancev1.MeetingState_MEETING_STATE_CANCELLED.String())},
	}, {
		name: "a meeting's state cleared", as: chair, code: codes.InvalidArgument, reason: apiv1.ErrorReason_INVALID_ARGUMENT,
		call:  updateMeeting(governancev1.MeetingState_MEETING_STATE_UNSPECIFIED),
		facts: []fact{is("meeting.state")}, field: "meeting.state",
	}, {
		name: "a done work item changed", as: chair, code: codes.FailedPrecondition, reason: apiv1.ErrorReason_INVALID_STATE_TRANSITION,
		call: func(ctx context.Context) error {
			_, err := c.UpdateWorkItem(ctx, &governancev1.UpdateWorkItemRequest{WorkItem: &governancev1.WorkItem{Name: item.GetName(), Title: "Salon again"},
				UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"title"}}})
			return err
		},
		facts: []fact{is(item.GetName()), termOf(governancev1.WorkItemState_WORK_ITEM_STATE_DONE.String()), termOf("update"), termOf("none")},
	}, {
		name: "a branch that does not exist", as: anonymous, code: codes.NotFound, reason: apiv1.ErrorReason_UNKNOWN_BRANCH,
		call: func(ctx context.Context) error {
			_, err := c.GetBranch(ctx, &governancev1.GetBranchRequest{Name: "branches/none"})
			return err
		},
		facts: []fact{is("branches/none")},
	}, {
		name: "a meeting of a branch without a current term", as: admin, code: codes.FailedPrecondition, reason: apiv1.ErrorReason_NO_CURRENT_TERM,
		call: func(ctx context.Context) error {
			_, err := c.CreateMeeting(ctx, &governancev1.CreateMeetingRequest{Parent: "branches/new", Meeting: &governancev1.Meeting{Title: "First",
				Kind: governancev1.MeetingKind_MEETING_KIND_COUNCIL, StartTime: timestamppb.New(govtest.Today)}})
			return err
		},
		facts: []fact{is("branches/new"), is("meeting.term")},
	}, {
		name: "an appointment beginning in the past", as: chair, code: codes.FailedPrecondition, reason: apiv1.ErrorReason_DATE_OUTSIDE_TERM,
		call: func(ctx context.Context) error {
			_, err := c.AppointNomination(ctx, &governancev1.AppointNominationRequest{Name: secretaryGeneral.GetName(), StartDate: day(2026, 1, 1)})
			return err
		},
		facts: []fact{is("2026-01-01"), is("2026-11-25"), is(govtest.Term1)},
	}, {
		name: "a vice-chair appointed on an ordinary resolution", as: chair, code: codes.FailedPrecondition, reason: apiv1.ErrorReason_RESOLUTION_NOT_PASSED,
		call: func(ctx context.Context) error {
			_, err := c.AppointNomination(ctx, &governancev1.AppointNominationRequest{Name: viceChair.GetName(), AppointingResolution: ordinary.GetName()})
			return err
		},
		facts: []fact{is(ordinary.GetName()), termOf(governancev1.ResolutionKind_RESOLUTION_KIND_ORDINARY.String())},
	}, {
		name: "a work plan adopted by an ordinary resolution", as: chair, code: codes.FailedPrecondition, reason: apiv1.ErrorReason_RESOLUTION_NOT_PASSED,
		call: func(ctx context.Context) error {
			_, err := c.UpdateWorkPlan(ctx, &governancev1.UpdateWorkPlanRequest{WorkPlan: &governancev1.WorkPlan{Name: plan.GetName(), AdoptingResolution: ordinary.GetName()},
				UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"adopting_resolution"}}})
			return err
		},
		facts: []fact{is(ordinary.GetName()), termOf(governancev1.ResolutionKind_RESOLUTION_KIND_ORDINARY.String())},
	}, {
		name: "the chair setting a term", as: chair, code: codes.PermissionDenied, reason: apiv1.ErrorReason_PERMISSION_DENIED,
		call: func(ctx context.Context) error {
			_, err := c.CreateTerm(ctx, &governancev1.CreateTermRequest{Parent: "branches/ai", Term: &governancev1.Term{Number: 2,
				StartDate: day(2030, 1, 1), EndDate: day(2034, 12, 31)}})
			return err
		},
		facts: []fact{is("general_council")},
	}}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := g.mr.Dump()
			messages := map[string]string{}
			for _, lang := range i18n.Languages() {
				err := tc.call(inLanguage(as(tc.as), lang))
				if status.Code(err) != tc.code || apierr.ReasonOf(err) != tc.reason {
					t.Fatalf("in %s: %v, want %s %s", lang, err, tc.code, tc.reason)
				}
				top := localized(err)
				if top.GetLocale() != lang {
					t.Errorf("LocalizedMessage %v, want locale %s", top, lang)
				}
				checkText(t, "the message", lang, top.GetMessage(), tc.facts)
				messages[lang] = top.GetMessage()
				if tc.field == "" {
					continue
				}
				var found bool
				for _, d := range status.Convert(err).Details() {
					if br, ok := d.(*errdetails.BadRequest); ok {
						for _, f := range br.GetFieldViolations() {
							if f.GetField() == tc.field {
								found = true
								checkText(t, tc.field, lang, f.GetDescription(), tc.fieldFacts)
								if f.GetLocalizedMessage().GetLocale() != lang || f.GetLocalizedMessage().GetMessage() != f.GetDescription() {
									t.Errorf("in %s: %s's localized message %v", lang, tc.field, f.GetLocalizedMessage())
								}
							}
						}
					}
				}
				if !found {
					t.Errorf("in %s: no violation of %s in %v", lang, tc.field, err)
				}
			}
			if messages[i18n.English] == messages[i18n.Chinese] {
				t.Errorf("reads the same in both languages: %q", messages[i18n.English])
			}
			if g.mr.Dump() != before {
				t.Error("a refused request changed what is stored")
			}
		})
	}
}
