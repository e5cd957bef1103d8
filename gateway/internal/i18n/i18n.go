// Package i18n gives the gateway's errors in the caller's language: it
// chooses zh-CN or en from Accept-Language (a configured default
// otherwise), and holds the text of every ErrorReason and every charter
// rule in both, in the catalogs under locales/ (one JSON file a language,
// loaded into golang.org/x/text's message catalog). The Chinese text of a
// rule follows the charter's own wording.
package i18n

import (
	"embed"
	"encoding/json"
	"fmt"
	"strings"

	"golang.org/x/text/language"
	"golang.org/x/text/message"
	"golang.org/x/text/message/catalog"
)

//go:embed locales/*.json
var locales embed.FS

// The languages, as the catalogs' file names and Content-Language give
// them; the first is the fallback when nothing else is configured.
var (
	names = []string{"en", "zh-CN"}
	tags  = []language.Tag{language.English, language.SimplifiedChinese}
)

// Locales are the languages there is a catalog for.
func Locales() []string { return append([]string(nil), names...) }

// Localizer holds the catalogs and the default language.
type Localizer struct {
	catalog *catalog.Builder
	matcher language.Matcher
	def     int
}

// New loads the catalogs; def ("en" or "zh-CN") answers callers who ask
// for neither.
func New(def string) (*Localizer, error) {
	l := &Localizer{catalog: catalog.NewBuilder(), matcher: language.NewMatcher(tags), def: -1}
	for i, name := range names {
		if strings.EqualFold(name, def) {
			l.def = i
		}
		data, err := locales.ReadFile("locales/" + name + ".json")
		if err != nil {
			return nil, fmt.Errorf("i18n: %w", err)
		}
		var entries map[string]string
		if err := json.Unmarshal(data, &entries); err != nil {
			return nil, fmt.Errorf("i18n: %s: %w", name, err)
		}
		for key, text := range entries {
			if err := l.catalog.SetString(tags[i], key, text); err != nil {
				return nil, fmt.Errorf("i18n: %s %s: %w", name, key, err)
			}
		}
	}
	if l.def < 0 {
		return nil, fmt.Errorf("i18n: default language %q is not one of %v", def, names)
	}
	return l, nil
}

// Choose picks the language for an Accept-Language header: the best match
// among the catalogs, or the default.
func (l *Localizer) Choose(acceptLanguage string) string {
	asked, _, err := language.ParseAcceptLanguage(acceptLanguage)
	if err != nil || len(asked) == 0 {
		return names[l.def]
	}
	_, i, confidence := l.matcher.Match(asked...)
	if confidence == language.No {
		return names[l.def]
	}
	return names[i]
}

// Text is the text of key ("reason.<REASON>" or "rule.<CODE>") in locale,
// with {name} placeholders filled from values; false when the catalog has
// no such key.
func (l *Localizer) Text(locale, key string, values map[string]string) (string, bool) {
	i := indexOf(locale)
	if i < 0 {
		return "", false
	}
	text := message.NewPrinter(tags[i], message.Catalog(l.catalog)).Sprintf(key)
	if text == key {
		return "", false
	}
	return fill(text, values), true
}

func indexOf(locale string) int {
	for i, name := range names {
		if strings.EqualFold(name, locale) {
			return i
		}
	}
	return -1
}

// fill replaces {name} by values[name]; a placeholder with no value goes,
// with the brackets around it when it stood alone in them.
func fill(text string, values map[string]string) string {
	for {
		start := strings.IndexByte(text, '{')
		end := strings.IndexByte(text[max(start, 0):], '}')
		if start < 0 || end < 0 {
			break
		}
		end += start
		name := text[start+1 : end]
		text = text[:start] + values[name] + text[end+1:]
	}
	for _, empty := range []string{"（）", " ()", "()"} {
		text = strings.ReplaceAll(text, empty, "")
	}
	return text
}
