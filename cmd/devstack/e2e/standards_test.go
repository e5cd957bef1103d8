package e2e

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/tjsia/chapterhouse/cmd/devstack/stack"
	"github.com/tjsia/chapterhouse/platform/auth"
	"github.com/tjsia/chapterhouse/platform/redistest"
	"github.com/tjsia/chapterhouse/platform/servicetest"
	standardsv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/standards/v1"
)

// council is a branch with its council elected over REST: the chair
// represents the lead unit, the director the works unit, and ordinary is
// an ORDINARY resolution they passed (which approves no standard).
type council struct {
	admin, chair, director client
	lead, works            string
	ordinary               string
}

// electCouncil creates branch on s with a current term, two unit members
// (from orgs, whose credit codes are codes) and its council, and passes an
// ordinary resolution; it waits until standards knows the branch and its
// chair.
func electCouncil(t *testing.T, s *stack.Stack, branch string, orgs, codes [2]string) council {
	t.Helper()
	on := func(token string) client { return client{token: token, base: s.GatewayURL} }
	c := council{admin: on(s.Token(stack.AdminSubject, auth.RoleAdmin))}
	gs, gc := on(s.Token(stack.GeneralSecretarySubject, auth.RoleGeneralSecretary)), on(s.Token(stack.GeneralCouncilSubject, auth.RoleGeneralCouncil))
	c.admin.ok(t, "POST", "/v1/branches?branchId="+branch, map[string]any{"displayName": branch + " 分会"})
	eventually(t, func() string {
		if r := c.admin.do(t, "GET", "/v1/branches/"+branch+"/members", nil); r.status != http.StatusOK {
			return fmt.Sprintf("membership does not know branch %s: %d", branch, r.status)
		}
		return ""
	})
	c.admin.ok(t, "POST", "/v1/branches/"+branch+"/terms", map[string]any{"number": 1, "startDate": termDates()["startDate"], "endDate": termDates()["endDate"]})
	c.lead = unitOn(t, s, branch, orgs[0], codes[0], "RANK_PRESIDENT", 1970)
	c.works = unitOn(t, s, branch, orgs[1], codes[1], "RANK_VICE_PRESIDENT", 1972)
	c.chair, c.director = on(s.Token("people/"+orgs[0]+"-rep")), on(s.Token("people/"+orgs[1]+"-rep"))
	term := "/v1/branches/" + branch + "/terms/1"
	gs.ok(t, "POST", term+"/nominations?nominationId=chair", map[string]any{"position": "POSITION_CHAIR", "nominee": "people/" + orgs[0] + "-rep",
		"representedMember": c.lead, "qualificationStatement": "Twenty years leading AI companies in Tianjin.",
		"consultationNotes": "Consulted every unit member in writing; no objections."})
	gc.ok(t, "POST", term+"/nominations/chair:decide", map[string]any{"decision": "DECISION_APPROVE"})
	gc.ok(t, "POST", term+"/nominations/chair:appoint", map[string]any{})
	nom := c.director.ok(t, "POST", term+"/nominations?nominationId=works", map[string]any{"position": "POSITION_DIRECTOR",
		"nominee": "people/" + orgs[1] + "-rep", "representedMember": c.works, "qualificationStatement": "Builds data-annotation platforms."})
	c.chair.ok(t, "POST", "/v1/"+nom["name"].(string)+":confirmQualification", map[string]any{"decision": "DECISION_APPROVE"})
	c.chair.ok(t, "POST", "/v1/"+nom["name"].(string)+":appoint", map[string]any{})
	c.ordinary = c.pass(t, "/v1/branches/"+branch+"/resolutions", map[string]any{"title": "年度工作总结", "text": "理事会通过年度工作总结。",
		"kind": "RESOLUTION_KIND_ORDINARY"})
	// Standards learns the branch, and who chairs it, from governance's
	// events: the chair's first proposal is the proof.
	eventually(t, func() string {
		r := c.chair.do(t, "POST", "/v1/branches/"+branch+"/standards?standardId=probe", map[string]any{
			"kind": "STANDARD_KIND_GROUP_STANDARD", "title": "探针", "leadUnit": c.works})
		if r.status != http.StatusOK {
			return fmt.Sprintf("standards does not know %s or its chair yet: %d %s", branch, r.status, r.raw)
		}
		return ""
	})
	return c
}

