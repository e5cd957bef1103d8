package app_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// FuzzJSONBody sends any bytes as a create's body through the real
// gateway: it never answers 5xx, a body it accepts reaches the service
// once and is exactly one JSON object (or nothing), a body it refuses
// reaches no service, and a body it cannot decode is refused with the
// problems in fieldViolations, none unexplained and none in the parser's
// words.
func FuzzJSONBody(f *testing.F) {
	for _, seed := range []string{
		`{"displayName":"Acme"}`,
		`{"displayName":"Acme"} xyz`,
		`{"displayName":"Acme"}{"displayName":"Evil"}`,
		`{"displayName":"\u0000"}`,
		`{"display_name":"Acme","creditCode":"91120116MA05JXXX0X"}`,
		`{"displayName":1}`,
		`[]`,
		`null`,
		`{"displayName":"Acme","name":"organizations/../x"}`,
		"\xef\xbb\xbf{}",
		`{"unknown":true}`,
		`{"displayName":"a","display_name":"b"}`,
		`{"displayName":"a",}`,
		"{\"displayName\":\"\xff\"}",
	} {
		f.Add(seed)
	}
	rec, h, request := edge(f)
	f.Fuzz(func(t *testing.T, body string) {
		before := rec.count()
		w := serve(h, request("POST", "/v1/organizations", body))
		reached := rec.count() - before
		switch {
		case w.Code >= 500:
			t.Fatalf("%q: %d %s", body, w.Code, w.Body)
		case w.Code == http.StatusOK:
			// An empty body is an empty request, as {} is.
			var one map[string]any
			if reached != 1 || (strings.TrimSpace(body) != "" && json.Unmarshal([]byte(body), &one) != nil) {
				t.Fatalf("%q accepted: it reached the service %d times, and is one JSON object: %v", body, reached, one != nil)
			}
		case reached != 0:
			t.Fatalf("%q refused with %d, but it reached the service", body, w.Code)
		}
		if reason, _ := errorReason(t, w); reason == "MALFORMED_REQUEST" {
			var e struct {
				Error struct {
					FieldViolations []struct{ Description string } `json:"fieldViolations"`
				} `json:"error"`
			}
			_ = json.Unmarshal(w.Body.Bytes(), &e)
			v := e.Error.FieldViolations
			if len(v) == 0 || strings.Contains(w.Body.String(), "proto:") || v[0].Description == "This value cannot be read as this field's type." {
				t.Fatalf("%q: %s, want the problems in fieldViolations", body, w.Body)
			}
		}
	})
}
