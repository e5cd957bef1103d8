package e2e

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tjsia/chapterhouse/cmd/devstack/stack"
	"github.com/tjsia/chapterhouse/platform/auth"
	"github.com/tjsia/chapterhouse/platform/redistest"
)

func councilToken() string { return sys.Token(stack.GeneralCouncilSubject, auth.RoleGeneralCouncil) }

// eventually retries check until it returns "" or 15s pass, then fails
// with its last complaint.
func eventually(t *testing.T, check func() string) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		complaint := check()
		if complaint == "" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("still, after 15s: %s", complaint)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// termDates is a current term: from the start of last year to the end of
// three years on.
func termDates() map[string]any {
	y := time.Now().Year()
	return map[string]any{"startDate": map[string]any{"year": y - 1, "month": 1, "day": 1},
		"endDate": map[string]any{"year": y + 3, "month": 12, "day": 31}}
}

// unit admits an organisation to branch as a unit member, represented by
// a new person whom the secretariat attests at rank, born in birthYear;
// it returns the member's name.
func unit(t *testing.T, branch, id, creditCode, rank string, birthYear int) string {
	t.Helper()
	return unitOn(t, sys, branch, id, creditCode, rank, birthYear)
}

// unitOn is unit on the stack s.
func unitOn(t *testing.T, s *stack.Stack, branch, id, creditCode, rank string, birthYear int) string {
	t.Helper()
	admin := client{token: s.Token(stack.AdminSubject, auth.RoleAdmin), base: s.GatewayURL}
	gs := client{token: s.Token(stack.GeneralSecretarySubject, auth.RoleGeneralSecretary), base: s.GatewayURL}
	admin.ok(t, "POST", "/v1/organizations?organizationId="+id, map[string]any{"displayName": id + " 有限公司", "creditCode": creditCode})
	gs.ok(t, "POST", "/v1/organizations/"+id+":setGeneralMembership", map[string]any{"state": "GENERAL_MEMBERSHIP_STATE_ACTIVE", "reason": "joined"})
	admin.ok(t, "POST", "/v1/people?personId="+id+"-rep", map[string]any{"displayName": id + " rep",
		"birthDate": map[string]any{"year": birthYear, "month": 6, "day": 1}, "organization": "organizations/" + id, "rank": rank})
	app := admin.ok(t, "POST", "/v1/branches/"+branch+"/applications", map[string]any{
		"unit": map[string]any{"organization": "organizations/" + id, "representative": "people/" + id + "-rep"}})
	admin.ok(t, "POST", "/v1/"+app["name"].(string)+":approve", map[string]any{"reason": "council decision"})
	members := admin.ok(t, "GET", "/v1/branches/"+branch+"/members?organization=organizations/"+id, nil)["members"].([]any)
	return members[0].(map[string]any)["name"].(string)
}

