package domain

import (
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/tjsia/chapterhouse/platform/i18n"
	activitiesv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/activities/v1"
	apiv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/api/v1"
)

var base = time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC)

func activity(mutate func(a *activitiesv1.Activity)) *activitiesv1.Activity {
	a := &activitiesv1.Activity{
		Kind: activitiesv1.ActivityKind_ACTIVITY_KIND_ACADEMIC_EXCHANGE, Title: "LLM safety salon",
		StartTime: timestamppb.New(base), EndTime: timestamppb.New(base.Add(3 * time.Hour)),
		TimeZone: "Asia/Shanghai", Location: "Tianjin", Capacity: 50, Audience: activitiesv1.Audience_AUDIENCE_PUBLIC,
	}
	if mutate != nil {
		mutate(a)
	}
	return a
}

func TestValidateActivity(t *testing.T) {
	tests := []struct {
		name  string
		a     *activitiesv1.Activity
		field string
		rule  string
	}{
		{"valid", activity(nil), "", ""},
		{"end before start", activity(func(a *activitiesv1.Activity) { a.EndTime = timestamppb.New(base.Add(-time.Hour)) }), "activity.end_time", ""},
		{"end equals start", activity(func(a *activitiesv1.Activity) { a.EndTime = a.StartTime }), "activity.end_time", ""},
		{"no kind", activity(func(a *activitiesv1.Activity) { a.Kind = 0 }), "activity.kind", ""},
		{"a year long is fine", activity(func(a *activitiesv1.Activity) { a.EndTime = timestamppb.New(a.StartTime.AsTime().Add(MaxDuration)) }), "", ""},
		{"a year typed wrong: a century long", activity(func(a *activitiesv1.Activity) {
			a.StartTime = timestamppb.New(a.StartTime.AsTime().AddDate(-100, 0, 0))
		}), "activity.end_time", ""},
		{"before 1970 is a time like any other", activity(func(a *activitiesv1.Activity) {
			a.StartTime, a.EndTime = timestamppb.New(time.Date(1926, 5, 4, 9, 0, 0, 0, time.UTC)), timestamppb.New(time.Date(1926, 5, 4, 12, 0, 0, 0, time.UTC))
			a.RegistrationCloseTime = nil
		}), "", ""},
		{"no audience", activity(func(a *activitiesv1.Activity) { a.Audience = 0 }), "activity.audience", ""},
		{"bad time zone", activity(func(a *activitiesv1.Activity) { a.TimeZone = "Mars/Olympus" }), "activity.time_zone", ""},
		{"plain-http online link", activity(func(a *activitiesv1.Activity) { a.OnlineUrl = "http://meet.example.org/x" }), "activity.online_url", ""},
		{"registration closes after the end", activity(func(a *activitiesv1.Activity) {
			a.RegistrationCloseTime = timestamppb.New(base.Add(4 * time.Hour))
		}), "activity.registration_close_time", ""},
		{"S2: promotion without its standard", activity(func(a *activitiesv1.Activity) {
			a.Kind = activitiesv1.ActivityKind_ACTIVITY_KIND_STANDARD_PROMOTION
		}), "", RuleStandardPromotion},
		{"S2: promotion naming its standard", activity(func(a *activitiesv1.Activity) {
			a.Kind, a.RelatedStandard = activitiesv1.ActivityKind_ACTIVITY_KIND_STANDARD_PROMOTION, "branches/ai/standards/t-ai-001"
		}), "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fields, charter := ValidateActivity(tt.a)
			gotField := ""
			if len(fields) > 0 {
				gotField = fields[0].Field
			}
			gotRule := ""
			if len(charter) > 0 {
				gotRule = charter[0].Rule
			}
			if gotField != tt.field || gotRule != tt.rule {
				t.Fatalf("fields %v charter %v; want field %q rule %q", fields, charter, tt.field, tt.rule)
			}
		})
	}
}