// pass has the council draft a resolution (body) under collection, vote
// it through and close it; it returns the PASSED resolution's name.
func (c council) pass(t *testing.T, collection string, body map[string]any) string {
	t.Helper()
	name := c.chair.ok(t, "POST", collection, body)["name"].(string)
	c.chair.ok(t, "POST", "/v1/"+name+":openVoting", map[string]any{})
	c.chair.ok(t, "POST", "/v1/"+name+":vote", map[string]any{"choice": "VOTE_CHOICE_YES"})
	c.director.ok(t, "POST", "/v1/"+name+":vote", map[string]any{"choice": "VOTE_CHOICE_YES"})
	if r := c.chair.ok(t, "POST", "/v1/"+name+":closeVoting", map[string]any{}); r["state"] != "RESOLUTION_STATE_PASSED" {
		t.Fatalf("resolution %v", r)
	}
	return name
}

// approval has the council pass its STANDARD_APPROVAL resolution of the
// standard at std (/v1/branches/{branch}/standards/{standard}).
func (c council) approval(t *testing.T, std string) string {
	t.Helper()
	name := strings.TrimPrefix(std, "/v1/")
	branch := name[:strings.Index(name, "/standards/")]
	return c.pass(t, "/v1/"+branch+"/resolutions", map[string]any{"title": "批准发布标准", "text": "理事会同意发布该标准。",
		"kind": "RESOLUTION_KIND_STANDARD_APPROVAL", "standard": name})
}

const digest = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"

// publishREST takes a proposed standard through drafting, a comment
// period, review and approval to publication, and returns it published.
func publishREST(t *testing.T, c council, std string) map[string]any {
	t.Helper()
	c.chair.ok(t, "POST", std+":approveProposal", map[string]any{})
	c.chair.ok(t, "POST", std+"/drafts", map[string]any{"version": "征求意见稿", "contentUri": "https://docs.example.org/v1.pdf", "sha256": digest})
	c.chair.ok(t, "POST", std+":openComment", map[string]any{"commentEndTime": time.Now().Add(30 * 24 * time.Hour).UTC().Format(time.RFC3339)})
	c.chair.ok(t, "POST", std+":closeComment", map[string]any{})
	c.chair.ok(t, "POST", std+":submitForReview", map[string]any{})
	c.chair.ok(t, "POST", std+":concludeReview", map[string]any{"experts": []string{"专家"}, "conclusion": "REVIEW_CONCLUSION_PASS", "summary": "通过"})
	c.chair.ok(t, "POST", std+":approve", map[string]any{"resolution": c.approval(t, std)})
	return c.chair.ok(t, "POST", std+":publish", map[string]any{"effectiveDate": map[string]any{"year": time.Now().Year() + 1, "month": 1, "day": 1}})
}

