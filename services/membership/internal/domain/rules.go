// Package domain holds the membership rules (CHARTER.md M1–M3) as pure
// functions, and the use cases that apply them through a Repository.
package domain

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"google.golang.org/genproto/googleapis/type/date"
	"google.golang.org/grpc/codes"

	"github.com/tjsia/chapterhouse/platform/apierr"
	apiv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/api/v1"
	membershipv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/membership/v1"
	"github.com/tjsia/chapterhouse/services/membership/creditcode"
)

// Charter rule codes enforced here.
const (
	RuleUnitGeneralMember  = "M1"
	RuleGeneralMembership  = "M2"
	RuleIndividualStanding = "M3"
)

// Field limits and formats are buf.validate rules in membership.proto,
// enforced for every request by the server's validation interceptor. What
// stays here needs code: required fields (a field may be absent from an
// update's mask), blank text, real calendar dates, references, the credit
// code's check character and the charter rules.
const minCredentials = 20

type violations []apierr.FieldViolation

// add is a violation of field whose text is "field.<what>" with args as
// alternating names and values.
func (v *violations) add(field, what string, args ...string) {
	*v = append(*v, apierr.Field(field, what, args...))
}

func (v *violations) required(field, value string) {
	if strings.TrimSpace(value) == "" {
		v.add(field, "required")
	}
}

// ValidateOrganization checks the client-settable fields of org.
func ValidateOrganization(org *membershipv1.Organization) []apierr.FieldViolation {
	var v violations
	v.required("organization.display_name", org.GetDisplayName())
	if code := org.GetCreditCode(); code == "" {
		v.add("organization.credit_code", "required")
	} else if err := creditcode.Validate(code); err != nil {
		v = append(v, creditCodeViolation("organization.credit_code", err))
	}
	return v
}

// creditCodeViolation says what is wrong with a credit code, with its
// facts (creditcode.InvalidError).
func creditCodeViolation(field string, err error) apierr.FieldViolation {
	var bad *creditcode.InvalidError
	if !errors.As(err, &bad) {
		return apierr.Field(field, "membership.credit_code")
	}
	switch bad.Problem {
	case creditcode.ProblemLength:
		return apierr.Field(field, "membership.credit_code_length", "length", strconv.Itoa(bad.Length))
	case creditcode.ProblemCharacter:
		return apierr.Field(field, "membership.credit_code_character", "position", strconv.Itoa(bad.Position), "character", bad.Char)
	case creditcode.ProblemDivision:
		return apierr.Field(field, "membership.credit_code_division", "position", strconv.Itoa(bad.Position), "character", bad.Char)
	}
	return apierr.Field(field, "membership.credit_code_check", "given", bad.Char, "expected", bad.Want)
}

// earliestBirthYear is the first year a birth date may be in.
const earliestBirthYear = 1900

// ValidatePerson checks the client-settable fields of p as of now.
func ValidatePerson(p *membershipv1.Person, now time.Time) []apierr.FieldViolation {
	var v violations
	v.required("person.display_name", p.GetDisplayName())
	if bd := p.GetBirthDate(); bd == nil {
		// Not known yet: an admin attests it later. Rules that need it
		// (G4) refuse while it is missing.
	} else if t, ok := dateTime(bd); !ok {
		v.add("person.birth_date", "membership.not_a_date", "date", dateString(bd))
	} else if t.After(now) || bd.GetYear() < earliestBirthYear {
		v.add("person.birth_date", "membership.birth_date_range", "date", dateString(bd),
			"earliest", fmt.Sprintf("%04d-01-01", earliestBirthYear), "today", now.Format(time.DateOnly))
	}
	if org := p.GetOrganization(); org != "" && !strings.HasPrefix(org, "organizations/") {
		v = append(v, nameForm("person.organization", org, organizationPattern))
	}
	validateExpertise(&v, "person.expertise", p.GetExpertise())
	return v
}

// The forms of the names a request may give.
const (
	organizationPattern = "organizations/{id}"
	personPattern       = "people/{id}"
)

// validateExpertise refuses blank areas; their number and length are
// proto rules.
func validateExpertise(v *violations, field string, areas []string) {
	for i, a := range areas {
		if strings.TrimSpace(a) == "" {
			v.add(fmt.Sprintf("%s[%d]", field, i), "membership.blank")
		}
	}
}

// dateString is d as written in ISO 8601, whatever its values.
func dateString(d *date.Date) string {
	return fmt.Sprintf("%04d-%02d-%02d", d.GetYear(), d.GetMonth(), d.GetDay())
}

