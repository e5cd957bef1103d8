package malformed_test

import (
	"reflect"
	"slices"
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/tjsia/chapterhouse/gateway/internal/malformed"
	"github.com/tjsia/chapterhouse/platform/i18n"
	activitiesv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/activities/v1"
	governancev1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/governance/v1"
	membershipv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/membership/v1"
	standardsv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/standards/v1"
)

var (
	application = (&membershipv1.Application{}).ProtoReflect().Descriptor()
	person      = (&membershipv1.Person{}).ProtoReflect().Descriptor()
	promotion   = (&standardsv1.SchedulePromotionRequest{}).ProtoReflect().Descriptor()
	standard    = (&standardsv1.Standard{}).ProtoReflect().Descriptor()
	update      = (&membershipv1.UpdatePersonRequest{}).ProtoReflect().Descriptor()
	term        = (&governancev1.Term{}).ProtoReflect().Descriptor()
)

type want struct {
	field  string
	kind   malformed.Kind
	values map[string]string
}

// TestDiagnose: each kind of malformed body is named at its field, in the
// client's terms.
func TestDiagnose(t *testing.T) {
	tests := []struct {
		name string
		md   protoreflect.MessageDescriptor
		body string
		want []want
	}{
		{"a oneof given twice", application,
			`{"unit": {"organization": "organizations/a", "representative": "people/b"}, "individual": {"person": "people/c"}}`,
			[]want{{"individual", malformed.OneofTwice, map[string]string{"choices": "unit, individual", "given": "unit"}}}},
		{"a oneof member null is not given", application, `{"unit": {"organization": "organizations/a"}, "individual": null}`, nil},
		{"an unknown field", application, `{"statement": "x", "isVip": true}`, []want{{"isVip", malformed.UnknownField, nil}}},
		{"a misspelt field", application, `{"unit": {"organisation": "organizations/a"}}`,
			[]want{{"unit.organisation", malformed.UnknownFieldSuggest, map[string]string{"suggestion": "organization"}}}},
		{"a field by its proto name, then its JSON name", person, `{"display_name": "a", "displayName": "b"}`,
			[]want{{"displayName", malformed.DuplicateField, nil}}},
		{"a string for a string field, a number given", person, `{"displayName": 42}`, []want{{"displayName", malformed.ExpectsString, nil}}},
		{"an object for a string", person, `{"displayName": {"zh": "李娜"}}`, []want{{"displayName", malformed.ExpectsString, nil}}},
		{"a bad enum name", person, `{"rank": "RANK_BOSS"}`,
			[]want{{"rank", malformed.BadEnum, map[string]string{"value": `"RANK_BOSS"`}}}},
		{"a message given as a string", person, `{"birthDate": "1990-01-01"}`, []want{{"birthDate", malformed.ExpectsObject, nil}}},
		{"a number out of range", person, `{"birthDate": {"year": 99999999999}}`,
			[]want{{"birthDate.year", malformed.OutOfRange, map[string]string{"min": "-2147483648", "max": "2147483647"}}}},
		{"a fraction for an integer", person, `{"birthDate": {"month": 1.5}}`, []want{{"birthDate.month", malformed.ExpectsInteger, nil}}},
		{"a string holding an integer is one", person, `{"birthDate": {"day": "4"}}`, nil},
		{"a bad time, nested", promotion, `{"promotionId": "launch", "activity": {"startTime": "tomorrow", "capacity": "many"}}`,
			[]want{{"activity.startTime", malformed.BadTimestamp, nil}, {"activity.capacity", malformed.ExpectsInteger, nil}}},
		{"a time without a zone", promotion, `{"activity": {"endTime": "2026-05-04T09:30:00"}}`,
			[]want{{"activity.endTime", malformed.BadTimestamp, nil}}},
		{"a bool for a bool field, a string given", (&standardsv1.ListCommentsRequest{}).ProtoReflect().Descriptor(),
			`{"undisposedOnly": "yes"}`, []want{{"undisposedOnly", malformed.ExpectsBool, nil}}},
		{"a list given a string", standard, `{"participatingUnits": "branches/ai/members/x"}`,
			[]want{{"participatingUnits", malformed.ExpectsArray, nil}}},
		{"a list with a bad element and a null", standard, `{"participatingUnits": ["branches/ai/members/x", 7, null]}`,
			[]want{{"participatingUnits[1]", malformed.ExpectsString, nil}, {"participatingUnits[2]", malformed.NullInList, nil}}},
		{"a bad field mask", update, `{"updateMask": 5}`, []want{{"updateMask", malformed.BadFieldMask, nil}}},
		{"a date out of its message", term, `{"startDate": {"year": "MMXXVI"}}`, []want{{"startDate.year", malformed.ExpectsInteger, nil}}},
		{"invalid UTF-8 in a string", person, "{\"displayName\": \"\xff\"}", []want{{"displayName", malformed.BadUTF8, nil}}},
		{"every problem, in the body's order", person, `{"rank": 1.5, "x": 1, "displayName": true}`,
			[]want{{"rank", malformed.BadEnum, nil}, {"x", malformed.UnknownField, nil}, {"displayName", malformed.ExpectsString, nil}}},
		{"not an object", person, `["displayName"]`, []want{{"", malformed.BodyNotObject, nil}}},
		{"null", person, `null`, []want{{"", malformed.BodyNotObject, nil}}},
		{"data after the body", person, `{"displayName": "a"} {"displayName": "b"}`, []want{{"", malformed.TrailingData, nil}}},
		{"not JSON", person, `{"displayName": "a",}`, []want{{"", malformed.InvalidJSON, map[string]string{"line": "1", "column": "21"}}}},
		{"not JSON inside a field", promotion, "{\n  \"activity\": {\"capacity\": 1O}\n}",
			[]want{{"activity.capacity", malformed.InvalidJSON, map[string]string{"line": "2", "column": "29"}}}},
		{"not JSON in a list", standard, `{"participatingUnits": ["a", nope]}`,
			[]want{{"participatingUnits[1]", malformed.InvalidJSON, nil}}},
		{"cut off", person, `{"displayName": `, []want{{"displayName", malformed.Truncated, nil}}},
		{"cut off in a nested object", promotion, `{"activity": {"title": "x", `, []want{{"activity", malformed.Truncated, nil}}},
		{"a byte-order mark", person, "\xef\xbb\xbf{}", []want{{"", malformed.InvalidJSON, map[string]string{"line": "1", "column": "1"}}}},
		{"well formed", promotion, `{"promotionId": "launch", "activity": {"capacity": 200, "startTime": "2026-05-04T09:30:00Z", "kind": "ACTIVITY_KIND_TRAINING"}}`, nil},
		{"empty", person, ``, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := malformed.Diagnose([]byte(tt.body), tt.md)
			if len(got) != len(tt.want) {
				t.Fatalf("problems %+v, want %+v", got, tt.want)
			}
			for i, w := range tt.want {
				if got[i].Field != w.field || got[i].Kind != w.kind {
					t.Errorf("problem %d: %+v, want %s at %q", i, got[i], w.kind, w.field)
				}
				for k, v := range w.values {
					if got[i].Values[k] != v {
						t.Errorf("problem %d: %s = %q, want %q", i, k, got[i].Values[k], v)
					}
				}
			}
		})
	}
}

