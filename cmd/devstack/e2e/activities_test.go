package e2e

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

func stamp(d time.Duration) string { return time.Now().Add(d).UTC().Format(time.RFC3339) }

// TestActivitiesFlow: create, publish, register past capacity, cancel and
// see the promotion, check in, complete, issue and verify a certificate —
// over REST, with the seeded members.
func TestActivitiesFlow(t *testing.T) {
	admin := as(adminToken())
	rep := as(sys.Token("people/wang-wei"))
	act := admin.ok(t, "POST", "/v1/branches/ai/activities?activityId=e2e-training", map[string]any{
		"kind": "ACTIVITY_KIND_TRAINING", "title": "Evaluating LLM agents", "audience": "AUDIENCE_MEMBERS", "capacity": 1,
		"location": "天津市滨海新区", "startTime": stamp(-time.Hour), "endTime": stamp(2 * time.Hour), "registrationCloseTime": stamp(2 * time.Hour)})
	name := act["name"].(string)
	if act["state"] != "ACTIVITY_STATE_DRAFT" {
		t.Fatalf("created = %v", act)
	}
	// Drafts are invisible to the public.
	if r := as("").do(t, "GET", "/v1/"+name, nil); r.status != 404 {
		t.Fatalf("anonymous read of a draft = %d", r.status)
	}
	admin.ok(t, "POST", "/v1/"+name+":publish", map[string]any{})
	if got := as("").ok(t, "GET", "/v1/"+name, nil); got["state"] != "ACTIVITY_STATE_PUBLISHED" {
		t.Fatalf("public read = %v", got)
	}
	first := rep.ok(t, "POST", "/v1/"+name+":register", map[string]any{})
	second := admin.ok(t, "POST", "/v1/"+name+":register", map[string]any{"person": "people/li-na"})
	if first["state"] != "REGISTRATION_STATE_CONFIRMED" || second["state"] != "REGISTRATION_STATE_WAITLISTED" || second["waitlistPosition"] != 1.0 {
		t.Fatalf("registrations = %v / %v", first, second)
	}
	// zhao-lei works for an organisation that is not a member.
	if r := admin.do(t, "POST", "/v1/"+name+":register", map[string]any{"person": "people/zhao-lei"}); r.status != 403 || r.errorBody(t)["reason"] != "NOT_A_MEMBER" {
		t.Fatalf("non-member = %d %s", r.status, r.raw)
	}
	rep.ok(t, "POST", "/v1/"+first["name"].(string)+":cancel", map[string]any{"reason": "travelling"})
	promoted := admin.ok(t, "GET", "/v1/"+second["name"].(string), nil)
	if promoted["state"] != "REGISTRATION_STATE_CONFIRMED" || promoted["promoteTime"] == nil {
		t.Fatalf("promotion = %v", promoted)
	}
	admin.ok(t, "POST", "/v1/"+second["name"].(string)+":checkIn", map[string]any{})
	admin.ok(t, "POST", "/v1/"+name+":complete", map[string]any{})
	cert := admin.ok(t, "POST", "/v1/certificates:issue", map[string]any{"registration": second["name"]})
	code, _ := cert["verificationCode"].(string)
	if len(code) != 14 {
		t.Fatalf("certificate = %v", cert)
	}
	v := as("").ok(t, "GET", "/v1/certificates:verify?verificationCode="+strings.ToLower(code), nil)
	if v["valid"] != true || v["holderDisplayName"] != "李娜" || v["branch"] != "branches/ai" {
		t.Fatalf("verify = %v", v)
	}
	if _, leaked := v["person"]; leaked {
		t.Fatalf("verify leaks the person: %v", v)
	}
	q := rep.ok(t, "GET", "/v1/branches/ai/annualQuota", nil)
	if q["requiredCount"] != 2.0 {
		t.Fatalf("quota = %v", q)
	}
}

// TestActivitiesBadInput: refused with the documented body, nothing stored.
func TestActivitiesBadInput(t *testing.T) {
	admin := as(adminToken())
	closed := admin.ok(t, "POST", "/v1/branches/ai/activities?activityId=e2e-closed", map[string]any{
		"kind": "ACTIVITY_KIND_ACADEMIC_EXCHANGE", "title": "Closed", "audience": "AUDIENCE_PUBLIC", "location": "Tianjin",
		"startTime": stamp(-time.Hour), "endTime": stamp(time.Hour), "registrationCloseTime": stamp(-30 * time.Minute)})
	admin.ok(t, "POST", "/v1/"+closed["name"].(string)+":publish", map[string]any{})
	valid := func(mutate func(m map[string]any)) map[string]any {
		m := map[string]any{"kind": "ACTIVITY_KIND_TRAINING", "title": "t", "audience": "AUDIENCE_PUBLIC", "startTime": stamp(time.Hour), "endTime": stamp(2 * time.Hour)}
		mutate(m)
		return m
	}
	tests := []struct {
		name         string
		c            client
		method, path string
		body         any
		status       int
		reason       string
	}{
		{"end before start", admin, "POST", "/v1/branches/ai/activities", valid(func(m map[string]any) { m["endTime"] = stamp(30 * time.Minute) }), 400, "INVALID_ARGUMENT"},
		{"negative capacity", admin, "POST", "/v1/branches/ai/activities", valid(func(m map[string]any) { m["capacity"] = -5 }), 400, "INVALID_ARGUMENT"},
		{"unknown kind", admin, "POST", "/v1/branches/ai/activities", valid(func(m map[string]any) { m["kind"] = "ACTIVITY_KIND_PICNIC" }), 400, "MALFORMED_REQUEST"},
		{"S2: promotion without a standard", admin, "POST", "/v1/branches/ai/activities", valid(func(m map[string]any) { m["kind"] = "ACTIVITY_KIND_STANDARD_PROMOTION" }), 400, "CHARTER_VIOLATION"},
		{"registration after close", as(sys.Token("people/late-comer")), "POST", "/v1/" + closed["name"].(string) + ":register", map[string]any{}, 400, "REGISTRATION_CLOSED"},
		{"not an organiser", as(sys.Token("people/late-comer")), "POST", "/v1/branches/ai/activities", valid(func(map[string]any) {}), 403, "PERMISSION_DENIED"},
		{"bad verification code", as(""), "GET", "/v1/certificates:verify?verificationCode=nope", nil, 400, "INVALID_ARGUMENT"},
		{"unknown verification code", as(""), "GET", "/v1/certificates:verify?verificationCode=KKKK-KKKK-KKKK", nil, 404, "NOT_FOUND"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := snapshot(t)
			r := tt.c.do(t, tt.method, tt.path, tt.body)
			if r.status != tt.status {
				t.Fatalf("status = %d, want %d: %s", r.status, tt.status, r.raw)
			}
			if e := r.errorBody(t); e["reason"] != tt.reason {
				t.Fatalf("reason = %v, want %s", e["reason"], tt.reason)
			}
			assertSameState(t, before, snapshot(t))
		})
	}
	if r := admin.do(t, "GET", "/v1/branches/ai/activities?pageToken=bad", nil); r.status != http.StatusBadRequest {
		t.Fatalf("bad page token = %d", r.status)
	}
}