// TestStandardsOverREST: a group standard goes from proposal to
// publication over REST, through a refused close of comments; bad input
// is refused with the documented body and stores nothing; and when a
// unit's branch membership ends it leaves the working groups of the
// standards not yet published and its signature on a convention lapses.
func TestStandardsOverREST(t *testing.T) {
	c := electCouncil(t, sys, "stdb", [2]string{"stdb-lead", "stdb-works"}, [2]string{"91120116MA08CW4K1A", "91120116MA08CW5K10"})
	anon := client{}

	// Bad input: every refusal has the documented body and stores nothing.
	before := snapshot(t)
	for _, bad := range []struct {
		body   any
		status int
		reason string
	}{
		{`{"kind": "STANDARD_KIND_GROUP_STANDARD", "title": `, http.StatusBadRequest, "MALFORMED_REQUEST"},
		{map[string]any{"kind": "STANDARD_KIND_GROUP_STANDARD", "title": "", "leadUnit": c.lead}, http.StatusBadRequest, "INVALID_ARGUMENT"},
		{map[string]any{"kind": "STANDARD_KIND_GROUP_STANDARD", "title": strings.Repeat("标", 201), "leadUnit": c.lead}, http.StatusBadRequest, "INVALID_ARGUMENT"},
		{map[string]any{"kind": "STANDARD_KIND_GROUP_STANDARD", "title": "标准", "leadUnit": "branches/stdb/members/nobody"}, http.StatusBadRequest, "CHARTER_VIOLATION"},
		{map[string]any{"kind": "STANDARD_KIND_GROUP_STANDARD", "title": "标准", "leadUnit": "branches/ai/members/x"}, http.StatusBadRequest, "INVALID_ARGUMENT"},
	} {
		r := c.chair.do(t, "POST", "/v1/branches/stdb/standards", bad.body)
		if r.status != bad.status || r.errorBody(t)["reason"] != bad.reason {
			t.Fatalf("%v = %d %s, want %d %s", bad.body, r.status, r.raw, bad.status, bad.reason)
		}
	}
	if r := anon.do(t, "POST", "/v1/branches/stdb/standards", map[string]any{}); r.status != http.StatusUnauthorized {
		t.Fatalf("propose without a token = %d", r.status)
	}
	assertSameState(t, before, snapshot(t))

	std := "/v1/branches/stdb/standards/quality"
	c.chair.ok(t, "POST", "/v1/branches/stdb/standards?standardId=quality", map[string]any{"kind": "STANDARD_KIND_GROUP_STANDARD",
		"title": "人工智能 数据质量评价", "leadUnit": c.lead, "participatingUnits": []string{c.works}})
	if r := anon.do(t, "GET", std, nil); r.status != http.StatusNotFound {
		t.Fatalf("a proposal without a token = %d", r.status)
	}
	c.chair.ok(t, "POST", std+":approveProposal", map[string]any{})
	if r := c.chair.do(t, "POST", std+"/drafts", map[string]any{"version": "0.1", "contentUri": "ftp://x", "sha256": "abc"}); r.status != http.StatusBadRequest {
		t.Fatalf("a bad draft = %d %s", r.status, r.raw)
	}
	c.chair.ok(t, "POST", std+"/drafts?draftId=d1", map[string]any{"version": "征求意见稿", "contentUri": "https://docs.example.org/q.pdf", "sha256": digest})
	c.chair.ok(t, "POST", std+":openComment", map[string]any{"commentEndTime": time.Now().Add(30 * 24 * time.Hour).UTC().Format(time.RFC3339)})
	anon.ok(t, "POST", std+"/comments?commentId=public", map[string]any{"clause": "4", "text": "建议补充术语。", "commenterName": "公众"})
	// An anonymous comment retried with its Idempotency-Key is filed once
	// (the key is scoped to the client's address); another body with the
	// same key is refused.
	keyed := anon.with("Idempotency-Key", "anonymous-comment-1")
	retried := map[string]any{"clause": "4.1", "text": "术语表应按拼音排序。", "commenterName": "公众"}
	filed := keyed.ok(t, "POST", std+"/comments", retried)
	if again := keyed.do(t, "POST", std+"/comments", retried); again.status != http.StatusOK ||
		again.body["name"] != filed["name"] || again.header.Get("Idempotent-Replay") != "true" {
		t.Fatalf("the anonymous comment retried with its key = %d %s, want %v replayed", again.status, again.raw, filed["name"])
	}
	if other := keyed.do(t, "POST", std+"/comments", map[string]any{"clause": "4.1", "text": "另一条意见。", "commenterName": "公众"}); other.status != http.StatusUnprocessableEntity {
		t.Fatalf("the key with another comment = %d %s, want 422", other.status, other.raw)
	}
	c.chair.ok(t, "POST", "/v1/"+filed["name"].(string)+":dispose", map[string]any{"disposition": "DISPOSITION_ACCEPTED", "reason": "已采纳"})
	r := c.chair.do(t, "POST", std+":closeComment", map[string]any{})
	if r.status != http.StatusBadRequest || r.errorBody(t)["reason"] != "COMMENTS_UNDISPOSED" ||
		r.errorBody(t)["metadata"].(map[string]any)["comments"] != "branches/stdb/standards/quality/comments/public" {
		t.Fatalf("close with an undisposed comment = %d %s", r.status, r.raw)
	}
	c.chair.ok(t, "POST", std+"/comments/public:dispose", map[string]any{"disposition": "DISPOSITION_ACCEPTED", "reason": "已补充"})
	c.chair.ok(t, "POST", std+":closeComment", map[string]any{})
	if sum := anon.ok(t, "GET", std+":dispositionSummary", nil); sum["total"] != 2.0 || sum["accepted"] != 2.0 {
		t.Fatalf("summary %v", sum)
	}
	c.chair.ok(t, "POST", std+":submitForReview", map[string]any{})
	// S1: the council approves a standard by a STANDARD_APPROVAL resolution
	// naming it; governance refuses one that names none.
	if r := c.chair.do(t, "POST", "/v1/branches/stdb/resolutions", map[string]any{"title": "批准", "text": "同意。",
		"kind": "RESOLUTION_KIND_STANDARD_APPROVAL"}); r.status != http.StatusBadRequest || r.errorBody(t)["reason"] != "INVALID_ARGUMENT" {
		t.Fatalf("a standard approval naming no standard = %d %s", r.status, r.raw)
	}
	approval := c.approval(t, std)
	if r := c.chair.do(t, "POST", std+":approve", map[string]any{"resolution": approval}); r.status != http.StatusBadRequest ||
		r.errorBody(t)["reason"] != "REVIEW_NOT_PASSED" {
		t.Fatalf("approval before review = %d %s", r.status, r.raw)
	}
	c.chair.ok(t, "POST", std+":concludeReview", map[string]any{"experts": []string{"专家"}, "conclusion": "REVIEW_CONCLUSION_PASS", "summary": "通过"})
	// Any other passed resolution is refused, with what it is.
	before = snapshot(t)
	if r := c.chair.do(t, "POST", std+":approve", map[string]any{"resolution": c.ordinary}); r.status != http.StatusBadRequest ||
		r.errorBody(t)["reason"] != "RESOLUTION_NOT_PASSED" || r.errorBody(t)["metadata"].(map[string]any)["kind"] != "RESOLUTION_KIND_ORDINARY" {
		t.Fatalf("approval on an ordinary resolution = %d %s", r.status, r.raw)
	}
	assertSameState(t, before, snapshot(t))
	c.chair.ok(t, "POST", std+":approve", map[string]any{"resolution": approval})
	pub := c.chair.ok(t, "POST", std+":publish", map[string]any{"effectiveDate": map[string]any{"year": time.Now().Year() + 1, "month": 1, "day": 1}})
	if want := fmt.Sprintf("T/TJSIA 001—%d", time.Now().Year()); pub["code"] != want || pub["state"] != "STANDARD_STATE_PUBLISHED" {
		t.Fatalf("published %v, want code %s", pub, want)
	}
	anon.ok(t, "GET", std, nil)

	// Promotion (S2): its activity is a DRAFT, which activities shows only
	// to its organisers (the chair) and answers everyone else as missing;
	// so the promotion names it to them alone, and to everyone once it is
	// published.
	start := time.Now().Add(40 * 24 * time.Hour).UTC()
	p := c.chair.ok(t, "POST", std+"/promotions:schedule", map[string]any{"promotionId": "launch", "activity": map[string]any{
		"audience": "AUDIENCE_PUBLIC", "capacity": 100, "location": "天津", "startTime": start.Format(time.RFC3339),
		"endTime": start.Add(3 * time.Hour).Format(time.RFC3339), "registrationCloseTime": start.Format(time.RFC3339)}})
	activity := p["activity"].(string)
	shown := func(who client) string {
		t.Helper()
		list := who.ok(t, "GET", std+"/promotions", nil)["promotions"].([]any)
		if len(list) != 1 {
			t.Fatalf("promotions %v", list)
		}
		return list[0].(map[string]any)["activity"].(string)
	}
	for _, who := range []struct {
		label  string
		caller client
		sees   bool
	}{{"without a token", anon, false}, {"a council member", c.director, false}, {"the chair, who organises it", c.chair, true}} {
		got, want, status := shown(who.caller), "", http.StatusNotFound
		if who.sees {
			want, status = activity, http.StatusOK
		}
		if got != want {
			t.Fatalf("%s is shown the draft activity %q, want %q", who.label, got, want)
		}
		if r := who.caller.do(t, "GET", "/v1/"+activity, nil); r.status != status {
			t.Fatalf("%s reads the draft activity: %d %s, want %d", who.label, r.status, r.raw, status)
		}
		namesSeen(t, who.label, who.caller, std)
	}
	c.chair.ok(t, "POST", "/v1/"+activity+":publish", map[string]any{})
	if got := shown(anon); got != activity {
		t.Fatalf("the published activity is shown as %q without a token, want %q", got, activity)
	}
	anon.ok(t, "GET", "/v1/"+activity, nil)
	namesSeen(t, "without a token", anon, std)

	// The works unit joins a second standard's working group and signs a
	// convention; then its branch membership ends.
	c.chair.ok(t, "POST", "/v1/branches/stdb/standards?standardId=next", map[string]any{"kind": "STANDARD_KIND_GROUP_STANDARD",
		"title": "人工智能 模型评测", "leadUnit": c.lead, "participatingUnits": []string{c.works}})
	c.chair.ok(t, "POST", "/v1/branches/stdb/standards?standardId=pledge", map[string]any{"kind": "STANDARD_KIND_SELF_DISCIPLINE_CONVENTION",
		"title": "数据合规自律公约", "leadUnit": c.lead})
	// Not yet public: without a token its comments are NOT_FOUND, as a
	// missing standard's; once published, they are the members': 401,
	// sign in.
	for _, path := range []string{"/v1/branches/stdb/standards/pledge/comments", "/v1/branches/stdb/standards/nosuch/comments"} {
		if r := anon.do(t, "GET", path, nil); r.status != http.StatusNotFound || r.errorBody(t)["reason"] != "NOT_FOUND" {
			t.Fatalf("GET %s without a token = %d %s, want 404", path, r.status, r.raw)
		}
	}
	// One resolution, one standard: the quality standard's approval does
	// not approve the convention.
	if r := c.chair.do(t, "POST", "/v1/branches/stdb/standards/pledge:approve", map[string]any{"resolution": approval}); r.status != http.StatusBadRequest ||
		r.errorBody(t)["reason"] != "RESOLUTION_NOT_PASSED" || r.errorBody(t)["metadata"].(map[string]any)["approves"] != "branches/stdb/standards/quality" {
		t.Fatalf("the quality standard's approval cited for the convention = %d %s", r.status, r.raw)
	}
	if p := publishREST(t, c, "/v1/branches/stdb/standards/pledge"); p["code"] != fmt.Sprintf("TJSIA ZL 001—%d", time.Now().Year()) {
		t.Fatalf("convention %v", p)
	}
	for _, call := range []struct{ method, path string }{{"GET", "/comments"}, {"GET", ":dispositionSummary"}, {"POST", "/comments"}} {
		var body any
		if call.method == "POST" {
			body = map[string]any{"clause": "1", "text": "意见", "commenterName": "公众"}
		}
		if r := anon.do(t, call.method, "/v1/branches/stdb/standards/pledge"+call.path, body); r.status != http.StatusUnauthorized ||
			r.errorBody(t)["reason"] != "UNAUTHENTICATED" {
			t.Fatalf("%s pledge%s without a token = %d %s, want 401", call.method, call.path, r.status, r.raw)
		}
	}
	c.director.ok(t, "POST", "/v1/branches/stdb/standards/pledge/signatories", map[string]any{"member": c.works})
	c.admin.ok(t, "POST", "/v1/"+c.works+":terminate", map[string]any{"reason": "会费未缴"})
	eventually(t, func() string {
		next := c.admin.ok(t, "GET", "/v1/branches/stdb/standards/next", nil)
		if units, _ := next["participatingUnits"].([]any); len(units) != 0 {
			return fmt.Sprintf("the terminated unit is still on the working group: %v", units)
		}
		sig := anon.ok(t, "GET", "/v1/branches/stdb/standards/pledge/signatories/"+c.works[strings.LastIndex(c.works, "/")+1:], nil)
		if sig["state"] != "SIGNATORY_STATE_LAPSED" || !strings.Contains(fmt.Sprint(sig["withdrawReason"]), "会费未缴") {
			return fmt.Sprintf("signature: %v", sig)
		}
		return ""
	})
	// A published standard keeps its record.
	if got := c.admin.ok(t, "GET", std, nil)["participatingUnits"].([]any); len(got) != 1 {
		t.Fatalf("published standard's units rewritten: %v", got)
	}
}