// TestDiagnoseAgreesWithProtojson: over bodies of every kind, Diagnose
// finds a problem exactly when protojson refuses the body, and each one it
// finds names a field (or the body) without falling back to BadValue.
func TestDiagnoseAgreesWithProtojson(t *testing.T) {
	messages := []proto.Message{&membershipv1.Application{}, &membershipv1.Person{}, &standardsv1.SchedulePromotionRequest{},
		&standardsv1.Standard{}, &activitiesv1.Activity{}, &membershipv1.UpdatePersonRequest{}}
	bodies := []string{
		`{}`, `[]`, `1`, `"x"`, `null`, `{"name": null}`, `{"unit": {}, "individual": {}}`, `{"unit": null, "individual": {}}`,
		`{"displayName": "a", "display_name": "a"}`, `{"rank": "RANK_VICE_PRESIDENT"}`, `{"rank": 3}`, `{"rank": "3"}`, `{"rank": true}`,
		`{"birthDate": {"year": 1990, "month": 13, "day": 1}}`, `{"birthDate": {"year": 1e3}}`, `{"birthDate": {"year": "1e3"}}`,
		`{"birthDate": {"year": -1}}`, `{"birthDate": {"year": 2147483648}}`, `{"birthDate": {"year": " 1"}}`,
		`{"activity": {"startTime": "2026-05-04T09:30:00+08:00"}}`, `{"activity": {"startTime": "2026-05-04t09:30:00z"}}`,
		`{"activity": {"startTime": "10000-01-01T00:00:00Z"}}`, `{"activity": {"startTime": "2026-05-04T09:30:00.1234567891Z"}}`,
		`{"activity": {"startTime": 1746351000}}`, `{"activity": {"capacity": 1.0}}`, `{"activity": {"capacity": "0x10"}}`,
		`{"activity": {"capacity": -0}}`, `{"capacity": 1e10}`, `{"startTime": null}`, `{"participatingUnits": []}`,
		`{"participatingUnits": [null]}`, `{"participatingUnits": null}`, `{"participatingUnits": [[]]}`, `{"participatingUnits": [{}]}`,
		`{"updateMask": "displayName,rank"}`, `{"updateMask": "display_name"}`, `{"updateMask": ["a"]}`,
		`{"person": {"displayName": 1}, "updateMask": "x"}`, `{"person": []}`, `{"@type": "x"}`, `{"[ext]": 1}`,
		"{\"displayName\": \"\\ud800\"}", `{"displayName": "\u0000"}`, `{"statement": "` + strings.Repeat("长", 100) + `"}`,
		`{"kind": "ACTIVITY_KIND_TRAINING", "kind": "ACTIVITY_KIND_TRAINING"}`, `{"etag": 1}`, `{"Etag": "x"}`,
	}
	for _, m := range messages {
		md := m.ProtoReflect().Descriptor()
		for _, body := range bodies {
			err := protojson.Unmarshal([]byte(body), m.ProtoReflect().New().Interface())
			problems := malformed.Diagnose([]byte(body), md)
			if (err != nil) != (len(problems) > 0) {
				t.Errorf("%s %s: protojson says %v, Diagnose %+v", md.Name(), body, err, problems)
			}
			for _, p := range problems {
				if p.Kind == malformed.BadValue {
					t.Errorf("%s %s: an unexplained problem %+v (protojson: %v)", md.Name(), body, p, err)
				}
			}
		}
	}
}

