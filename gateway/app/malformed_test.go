package app_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// TestMalformedBodiesNameTheField: a body the gateway cannot decode is
// 400 MALFORMED_REQUEST with a fieldViolation naming the field by its JSON
// path, described in plain words in the language asked for, through the
// real gateway handler; the parser's own text (which named proto types
// and positions) never reaches the client, and nothing reaches a service.
func TestMalformedBodiesNameTheField(t *testing.T) {
	rec, h, request := edge(t)
	tests := []struct {
		name, method, path, body string
		field                    string
		en, zh                   string // in the field's description
	}{
		{"a oneof given twice", "POST", "/v1/branches/ai/applications",
			`{"unit": {"organization": "organizations/a", "representative": "people/b"}, "individual": {"person": "people/c"}}`,
			"individual", "Only one of unit, individual may be given, and unit is given already", "unit, individual 只能填写其中一项，已经填写了 unit"},
		{"an unknown field", "POST", "/v1/organizations", `{"displayName": "x", "isVip": true}`,
			"isVip", "no such field", "没有此字段"},
		{"a misspelt field", "POST", "/v1/branches/ai/applications", `{"unit": {"organisation": "organizations/a"}}`,
			"unit.organisation", "did you mean organization?", "是否想写 organization"},
		{"a wrong type", "POST", "/v1/people?personId=typo", `{"displayName": 42}`,
			"displayName", "takes a string", "应为字符串"},
		{"a bad enum name, in an update's body", "PATCH", "/v1/people/li-na", `{"rank": "RANK_BOSS"}`,
			"rank", `"RANK_BOSS" is not one of this field's values: RANK_STAFF,`, `"RANK_BOSS" 不是该字段的可选值`},
		{"a bad time, nested", "POST", "/v1/branches/ai/standards/s/promotions:schedule",
			`{"promotionId": "launch", "activity": {"startTime": "tomorrow"}}`,
			"activity.startTime", "a time in RFC 3339 form", "RFC 3339 格式的时间"},
		{"a number out of range", "POST", "/v1/branches/ai/activities", `{"capacity": 1e12}`,
			"capacity", "outside this field's range, -2147483648 to 2147483647", "超出该字段的范围（-2147483648 至 2147483647）"},
		{"a list given a string", "POST", "/v1/branches/ai/standards", `{"participatingUnits": "branches/ai/members/x"}`,
			"participatingUnits", "a JSON array", "JSON 数组"},
		{"not JSON", "POST", "/v1/organizations", `{"displayName": "a",}`,
			"", "not valid JSON at line 1, column 21", "第 1 行第 21 列"},
		{"cut off", "POST", "/v1/organizations", `{"displayName": `,
			"displayName", "ends before its JSON value is complete", "JSON 内容完整之前就结束了"},
		{"not an object", "POST", "/v1/organizations", `["displayName"]`,
			"", "must be a JSON object", "必须是 JSON 对象"},
		{"data after the body", "POST", "/v1/organizations", `{"displayName": "Acme"} xyz`,
			"", "goes on after its JSON value", "多余数据"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, lang := range []struct{ header, want string }{{"en", tt.en}, {"zh-CN", tt.zh}} {
				r := request(tt.method, tt.path, tt.body)
				r.Header.Set("Accept-Language", lang.header)
				w := serve(h, r)
				var body struct {
					Error struct {
						Reason          string `json:"reason"`
						Message         string `json:"message"`
						FieldViolations []struct {
							Field       string `json:"field"`
							Description string `json:"description"`
						} `json:"fieldViolations"`
					} `json:"error"`
				}
				if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil || w.Code != http.StatusBadRequest || body.Error.Reason != "MALFORMED_REQUEST" {
					t.Fatalf("%s: %d %s, want 400 MALFORMED_REQUEST", lang.header, w.Code, w.Body)
				}
				if v := body.Error.FieldViolations; len(v) != 1 || v[0].Field != tt.field || !strings.Contains(v[0].Description, lang.want) {
					t.Fatalf("%s: fieldViolations %+v, want %q described with %q", lang.header, v, tt.field, lang.want)
				}
				for _, leak := range []string{"proto:", "(line", "chapterhouse.", "invalid character", "syntax error", "unexpected EOF", "oneof"} {
					if strings.Contains(w.Body.String(), leak) {
						t.Fatalf("%s: the parser's text %q reached the client: %s", lang.header, leak, w.Body)
					}
				}
			}
		})
	}
	if n := rec.count(); n != 0 {
		t.Fatalf("%d malformed requests reached the service", n)
	}
}