// TestPromotionWithActivitiesDown (S2): a promotion creates its activity
// across services; with activities stopped it is 503
// DEPENDENCY_UNAVAILABLE and nothing is stored.
func TestPromotionWithActivitiesDown(t *testing.T) {
	srv := redistest.Start(t)
	s, err := stack.Start(context.Background(), stack.Options{RedisURL: srv.URL(), Getenv: func(string) string { return "" }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Stop() })
	c := electCouncil(t, s, "promo", [2]string{"promo-lead", "promo-works"}, [2]string{"91120116MA08CW4K1A", "91120116MA08CW6K1M"})
	std := "/v1/branches/promo/standards/probe"
	publishREST(t, c, std)
	activity := map[string]any{"audience": "AUDIENCE_PUBLIC", "capacity": 100, "location": "天津",
		"startTime": time.Now().Add(40 * 24 * time.Hour).UTC().Format(time.RFC3339), "endTime": time.Now().Add(40*24*time.Hour + 3*time.Hour).UTC().Format(time.RFC3339)}
	p := c.chair.ok(t, "POST", std+"/promotions:schedule", map[string]any{"promotionId": "launch", "activity": activity})
	a := c.admin.ok(t, "GET", "/v1/"+p["activity"].(string), nil)
	if a["kind"] != "ACTIVITY_KIND_STANDARD_PROMOTION" || a["relatedStandard"] != "branches/promo/standards/probe" {
		t.Fatalf("promotion activity %v", a)
	}
	if err := s.StopService("activities"); err != nil {
		t.Fatal(err)
	}
	before := snapshotOf(t, s.Redis)
	r := c.chair.do(t, "POST", std+"/promotions:schedule", map[string]any{"promotionId": "second", "activity": activity})
	if r.status != http.StatusServiceUnavailable || r.errorBody(t)["reason"] != "DEPENDENCY_UNAVAILABLE" {
		t.Fatalf("promotion with activities down = %d %s", r.status, r.raw)
	}
	assertSameState(t, before, snapshotOf(t, s.Redis))
	// Listing them asks activities whether the caller may read each
	// activity: with it down, the read is 503 too, never a name unchecked.
	if r := c.admin.do(t, "GET", std+"/promotions", nil); r.status != http.StatusServiceUnavailable || r.errorBody(t)["reason"] != "DEPENDENCY_UNAVAILABLE" {
		t.Fatalf("promotions with activities down = %d %s", r.status, r.raw)
	}
}