func dateTime(d *date.Date) (time.Time, bool) {
	if d.GetMonth() < 1 || d.GetMonth() > 12 || d.GetDay() < 1 {
		return time.Time{}, false
	}
	t := time.Date(int(d.GetYear()), time.Month(d.GetMonth()), int(d.GetDay()), 0, 0, 0, 0, time.UTC)
	if t.Day() != int(d.GetDay()) {
		return time.Time{}, false
	}
	return t, true
}

// RequireReason checks that a state change that needs a reason has one;
// its length is a proto rule.
func RequireReason(reason string) []apierr.FieldViolation {
	var v violations
	v.required("reason", reason)
	return v
}

// ApplicationShape checks the request-level shape of a new application:
// which applicant kind it is and that its references look right.
func ApplicationShape(app *membershipv1.Application) []apierr.FieldViolation {
	var v violations
	switch a := app.GetApplicant().(type) {
	case *membershipv1.Application_Unit:
		if org := a.Unit.GetOrganization(); !strings.HasPrefix(org, "organizations/") {
			v = append(v, nameForm("application.unit.organization", org, organizationPattern))
		}
		if rep := a.Unit.GetRepresentative(); !strings.HasPrefix(rep, "people/") {
			v = append(v, nameForm("application.unit.representative", rep, personPattern))
		}
	case *membershipv1.Application_Individual:
		if person := a.Individual.GetPerson(); !strings.HasPrefix(person, "people/") {
			v = append(v, nameForm("application.individual.person", person, personPattern))
		}
	default:
		v.add("application", "membership.applicant_one_of")
	}
	return v
}

// IndividualStanding applies M3: an individual applicant states academic
// credentials and at least one area of AI expertise.
func IndividualStanding(ind *membershipv1.IndividualApplicant) []apierr.Violation {
	var out []apierr.Violation
	if given := utf8.RuneCountInString(strings.TrimSpace(ind.GetAcademicCredentials())); given < minCredentials {
		out = append(out, apierr.Violation{Rule: RuleIndividualStanding, Reason: apiv1.ErrorReason_ACADEMIC_CREDENTIALS_MISSING,
			Key: "violation.membership.academic_credentials", Args: map[string]string{
				"person": ind.GetPerson(), "min": strconv.Itoa(minCredentials), "given": strconv.Itoa(given)}})
	}
	nonEmpty := 0
	for _, e := range ind.GetExpertise() {
		if strings.TrimSpace(e) != "" {
			nonEmpty++
		}
	}
	if nonEmpty == 0 {
		out = append(out, apierr.Violation{Rule: RuleIndividualStanding, Reason: apiv1.ErrorReason_AI_EXPERTISE_MISSING,
			Key: "violation.membership.ai_expertise", Args: map[string]string{"person": ind.GetPerson()}})
	}
	return out
}

// InitialUnitState applies M1 and M2: a unit whose organisation is an
// ACTIVE member of the general association goes straight to review (M1);
// any other waits for that membership (M2).
func InitialUnitState(general membershipv1.GeneralMembershipState) membershipv1.ApplicationState {
	if general == membershipv1.GeneralMembershipState_GENERAL_MEMBERSHIP_STATE_ACTIVE {
		return membershipv1.ApplicationState_APPLICATION_STATE_SUBMITTED
	}
	return membershipv1.ApplicationState_APPLICATION_STATE_AWAITING_GENERAL_MEMBERSHIP
}

// IsOpen reports whether an application can still be decided.
func IsOpen(s membershipv1.ApplicationState) bool {
	return s == membershipv1.ApplicationState_APPLICATION_STATE_SUBMITTED ||
		s == membershipv1.ApplicationState_APPLICATION_STATE_AWAITING_GENERAL_MEMBERSHIP
}

// CheckApprove applies M2 at approval: only SUBMITTED applications can be
// approved; one waiting for general membership is a charter violation.
func CheckApprove(app *membershipv1.Application) error {
	switch app.GetState() {
	case membershipv1.ApplicationState_APPLICATION_STATE_SUBMITTED:
		return nil
	case membershipv1.ApplicationState_APPLICATION_STATE_AWAITING_GENERAL_MEMBERSHIP:
		return apierr.Charter([]apierr.Violation{{Rule: RuleGeneralMembership, Reason: apiv1.ErrorReason_GENERAL_MEMBERSHIP_REQUIRED,
			Key: "violation.membership.general_membership_required", Args: map[string]string{
				"organization": app.GetUnit().GetOrganization(), "application": app.GetName(), "state": app.GetState().String()}}})
	}
	return ApplicationTransition(app, "approve")
}