// TestGovernanceOverREST: a branch created through governance is learnt
// by membership and activities from its events; its council is elected
// the charter's way over REST; a refused nomination lists every broken
// rule and changes nothing; a resolution passes by vote; the chair
// organises the branch's activities; and when a unit's membership ends,
// its director's office ends, its open nomination is withdrawn and its
// registration is cancelled, each with the reason.
func TestGovernanceOverREST(t *testing.T) {
	admin, gs, gc := as(adminToken()), as(secretaryToken()), as(councilToken())

	// A branch of its own, with its own A1 minimum: the other services
	// learn it from governance's events.
	admin.ok(t, "POST", "/v1/branches?branchId=civic", map[string]any{"displayName": "公民科技分会",
		"parameters": map[string]any{"minExchangeActivitiesPerYear": 3}})
	eventually(t, func() string {
		if r := admin.do(t, "GET", "/v1/branches/civic/members", nil); r.status != http.StatusOK {
			return fmt.Sprintf("membership does not know branch civic: %d", r.status)
		}
		if r := admin.do(t, "GET", "/v1/branches/civic/annualQuota", nil); r.status != http.StatusOK || r.body["requiredCount"] != 3.0 {
			return fmt.Sprintf("activities' quota for civic: %d %s", r.status, r.raw)
		}
		return ""
	})
	admin.ok(t, "POST", "/v1/branches/civic/terms", map[string]any{"number": 1, "startDate": termDates()["startDate"], "endDate": termDates()["endDate"]})
	// Terms follow one another (G1 counts consecutive terms by them): 届 3
	// after 届 1 is refused, naming the term it would follow, and stored
	// nowhere.
	before := snapshot(t)
	if r := admin.do(t, "POST", "/v1/branches/civic/terms", map[string]any{"number": 3,
		"startDate": map[string]any{"year": 2090, "month": 1, "day": 1}, "endDate": map[string]any{"year": 2094, "month": 12, "day": 31}}); r.status != http.StatusBadRequest ||
		r.errorBody(t)["reason"] != "TERM_OUT_OF_SEQUENCE" || r.errorBody(t)["metadata"].(map[string]any)["term"] != "branches/civic/terms/1" {
		t.Fatalf("届 3 after 届 1 = %d %s", r.status, r.raw)
	}
	assertSameState(t, before, snapshot(t))

	lead := unit(t, "civic", "civic-lead", "91120116MA08CW3K2P", "RANK_PRESIDENT", 1970)
	works := unit(t, "civic", "civic-works", "91120116MA08CW3K3T", "RANK_VICE_PRESIDENT", 1972)
	chair, director := as(sys.Token("people/civic-lead-rep")), as(sys.Token("people/civic-works-rep"))
	term := "/v1/branches/civic/terms/1"

	// The chair (G5).
	admin.ok(t, "GET", "/v1/branches/civic", nil)
	gs.ok(t, "POST", term+"/nominations?nominationId=chair", map[string]any{"position": "POSITION_CHAIR", "nominee": "people/civic-lead-rep",
		"representedMember": lead, "qualificationStatement": "Twenty years leading civic-technology companies in Tianjin.",
		"consultationNotes": "Consulted every unit member in writing; no objections."})
	gc.ok(t, "POST", term+"/nominations/chair:decide", map[string]any{"decision": "DECISION_APPROVE"})
	if n := gc.ok(t, "POST", term+"/nominations/chair:appoint", map[string]any{}); n["state"] != "NOMINATION_STATE_APPOINTED" {
		t.Fatalf("chair nomination = %v", n)
	}

	// A refusal names every broken rule and stores nothing.
	before = snapshot(t)
	r := director.do(t, "POST", term+"/nominations", map[string]any{"position": "POSITION_CHAIR", "nominee": "people/civic-works-rep"})
	if r.status != http.StatusBadRequest {
		t.Fatalf("refused chair nomination = %d %s", r.status, r.raw)
	}
	e := r.errorBody(t)
	if e["reason"] != "CHARTER_VIOLATION" || e["metadata"].(map[string]any)["rules"] != "G2,G5" {
		t.Fatalf("refusal = %v", e)
	}
	var reasons []string
	for _, v := range e["violations"].([]any) {
		reasons = append(reasons, v.(map[string]any)["reason"].(string))
	}
	if got := strings.Join(reasons, ","); got != "QUALIFICATION_STATEMENT_MISSING,PROPOSER_NOT_GENERAL_SECRETARY,CONSULTATION_NOTES_MISSING,OFFICE_ALREADY_FILLED" {
		t.Fatalf("violations %s", got)
	}
	assertSameState(t, before, snapshot(t))

	// The unit puts its representative forward as director (G6); the
	// chair confirms and appoints; a second nominee of the unit is refused.
	dirNom := director.ok(t, "POST", term+"/nominations?nominationId=works", map[string]any{"position": "POSITION_DIRECTOR",
		"nominee": "people/civic-works-rep", "representedMember": works, "qualificationStatement": "Runs an open-data platform for the city's districts."})
	if r := director.do(t, "POST", term+"/nominations", map[string]any{"position": "POSITION_DIRECTOR",
		"nominee": "people/civic-works-rep", "representedMember": works, "qualificationStatement": "Runs an open-data platform for the city's districts."}); r.status != http.StatusBadRequest ||
		!strings.Contains(string(r.raw), "DIRECTOR_NOMINEE_LIMIT_EXCEEDED") {
		t.Fatalf("second nominee of one unit = %d %s", r.status, r.raw)
	}
	chair.ok(t, "POST", "/v1/"+dirNom["name"].(string)+":confirmQualification", map[string]any{"decision": "DECISION_APPROVE"})
	dirNom = chair.ok(t, "POST", "/v1/"+dirNom["name"].(string)+":appoint", map[string]any{})
	officer := dirNom["officer"].(string)

	// A resolution passes by vote of the council (the chair and the
	// director).
	res := chair.ok(t, "POST", "/v1/branches/civic/resolutions", map[string]any{"title": "Open data charter", "text": "The branch adopts the open data charter.",
		"kind": "RESOLUTION_KIND_ORDINARY"})
	chair.ok(t, "POST", "/v1/"+res["name"].(string)+":openVoting", map[string]any{})
	if r := admin.do(t, "POST", "/v1/"+res["name"].(string)+":vote", map[string]any{"choice": "VOTE_CHOICE_YES"}); r.status != http.StatusForbidden ||
		r.errorBody(t)["reason"] != "NOT_AN_ELIGIBLE_VOTER" {
		t.Fatalf("an admin's ballot = %d %s", r.status, r.raw)
	}
	chair.ok(t, "POST", "/v1/"+res["name"].(string)+":vote", map[string]any{"choice": "VOTE_CHOICE_YES"})
	director.ok(t, "POST", "/v1/"+res["name"].(string)+":vote", map[string]any{"choice": "VOTE_CHOICE_NO"})
	director.ok(t, "POST", "/v1/"+res["name"].(string)+":vote", map[string]any{"choice": "VOTE_CHOICE_YES"}) // changed their mind
	closed := chair.ok(t, "POST", "/v1/"+res["name"].(string)+":closeVoting", map[string]any{})
	if tally := closed["tally"].(map[string]any); closed["state"] != "RESOLUTION_STATE_PASSED" || tally["yesCount"] != 2.0 || tally["noCount"] != 0.0 {
		t.Fatalf("closed resolution = %v", closed)
	}

	// The chair organises the branch's activities (activities learns the
	// chair from governance's events), and the director registers for a
	// members-only salon.
	act := admin.ok(t, "POST", "/v1/branches/civic/activities?activityId=civic-salon", map[string]any{
		"kind": "ACTIVITY_KIND_INDUSTRY_EXCHANGE", "title": "Civic data salon", "audience": "AUDIENCE_MEMBERS",
		"location": "天津", "startTime": stamp(72 * time.Hour), "endTime": stamp(74 * time.Hour)})
	eventually(t, func() string {
		if r := chair.do(t, "POST", "/v1/"+act["name"].(string)+":publish", map[string]any{}); r.status != http.StatusOK {
			return fmt.Sprintf("the chair publishing the branch's activity: %d %s", r.status, r.raw)
		}
		return ""
	})
	reg := director.ok(t, "POST", "/v1/"+act["name"].(string)+":register", map[string]any{})
	// An open nomination of the unit, to be withdrawn with it.
	openNom := admin.ok(t, "POST", term+"/nominations", map[string]any{"position": "POSITION_VICE_CHAIR",
		"nominee": "people/civic-works-rep", "representedMember": works, "qualificationStatement": "Runs an open-data platform for the city's districts."})

	// The compliance report: the secretary-general's office is vacant.
	report := admin.ok(t, "GET", "/v1/branches/civic:complianceReport", nil)
	if report["compliant"] == true || !strings.Contains(fmt.Sprint(report["findings"]), "OFFICE_VACANT") {
		t.Fatalf("report = %v", report)
	}

	// The unit's membership ends: across three services, each with the
	// reason.
	admin.ok(t, "POST", "/v1/"+works+":terminate", map[string]any{"reason": "dues unpaid"})
	eventually(t, func() string {
		o := admin.ok(t, "GET", "/v1/"+officer, nil)
		n := admin.ok(t, "GET", "/v1/"+openNom["name"].(string), nil)
		g := admin.ok(t, "GET", "/v1/"+reg["name"].(string), nil)
		switch {
		case o["state"] != "OFFICER_STATE_ENDED" || !strings.Contains(fmt.Sprint(o["endReason"]), "dues unpaid"):
			return fmt.Sprintf("office: %v", o)
		case n["state"] != "NOMINATION_STATE_WITHDRAWN" || !strings.Contains(fmt.Sprint(n["stateReason"]), "dues unpaid"):
			return fmt.Sprintf("nomination: %v", n)
		case g["state"] != "REGISTRATION_STATE_CANCELLED":
			return fmt.Sprintf("registration: %v", g)
		}
		return ""
	})
}

