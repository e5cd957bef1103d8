package domain

import (
	"errors"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/genproto/googleapis/type/date"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/tjsia/chapterhouse/platform/apierr"
	"github.com/tjsia/chapterhouse/platform/i18n"
	apiv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/api/v1"
	membershipv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/membership/v1"
)

func TestInitialUnitState(t *testing.T) {
	tests := []struct {
		rule    string
		general membershipv1.GeneralMembershipState
		want    membershipv1.ApplicationState
	}{
		{"M1: a general-association member goes straight to review", membershipv1.GeneralMembershipState_GENERAL_MEMBERSHIP_STATE_ACTIVE, membershipv1.ApplicationState_APPLICATION_STATE_SUBMITTED},
		{"M2: a non-member waits", membershipv1.GeneralMembershipState_GENERAL_MEMBERSHIP_STATE_NONE, membershipv1.ApplicationState_APPLICATION_STATE_AWAITING_GENERAL_MEMBERSHIP},
		{"M2: a pending general membership waits", membershipv1.GeneralMembershipState_GENERAL_MEMBERSHIP_STATE_PENDING, membershipv1.ApplicationState_APPLICATION_STATE_AWAITING_GENERAL_MEMBERSHIP},
		{"M2: a lapsed general membership waits", membershipv1.GeneralMembershipState_GENERAL_MEMBERSHIP_STATE_LAPSED, membershipv1.ApplicationState_APPLICATION_STATE_AWAITING_GENERAL_MEMBERSHIP},
	}
	for _, tt := range tests {
		t.Run(tt.rule, func(t *testing.T) {
			if got := InitialUnitState(tt.general); got != tt.want {
				t.Fatalf("InitialUnitState(%v) = %v, want %v", tt.general, got, tt.want)
			}
		})
	}
}

func rulesOf(t *testing.T, err error) []string {
	t.Helper()
	st := status.Convert(err)
	var rules []string
	for _, d := range st.Details() {
		if pf, ok := d.(*errdetails.PreconditionFailure); ok {
			for _, v := range pf.GetViolations() {
				rules = append(rules, v.GetType())
			}
		}
	}
	return rules
}

func TestCheckApprove(t *testing.T) {
	tests := []struct {
		rule      string
		state     membershipv1.ApplicationState
		wantCode  codes.Code
		wantRules []string
		// facts are the metadata the refusal carries, or the facts of its
		// one charter violation.
		facts map[string]string
	}{
		{"M1: a submitted application can be approved", membershipv1.ApplicationState_APPLICATION_STATE_SUBMITTED, codes.OK, nil, nil},
		{"M2: cannot be approved before general membership", membershipv1.ApplicationState_APPLICATION_STATE_AWAITING_GENERAL_MEMBERSHIP, codes.FailedPrecondition, []string{"M2"},
			map[string]string{"organization": "organizations/haihe", "application": "branches/ai/applications/a", "state": "APPLICATION_STATE_AWAITING_GENERAL_MEMBERSHIP"}},
		{"a decided application cannot be approved again", membershipv1.ApplicationState_APPLICATION_STATE_APPROVED, codes.FailedPrecondition, nil,
			map[string]string{"resource": "branches/ai/applications/a", "action": "approve", "state": "APPLICATION_STATE_APPROVED", "allowed": ""}},
		{"a withdrawn application cannot be approved", membershipv1.ApplicationState_APPLICATION_STATE_WITHDRAWN, codes.FailedPrecondition, nil,
			map[string]string{"resource": "branches/ai/applications/a", "action": "approve", "state": "APPLICATION_STATE_WITHDRAWN", "allowed": ""}},
	}
	for _, tt := range tests {
		t.Run(tt.rule, func(t *testing.T) {
			err := CheckApprove(&membershipv1.Application{Name: "branches/ai/applications/a", State: tt.state,
				Applicant: &membershipv1.Application_Unit{Unit: &membershipv1.UnitApplicant{Organization: "organizations/haihe", Representative: "people/zhao-lei"}}})
			if got := status.Code(err); got != tt.wantCode {
				t.Fatalf("code = %v, want %v (%v)", got, tt.wantCode, err)
			}
			if got := rulesOf(t, err); strings.Join(got, ",") != strings.Join(tt.wantRules, ",") {
				t.Fatalf("rules = %v, want %v", got, tt.wantRules)
			}
			if err == nil {
				return
			}
			var e *apierr.Error
			if !errors.As(err, &e) {
				t.Fatalf("%v is not an apierr.Error", err)
			}
			facts := e.Metadata
			if len(tt.wantRules) > 0 {
				facts = e.Violations[0].Args
			}
			if !maps.Equal(facts, tt.facts) {
				t.Fatalf("facts = %v, want %v", facts, tt.facts)
			}
		})
	}
}