// CheckClose allows reject and withdraw of open applications only.
func CheckClose(app *membershipv1.Application, action string) error {
	if IsOpen(app.GetState()) {
		return nil
	}
	return ApplicationTransition(app, action)
}

// What each state allows, as the REST verbs of the methods (the API's
// action terms): a refused action names its state and these, so the
// caller reads what can be done instead (INVALID_STATE_TRANSITION's
// "allowed"). A final state allows nothing.

// ApplicationActions are the actions an application in state allows. One
// awaiting general membership is not yet approved (M2), but may be
// rejected or withdrawn.
func ApplicationActions(state membershipv1.ApplicationState) []string {
	switch state {
	case membershipv1.ApplicationState_APPLICATION_STATE_SUBMITTED:
		return []string{"approve", "reject", "withdraw"}
	case membershipv1.ApplicationState_APPLICATION_STATE_AWAITING_GENERAL_MEMBERSHIP:
		return []string{"reject", "withdraw"}
	}
	return nil
}

// ApplicationTransition refuses action on app, naming its state and what
// the state allows.
func ApplicationTransition(app *membershipv1.Application, action string) error {
	return apierr.InvalidTransition(app.GetName(), action, app.GetState().String(), ApplicationActions(app.GetState())...)
}

// Member state transitions: the states each action leaves from, and the
// one it leads to.
var memberTransitions = map[string]struct {
	from []membershipv1.MemberState
	to   membershipv1.MemberState
}{
	"suspend":   {[]membershipv1.MemberState{membershipv1.MemberState_MEMBER_STATE_ACTIVE}, membershipv1.MemberState_MEMBER_STATE_SUSPENDED},
	"reinstate": {[]membershipv1.MemberState{membershipv1.MemberState_MEMBER_STATE_SUSPENDED}, membershipv1.MemberState_MEMBER_STATE_ACTIVE},
	"terminate": {[]membershipv1.MemberState{membershipv1.MemberState_MEMBER_STATE_ACTIVE, membershipv1.MemberState_MEMBER_STATE_SUSPENDED}, membershipv1.MemberState_MEMBER_STATE_TERMINATED},
}

// MemberActions are the actions m's state allows, in the order of the
// API's methods: the state changes that leave from it and, for a unit
// member not yet terminated, changeRepresentative.
func MemberActions(m *membershipv1.Member) []string {
	var out []string
	for _, action := range []string{"suspend", "reinstate", "terminate"} {
		if slices.Contains(memberTransitions[action].from, m.GetState()) {
			out = append(out, action)
		}
	}
	if m.GetKind() == membershipv1.ApplicationKind_APPLICATION_KIND_UNIT && len(out) > 0 {
		out = append(out, "changeRepresentative")
	}
	return out
}

// CheckChangeRepresentative allows a unit member that is not terminated to
// change its representative: an individual member has none, and a
// terminated membership is final.
func CheckChangeRepresentative(m *membershipv1.Member) error {
	if m.GetKind() != membershipv1.ApplicationKind_APPLICATION_KIND_UNIT {
		return refusal(codes.FailedPrecondition, apiv1.ErrorReason_NOT_A_UNIT_MEMBER, "not_a_unit_member", map[string]string{"member": m.GetName()})
	}
	if m.GetState() == membershipv1.MemberState_MEMBER_STATE_TERMINATED {
		return apierr.InvalidTransition(m.GetName(), "changeRepresentative", m.GetState().String(), MemberActions(m)...)
	}
	return nil
}

// MemberTransition returns the state action leads to from m's state.
func MemberTransition(m *membershipv1.Member, action string) (membershipv1.MemberState, error) {
	t, ok := memberTransitions[action]
	if !ok {
		return 0, fmt.Errorf("unknown action %q", action)
	}
	if slices.Contains(t.from, m.GetState()) {
		return t.to, nil
	}
	return 0, apierr.InvalidTransition(m.GetName(), action, m.GetState().String(), MemberActions(m)...)
}

// Applicant is the key of an application's one-open-application claim and
// of the member it creates: the organisation for UNIT, the person for
// INDIVIDUAL.
func Applicant(app *membershipv1.Application) string {
	switch a := app.GetApplicant().(type) {
	case *membershipv1.Application_Unit:
		return a.Unit.GetOrganization()
	case *membershipv1.Application_Individual:
		return a.Individual.GetPerson()
	}
	return ""
}

// ApplicantPerson is the person acting for the application.
func ApplicantPerson(app *membershipv1.Application) string {
	switch a := app.GetApplicant().(type) {
	case *membershipv1.Application_Unit:
		return a.Unit.GetRepresentative()
	case *membershipv1.Application_Individual:
		return a.Individual.GetPerson()
	}
	return ""
}
