package branches

import (
	"slices"
	"time"

	"google.golang.org/genproto/googleapis/type/date"

	governancev1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/governance/v1"
)

// TimeZone is where a branch's days begin and end: "today", the current
// term, who serves, ages and calendar years are judged in it, by every
// service.
const TimeZone = "Asia/Shanghai"

// A day is a calendar day; midnight UTC stands for it, so days compare and
// count without time-zone arithmetic.

// DayOf is the calendar day of d, or false when d is not a valid calendar
// date.
func DayOf(d *date.Date) (time.Time, bool) {
	if d.GetYear() < 1 || d.GetMonth() < 1 || d.GetMonth() > 12 || d.GetDay() < 1 {
		return time.Time{}, false
	}
	t := time.Date(int(d.GetYear()), time.Month(d.GetMonth()), int(d.GetDay()), 0, 0, 0, 0, time.UTC)
	if t.Day() != int(d.GetDay()) {
		return time.Time{}, false
	}
	return t, true
}

// DateOf is the protobuf date of a day.
func DateOf(d time.Time) *date.Date {
	return &date.Date{Year: int32(d.Year()), Month: int32(d.Month()), Day: int32(d.Day())}
}

// Today is the calendar day of now in TimeZone.
func Today(now time.Time) time.Time {
	loc, err := time.LoadLocation(TimeZone)
	if err != nil {
		loc = time.FixedZone("CST", 8*3600)
	}
	y, m, d := now.In(loc).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// ServingOn reports whether officer o holds office on day: appointed, not
// ended, and day within its dates.
func ServingOn(o *governancev1.Officer, day time.Time) bool {
	if o.GetState() != governancev1.OfficerState_OFFICER_STATE_SERVING {
		return false
	}
	first, ok1 := DayOf(o.GetStartDate())
	last, ok2 := DayOf(o.GetEndDate())
	return ok1 && ok2 && !day.Before(first) && !day.After(last)
}

// Council is who sits on a term's council on day: every officer serving
// then, except a secretary-general who holds no other office (CHARTER.md,
// "Who sits on the council"). People are listed once, sorted.
func Council(officers []*governancev1.Officer, day time.Time) []string {
	offices := map[string][]governancev1.Position{}
	for _, o := range officers {
		if ServingOn(o, day) {
			offices[o.GetPerson()] = append(offices[o.GetPerson()], o.GetPosition())
		}
	}
	var out []string
	for person, positions := range offices {
		for _, p := range positions {
			if p != governancev1.Position_POSITION_SECRETARY_GENERAL {
				out = append(out, person)
				break
			}
		}
	}
	slices.Sort(out)
	return out
}

// Leads reports whether o is the office of one who runs the branch's
// business: its chair or secretary-general.
func Leads(o *governancev1.Officer) bool {
	return o.GetPosition() == governancev1.Position_POSITION_CHAIR || o.GetPosition() == governancev1.Position_POSITION_SECRETARY_GENERAL
}

// Standing is what a person is in a branch on a day.
type Standing struct {
	// Leads: serving as its chair or secretary-general.
	Leads bool
	// OnCouncil: sitting on its council (Council).
	OnCouncil bool
}

// StandingOf is person's standing on day among officers.
func StandingOf(officers []*governancev1.Officer, person string, day time.Time) Standing {
	return Standing{
		Leads: slices.ContainsFunc(officers, func(o *governancev1.Officer) bool {
			return o.GetPerson() == person && Leads(o) && ServingOn(o, day)
		}),
		OnCouncil: slices.Contains(Council(officers, day), person),
	}
}
