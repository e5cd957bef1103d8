package domain

import (
	"strings"
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/genproto/googleapis/type/date"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

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
	}{
		{"M1: a submitted application can be approved", membershipv1.ApplicationState_APPLICATION_STATE_SUBMITTED, codes.OK, nil},
		{"M2: cannot be approved before general membership", membershipv1.ApplicationState_APPLICATION_STATE_AWAITING_GENERAL_MEMBERSHIP, codes.FailedPrecondition, []string{"M2"}},
		{"a decided application cannot be approved again", membershipv1.ApplicationState_APPLICATION_STATE_APPROVED, codes.FailedPrecondition, nil},
		{"a withdrawn application cannot be approved", membershipv1.ApplicationState_APPLICATION_STATE_WITHDRAWN, codes.FailedPrecondition, nil},
	}
	for _, tt := range tests {
		t.Run(tt.rule, func(t *testing.T) {
			err := CheckApprove(&membershipv1.Application{Name: "branches/ai/applications/a", State: tt.state})
			if got := status.Code(err); got != tt.wantCode {
				t.Fatalf("code = %v, want %v (%v)", got, tt.wantCode, err)
			}
			if got := rulesOf(t, err); strings.Join(got, ",") != strings.Join(tt.wantRules, ",") {
				t.Fatalf("rules = %v, want %v", got, tt.wantRules)
			}
		})
	}
}

func TestIndividualStanding(t *testing.T) {
	credentials := "Professor of AI, 40 papers on machine learning"
	tests := []struct {
		rule    string
		in      *membershipv1.IndividualApplicant
		reasons []apiv1.ErrorReason
	}{
		{"M3: credentials and expertise stated", &membershipv1.IndividualApplicant{AcademicCredentials: credentials, Expertise: []string{"NLP"}}, nil},
		{"M3: no credentials", &membershipv1.IndividualApplicant{Expertise: []string{"NLP"}}, []apiv1.ErrorReason{apiv1.ErrorReason_ACADEMIC_CREDENTIALS_MISSING}},
		{"M3: credentials too thin", &membershipv1.IndividualApplicant{AcademicCredentials: "PhD", Expertise: []string{"NLP"}}, []apiv1.ErrorReason{apiv1.ErrorReason_ACADEMIC_CREDENTIALS_MISSING}},
		{"M3: no expertise", &membershipv1.IndividualApplicant{AcademicCredentials: credentials}, []apiv1.ErrorReason{apiv1.ErrorReason_AI_EXPERTISE_MISSING}},
		{"M3: blank expertise", &membershipv1.IndividualApplicant{AcademicCredentials: credentials, Expertise: []string{"  "}}, []apiv1.ErrorReason{apiv1.ErrorReason_AI_EXPERTISE_MISSING}},
		{"M3: both missing are both reported", &membershipv1.IndividualApplicant{}, []apiv1.ErrorReason{apiv1.ErrorReason_ACADEMIC_CREDENTIALS_MISSING, apiv1.ErrorReason_AI_EXPERTISE_MISSING}},
	}
	for _, tt := range tests {
		t.Run(tt.rule, func(t *testing.T) {
			got := IndividualStanding(tt.in)
			if len(got) != len(tt.reasons) {
				t.Fatalf("violations = %v, want reasons %v", got, tt.reasons)
			}
			for i, v := range got {
				if v.Rule != RuleIndividualStanding || v.Reason != tt.reasons[i] {
					t.Fatalf("violation %d = %+v, want M3 %s", i, v, tt.reasons[i])
				}
			}
		})
	}
}

func TestMemberTransition(t *testing.T) {
	active, suspended, terminated := membershipv1.MemberState_MEMBER_STATE_ACTIVE, membershipv1.MemberState_MEMBER_STATE_SUSPENDED, membershipv1.MemberState_MEMBER_STATE_TERMINATED
	tests := []struct {
		from   membershipv1.MemberState
		action string
		to     membershipv1.MemberState
		ok     bool
	}{
		{active, "suspend", suspended, true},
		{suspended, "reinstate", active, true},
		{active, "terminate", terminated, true},
		{suspended, "terminate", terminated, true},
		{active, "reinstate", 0, false},
		{suspended, "suspend", 0, false},
		{terminated, "reinstate", 0, false},
		{terminated, "terminate", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.from.String()+"/"+tt.action, func(t *testing.T) {
			got, err := MemberTransition(&membershipv1.Member{Name: "branches/ai/members/m", State: tt.from}, tt.action)
			if tt.ok != (err == nil) || got != tt.to {
				t.Fatalf("MemberTransition = %v, %v; want %v ok=%v", got, err, tt.to, tt.ok)
			}
			if err != nil && !strings.Contains(status.Convert(err).Message(), tt.from.String()) {
				t.Fatalf("error should name the current state: %v", err)
			}
		})
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
		field  string
	}{
		{"valid", func(*membershipv1.Person) {}, ""},
		{"no name", func(p *membershipv1.Person) { p.DisplayName = " " }, "person.display_name"},
		{"no birth date yet (an admin attests it later)", func(p *membershipv1.Person) { p.BirthDate = nil }, ""},
		{"31 February", func(p *membershipv1.Person) { p.BirthDate = &date.Date{Year: 1990, Month: 2, Day: 31} }, "person.birth_date"},
		{"born tomorrow", func(p *membershipv1.Person) { p.BirthDate = &date.Date{Year: 2026, Month: 11, Day: 26} }, "person.birth_date"},
		{"bad organisation reference", func(p *membershipv1.Person) { p.Organization = "companies/x" }, "person.organization"},
		{"blank expertise area", func(p *membershipv1.Person) { p.Expertise = []string{"NLP", " "} }, "person.expertise[1]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := good()
			tt.mutate(p)
			v := ValidatePerson(p, now)
			if tt.field == "" {
				if len(v) != 0 {
					t.Fatalf("unexpected violations %v", v)
				}
				return
			}
			found := false
			for _, fv := range v {
				found = found || fv.Field == tt.field
			}
			if !found {
				t.Fatalf("violations %v do not name %s", v, tt.field)
			}
		})
	}
}
