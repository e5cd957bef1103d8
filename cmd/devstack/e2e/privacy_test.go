package e2e

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/tjsia/chapterhouse/cmd/devstack/stack"
)

// privateKeys are a person's private fields as REST writes them.
var privateKeys = []string{"birthDate", "birthDateAttestation", "contact"}

// TestPrivacyOverREST: a person's birth date and contact reach, over REST,
// only the person and the secretariat; every other signed-in caller gets
// the record without them, from GetPerson and from ListPeople alike. Yet
// governance still judges G4 from the birth date for a caller who may not
// read it: the general association's secretary-general, checking a chair
// candidate, is told AGE_LIMIT_EXCEEDED (not BIRTH_DATE_NOT_ATTESTED), and
// not the candidate's age.
func TestPrivacyOverREST(t *testing.T) {
	admin := as(adminToken())
	admin.ok(t, "POST", "/v1/people?personId=priv-subject", map[string]any{"displayName": "隐私测试",
		"birthDate": map[string]any{"year": 1981, "month": 7, "day": 14},
		"contact":   map[string]any{"email": "priv@example.org", "phone": "+86 22 6666 0101"}})

	for _, c := range []struct {
		name  string
		token string
		sees  bool
	}{
		{"the person", sys.Token("people/priv-subject"), true},
		{"admin", adminToken(), true},
		{"another individual member", sys.Token(stack.MemberSubject), false},
		{"a unit representative", sys.Token(stack.RepresentativeSubject), false},
		{"general_secretary", secretaryToken(), false},
		{"general_council", councilToken(), false},
		{"someone signed in", sys.Token("people/somebody"), false},
	} {
		t.Run(c.name, func(t *testing.T) {
			caller := as(c.token)
			got := caller.ok(t, "GET", "/v1/people/priv-subject", nil)
			listed := listedPerson(t, caller, "people/priv-subject")
			for _, p := range []struct {
				how    string
				person map[string]any
			}{{"GetPerson", got}, {"ListPeople", listed}} {
				if p.person["displayName"] != "隐私测试" {
					t.Fatalf("%s: %v", p.how, p.person)
				}
				for _, k := range privateKeys {
					if _, shown := p.person[k]; shown != c.sees {
						t.Errorf("%s: %s shown = %v, want %v (%v)", p.how, k, shown, c.sees, p.person)
					}
				}
			}
		})
	}
	if r := as("").do(t, "GET", "/v1/people/priv-subject", nil); r.status != http.StatusUnauthorized {
		t.Fatalf("without a token: %d %s", r.status, r.raw)
	}

	gs := as(secretaryToken())
	if chen := gs.ok(t, "GET", "/v1/people/chen-lao", nil); chen["birthDate"] != nil {
		t.Fatalf("the secretary-general reads chen-lao's birth date: %v", chen)
	}
	check := gs.ok(t, "POST", "/v1/branches/ai/terms/1/nominations:checkEligibility", map[string]any{
		"nomination": map[string]any{"position": "POSITION_VICE_CHAIR", "nominee": "people/chen-lao"}})
	var g4 []string
	for _, v := range check["violations"].([]any) {
		if v := v.(map[string]any); v["rule"] == "G4" {
			g4 = append(g4, fmt.Sprintf("%s: %s", v["reason"], v["message"]))
		}
	}
	if len(g4) != 1 || !strings.HasPrefix(g4[0], "AGE_LIMIT_EXCEEDED: ") || strings.Contains(g4[0], "76") {
		t.Fatalf("G4 for chen-lao (born 1950), checked by the secretary-general: %v", g4)
	}
}

// listedPerson pages through ListPeople as c until it finds name.
func listedPerson(t *testing.T, c client, name string) map[string]any {
	t.Helper()
	token := ""
	for {
		path := "/v1/people?pageSize=100"
		if token != "" {
			path += "&pageToken=" + token
		}
		page := c.ok(t, "GET", path, nil)
		for _, p := range page["people"].([]any) {
			if p := p.(map[string]any); p["name"] == name {
				return p
			}
		}
		if token, _ = page["nextPageToken"].(string); token == "" {
			t.Fatalf("%s is not listed", name)
		}
	}
}
