package e2e

import (
	"net/http"
	"strings"
	"testing"
)

// TestIfMatchOverREST: a client that read an organisation updates it with
// the ETag it got in If-Match, through the real gateway and membership on
// Redis. The fresh one applies and answers the new version's ETag; a
// second client's update with the ETag it read before (now stale) is 412
// ETAG_MISMATCH and leaves the store exactly as it was, while the same
// stale etag sent in the body stays 409. A browser may send If-Match
// cross-origin and read the ETag.
func TestIfMatchOverREST(t *testing.T) {
	admin := as(adminToken())
	org := admin.ok(t, "POST", "/v1/organizations?organizationId=if-match-co",
		map[string]any{"displayName": "If-Match Co", "creditCode": creditCode("91120116MA05Q8EM2")})
	path := "/v1/" + org["name"].(string)

	read := admin.do(t, "GET", path, nil)
	etag := read.header.Get("ETag")
	if read.status != http.StatusOK || etag != `"`+read.body["etag"].(string)+`"` {
		t.Fatalf("GET = %d, ETag %q, etag %v: want the resource's etag, quoted", read.status, etag, read.body["etag"])
	}

	fresh := admin.with("If-Match", etag).do(t, "PATCH", path, map[string]any{"displayName": "If-Match Company"})
	newEtag := fresh.header.Get("ETag")
	if fresh.status != http.StatusOK || fresh.body["displayName"] != "If-Match Company" || newEtag == "" || newEtag == etag ||
		newEtag != `"`+fresh.body["etag"].(string)+`"` {
		t.Fatalf("fresh If-Match = %d %s, ETag %q", fresh.status, fresh.raw, newEtag)
	}

	before := snapshot(t)
	stale := admin.with("If-Match", etag).do(t, "PATCH", path, map[string]any{"displayName": "Lost Update Ltd"})
	if e := stale.errorBody(t); stale.status != http.StatusPreconditionFailed || e["reason"] != "ETAG_MISMATCH" {
		t.Fatalf("stale If-Match = %d %s, want 412 ETAG_MISMATCH", stale.status, stale.raw)
	}
	assertSameState(t, before, snapshot(t))
	if got := admin.ok(t, "GET", path, nil); got["displayName"] != "If-Match Company" {
		t.Fatalf("after the stale update: %v", got["displayName"])
	}

	inBody := admin.do(t, "PATCH", path, map[string]any{"displayName": "Lost Update Ltd", "etag": strings.Trim(etag, `"`)})
	if e := inBody.errorBody(t); inBody.status != http.StatusConflict || e["reason"] != "ETAG_MISMATCH" {
		t.Fatalf("stale body etag = %d %s, want 409 ETAG_MISMATCH", inBody.status, inBody.raw)
	}
	assertSameState(t, before, snapshot(t))

	// A browser may send If-Match, and read the ETag of the answer.
	browser := as(adminToken()).with("Origin", "https://app.example.org")
	pre := browser.with("Access-Control-Request-Method", "PATCH").with("Access-Control-Request-Headers", "authorization,content-type,if-match").
		do(t, "OPTIONS", path, nil)
	if pre.status != http.StatusNoContent || !strings.Contains(strings.ToLower(pre.header.Get("Access-Control-Allow-Headers")), "if-match") {
		t.Fatalf("preflight = %d %v", pre.status, pre.header)
	}
	if got := browser.do(t, "GET", path, nil); !strings.Contains(strings.ToLower(got.header.Get("Access-Control-Expose-Headers")), "etag") {
		t.Fatalf("ETag not exposed to a browser: %v", got.header)
	}
}
