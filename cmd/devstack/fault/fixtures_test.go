package fault_test

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/tjsia/chapterhouse/platform/auth"
)

// fixtures are the branch's standing data: a current term, a unit member
// that leads the standards, and a published members' salon.
type fixtures struct {
	admin, gs caller
	lead      string
	salon     string
}

func (s *system) fixtures() fixtures {
	s.t.Helper()
	f := fixtures{admin: s.as("people/admin", auth.RoleAdmin), gs: s.as("people/general-secretary", auth.RoleGeneralSecretary)}
	y := time.Now().Year()
	f.admin.ok("POST", "/v1/branches/ai/terms", map[string]any{"number": 1,
		"startDate": map[string]any{"year": y - 1, "month": 1, "day": 1}, "endDate": map[string]any{"year": y + 3, "month": 12, "day": 31}})
	lead, _, err := f.unit("lead", 0)
	if err != nil {
		s.t.Fatal(err)
	}
	f.lead = lead
	act := f.admin.ok("POST", "/v1/branches/ai/activities?activityId=salon", map[string]any{
		"kind": "ACTIVITY_KIND_INDUSTRY_EXCHANGE", "title": "Members' salon", "audience": "AUDIENCE_MEMBERS",
		"location": "天津", "startTime": stamp(72 * time.Hour), "endTime": stamp(74 * time.Hour)})
	f.salon = act["name"].(string)
	f.admin.ok("POST", "/v1/"+f.salon+":publish", map[string]any{})
	return f
}

// unit admits organisation id (the n-th, for its credit code) to branch ai
// as a unit member represented by a new person, and returns the member's
// and the representative's names.
func (f fixtures) unit(id string, n int) (member, rep string, err error) {
	return f.unitAs(id, n, "RANK_VICE_PRESIDENT", 1972)
}

// unitAs is unit with the representative's rank and year of birth.
func (f fixtures) unitAs(id string, n int, rank string, born int) (member, rep string, err error) {
	steps := []struct {
		c      caller
		method string
		path   func() string
		body   map[string]any
	}{
		{f.admin, "POST", func() string { return "/v1/organizations?organizationId=" + id }, map[string]any{"displayName": id + " 有限公司",
			"creditCode": creditCode(fmt.Sprintf("91120116MA%07d", n))}},
		{f.gs, "POST", func() string { return "/v1/organizations/" + id + ":setGeneralMembership" },
			map[string]any{"state": "GENERAL_MEMBERSHIP_STATE_ACTIVE", "reason": "joined"}},
		{f.admin, "POST", func() string { return "/v1/people?personId=" + id + "-rep" }, map[string]any{"displayName": id + " rep",
			"birthDate": map[string]any{"year": born, "month": 6, "day": 1}, "organization": "organizations/" + id, "rank": rank}},
	}
	for _, st := range steps {
		if _, err := st.c.try(st.method, st.path(), st.body); err != nil {
			return "", "", err
		}
	}
	app, err := f.admin.try("POST", "/v1/branches/ai/applications", map[string]any{
		"unit": map[string]any{"organization": "organizations/" + id, "representative": "people/" + id + "-rep"}})
	if err != nil {
		return "", "", err
	}
	if _, err := f.admin.try("POST", "/v1/"+app["name"].(string)+":approve", map[string]any{"reason": "council decision"}); err != nil {
		return "", "", err
	}
	list, err := f.admin.try("GET", "/v1/branches/ai/members?organization=organizations/"+id, nil)
	if err != nil {
		return "", "", err
	}
	members, _ := list["members"].([]any)
	if len(members) != 1 {
		return "", "", fmt.Errorf("members of %s: %v", id, list)
	}
	return members[0].(map[string]any)["name"].(string), "people/" + id + "-rep", nil
}

// doomed is a unit member whose membership a test ends, and what each
// consumer of its MemberTerminated must then change: its
// representative's registration in the salon (activities cancels it), an
// open director nomination it is represented in (governance withdraws
// it) and a proposed standard it takes part in (standards drops it).
type doomed struct {
	member, rep                        string
	registration, nomination, standard string
}

// doom prepares n doomed members, a few at a time.
func (f fixtures) doom(s *system, n int) []doomed {
	s.t.Helper()
	out := make([]doomed, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	work := make(chan int)
	for range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				errs[i] = f.doomOne(s, i, &out[i])
			}
		}()
	}
	for i := range n {
		work <- i
	}
	close(work)
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			s.t.Fatal(err)
		}
	}
	return out
}

func (f fixtures) doomOne(s *system, i int, d *doomed) error {
	id := fmt.Sprintf("doomed-%02d", i)
	var err error
	if d.member, d.rep, err = f.unit(id, 100+i); err != nil {
		return err
	}
	rep := caller{s: s, token: s.token(d.rep)}
	reg, err := rep.try("POST", "/v1/"+f.salon+":register", map[string]any{})
	if err != nil {
		return err
	}
	nom, err := f.admin.try("POST", "/v1/branches/ai/terms/1/nominations", map[string]any{"position": "POSITION_DIRECTOR",
		"nominee": d.rep, "representedMember": d.member, "qualificationStatement": "Builds data platforms for the city."})
	if err != nil {
		return err
	}
	std, err := f.admin.try("POST", "/v1/branches/ai/standards", map[string]any{"kind": "STANDARD_KIND_GROUP_STANDARD",
		"title": "标准 " + id, "leadUnit": f.lead, "participatingUnits": []string{d.member}})
	if err != nil {
		return err
	}
	d.registration, d.nomination, d.standard = reg["name"].(string), nom["name"].(string), std["name"].(string)
	return nil
}

