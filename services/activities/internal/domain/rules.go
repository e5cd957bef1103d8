// Package domain holds the activities rules (CHARTER.md A1, A2, S2 and the
// "membership ends" reading) as pure functions, and the use cases that
// apply them through a Repository.
package domain

import (
	"net/url"
	"strconv"
	"strings"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/tjsia/chapterhouse/platform/apierr"
	activitiesv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/activities/v1"
	apiv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/api/v1"

	"github.com/tjsia/chapterhouse/contracts/governance/branches"
)

// Charter rule codes enforced here.
const (
	// RuleExchangeQuota: at least N exchange activities a year.
	RuleExchangeQuota = "A1"
	// RuleMemberServices: trainings, consulting, evaluations and
	// certifications for members; certificates are issued for them.
	RuleMemberServices = "A2"
	// RuleStandardPromotion: a promotion activity names its standard.
	RuleStandardPromotion = "S2"
)

// DefaultTimeZone is where the branch is: its days and calendar years, as
// governance judges them, and an activity's zone unless it names one.
const DefaultTimeZone = branches.TimeZone

// MaxDuration bounds an activity's length. Any start time is accepted
// (a record of a past activity may be entered, and one far ahead is
// harmless), but a year typed wrong in one of the two times (1926 for 2026)
// makes an activity of a century, which this refuses with a clear error.
const MaxDuration = 366 * 24 * time.Hour

// DefaultMinExchangeActivities is min_exchange_activities_per_year (A1).
const DefaultMinExchangeActivities = 2

// Field limits and formats (lengths, capacity, known enum values, ids)
// are buf.validate rules in activities.proto, enforced for every request
// by the server's validation interceptor. What stays here needs code:
// required fields, time order, IANA zones, https URLs and the charter
// rules.

// IsExchange reports whether kind counts towards A1.
func IsExchange(kind activitiesv1.ActivityKind) bool {
	return kind == activitiesv1.ActivityKind_ACTIVITY_KIND_ACADEMIC_EXCHANGE ||
		kind == activitiesv1.ActivityKind_ACTIVITY_KIND_INDUSTRY_EXCHANGE
}

// Certifiable reports whether attendance of kind earns a certificate (A2).
func Certifiable(kind activitiesv1.ActivityKind) bool {
	switch kind {
	case activitiesv1.ActivityKind_ACTIVITY_KIND_TRAINING,
		activitiesv1.ActivityKind_ACTIVITY_KIND_CERTIFICATION,
		activitiesv1.ActivityKind_ACTIVITY_KIND_EVALUATION:
		return true
	}
	return false
}

type violations []apierr.FieldViolation

// add records that field breaks the text "field.<what>", with its facts
// as alternating names and values.
func (v *violations) add(field, what string, facts ...string) {
	*v = append(*v, apierr.Field(field, what, facts...))
}

// definedValues are the names of enum's values but the unspecified one,
// comma-separated: what a required enum field may be ({values|terms}).
func definedValues(enum protoreflect.EnumDescriptor) string {
	var names []string
	for i := range enum.Values().Len() {
		if v := enum.Values().Get(i); v.Number() != 0 {
			names = append(names, string(v.Name()))
		}
	}
	return strings.Join(names, ",")
}

// LocalTime is t as the activity's people read it: RFC 3339 in the
// activity's time zone (the branch's when it names none).
func LocalTime(a *activitiesv1.Activity, t time.Time) string {
	loc, err := Location(a)
	if err != nil {
		loc = time.UTC
	}
	return t.In(loc).Format(time.RFC3339)
}

// Location returns the activity's time zone.
func Location(a *activitiesv1.Activity) (*time.Location, error) {
	tz := a.GetTimeZone()
	if tz == "" {
		tz = DefaultTimeZone
	}
	return time.LoadLocation(tz)
}