func TestIndividualStanding(t *testing.T) {
	credentials := "Professor of AI, 40 papers on machine learning"
	credentialsMissing := func(given string) apierr.Violation {
		return apierr.Violation{Rule: "M3", Reason: apiv1.ErrorReason_ACADEMIC_CREDENTIALS_MISSING, Key: "violation.membership.academic_credentials",
			Args: map[string]string{"person": "people/li-na", "min": "20", "given": given}}
	}
	expertiseMissing := apierr.Violation{Rule: "M3", Reason: apiv1.ErrorReason_AI_EXPERTISE_MISSING, Key: "violation.membership.ai_expertise",
		Args: map[string]string{"person": "people/li-na"}}
	tests := []struct {
		rule string
		in   *membershipv1.IndividualApplicant
		want []apierr.Violation
	}{
		{"M3: credentials and expertise stated", &membershipv1.IndividualApplicant{AcademicCredentials: credentials, Expertise: []string{"NLP"}}, nil},
		{"M3: no credentials", &membershipv1.IndividualApplicant{Expertise: []string{"NLP"}}, []apierr.Violation{credentialsMissing("0")}},
		{"M3: credentials too thin", &membershipv1.IndividualApplicant{AcademicCredentials: " 博士，教授 ", Expertise: []string{"NLP"}}, []apierr.Violation{credentialsMissing("5")}},
		{"M3: no expertise", &membershipv1.IndividualApplicant{AcademicCredentials: credentials}, []apierr.Violation{expertiseMissing}},
		{"M3: blank expertise", &membershipv1.IndividualApplicant{AcademicCredentials: credentials, Expertise: []string{"  "}}, []apierr.Violation{expertiseMissing}},
		{"M3: both missing are both reported", &membershipv1.IndividualApplicant{}, []apierr.Violation{credentialsMissing("0"), expertiseMissing}},
	}
	for _, tt := range tests {
		t.Run(tt.rule, func(t *testing.T) {
			tt.in.Person = "people/li-na"
			got := IndividualStanding(tt.in)
			if len(got) != len(tt.want) {
				t.Fatalf("violations = %v, want %v", got, tt.want)
			}
			for i, v := range got {
				w := tt.want[i]
				if v.Rule != w.Rule || v.Reason != w.Reason || v.Key != w.Key || !maps.Equal(v.Args, w.Args) {
					t.Fatalf("violation %d = %+v, want %+v", i, v, w)
				}
			}
		})
	}
}