// TestGovernanceWithMembershipDown: with membership stopped, a nomination
// cannot be judged: 503 DEPENDENCY_UNAVAILABLE, and nothing is stored.
func TestGovernanceWithMembershipDown(t *testing.T) {
	srv := redistest.Start(t)
	s, err := stack.Start(context.Background(), stack.Options{RedisURL: srv.URL(), Getenv: func(string) string { return "" }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Stop() })
	admin := client{token: s.Token(stack.AdminSubject, auth.RoleAdmin), base: s.GatewayURL}
	gs := client{token: s.Token(stack.GeneralSecretarySubject, auth.RoleGeneralSecretary), base: s.GatewayURL}
	admin.ok(t, "POST", "/v1/branches/ai/terms", map[string]any{"number": 1, "startDate": termDates()["startDate"], "endDate": termDates()["endDate"]})
	if err := s.StopService("membership"); err != nil {
		t.Fatal(err)
	}
	before := snapshotOf(t, s.Redis)
	r := gs.do(t, "POST", "/v1/branches/ai/terms/1/nominations", map[string]any{"position": "POSITION_CHAIR", "nominee": "people/wang-wei",
		"qualificationStatement": "Twenty years leading civic-technology companies in Tianjin.", "consultationNotes": "Consulted every unit member in writing."})
	if r.status != http.StatusServiceUnavailable || r.errorBody(t)["reason"] != "DEPENDENCY_UNAVAILABLE" {
		t.Fatalf("nomination with membership down = %d %s", r.status, r.raw)
	}
	assertSameState(t, before, snapshotOf(t, s.Redis))
}