// TestCountQuota applies A1: exchange activities in the year, in their own
// time zone, completed and scheduled against the minimum.
func TestCountQuota(t *testing.T) {
	at := func(kind activitiesv1.ActivityKind, state activitiesv1.ActivityState, start time.Time, tz string) *activitiesv1.Activity {
		return &activitiesv1.Activity{Kind: kind, State: state, StartTime: timestamppb.New(start), TimeZone: tz}
	}
	acad, ind, training := activitiesv1.ActivityKind_ACTIVITY_KIND_ACADEMIC_EXCHANGE, activitiesv1.ActivityKind_ACTIVITY_KIND_INDUSTRY_EXCHANGE, activitiesv1.ActivityKind_ACTIVITY_KIND_TRAINING
	done, pub, cancelled, draft := activitiesv1.ActivityState_ACTIVITY_STATE_COMPLETED, activitiesv1.ActivityState_ACTIVITY_STATE_PUBLISHED, activitiesv1.ActivityState_ACTIVITY_STATE_CANCELLED, activitiesv1.ActivityState_ACTIVITY_STATE_DRAFT
	// 2025-12-31 20:00 UTC is already 2026 in Shanghai.
	newYearsEve := time.Date(2025, 12, 31, 20, 0, 0, 0, time.UTC)
	tests := []struct {
		rule                 string
		acts                 []*activitiesv1.Activity
		completed, scheduled int
		onTrack, met         bool
	}{
		{"A1: nothing held is neither on track nor met", nil, 0, 0, false, false},
		{"A1: two completed exchanges meet the minimum", []*activitiesv1.Activity{at(acad, done, base, ""), at(ind, done, base, "")}, 2, 0, true, true},
		{"A1: one completed, one scheduled is on track, not met", []*activitiesv1.Activity{at(acad, done, base, ""), at(ind, pub, base, "")}, 1, 1, true, false},
		{"A1: trainings do not count", []*activitiesv1.Activity{at(training, done, base, ""), at(training, done, base, "")}, 0, 0, false, false},
		{"A1: cancelled and draft exchanges do not count", []*activitiesv1.Activity{at(acad, cancelled, base, ""), at(acad, draft, base, "")}, 0, 0, false, false},
		{"A1: the year is the activity's own time zone's", []*activitiesv1.Activity{at(acad, done, newYearsEve, "Asia/Shanghai"), at(acad, done, newYearsEve, "UTC")}, 1, 0, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.rule, func(t *testing.T) {
			q := CountQuota(tt.acts, 2026, DefaultMinExchangeActivities)
			if q.Completed != tt.completed || q.Scheduled != tt.scheduled || q.OnTrack() != tt.onTrack || q.Met() != tt.met {
				t.Fatalf("quota = %+v on track %v met %v", q, q.OnTrack(), q.Met())
			}
		})
	}
}

func TestCertifiable(t *testing.T) {
	for kind, want := range map[activitiesv1.ActivityKind]bool{
		activitiesv1.ActivityKind_ACTIVITY_KIND_TRAINING:          true,
		activitiesv1.ActivityKind_ACTIVITY_KIND_CERTIFICATION:     true,
		activitiesv1.ActivityKind_ACTIVITY_KIND_EVALUATION:        true,
		activitiesv1.ActivityKind_ACTIVITY_KIND_ACADEMIC_EXCHANGE: false,
		activitiesv1.ActivityKind_ACTIVITY_KIND_MEETING:           false,
	} {
		if Certifiable(kind) != want {
			t.Errorf("A2: Certifiable(%v) = %v", kind, !want)
		}
	}
}

func TestVerificationCodes(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		c := randomCode()
		if len(c) != 12 || seen[c] {
			t.Fatalf("bad or repeated code %q", c)
		}
		seen[c] = true
		if NormalizeVerificationCode(FormatVerificationCode(c)) != c {
			t.Fatalf("format/normalize round trip of %q", c)
		}
	}
	if NormalizeVerificationCode(" k7q3-m9xd-4hrt ") != "K7Q3M9XD4HRT" {
		t.Fatal("normalisation ignores case, hyphens and spaces")
	}
}

func TestCheckPublishable(t *testing.T) {
	now := base.Add(time.Hour) // under way
	if v := CheckPublishable(activity(nil), now); len(v) != 0 {
		t.Fatalf("an activity under way may be published: %v", v)
	}
	if v := CheckPublishable(activity(nil), base.Add(4*time.Hour)); len(v) != 1 {
		t.Fatalf("an ended activity may not: %v", v)
	}
	if v := CheckPublishable(activity(func(a *activitiesv1.Activity) { a.Location = "" }), now); len(v) != 1 {
		t.Fatalf("needs somewhere to happen: %v", v)
	}
}