func TestMemberTransition(t *testing.T) {
	active, suspended, terminated := membershipv1.MemberState_MEMBER_STATE_ACTIVE, membershipv1.MemberState_MEMBER_STATE_SUSPENDED, membershipv1.MemberState_MEMBER_STATE_TERMINATED
	unit, individual := membershipv1.ApplicationKind_APPLICATION_KIND_UNIT, membershipv1.ApplicationKind_APPLICATION_KIND_INDIVIDUAL
	tests := []struct {
		kind   membershipv1.ApplicationKind
		from   membershipv1.MemberState
		action string
		to     membershipv1.MemberState
		// allowed is what a refusal says the state allows instead.
		allowed string
	}{
		{unit, active, "suspend", suspended, ""},
		{unit, suspended, "reinstate", active, ""},
		{unit, active, "terminate", terminated, ""},
		{individual, suspended, "terminate", terminated, ""},
		{unit, active, "reinstate", 0, "suspend,terminate,changeRepresentative"},
		{individual, active, "reinstate", 0, "suspend,terminate"},
		{unit, suspended, "suspend", 0, "reinstate,terminate,changeRepresentative"},
		{unit, terminated, "reinstate", 0, ""},
		{individual, terminated, "terminate", 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.kind.String()+"/"+tt.from.String()+"/"+tt.action, func(t *testing.T) {
			got, err := MemberTransition(&membershipv1.Member{Name: "branches/ai/members/m", Kind: tt.kind, State: tt.from}, tt.action)
			if (tt.to != 0) != (err == nil) || got != tt.to {
				t.Fatalf("MemberTransition = %v, %v; want %v", got, err, tt.to)
			}
			if err == nil {
				return
			}
			want := map[string]string{"resource": "branches/ai/members/m", "action": tt.action, "state": tt.from.String(), "allowed": tt.allowed}
			if info := apierr.Info(err); info.GetReason() != "INVALID_STATE_TRANSITION" || !maps.Equal(info.GetMetadata(), want) {
				t.Fatalf("refusal %v, want INVALID_STATE_TRANSITION with %v", info, want)
			}
		})
	}
}

// TestEveryStateSaysWhatItAllows: the actions a refusal says a state
// allows (ApplicationActions, MemberActions) are exactly those the rules
// let through from it, each with its term in every language; a final
// state allows none.
func TestEveryStateSaysWhatItAllows(t *testing.T) {
	hasTerms := func(t *testing.T, actions []string) {
		t.Helper()
		for _, action := range actions {
			for _, lang := range i18n.Languages() {
				if !i18n.Default().Has(lang, "term."+action) {
					t.Errorf("%s has no term for %s", lang, action)
				}
			}
		}
	}
	for v := range membershipv1.ApplicationState_name {
		state := membershipv1.ApplicationState(v)
		if v == 0 {
			continue
		}
		app := &membershipv1.Application{Name: "branches/ai/applications/a", State: state}
		rules := map[string]error{"approve": CheckApprove(app), "reject": CheckClose(app, "reject"), "withdraw": CheckClose(app, "withdraw")}
		var passes []string
		for _, action := range []string{"approve", "reject", "withdraw"} {
			if rules[action] == nil {
				passes = append(passes, action)
			}
		}
		if got := ApplicationActions(state); !slices.Equal(got, passes) {
			t.Errorf("%s says it allows %v; the rules let %v through", state, got, passes)
		}
		hasTerms(t, passes)
	}
	for _, kind := range []membershipv1.ApplicationKind{membershipv1.ApplicationKind_APPLICATION_KIND_UNIT, membershipv1.ApplicationKind_APPLICATION_KIND_INDIVIDUAL} {
		for v := range membershipv1.MemberState_name {
			if v == 0 {
				continue
			}
			m := &membershipv1.Member{Name: "branches/ai/members/m", Kind: kind, State: membershipv1.MemberState(v)}
			var passes []string
			for _, action := range []string{"suspend", "reinstate", "terminate"} {
				if _, err := MemberTransition(m, action); err == nil {
					passes = append(passes, action)
				}
			}
			if CheckChangeRepresentative(m) == nil {
				passes = append(passes, "changeRepresentative")
			}
			if got := MemberActions(m); !slices.Equal(got, passes) {
				t.Errorf("a %s in %s says it allows %v; the rules let %v through", kind, m.GetState(), got, passes)
			}
			if final := m.GetState() == membershipv1.MemberState_MEMBER_STATE_TERMINATED; final != (len(passes) == 0) {
				t.Errorf("%s allows %v", m.GetState(), passes)
			}
			hasTerms(t, passes)
		}
	}
}

