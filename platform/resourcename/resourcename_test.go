package resourcename

import "testing"

func TestParse(t *testing.T) {
	tests := []struct {
		name     string
		wildcard bool
		ok       bool
	}{
		{"branches/ai/activities/a-1", false, true},
		{"branches/ai/activities/-", true, true},
		{"branches/ai/activities/-", false, false},
		{"branches/-/activities/a1", true, false},
		{"branches/ai/activity/a1", false, false},
		{"branches/ai/activities", false, false},
		{"branches/AI/activities/a1", false, false},
		{"branches/ai/activities/a1/extra", false, false},
		{"", false, false},
	}
	for _, tt := range tests {
		var err error
		if tt.wildcard {
			_, err = ParseWithWildcard(tt.name, "branches", "activities")
		} else {
			_, err = Parse(tt.name, "branches", "activities")
		}
		if (err == nil) != tt.ok {
			t.Errorf("parse(%q, wildcard=%v) = %v, want ok=%v", tt.name, tt.wildcard, err, tt.ok)
		}
	}
	ids, err := Parse("branches/ai/members/m1", "branches", "members")
	if err != nil || ids[0] != "ai" || ids[1] != "m1" {
		t.Fatalf("ids = %v, %v", ids, err)
	}
}