// ValidateActivity checks the fields of a to-be-stored activity. It reports
// every problem at once. S2 (a promotion names its standard) is a charter
// violation returned separately.
func ValidateActivity(a *activitiesv1.Activity) ([]apierr.FieldViolation, []apierr.Violation) {
	var v violations
	if a.GetKind() == activitiesv1.ActivityKind_ACTIVITY_KIND_UNSPECIFIED {
		v.add("activity.kind", "activities.one_of", "values", definedValues(activitiesv1.ActivityKind(0).Descriptor()))
	}
	if strings.TrimSpace(a.GetTitle()) == "" {
		v.add("activity.title", "required")
	}
	start, end := a.GetStartTime(), a.GetEndTime()
	if start == nil {
		v.add("activity.start_time", "required")
	}
	if end == nil {
		v.add("activity.end_time", "required")
	}
	if start != nil && end != nil && !end.AsTime().After(start.AsTime()) {
		v.add("activity.end_time", "activities.end_after_start")
	}
	if start != nil && end != nil && end.AsTime().Sub(start.AsTime()) > MaxDuration {
		v.add("activity.end_time", "activities.too_long", "max_days", strconv.Itoa(int(MaxDuration.Hours()/24)))
	}
	if _, err := Location(a); err != nil {
		v.add("activity.time_zone", "activities.time_zone", "time_zone", a.GetTimeZone())
	}
	if u := a.GetOnlineUrl(); u != "" {
		parsed, err := url.Parse(u)
		if err != nil || parsed.Scheme != "https" || parsed.Host == "" {
			v.add("activity.online_url", "activities.https_url")
		}
	}
	if a.GetAudience() == activitiesv1.Audience_AUDIENCE_UNSPECIFIED {
		v.add("activity.audience", "activities.one_of", "values", definedValues(activitiesv1.Audience(0).Descriptor()))
	}
	open, closeAt := a.GetRegistrationOpenTime(), a.GetRegistrationCloseTime()
	if open != nil && closeAt != nil && !closeAt.AsTime().After(open.AsTime()) {
		v.add("activity.registration_close_time", "activities.close_after_open")
	}
	if closeAt != nil && end != nil && closeAt.AsTime().After(end.AsTime()) {
		v.add("activity.registration_close_time", "activities.close_by_end")
	}
	if o := a.GetOrganizer(); o != "" && !strings.HasPrefix(o, "people/") {
		v.add("activity.organizer", "name_form", "name", o, "pattern", "people/{person}")
	}
	var charter []apierr.Violation
	if a.GetKind() == activitiesv1.ActivityKind_ACTIVITY_KIND_STANDARD_PROMOTION && !strings.Contains(a.GetRelatedStandard(), "/standards/") {
		facts := map[string]string{"title": a.GetTitle()}
		if a.GetRelatedStandard() != "" {
			facts["related_standard"] = a.GetRelatedStandard()
		}
		charter = append(charter, apierr.Violation{Rule: RuleStandardPromotion, Reason: apiv1.ErrorReason_RELATED_STANDARD_REQUIRED,
			Key: "violation.activities.related_standard_required", Args: facts})
	}
	return v, charter
}

// CheckCertifiable applies A2 to the issue of a certificate for reg, a
// registration of a: a training, evaluation or certification, completed,
// that the person attended. It returns every rule broken.
func CheckCertifiable(a *activitiesv1.Activity, reg *activitiesv1.Registration) []apierr.Violation {
	var problems []apierr.Violation
	if !Certifiable(a.GetKind()) {
		problems = append(problems, apierr.Violation{Rule: RuleMemberServices, Reason: apiv1.ErrorReason_NOT_CERTIFIABLE,
			Key: "violation.activities.not_certifiable", Args: map[string]string{"activity": a.GetName(), "kind": a.GetKind().String()}})
	}
	if a.GetState() != activitiesv1.ActivityState_ACTIVITY_STATE_COMPLETED {
		problems = append(problems, apierr.Violation{Rule: RuleMemberServices, Reason: apiv1.ErrorReason_ACTIVITY_NOT_COMPLETED,
			Key: "violation.activities.not_completed", Args: map[string]string{"activity": a.GetName(), "state": a.GetState().String()}})
	}
	if reg.GetState() != activitiesv1.RegistrationState_REGISTRATION_STATE_ATTENDED {
		problems = append(problems, apierr.Violation{Rule: RuleMemberServices, Reason: apiv1.ErrorReason_NOT_ATTENDED,
			Key: "violation.activities.not_attended", Args: map[string]string{"person": reg.GetPerson(), "registration": reg.GetName(), "state": reg.GetState().String()}})
	}
	return problems
}

