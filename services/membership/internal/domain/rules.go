// Package domain holds the membership rules (CHARTER.md M1–M3) as pure
// functions, and the use cases that apply them through a Repository.
package domain

import (
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"google.golang.org/genproto/googleapis/type/date"

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

func (v *violations) add(field, format string, args ...any) {
	*v = append(*v, apierr.FieldViolation{Field: field, Description: fmt.Sprintf(format, args...)})
}

func (v *violations) required(field, value string) {
	if strings.TrimSpace(value) == "" {
		v.add(field, "is required")
	}
}

// ValidateOrganization checks the client-settable fields of org.
func ValidateOrganization(org *membershipv1.Organization) []apierr.FieldViolation {
	var v violations
	v.required("organization.display_name", org.GetDisplayName())
	if code := org.GetCreditCode(); code == "" {
		v.add("organization.credit_code", "is required")
	} else if err := creditcode.Validate(code); err != nil {
		v.add("organization.credit_code", "is not a valid unified social credit code: %v", err)
	}
	return v
}

// ValidatePerson checks the client-settable fields of p as of now.
func ValidatePerson(p *membershipv1.Person, now time.Time) []apierr.FieldViolation {
	var v violations
	v.required("person.display_name", p.GetDisplayName())
	if bd := p.GetBirthDate(); bd == nil {
		// Not known yet: an admin attests it later. Rules that need it
		// (G4) refuse while it is missing.
	} else if t, ok := dateTime(bd); !ok {
		v.add("person.birth_date", "is not a valid calendar date")
	} else if t.After(now) || bd.GetYear() < 1900 {
		v.add("person.birth_date", "must be between 1900 and today")
	}
	if org := p.GetOrganization(); org != "" && !strings.HasPrefix(org, "organizations/") {
		v.add("person.organization", "must be an organization resource name")
	}
	validateExpertise(&v, "person.expertise", p.GetExpertise())
	return v
}

// validateExpertise refuses blank areas; their number and length are
// proto rules.
func validateExpertise(v *violations, field string, areas []string) {
	for i, a := range areas {
		if strings.TrimSpace(a) == "" {
			v.add(fmt.Sprintf("%s[%d]", field, i), "must not be blank")
		}
	}
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
		if !strings.HasPrefix(a.Unit.GetOrganization(), "organizations/") {
			v.add("application.unit.organization", "must be an organization resource name")
		}
		if !strings.HasPrefix(a.Unit.GetRepresentative(), "people/") {
			v.add("application.unit.representative", "must be a person resource name")
		}
	case *membershipv1.Application_Individual:
		if !strings.HasPrefix(a.Individual.GetPerson(), "people/") {
			v.add("application.individual.person", "must be a person resource name")
		}
	default:
		v.add("application", "exactly one of unit or individual is required")
	}
	return v
}

// IndividualStanding applies M3: an individual applicant states academic
// credentials and at least one area of AI expertise.
func IndividualStanding(ind *membershipv1.IndividualApplicant) []apierr.Violation {
	var out []apierr.Violation
	if utf8.RuneCountInString(strings.TrimSpace(ind.GetAcademicCredentials())) < minCredentials {
		out = append(out, apierr.Violation{Rule: RuleIndividualStanding, Reason: apiv1.ErrorReason_ACADEMIC_CREDENTIALS_MISSING,
			Message: fmt.Sprintf("an individual member states their academic credentials (at least %d characters)", minCredentials)})
	}
	nonEmpty := 0
	for _, e := range ind.GetExpertise() {
		if strings.TrimSpace(e) != "" {
			nonEmpty++
		}
	}
	if nonEmpty == 0 {
		out = append(out, apierr.Violation{Rule: RuleIndividualStanding, Reason: apiv1.ErrorReason_AI_EXPERTISE_MISSING,
			Message: "an individual member names at least one area of AI expertise"})
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
			Message: "the organisation must be an active member of the general association before the branch can approve it"}})
	}
	return apierr.InvalidTransition(app.GetName(), "approve", app.GetState().String())
}

// CheckClose allows reject and withdraw of open applications only.
func CheckClose(app *membershipv1.Application, action string) error {
	if IsOpen(app.GetState()) {
		return nil
	}
	return apierr.InvalidTransition(app.GetName(), action, app.GetState().String())
}

// Member state transitions.
var memberTransitions = map[string]struct {
	from []membershipv1.MemberState
	to   membershipv1.MemberState
}{
	"suspend":   {[]membershipv1.MemberState{membershipv1.MemberState_MEMBER_STATE_ACTIVE}, membershipv1.MemberState_MEMBER_STATE_SUSPENDED},
	"reinstate": {[]membershipv1.MemberState{membershipv1.MemberState_MEMBER_STATE_SUSPENDED}, membershipv1.MemberState_MEMBER_STATE_ACTIVE},
	"terminate": {[]membershipv1.MemberState{membershipv1.MemberState_MEMBER_STATE_ACTIVE, membershipv1.MemberState_MEMBER_STATE_SUSPENDED}, membershipv1.MemberState_MEMBER_STATE_TERMINATED},
}

// MemberTransition returns the state action leads to from m's state.
func MemberTransition(m *membershipv1.Member, action string) (membershipv1.MemberState, error) {
	t, ok := memberTransitions[action]
	if !ok {
		return 0, fmt.Errorf("unknown action %q", action)
	}
	for _, from := range t.from {
		if m.GetState() == from {
			return t.to, nil
		}
	}
	return 0, apierr.InvalidTransition(m.GetName(), action, m.GetState().String())
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
