package e2e

import "testing"

// TestStableJSON: zero values and empty lists are in every response, so a
// client never reads a missing key as "unknown".
func TestStableJSON(t *testing.T) {
	admin, anon := as(adminToken()), client{}
	list := anon.ok(t, "GET", "/v1/branches/ai/standards?kind=STANDARD_KIND_AGREEMENT", nil)
	if items, ok := list["standards"].([]any); !ok || len(items) != 0 {
		t.Fatalf("an empty list is %v, want []", list)
	}
	if next, ok := list["nextPageToken"]; !ok || next != "" {
		t.Fatalf("nextPageToken %v (present %v), want \"\"", next, ok)
	}
	q := admin.ok(t, "GET", "/v1/branches/ai/annualQuota?year=1999", nil)
	for _, k := range []string{"completedCount", "scheduledCount", "requiredCount"} {
		if _, ok := q[k]; !ok {
			t.Errorf("annual quota without %q: %v", k, q)
		}
	}
}
