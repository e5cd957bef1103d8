package resourcename

import (
	"strings"
	"testing"

	"buf.build/gen/go/bufbuild/protovalidate/protocolbuffers/go/buf/validate"
	"buf.build/go/protovalidate"
	"google.golang.org/protobuf/proto"

	apiv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/api/v1"
	membershipv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/membership/v1"
)

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

func TestValidID(t *testing.T) {
	for id, ok := range map[string]bool{
		"ai": true, "1": true, "42": true, "a": true, "zhiyuan-ai": true, "r0a1b2c3d4e5f6g7h8j9k": true,
		strings.Repeat("a", 63): true, strings.Repeat("a", 64): false,
		"": false, "-a": false, "a-": false, "A": false, "a_b": false, "a/b": false, "a.b": false, "张": false, "-": false,
	} {
		if got := ValidID(id); got != ok {
			t.Errorf("ValidID(%q) = %v, want %v", id, got, ok)
		}
	}
}

// TestIDPatternIsTheProtoRule: the pattern here and the predefined
// buf.validate rule chapterhouse.api.v1.resource_id are one text, and
// protovalidate applies the rule as Go does.
func TestIDPatternIsTheProtoRule(t *testing.T) {
	rules := proto.GetExtension(apiv1.E_ResourceId.TypeDescriptor().Options(), validate.E_Predefined).(*validate.PredefinedRules)
	if len(rules.GetCel()) != 1 || !strings.Contains(rules.GetCel()[0].GetExpression(), "this.matches('"+IDPattern+"')") {
		t.Fatalf("chapterhouse.api.v1.resource_id is %v; want it to match %s", rules.GetCel(), IDPattern)
	}
	v, err := protovalidate.New()
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"ai", "1", "a-", "-a", "A", strings.Repeat("a", 63), strings.Repeat("a", 64)} {
		err := v.Validate(&membershipv1.CreatePersonRequest{PersonId: id, Person: &membershipv1.Person{}})
		if (err == nil) != ValidID(id) {
			t.Errorf("%q: protovalidate says %v, ValidID says %v", id, err, ValidID(id))
		}
	}
}
