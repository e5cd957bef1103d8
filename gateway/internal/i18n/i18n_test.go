package i18n_test

import (
	"testing"

	apiv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/api/v1"

	"github.com/tjsia/chapterhouse/gateway/internal/i18n"
)

// Rules are the charter's rule codes (CHARTER.md).
var rules = []string{"M1", "M2", "M3", "G1", "G2", "G3", "G4", "G5", "G6", "G7", "G8", "G9", "A1", "A2", "S1", "S2"}

// TestEveryReasonAndRuleInEveryLanguage: a reason added to the one enum,
// or a rule, without its text in both languages fails here.
func TestEveryReasonAndRuleInEveryLanguage(t *testing.T) {
	l, err := i18n.New("en")
	if err != nil {
		t.Fatal(err)
	}
	for _, locale := range i18n.Locales() {
		for v, name := range apiv1.ErrorReason_name {
			if v == 0 {
				continue
			}
			if text, ok := l.Text(locale, "reason."+name, nil); !ok || text == "" {
				t.Errorf("%s has no text for reason %s", locale, name)
			}
		}
		for _, r := range rules {
			if text, ok := l.Text(locale, "rule."+r, nil); !ok || text == "" {
				t.Errorf("%s has no text for rule %s", locale, r)
			}
		}
	}
}

func TestChoose(t *testing.T) {
	l, err := i18n.New("en")
	if err != nil {
		t.Fatal(err)
	}
	for header, want := range map[string]string{
		"": "en", "zh-CN": "zh-CN", "zh-CN,zh;q=0.9,en;q=0.8": "zh-CN", "zh": "zh-CN", "en-GB": "en",
		"fr-FR": "en", "en;q=0.5, zh-Hans;q=0.9": "zh-CN", "garbage;;": "en",
	} {
		if got := l.Choose(header); got != want {
			t.Errorf("Choose(%q) = %q, want %q", header, got, want)
		}
	}
	zh, err := i18n.New("zh-CN")
	if err != nil {
		t.Fatal(err)
	}
	if got := zh.Choose("fr"); got != "zh-CN" {
		t.Errorf("default zh-CN: %q", got)
	}
	if _, err := i18n.New("fr"); err == nil {
		t.Error("a default without a catalog was accepted")
	}
}

func TestPlaceholders(t *testing.T) {
	l, err := i18n.New("en")
	if err != nil {
		t.Fatal(err)
	}
	got, _ := l.Text("zh-CN", "reason.COMMENTS_UNDISPOSED", map[string]string{"undisposed": "1", "comments": "c1"})
	if got != "尚有 1 条意见未处理（c1），不能结束征求意见。" {
		t.Errorf("filled: %q", got)
	}
	got, _ = l.Text("zh-CN", "reason.DEPENDENCY_UNAVAILABLE", nil)
	if got != "本请求依赖的服务暂不可用，未做任何更改，请稍后重试。" {
		t.Errorf("a placeholder without a value: %q", got)
	}
}
