// Package i18n is Chapterhouse's one catalog of the texts people read, in
// every language the API speaks (zh-CN, the users' first, and en), and the
// choice of language for a caller. The services render their errors and
// the texts of their answers from it in the caller's language, and the
// gateway renders its own errors from it, so the REST and the gRPC edge
// say the same thing with the same facts.
//
// A text is a catalog key and the values of its placeholders (Message).
// A placeholder is {name}, filled with the value as it is, or
// {name|term}, whose value is a term (an enum value name, an action, a
// position) shown through the catalog's "term.<value>" text when there is
// one, or {name|terms}, a comma-separated list of terms joined as the
// language joins lists. Every key has a text in every language, with the
// same placeholders: a test holds the catalogs to it.
//
// The catalogs are files under locales/<language>/, one file a part of the
// system (common, gateway, each service); a key lives in exactly one file.
package i18n

import (
	"context"
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"

	"golang.org/x/text/language"
)

//go:embed locales
var locales embed.FS

// The languages. English is the language of developer-facing texts (a gRPC
// status message, a log line) and the answer to a caller who asks for
// none.
const (
	English = "en"
	Chinese = "zh-CN"
)

// languages are the catalogs' directory names, in the order of tags.
var (
	languages = []string{English, Chinese}
	tags      = []language.Tag{language.English, language.SimplifiedChinese}
)

// Languages are the languages there is a catalog for.
func Languages() []string { return slices.Clone(languages) }

// Message is a text for people, kept as a catalog key and the values of its
// placeholders until it is rendered in the reader's language.
type Message struct {
	Key  string
	Args map[string]string
}

// Catalog holds the texts of every language.
type Catalog struct {
	texts   map[string]map[string]string // language -> key -> text
	files   map[string]string            // key -> the file that holds it (en)
	matcher language.Matcher
}

// Load reads the embedded catalogs. A key held by two files of one
// language, or a file that is not a JSON object of strings, is an error.
func Load() (*Catalog, error) {
	c := &Catalog{texts: map[string]map[string]string{}, files: map[string]string{}, matcher: language.NewMatcher(tags)}
	for _, lang := range languages {
		c.texts[lang] = map[string]string{}
		entries, err := fs.ReadDir(locales, path.Join("locales", lang))
		if err != nil {
			return nil, fmt.Errorf("i18n: %s: %w", lang, err)
		}
		for _, e := range entries {
			file := path.Join("locales", lang, e.Name())
			data, err := locales.ReadFile(file)
			if err != nil {
				return nil, fmt.Errorf("i18n: %w", err)
			}
			var texts map[string]string
			if err := json.Unmarshal(data, &texts); err != nil {
				return nil, fmt.Errorf("i18n: %s: %w", file, err)
			}
			for key, text := range texts {
				if _, dup := c.texts[lang][key]; dup {
					return nil, fmt.Errorf("i18n: %s: key %q is in another file too", file, key)
				}
				c.texts[lang][key] = text
				if lang == English {
					c.files[key] = e.Name()
				}
			}
		}
	}
	return c, nil
}

// Default is the embedded catalog, loaded once. The catalogs are compiled
// in and held to their rules by this package's tests, so a failure to load
// them is a broken build, not a condition to handle.
var Default = sync.OnceValue(func() *Catalog {
	c, err := Load()
	if err != nil {
		panic(err)
	}
	return c
})

// Choose is the language for an Accept-Language value: the best match
// among the catalogs, or fallback when it asks for none of them.
func (c *Catalog) Choose(acceptLanguage, fallback string) string {
	asked, _, err := language.ParseAcceptLanguage(acceptLanguage)
	if err != nil || len(asked) == 0 {
		return fallback
	}
	_, i, confidence := c.matcher.Match(asked...)
	if confidence == language.No {
		return fallback
	}
	return languages[i]
}

// Known reports whether lang is one of the catalogs' languages, as
// Languages spells it.
func Known(lang string) bool { return slices.Contains(languages, lang) }

// Has reports whether the catalog of lang has key.
func (c *Catalog) Has(lang, key string) bool {
	_, ok := c.texts[lang][key]
	return ok
}