func TestValidatePerson(t *testing.T) {
	now := time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)
	good := func() *membershipv1.Person {
		return &membershipv1.Person{DisplayName: "陈杰", BirthDate: &date.Date{Year: 1978, Month: 5, Day: 4}}
	}
	tests := []struct {
		name   string
		mutate func(p *membershipv1.Person)
		// want is the one violation, its text's key and facts; none when
		// Field is empty.
		want apierr.FieldViolation
	}{
		{"valid", func(*membershipv1.Person) {}, apierr.FieldViolation{}},
		{"no name", func(p *membershipv1.Person) { p.DisplayName = " " }, apierr.Field("person.display_name", "required")},
		{"no birth date yet (an admin attests it later)", func(p *membershipv1.Person) { p.BirthDate = nil }, apierr.FieldViolation{}},
		{"31 February", func(p *membershipv1.Person) { p.BirthDate = &date.Date{Year: 1990, Month: 2, Day: 31} },
			apierr.Field("person.birth_date", "membership.not_a_date", "date", "1990-02-31")},
		{"born tomorrow", func(p *membershipv1.Person) { p.BirthDate = &date.Date{Year: 2026, Month: 11, Day: 26} },
			apierr.Field("person.birth_date", "membership.birth_date_range", "date", "2026-11-26", "earliest", "1900-01-01", "today", "2026-11-25")},
		{"born before 1900", func(p *membershipv1.Person) { p.BirthDate = &date.Date{Year: 1899, Month: 12, Day: 31} },
			apierr.Field("person.birth_date", "membership.birth_date_range", "date", "1899-12-31", "earliest", "1900-01-01", "today", "2026-11-25")},
		{"bad organisation reference", func(p *membershipv1.Person) { p.Organization = "companies/x" },
			apierr.Field("person.organization", "name_form", "name", "companies/x", "pattern", "organizations/{id}")},
		{"blank expertise area", func(p *membershipv1.Person) { p.Expertise = []string{"NLP", " "} }, apierr.Field("person.expertise[1]", "membership.blank")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := good()
			tt.mutate(p)
			v := ValidatePerson(p, now)
			if tt.want.Field == "" {
				if len(v) != 0 {
					t.Fatalf("unexpected violations %v", v)
				}
				return
			}
			if len(v) != 1 || v[0].Field != tt.want.Field || v[0].Key != tt.want.Key || !maps.Equal(v[0].Args, tt.want.Args) {
				t.Fatalf("violations %v, want %v", v, tt.want)
			}
		})
	}
}

// TestValidateOrganization: a bad credit code is refused with what is
// wrong with it and the facts (creditcode.InvalidError).
func TestValidateOrganization(t *testing.T) {
	tests := []struct {
		code string
		want apierr.FieldViolation
	}{
		{"91120116MA05JR7Q0E", apierr.FieldViolation{}},
		{"", apierr.Field("organization.credit_code", "required")},
		{"91120116MA05JR7Q0", apierr.Field("organization.credit_code", "membership.credit_code_length", "length", "17")},
		{"91120116MA05JR7I0E", apierr.Field("organization.credit_code", "membership.credit_code_character", "position", "16", "character", "I")},
		{"91A20116MA05JR7Q0E", apierr.Field("organization.credit_code", "membership.credit_code_division", "position", "3", "character", "A")},
		{"91120116MA05JR7Q0F", apierr.Field("organization.credit_code", "membership.credit_code_check", "given", "F", "expected", "E")},
	}
	for _, tt := range tests {
		t.Run(tt.code, func(t *testing.T) {
			v := ValidateOrganization(&membershipv1.Organization{DisplayName: "智源", CreditCode: tt.code})
			if tt.want.Field == "" {
				if len(v) != 0 {
					t.Fatalf("unexpected violations %v", v)
				}
				return
			}
			if len(v) != 1 || v[0].Field != tt.want.Field || v[0].Key != tt.want.Key || !maps.Equal(v[0].Args, tt.want.Args) {
				t.Fatalf("violations %v, want %v", v, tt.want)
			}
		})
	}
}