// namesSeen reads, as caller, what standards answers about std (and the
// standards of its branch) and follows every resource each answer names
// (servicetest.References: its resource_reference fields) the way a
// client does, GET /v1/{name}: none may answer 404, since a name that
// does would tell the caller of a resource hidden from it.
func namesSeen(t *testing.T, label string, caller client, std string) {
	t.Helper()
	branch := std[:strings.Index(std, "/standards/")]
	for _, read := range []struct {
		path string
		into proto.Message
	}{
		{std, &standardsv1.Standard{}},
		{branch + "/standards", &standardsv1.ListStandardsResponse{}},
		{std + "/drafts", &standardsv1.ListDraftsResponse{}},
		{std + "/comments", &standardsv1.ListCommentsResponse{}},
		{std + ":dispositionSummary", &standardsv1.DispositionSummary{}},
		{std + "/promotions", &standardsv1.ListPromotionsResponse{}},
	} {
		r := caller.do(t, "GET", read.path, nil)
		if r.status != http.StatusOK {
			t.Fatalf("%s: GET %s = %d %s", label, read.path, r.status, r.raw)
		}
		if err := (protojson.UnmarshalOptions{DiscardUnknown: true}).Unmarshal(r.raw, read.into); err != nil {
			t.Fatalf("GET %s: %v", read.path, err)
		}
		for _, ref := range servicetest.References(read.into) {
			if got := caller.do(t, "GET", "/v1/"+ref.Value, nil); got.status != http.StatusOK && got.status != http.StatusUnauthorized {
				t.Errorf("%s: GET %s names %s in %s, which answers %d %s", label, read.path, ref.Value, ref.Field, got.status, got.raw)
			}
		}
	}
}