// Keys are every key of lang's catalog, sorted.
func (c *Catalog) Keys(lang string) []string {
	keys := make([]string, 0, len(c.texts[lang]))
	for k := range c.texts[lang] {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// Raw is the text of key in lang as the catalog holds it, placeholders
// unfilled.
func (c *Catalog) Raw(lang, key string) (string, bool) {
	text, ok := c.texts[lang][key]
	return text, ok
}

// File is the catalog file that holds key.
func (c *Catalog) File(key string) string { return c.files[key] }

// Render is m in lang. A key the catalog of lang lacks falls back to
// English, and a key no catalog has is shown as it is (the tests see to it
// that neither happens).
func (c *Catalog) Render(lang string, m Message) string {
	text, ok := c.texts[lang][m.Key]
	if !ok {
		if text, ok = c.texts[English][m.Key]; !ok {
			return m.Key
		}
		lang = English
	}
	return c.fill(lang, text, m.Args)
}

// Text is key in lang with args; false when the catalog of lang has no
// such key.
func (c *Catalog) Text(lang, key string, args map[string]string) (string, bool) {
	if !c.Has(lang, key) {
		return "", false
	}
	return c.Render(lang, Message{Key: key, Args: args}), true
}

// placeholder matches {name} and {name|kind}.
var placeholder = regexp.MustCompile(`\{([A-Za-z_][A-Za-z0-9_]*)(?:\|(term|terms))?\}`)

// Placeholders are the placeholders of a text, as written ("{name}",
// "{name|term}"), sorted, each once.
func Placeholders(text string) []string {
	seen := map[string]bool{}
	for _, m := range placeholder.FindAllString(text, -1) {
		seen[m] = true
	}
	out := make([]string, 0, len(seen))
	for p := range seen {
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}

// listSeparator joins a {name|terms} list, as each language writes lists.
var listSeparator = map[string]string{English: ", ", Chinese: "、"}

// optional is a bracketed part of a text, ASCII or full-width, with the
// space before it: it goes when a placeholder in it has no value (a fact
// the error does not have).
var optional = regexp.MustCompile(` ?\([^()]*\)|（[^（）]*）`)

// fill puts args into text's placeholders. A bracketed part whose
// placeholder has no value goes whole; any other placeholder without a
// value is left empty.
func (c *Catalog) fill(lang, text string, args map[string]string) string {
	text = optional.ReplaceAllStringFunc(text, func(part string) string {
		for _, m := range placeholder.FindAllStringSubmatch(part, -1) {
			if _, ok := args[m[1]]; !ok {
				return ""
			}
		}
		return part
	})
	text = placeholder.ReplaceAllStringFunc(text, func(p string) string {
		m := placeholder.FindStringSubmatch(p)
		value, ok := args[m[1]]
		if !ok {
			return ""
		}
		switch m[2] {
		case "term":
			return c.term(lang, value)
		case "terms":
			if value == "" {
				return c.term(lang, "none")
			}
			parts := strings.Split(value, ",")
			for i, part := range parts {
				parts[i] = c.term(lang, strings.TrimSpace(part))
			}
			return strings.Join(parts, listSeparator[lang])
		}
		return value
	})
	return text
}

// term is value's text in lang: the catalog's "term.<value>", else value
// itself (a resource name, a number).
func (c *Catalog) term(lang, value string) string {
	if text, ok := c.texts[lang]["term."+value]; ok {
		return text
	}
	return value
}

// MetadataKey is the gRPC metadata key a caller names its language in, as
// HTTP's Accept-Language does; the gateway forwards the language it chose.
const MetadataKey = "accept-language"

// ResponseMetadataKey is the gRPC response header naming the language of
// the answer's texts; the gateway returns it as Content-Language.
const ResponseMetadataKey = "content-language"

type langKey struct{}

// WithLanguage is ctx carrying the caller's language.
func WithLanguage(ctx context.Context, lang string) context.Context {
	return context.WithValue(ctx, langKey{}, lang)
}

// FromContext is the caller's language (English when none was chosen).
func FromContext(ctx context.Context) string {
	if lang, ok := ctx.Value(langKey{}).(string); ok {
		return lang
	}
	return English
}

// In renders m in the language of the caller in ctx, from the default
// catalog: the texts a service puts in its answers.
func In(ctx context.Context, m Message) string { return Default().Render(FromContext(ctx), m) }
