// Package domain holds the activities rules (CHARTER.md A1, A2, S2 and the
// "membership ends" reading) as pure functions, and the use cases that
// apply them through a Repository.
package domain

import (
	"fmt"
	"net/url"
	"strings"
	"time"

	"google.golang.org/grpc/codes"

	"github.com/tjsia/chapterhouse/platform/apierr"
	activitiesv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/activities/v1"
	apiv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/api/v1"

	"github.com/tjsia/chapterhouse/services/governance/branches"
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

func (v *violations) add(field, format string, args ...any) {
	*v = append(*v, apierr.FieldViolation{Field: field, Description: fmt.Sprintf(format, args...)})
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
		v.add("activity.kind", "must be one of ACADEMIC_EXCHANGE, INDUSTRY_EXCHANGE, TRAINING, CONSULTATION, EVALUATION, CERTIFICATION, STANDARD_PROMOTION, RESEARCH, MEETING")
	}
	if strings.TrimSpace(a.GetTitle()) == "" {
		v.add("activity.title", "is required")
	}
	start, end := a.GetStartTime(), a.GetEndTime()
	if start == nil {
		v.add("activity.start_time", "is required")
	}
	if end == nil {
		v.add("activity.end_time", "is required")
	}
	if start != nil && end != nil && !end.AsTime().After(start.AsTime()) {
		v.add("activity.end_time", "must be after start_time")
	}
	if start != nil && end != nil && end.AsTime().Sub(start.AsTime()) > MaxDuration {
		v.add("activity.end_time", "an activity lasts at most %d days; check the years of start_time and end_time", int(MaxDuration.Hours()/24))
	}
	if _, err := Location(a); err != nil {
		v.add("activity.time_zone", "is not an IANA time zone")
	}
	if u := a.GetOnlineUrl(); u != "" {
		parsed, err := url.Parse(u)
		if err != nil || parsed.Scheme != "https" || parsed.Host == "" {
			v.add("activity.online_url", "must be an https URL")
		}
	}
	if a.GetAudience() == activitiesv1.Audience_AUDIENCE_UNSPECIFIED {
		v.add("activity.audience", "must be MEMBERS or PUBLIC")
	}
	open, closeAt := a.GetRegistrationOpenTime(), a.GetRegistrationCloseTime()
	if open != nil && closeAt != nil && !closeAt.AsTime().After(open.AsTime()) {
		v.add("activity.registration_close_time", "must be after registration_open_time")
	}
	if closeAt != nil && end != nil && closeAt.AsTime().After(end.AsTime()) {
		v.add("activity.registration_close_time", "must not be after end_time")
	}
	if o := a.GetOrganizer(); o != "" && !strings.HasPrefix(o, "people/") {
		v.add("activity.organizer", "must be a person resource name")
	}
	var charter []apierr.Violation
	if a.GetKind() == activitiesv1.ActivityKind_ACTIVITY_KIND_STANDARD_PROMOTION && !strings.Contains(a.GetRelatedStandard(), "/standards/") {
		charter = append(charter, apierr.Violation{Rule: RuleStandardPromotion, Reason: apiv1.ErrorReason_RELATED_STANDARD_REQUIRED,
			Message: "a standards promotion (宣贯) activity names the standard it promotes in related_standard"})
	}
	return v, charter
}

// CheckPublishable: an activity can be published while it has not ended
// and has somewhere to happen. (It may already have started: registration
// at the door is allowed until the window closes.)
func CheckPublishable(a *activitiesv1.Activity, now time.Time) []apierr.FieldViolation {
	var v violations
	if !a.GetEndTime().AsTime().After(now) {
		v.add("activity.end_time", "is in the past; an activity that has ended cannot be published")
	}
	if a.GetLocation() == "" && a.GetOnlineUrl() == "" {
		v.add("activity.location", "a location or an online_url is required to publish")
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
		return apierr.InvalidTransition(a.GetName(), "complete", a.GetState().String())
	}
	if now.Before(a.GetStartTime().AsTime()) {
		return apierr.New(codes.FailedPrecondition, apiv1.ErrorReason_ACTIVITY_NOT_STARTED, a.GetName()+" has not started yet", nil)
	}
	return nil
}

// CheckInWindow: from one day before the start until completion.
func CheckInWindow(a *activitiesv1.Activity, now time.Time) bool {
	return a.GetState() == activitiesv1.ActivityState_ACTIVITY_STATE_PUBLISHED &&
		!now.Before(a.GetStartTime().AsTime().Add(-24*time.Hour))
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

// FormatVerificationCode groups a 12-character code as XXXX-XXXX-XXXX.
func FormatVerificationCode(code string) string {
	if len(code) != 12 {
		return code
	}
	return code[:4] + "-" + code[4:8] + "-" + code[8:]
}