// TestCheckCertifiable applies A2 to a certificate's issue: every rule
// broken is returned at once, each with the facts its text names.
func TestCheckCertifiable(t *testing.T) {
	training, exchange := activitiesv1.ActivityKind_ACTIVITY_KIND_TRAINING, activitiesv1.ActivityKind_ACTIVITY_KIND_ACADEMIC_EXCHANGE
	completed, published := activitiesv1.ActivityState_ACTIVITY_STATE_COMPLETED, activitiesv1.ActivityState_ACTIVITY_STATE_PUBLISHED
	attended, noShow := activitiesv1.RegistrationState_REGISTRATION_STATE_ATTENDED, activitiesv1.RegistrationState_REGISTRATION_STATE_NO_SHOW
	tests := []struct {
		rule  string
		kind  activitiesv1.ActivityKind
		state activitiesv1.ActivityState
		reg   activitiesv1.RegistrationState
		want  []apiv1.ErrorReason
	}{
		{"A2: an attended, completed training is certified", training, completed, attended, nil},
		{"A2: an exchange is not certifiable", exchange, completed, attended, []apiv1.ErrorReason{apiv1.ErrorReason_NOT_CERTIFIABLE}},
		{"A2: certificates follow completion", training, published, attended, []apiv1.ErrorReason{apiv1.ErrorReason_ACTIVITY_NOT_COMPLETED}},
		{"A2: certificates are for those who attended", training, completed, noShow, []apiv1.ErrorReason{apiv1.ErrorReason_NOT_ATTENDED}},
		{"A2: every rule at once", exchange, published, noShow,
			[]apiv1.ErrorReason{apiv1.ErrorReason_NOT_CERTIFIABLE, apiv1.ErrorReason_ACTIVITY_NOT_COMPLETED, apiv1.ErrorReason_NOT_ATTENDED}},
	}
	for _, tt := range tests {
		t.Run(tt.rule, func(t *testing.T) {
			a := &activitiesv1.Activity{Name: "branches/ai/activities/a", Kind: tt.kind, State: tt.state}
			r := &activitiesv1.Registration{Name: a.Name + "/registrations/li-na", Person: "people/li-na", State: tt.reg}
			var got []apiv1.ErrorReason
			for _, v := range CheckCertifiable(a, r) {
				if v.Rule != RuleMemberServices {
					t.Errorf("%v is rule %s, want A2", v.Reason, v.Rule)
				}
				got = append(got, v.Reason)
				want := map[apiv1.ErrorReason][]string{
					apiv1.ErrorReason_NOT_CERTIFIABLE:        {a.Name, tt.kind.String()},
					apiv1.ErrorReason_ACTIVITY_NOT_COMPLETED: {a.Name, tt.state.String()},
					apiv1.ErrorReason_NOT_ATTENDED:           {r.Person, r.Name, tt.reg.String()},
				}[v.Reason]
				for _, fact := range want {
					if !slices.Contains(slices.Collect(maps.Values(v.Args)), fact) {
						t.Errorf("%v does not carry %s: %v", v.Reason, fact, v.Args)
					}
				}
			}
			if !slices.Equal(got, tt.want) {
				t.Fatalf("violations %v, want %v", got, tt.want)
			}
		})
	}
}

// TestEveryStateSaysWhatItAllows: a refused action names what the state
// allows, as actions a person reads through their terms, in every
// language; a final state allows nothing.
func TestEveryStateSaysWhatItAllows(t *testing.T) {
	final := map[string]bool{
		"ACTIVITY_STATE_COMPLETED": true, "ACTIVITY_STATE_CANCELLED": true,
		"REGISTRATION_STATE_ATTENDED": true, "REGISTRATION_STATE_NO_SHOW": true, "CERTIFICATE_STATE_REVOKED": true,
	}
	allowed := map[string][]string{}
	for v := range activitiesv1.ActivityState_name {
		allowed[activitiesv1.ActivityState(v).String()] = ActivityActions(activitiesv1.ActivityState(v))
	}
	for v := range activitiesv1.RegistrationState_name {
		allowed[activitiesv1.RegistrationState(v).String()] = RegistrationActions(activitiesv1.RegistrationState(v))
	}
	for v := range activitiesv1.CertificateState_name {
		allowed[activitiesv1.CertificateState(v).String()] = CertificateActions(activitiesv1.CertificateState(v))
	}
	for state, actions := range allowed {
		if strings.HasSuffix(state, "_UNSPECIFIED") {
			continue
		}
		if final[state] != (len(actions) == 0) {
			t.Errorf("%s allows %v; final: %v", state, actions, final[state])
		}
		for _, action := range actions {
			for _, lang := range i18n.Languages() {
				if !i18n.Default().Has(lang, "term."+action) {
					t.Errorf("%s allows %s, which %s has no term for", state, action, lang)
				}
			}
		}
	}
}

// TestEveryUpdatableFieldSaysIfItChangesOncePublished: a field
// UpdateActivity changes either still changes once the activity is
// published or is refused then with its reason, never silently kept.
func TestEveryUpdatableFieldSaysIfItChangesOncePublished(t *testing.T) {
	for _, path := range updatable {
		if slices.Contains(updatableWhenPublished, path) == (fixedOncePublished[path] != "") {
			t.Errorf("%s: in updatableWhenPublished %v, in fixedOncePublished %q", path,
				slices.Contains(updatableWhenPublished, path), fixedOncePublished[path])
		}
	}
	for path := range fixedOncePublished {
		if !slices.Contains(updatable, path) {
			t.Errorf("%s is fixed once published but never updatable", path)
		}
	}
}
