package i18n_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"unicode"

	"google.golang.org/genproto/googleapis/api/annotations"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	"github.com/tjsia/chapterhouse/platform/i18n"
	_ "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/activities/v1"
	apiv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/api/v1"
	_ "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/governance/v1"
	_ "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/membership/v1"
	_ "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/standards/v1"
)

// Rules are the charter's rule codes (CHARTER.md).
var rules = []string{"M1", "M2", "M3", "G1", "G2", "G3", "G4", "G5", "G6", "G7", "G8", "G9", "A1", "A2", "S1", "S2"}

func catalog(t *testing.T) *i18n.Catalog {
	t.Helper()
	c, err := i18n.Load()
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestEveryTextInEveryLanguageWithTheSameFacts: every key of any language
// is in every language, and each language's text has exactly the same
// placeholders, so no language says less (or more) than another.
func TestEveryTextInEveryLanguageWithTheSameFacts(t *testing.T) {
	c := catalog(t)
	all := map[string]bool{}
	for _, lang := range i18n.Languages() {
		for _, k := range c.Keys(lang) {
			all[k] = true
		}
	}
	for key := range all {
		var want []string
		for i, lang := range i18n.Languages() {
			text, ok := c.Raw(lang, key)
			if !ok {
				t.Errorf("%s has no text for %s", lang, key)
				continue
			}
			if text == "" {
				t.Errorf("%s: %s is empty", lang, key)
			}
			got := i18n.Placeholders(text)
			if i == 0 {
				want = got
			} else if !slices.Equal(got, want) {
				t.Errorf("%s: %s has placeholders %v, %s has %v", key, lang, got, i18n.Languages()[0], want)
			}
		}
	}
}

// TestChineseIsChinese: a Chinese text with words but no Chinese in them
// is an English text copied over (or not yet translated).
func TestChineseIsChinese(t *testing.T) {
	c := catalog(t)
	for _, key := range c.Keys(i18n.Chinese) {
		text, _ := c.Raw(i18n.Chinese, key)
		words := text
		for _, p := range i18n.Placeholders(text) {
			words = strings.ReplaceAll(words, p, "")
		}
		han, latin := false, false
		for _, r := range words {
			han = han || unicode.Is(unicode.Han, r)
			latin = latin || unicode.Is(unicode.Latin, r)
		}
		if latin && !han {
			t.Errorf("zh-CN %s has no Chinese: %q", key, text)
		}
	}
}

// TestEveryReasonAndRuleInEveryLanguage: a reason added to the one enum,
// or a rule, without its text in both languages fails here.
func TestEveryReasonAndRuleInEveryLanguage(t *testing.T) {
	c := catalog(t)
	for _, lang := range i18n.Languages() {
		for v, name := range apiv1.ErrorReason_name {
			if v == 0 {
				continue
			}
			if !c.Has(lang, "reason."+name) {
				t.Errorf("%s has no text for reason %s", lang, name)
			}
		}
		for _, r := range rules {
			if !c.Has(lang, "rule."+r) {
				t.Errorf("%s has no text for rule %s", lang, r)
			}
		}
	}
}

func TestChoose(t *testing.T) {
	c := catalog(t)
	for header, want := range map[string]string{
		"": "en", "zh-CN": "zh-CN", "zh-CN,zh;q=0.9,en;q=0.8": "zh-CN", "zh": "zh-CN", "en-GB": "en",
		"fr-FR": "en", "en;q=0.5, zh-Hans;q=0.9": "zh-CN", "garbage;;": "en",
	} {
		if got := c.Choose(header, "en"); got != want {
			t.Errorf("Choose(%q) = %q, want %q", header, got, want)
		}
	}
	if got := c.Choose("fr", "zh-CN"); got != "zh-CN" {
		t.Errorf("fallback zh-CN: %q", got)
	}
}

func TestRender(t *testing.T) {
	c := catalog(t)
	got := c.Render("zh-CN", i18n.Message{Key: "reason.COMMENTS_UNDISPOSED", Args: map[string]string{"undisposed": "1", "comments": "c1"}})
	if got != "尚有 1 条意见未处理（c1），不能结束征求意见。" {
		t.Errorf("filled: %q", got)
	}
	got = c.Render("zh-CN", i18n.Message{Key: "reason.DEPENDENCY_UNAVAILABLE"})
	if got != "本请求依赖的服务暂不可用，未做任何更改，请稍后重试。" {
		t.Errorf("a placeholder without a value: %q", got)
	}
	if got := c.Render("en", i18n.Message{Key: "no.such.key"}); got != "no.such.key" {
		t.Errorf("a missing key: %q", got)
	}
	ctx := i18n.WithLanguage(context.Background(), "zh-CN")
	if i18n.FromContext(ctx) != "zh-CN" || i18n.FromContext(context.Background()) != "en" {
		t.Error("the language in the context")
	}
}

// TestEveryEnumValueHasItsTerm: a state, kind, rank or position is shown
// to people through its term ({state|term}), so every value of every enum
// of the API (not the events, which no person reads) has its term in
// every language.
func TestEveryEnumValueHasItsTerm(t *testing.T) {
	c := catalog(t)
	n := 0
	protoregistry.GlobalFiles.RangeFiles(func(f protoreflect.FileDescriptor) bool {
		pkg := string(f.Package())
		if !strings.HasPrefix(pkg, "chapterhouse.") || strings.HasPrefix(pkg, "chapterhouse.events.") || strings.HasPrefix(pkg, "chapterhouse.api.") {
			return true
		}
		var enums []protoreflect.EnumDescriptor
		var walk func(protoreflect.MessageDescriptors)
		walk = func(msgs protoreflect.MessageDescriptors) {
			for i := range msgs.Len() {
				for j := range msgs.Get(i).Enums().Len() {
					enums = append(enums, msgs.Get(i).Enums().Get(j))
				}
				walk(msgs.Get(i).Messages())
			}
		}
		for i := range f.Enums().Len() {
			enums = append(enums, f.Enums().Get(i))
		}
		walk(f.Messages())
		for _, e := range enums {
			for i := range e.Values().Len() {
				v := e.Values().Get(i)
				if v.Number() == 0 {
					continue
				}
				n++
				for _, lang := range i18n.Languages() {
					if !c.Has(lang, "term."+string(v.Name())) {
						t.Errorf("%s has no term.%s (%s)", lang, v.Name(), e.FullName())
					}
				}
			}
		}
		return true
	})
	if n == 0 {
		t.Fatal("no enums found: are the API's protos linked in?")
	}
}

// TestEveryActionHasItsTerm: an action a state forbids is named by its
// method's verb ({action|term}, INVALID_STATE_TRANSITION): every custom
// method's verb (":approve") and the standard create and update have a
// term in every language.
func TestEveryActionHasItsTerm(t *testing.T) {
	c := catalog(t)
	verbs := map[string]bool{"create": true, "update": true}
	protoregistry.GlobalFiles.RangeFiles(func(f protoreflect.FileDescriptor) bool {
		for i := range f.Services().Len() {
			methods := f.Services().Get(i).Methods()
			for j := range methods.Len() {
				rule, _ := proto.GetExtension(methods.Get(j).Options(), annotations.E_Http).(*annotations.HttpRule)
				path := rule.GetPost()
				if i := strings.LastIndex(path, ":"); i > strings.LastIndex(path, "/") && i > strings.LastIndex(path, "}") {
					verbs[path[i+1:]] = true
				}
			}
		}
		return true
	})
	if len(verbs) < 10 {
		t.Fatalf("only %d verbs found: are the API's protos linked in?", len(verbs))
	}
	for verb := range verbs {
		for _, lang := range i18n.Languages() {
			if !c.Has(lang, "term."+verb) {
				t.Errorf("%s has no term.%s", lang, verb)
			}
		}
	}
}