// TestErrorTravelsAsText: the problems survive the status message that
// carries them across grpc-gateway, and nothing else reads as them.
func TestErrorTravelsAsText(t *testing.T) {
	problems := []malformed.Problem{{Field: "unit", Kind: malformed.OneofTwice, Values: map[string]string{"choices": "unit, individual", "given": "unit"}}}
	got, ok := malformed.FromMessage((&malformed.Error{Problems: problems}).Error())
	if !ok || !reflect.DeepEqual(got, problems) {
		t.Fatalf("read back %+v, %v", got, ok)
	}
	for _, other := range []string{"", "type mismatch, parameter: name", `malformed request body: [{"field":"x","kind":"no_such_kind"}]`, "malformed request body: []"} {
		if _, ok := malformed.FromMessage(other); ok {
			t.Errorf("%q read as problems", other)
		}
	}
}

// TestEveryKindInEveryLanguage: each kind has its description in every
// catalog (the catalogs' own test holds their placeholders equal), and no
// malformed.* text is left that no kind uses.
func TestEveryKindInEveryLanguage(t *testing.T) {
	cat := i18n.Default()
	for _, kind := range malformed.Kinds {
		for _, lang := range i18n.Languages() {
			if !cat.Has(lang, "malformed."+string(kind)) {
				t.Errorf("%s has no malformed.%s", lang, kind)
			}
		}
	}
	for _, lang := range i18n.Languages() {
		for _, key := range cat.Keys(lang) {
			if rest, ok := strings.CutPrefix(key, "malformed."); ok && !slices.Contains(malformed.Kinds, malformed.Kind(rest)) {
				t.Errorf("%s has %s, which is no kind", lang, key)
			}
		}
	}
}

// TestViolation: a problem is a field violation whose text, in the
// language asked for, says what is wrong with the same facts.
func TestViolation(t *testing.T) {
	p := malformed.Problem{Field: "individual", Kind: malformed.OneofTwice, Values: map[string]string{"choices": "unit, individual", "given": "unit"}}
	v := malformed.Violation(p)
	render := func(lang string) string {
		return i18n.Default().Render(lang, i18n.Message{Key: v.Key, Args: v.Args})
	}
	if v.Field != "individual" {
		t.Errorf("field %q", v.Field)
	}
	if got := render("en"); got != "Only one of unit, individual may be given, and unit is given already." {
		t.Errorf("en: %q", got)
	}
	if got := render("zh-CN"); got != "unit, individual 只能填写其中一项，已经填写了 unit。" {
		t.Errorf("zh-CN: %q", got)
	}
}