// council elects branch ai's council over REST, the charter's way: the
// representative of a new unit "chair-unit" as chair, of "works-unit" as
// director. It returns the chair and the director as callers, and the
// works unit.
func (f fixtures) council(s *system) (chair, director caller, works string) {
	s.t.Helper()
	gc := s.as("people/general-council", auth.RoleGeneralCouncil)
	lead, _, err := f.unitAs("chair-unit", 1, "RANK_PRESIDENT", 1970)
	if err != nil {
		s.t.Fatal(err)
	}
	works, _, err = f.unitAs("works-unit", 2, "RANK_VICE_PRESIDENT", 1972)
	if err != nil {
		s.t.Fatal(err)
	}
	chair, director = caller{s: s, token: s.token("people/chair-unit-rep")}, caller{s: s, token: s.token("people/works-unit-rep")}
	term := "/v1/branches/ai/terms/1"
	f.gs.ok("POST", term+"/nominations?nominationId=chair", map[string]any{"position": "POSITION_CHAIR", "nominee": "people/chair-unit-rep",
		"representedMember": lead, "qualificationStatement": "Twenty years leading AI companies in Tianjin.",
		"consultationNotes": "Consulted every unit member in writing; no objections."})
	gc.ok("POST", term+"/nominations/chair:decide", map[string]any{"decision": "DECISION_APPROVE"})
	gc.ok("POST", term+"/nominations/chair:appoint", map[string]any{})
	director.ok("POST", term+"/nominations?nominationId=works", map[string]any{"position": "POSITION_DIRECTOR",
		"nominee": "people/works-unit-rep", "representedMember": works, "qualificationStatement": "Builds data-annotation platforms."})
	chair.ok("POST", term+"/nominations/works:confirmQualification", map[string]any{"decision": "DECISION_APPROVE"})
	chair.ok("POST", term+"/nominations/works:appoint", map[string]any{})
	return chair, director, works
}

// published takes a standard the chair proposes, led by works, through
// drafting, comment, review and approval, on the council's resolution
// approving it, to publication, once standards has learnt who chairs the
// branch.
func (f fixtures) published(s *system, chair, director caller, works string) string {
	s.t.Helper()
	var std string
	eventually(s.t, 30*time.Second, func() string {
		r := chair.do("POST", "/v1/branches/ai/standards?standardId=promoted", map[string]any{
			"kind": "STANDARD_KIND_GROUP_STANDARD", "title": "宣贯标准", "leadUnit": works}, "Idempotency-Key", "promoted")
		if r.status != http.StatusOK {
			return fmt.Sprintf("standards does not know the chair yet: %d %s", r.status, r.raw)
		}
		std = "/v1/" + r.str("name")
		return ""
	})
	chair.ok("POST", std+":approveProposal", map[string]any{})
	chair.ok("POST", std+"/drafts", map[string]any{"version": "征求意见稿", "contentUri": "https://docs.example.org/v1.pdf",
		"sha256": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"})
	chair.ok("POST", std+":openComment", map[string]any{"commentEndTime": time.Now().Add(30 * 24 * time.Hour).UTC().Format(time.RFC3339)})
	chair.ok("POST", std+":closeComment", map[string]any{})
	chair.ok("POST", std+":submitForReview", map[string]any{})
	chair.ok("POST", std+":concludeReview", map[string]any{"experts": []string{"专家"}, "conclusion": "REVIEW_CONCLUSION_PASS", "summary": "通过"})
	resolution := chair.ok("POST", "/v1/branches/ai/resolutions", map[string]any{"title": "批准发布标准", "text": "理事会同意发布。",
		"kind": "RESOLUTION_KIND_STANDARD_APPROVAL", "standard": strings.TrimPrefix(std, "/v1/")})["name"].(string)
	chair.ok("POST", "/v1/"+resolution+":openVoting", map[string]any{})
	chair.ok("POST", "/v1/"+resolution+":vote", map[string]any{"choice": "VOTE_CHOICE_YES"})
	director.ok("POST", "/v1/"+resolution+":vote", map[string]any{"choice": "VOTE_CHOICE_YES"})
	if r := chair.ok("POST", "/v1/"+resolution+":closeVoting", map[string]any{}); r["state"] != "RESOLUTION_STATE_PASSED" {
		s.t.Fatalf("resolution %v", r)
	}
	chair.ok("POST", std+":approve", map[string]any{"resolution": resolution})
	chair.ok("POST", std+":publish", map[string]any{"effectiveDate": map[string]any{"year": time.Now().Year() + 1, "month": 1, "day": 1}})
	return std
}
