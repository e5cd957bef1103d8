package servicetest

import (
	"context"
	"regexp"
	"slices"
	"strings"
	"testing"
	"unicode"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/tjsia/chapterhouse/platform/apierr"
	"github.com/tjsia/chapterhouse/platform/i18n"
)

// Fact is what a refusal's text must name in every language: a value as
// it is (a resource name, a number, a time), or a term (an enum value
// name, an action verb), shown as the language's term.
type Fact struct {
	Value string
	Term  bool
}

// Literal is a fact named as it is.
func Literal(v string) Fact { return Fact{Value: v} }

// Term is a fact named by its term ("term.<v>" in the catalog).
func Term(v string) Fact { return Fact{Value: v, Term: true} }

// In is the fact as a reader of lang reads it.
func (f Fact) In(lang string) string {
	if f.Term {
		return i18n.Default().Render(lang, i18n.Message{Key: "term." + f.Value})
	}
	return f.Value
}

// Refusal is what a refused call answers, in every language.
type Refusal struct {
	Code codes.Code
	// Rules are the charter rules broken (a CHARTER_VIOLATION listing
	// them, sorted, in its metadata), and Subjects the violations'
	// reasons, in order; both empty for any other refusal.
	Rules, Subjects []string
	// Facts the texts name, in every language.
	Facts []Fact
}

// rawName is an enum value or action as code spells it
// (ACTIVITY_STATE_PUBLISHED): no person should read one.
var rawName = regexp.MustCompile(`\b[A-Z][A-Z0-9]*(_[A-Z0-9]+)+\b`)

// RefusedInEveryLanguage holds the promise that a refusal a person reads
// says the same facts in every language: call is made through the real
// gRPC path (the server renders the refusal for the caller's
// accept-language) as caller asking for each language in turn, and each
// language's texts (its google.rpc.LocalizedMessage, every charter and
// field violation's description) must name every fact, each term in its
// own language, with no enum value spelt as code; a field violation
// carries its text as its localized message too; the Chinese texts are
// Chinese, the English message is the status message, and the two
// languages do not read alike. It returns the top message in each
// language.
func RefusedInEveryLanguage(t *testing.T, caller context.Context, call func(context.Context) error, want Refusal) map[string]string {
	t.Helper()
	texts := map[string][]string{}
	messages := map[string]string{}
	for _, lang := range i18n.Languages() {
		err := call(metadata.AppendToOutgoingContext(caller, i18n.MetadataKey, lang))
		st := status.Convert(err)
		if st.Code() != want.Code {
			t.Fatalf("%s: %v, want %v", lang, err, want.Code)
		}
		if len(want.Rules) > 0 {
			if info := apierr.Info(err); info.GetReason() != "CHARTER_VIOLATION" || info.GetMetadata()["rules"] != strings.Join(want.Rules, ",") {
				t.Fatalf("%s: %v, want CHARTER_VIOLATION of %v", lang, info, want.Rules)
			}
		}
		var localized *errdetails.LocalizedMessage
		var subjects, parts []string
		for _, d := range st.Details() {
			switch d := d.(type) {
			case *errdetails.LocalizedMessage:
				localized = d
			case *errdetails.PreconditionFailure:
				for _, v := range d.GetViolations() {
					if !slices.Contains(want.Rules, v.GetType()) {
						t.Errorf("%s: violation of rule %q, want one of %v", lang, v.GetType(), want.Rules)
					}
					subjects = append(subjects, v.GetSubject())
					parts = append(parts, v.GetDescription())
				}
			case *errdetails.BadRequest:
				for _, f := range d.GetFieldViolations() {
					if f.GetLocalizedMessage().GetLocale() != lang || f.GetLocalizedMessage().GetMessage() != f.GetDescription() {
						t.Errorf("%s: %s's description is not localized: %v", lang, f.GetField(), f)
					}
					parts = append(parts, f.GetDescription())
				}
			}
		}
		if !slices.Equal(subjects, want.Subjects) {
			t.Errorf("%s: violations %v, want %v", lang, subjects, want.Subjects)
		}
		if localized == nil || localized.GetLocale() != lang {
			t.Fatalf("%s: LocalizedMessage %v", lang, localized)
		}
		message := localized.GetMessage()
		for _, rule := range want.Rules {
			if !strings.Contains(message, rule) {
				t.Errorf("%s: %q does not name rule %s", lang, message, rule)
			}
		}
		for _, f := range want.Facts {
			if !strings.Contains(message, f.In(lang)) {
				t.Errorf("%s: %q does not name %q", lang, message, f.In(lang))
			}
		}
		for _, text := range append(parts, message) {
			if raw := rawName.FindString(text); raw != "" && !slices.Contains(want.Rules, raw) {
				t.Errorf("%s: %q spells %s as code", lang, text, raw)
			}
			if lang == i18n.Chinese && !strings.ContainsFunc(text, func(r rune) bool { return unicode.Is(unicode.Han, r) }) {
				t.Errorf("zh-CN: %q is not Chinese", text)
			}
		}
		if lang == i18n.English && message != st.Message() {
			t.Errorf("en: %q is not the status message %q", message, st.Message())
		}
		texts[lang] = append(parts, message)
		messages[lang] = message
	}
	if slices.Equal(texts[i18n.English], texts[i18n.Chinese]) {
		t.Errorf("the same text in both languages: %v", texts[i18n.English])
	}
	return messages
}
