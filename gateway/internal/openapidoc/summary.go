package openapidoc

import (
	"strings"
	"unicode"

	"github.com/getkin/kin-openapi/openapi3"
)

// abbreviations end in a full stop that ends no sentence.
var abbreviations = []string{"e.g.", "i.e.", "etc.", "cf.", "vs.", "approx."}

// FirstSentence splits text at the end of its first sentence: a full stop,
// question or exclamation mark followed by a space or the end, outside
// parentheses and not closing an abbreviation. rest is what follows,
// trimmed.
func FirstSentence(text string) (first, rest string) {
	text = strings.TrimSpace(text)
	depth := 0
	runes := []rune(text)
	for i, r := range runes {
		switch r {
		case '(', '（':
			depth++
		case ')', '）':
			if depth > 0 {
				depth--
			}
		case '.', '!', '?':
			if depth > 0 || (i+1 < len(runes) && !unicode.IsSpace(runes[i+1])) {
				continue
			}
			head := string(runes[:i+1])
			if endsWithAbbreviation(head) {
				continue
			}
			return head, strings.TrimSpace(string(runes[i+1:]))
		}
	}
	return text, ""
}

func endsWithAbbreviation(s string) bool {
	lower := strings.ToLower(s)
	for _, a := range abbreviations {
		if strings.HasSuffix(lower, a) && (len(lower) == len(a) || !unicode.IsLetter(rune(lower[len(lower)-len(a)-1]))) {
			return true
		}
	}
	return false
}

// summarize makes the operation's summary its first sentence, on one line,
// and puts the rest of the comment before its description: the generator
// puts a one-paragraph comment in the summary whole, which SDKs and
// browsers show as a method's title.
func summarize(op *openapi3.Operation) {
	first, rest := FirstSentence(op.Summary)
	op.Summary = strings.Join(strings.Fields(first), " ")
	if rest != "" {
		if op.Description != "" {
			rest += "\n\n" + op.Description
		}
		op.Description = rest
	}
	if op.Description == "" {
		op.Description = op.Summary
	}
}