// CheckPublishable: an activity can be published while it has not ended
// and has somewhere to happen. (It may already have started: registration
// at the door is allowed until the window closes.)
func CheckPublishable(a *activitiesv1.Activity, now time.Time) []apierr.FieldViolation {
	var v violations
	if !a.GetEndTime().AsTime().After(now) {
		v.add("activity.end_time", "activities.ended", "end_time", LocalTime(a, a.GetEndTime().AsTime()))
	}
	if a.GetLocation() == "" && a.GetOnlineUrl() == "" {
		v.add("activity.location", "activities.place_required")
	}
	return v
}

// RegistrationWindow returns when registration opens and closes.
func RegistrationWindow(a *activitiesv1.Activity) (open, closeAt time.Time) {
	open = a.GetPublishTime().AsTime()
	if a.GetRegistrationOpenTime() != nil {
		open = a.GetRegistrationOpenTime().AsTime()
	}
	closeAt = a.GetStartTime().AsTime()
	if a.GetRegistrationCloseTime() != nil {
		closeAt = a.GetRegistrationCloseTime().AsTime()
	}
	return open, closeAt
}

// CheckCompletable: only a PUBLISHED activity that has started.
func CheckCompletable(a *activitiesv1.Activity, now time.Time) error {
	if a.GetState() != activitiesv1.ActivityState_ACTIVITY_STATE_PUBLISHED {
		return ActivityTransition(a, "complete")
	}
	if now.Before(a.GetStartTime().AsTime()) {
		start := LocalTime(a, a.GetStartTime().AsTime())
		return refuse(codes.FailedPrecondition, apiv1.ErrorReason_ACTIVITY_NOT_STARTED, "not_started", "activity", a.GetName(), "startTime", start)
	}
	return nil
}

// CheckInOpen: check-in runs from one day before the start of a PUBLISHED
// activity until its completion.
func CheckInOpen(a *activitiesv1.Activity, now time.Time) error {
	if a.GetState() != activitiesv1.ActivityState_ACTIVITY_STATE_PUBLISHED {
		return refuse(codes.FailedPrecondition, apiv1.ErrorReason_CHECK_IN_NOT_OPEN, "check_in_not_published", "activity", a.GetName(), "state", a.GetState().String())
	}
	if opens := a.GetStartTime().AsTime().Add(-24 * time.Hour); now.Before(opens) {
		return refuse(codes.FailedPrecondition, apiv1.ErrorReason_CHECK_IN_NOT_OPEN, "check_in_not_yet", "activity", a.GetName(), "opensAt", LocalTime(a, opens))
	}
	return nil
}

// Quota is A1 for one year.
type Quota struct {
	Completed, Scheduled, Required int
}

// OnTrack: completed plus scheduled reach the minimum.
func (q Quota) OnTrack() bool { return q.Completed+q.Scheduled >= q.Required }

// Met: completed alone reach the minimum.
func (q Quota) Met() bool { return q.Completed >= q.Required }

// CountQuota applies A1 to a branch's activities for year: exchange
// activities whose start falls in the year in their own time zone.
func CountQuota(acts []*activitiesv1.Activity, year, required int) Quota {
	q := Quota{Required: required}
	for _, a := range acts {
		if !IsExchange(a.GetKind()) {
			continue
		}
		loc, err := Location(a)
		if err != nil {
			loc = time.UTC
		}
		if a.GetStartTime().AsTime().In(loc).Year() != year {
			continue
		}
		switch a.GetState() {
		case activitiesv1.ActivityState_ACTIVITY_STATE_COMPLETED:
			q.Completed++
		case activitiesv1.ActivityState_ACTIVITY_STATE_PUBLISHED:
			q.Scheduled++
		}
	}
	return q
}

// VerificationAlphabet has no 0/O, 1/I/L, 2/Z, 5/S, 8/B: codes are read
// aloud and typed from paper.
const VerificationAlphabet = "34679ACDEFGHJKMNPQRTUVWXY"

// NormalizeVerificationCode strips hyphens and spaces and upper-cases.
func NormalizeVerificationCode(code string) string {
	code = strings.ToUpper(code)
	return strings.Map(func(r rune) rune {
		if r == '-' || r == ' ' {
			return -1
		}
		return r
	}, code)
}

// codeLength is a verification code's length, without its hyphens.
const codeLength = 12

// FormatVerificationCode groups a 12-character code as XXXX-XXXX-XXXX.
func FormatVerificationCode(code string) string {
	if len(code) != codeLength {
		return code
	}
	return code[:4] + "-" + code[4:8] + "-" + code[8:]
}
