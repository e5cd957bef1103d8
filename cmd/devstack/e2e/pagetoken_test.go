package e2e

import (
	"encoding/base64"
	"encoding/json"
	"net/url"
	"testing"
)

// TestPageTokensAreSigned: a page token continues its own list through
// REST, and nothing else does: not a token the client wrote itself in the
// form tokens used to have (base64 JSON naming the position), not one with
// a changed byte, not one of another collection, another filter or
// another service (every service of the stack holds the same key), each
// 400 INVALID_PAGE_TOKEN and nothing written.
func TestPageTokensAreSigned(t *testing.T) {
	admin := as(adminToken())
	first := admin.ok(t, "GET", "/v1/organizations?pageSize=1", nil)
	next, _ := first["nextPageToken"].(string)
	if next == "" {
		t.Fatalf("the first page of one organisation has no next page token: %v", first)
	}
	second := admin.ok(t, "GET", "/v1/organizations?pageSize=1&pageToken="+url.QueryEscape(next), nil)
	a, b := first["organizations"].([]any), second["organizations"].([]any)
	if len(a) != 1 || len(b) != 1 || a[0].(map[string]any)["name"] == b[0].(map[string]any)["name"] {
		t.Fatalf("the token did not continue the list: %v then %v", first, second)
	}

	people := admin.ok(t, "GET", "/v1/people?pageSize=1", nil)
	peopleNext, _ := people["nextPageToken"].(string)
	if peopleNext == "" {
		t.Fatalf("the first page of one person has no next page token: %v", people)
	}

	raw, err := base64.RawURLEncoding.DecodeString(next)
	if err != nil {
		t.Fatal(err)
	}
	raw[len(raw)-1] ^= 1
	flipped := base64.RawURLEncoding.EncodeToString(raw)
	forged, _ := json.Marshal(map[string]string{"a": "organizations/zz", "f": "0011223344556677"})
	for name, path := range map[string]string{
		"forged position":        "/v1/organizations?pageToken=" + base64.RawURLEncoding.EncodeToString(forged),
		"changed byte":           "/v1/organizations?pageToken=" + flipped,
		"another collection":     "/v1/people?pageToken=" + url.QueryEscape(next),
		"another filter":         "/v1/people?organization=organizations/zhiyuan-ai&pageToken=" + url.QueryEscape(peopleNext),
		"another service's list": "/v1/branches?pageToken=" + url.QueryEscape(next),
	} {
		t.Run(name, func(t *testing.T) {
			before := snapshot(t)
			r := admin.do(t, "GET", path, nil)
			if e := r.errorBody(t); r.status != 400 || e["reason"] != "INVALID_PAGE_TOKEN" {
				t.Fatalf("%s: %d %s, want 400 INVALID_PAGE_TOKEN", path, r.status, r.raw)
			}
			assertSameState(t, before, snapshot(t))
		})
	}
}
