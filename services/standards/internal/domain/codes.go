package domain

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/cases"
	"golang.org/x/text/unicode/norm"

	governancev1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/governance/v1"
)

// MaxCodeLength is the longest code, in characters, once normalised: the
// proto's limit on a given code (PublishStandardRequest.code), held again
// after NFKC, which can lengthen a string.
const MaxCodeLength = 60

// CodeProblem says why a code given by hand cannot be a code at all, as
// facts: what is wrong ("not_utf8", "invisible", "foreign", "blank",
// "too_long"; the suffix of its text "error.standards.code_<what>") and
// what at.
type CodeProblem struct {
	What string
	// Character is the offending character, as U+XXXX, and Glyph the
	// character itself, when one is at fault (Glyph only when it can be
	// seen).
	Character, Glyph string
	// Length is the code's length once normalised, and Max the most it
	// may have, for a code too long.
	Length, Max string
}

// NormalizeCode is the form a code given by hand is stored in, and the
// key two codes are compared by. The stored form is the code in Unicode
// NFKC (full-width digits and letters become ASCII, a no-break or
// ideographic space an ordinary one), without leading or trailing spaces,
// with each run of spaces inside it one space. The key folds what a
// reader cannot tell apart on a printed standard: case, every dash
// (hyphen-minus, en dash, em dash, minus sign, a run of them …) and
// spaces, which it drops. A code is written, once normalised, in ASCII
// letters, digits and punctuation, dashes, spaces and Chinese characters:
// a control or format character (a zero-width space, a direction mark)
// or any other invisible one, a letter of another script that looks like
// a Latin one (Cyrillic Т), or nothing but spaces is no code, and problem
// says why.
func NormalizeCode(given string) (code, key string, problem *CodeProblem) {
	if !utf8.ValidString(given) {
		return "", "", &CodeProblem{What: "not_utf8"}
	}
	nfkc := norm.NFKC.String(given)
	for _, r := range nfkc {
		if codeRune(r) {
			continue
		}
		at := fmt.Sprintf("U+%04X", r)
		if !unicode.IsGraphic(r) || unicode.Is(unicode.Zs, r) {
			// After NFKC every space a code may hold is U+0020; any
			// other space, a control or format character, or a code
			// point outside the graphic ones cannot be seen, and would
			// make two codes that read the same differ.
			return "", "", &CodeProblem{What: "invisible", Character: at}
		}
		return "", "", &CodeProblem{What: "foreign", Character: at, Glyph: string(r)}
	}
	code = strings.Join(strings.Fields(nfkc), " ")
	if code == "" {
		return "", "", &CodeProblem{What: "blank"}
	}
	if n := utf8.RuneCountInString(code); n > MaxCodeLength {
		return "", "", &CodeProblem{What: "too_long", Length: strconv.Itoa(n), Max: strconv.Itoa(MaxCodeLength)}
	}
	return code, CodeKey(code), nil
}

// codeRune: r may stand in a normalised code.
func codeRune(r rune) bool {
	return r == ' ' || (r > ' ' && r < utf8.RuneSelf && unicode.IsPrint(r)) || isDash(r) || unicode.Is(unicode.Han, r)
}

// CodeKey is the key code is compared by (see NormalizeCode): case
// folded, every run of dashes one "-", spaces dropped. The codes the
// branch numbers are keyed the same way, so a code given by hand can
// neither take one of their numbers nor stand beside one that reads the
// same.
func CodeKey(code string) string {
	folded := cases.Fold().String(norm.NFKC.String(code))
	var b strings.Builder
	dash := false
	for _, r := range folded {
		switch {
		case isDash(r):
			if !dash {
				b.WriteByte('-')
			}
			dash = true
			continue
		case unicode.IsSpace(r):
			// Spaces neither part nor join dashes: "001 — 2026" reads
			// as "001—2026".
			continue
		}
		dash = false
		b.WriteRune(r)
	}
	return b.String()
}

// isDash: the characters that print as a dash in a code. Unicode's Dash
// property (hyphen-minus, the hyphens, figure, en and em dashes, the
// horizontal bar, the minus sign, …), and the box-drawing horizontal line
// typed for 破折号.
func isDash(r rune) bool {
	return unicode.Is(unicode.Dash, r) || r == '\u2500' || r == '\u2501'
}

// NumberedForm is the branch's format a code has the form of, folded as
// CodeKey folds ("" when it has none): a code given by hand must not
// take a number a sequence gives out, however it is written.
func NumberedForm(formats *governancev1.StandardCodeFormats, code string) string {
	key := CodeKey(code)
	for _, f := range []string{formats.GetGroupStandard(), formats.GetLocalIndustryStandard(), formats.GetSelfDisciplineConvention(), formats.GetAgreement()} {
		if f != "" && formatPattern(f).MatchString(key) {
			return f
		}
	}
	return ""
}

// formatPattern matches the keys of the codes format gives out: its
// literal parts keyed as CodeKey keys them, {NNN} any number (the
// sequence gives at least three digits; a shorter one reads as the same
// number) and {YYYY} a year.
func formatPattern(format string) *regexp.Regexp {
	var b strings.Builder
	b.WriteString("^")
	rest := format
	for rest != "" {
		i := strings.IndexByte(rest, '{')
		var literal, placeholder string
		switch {
		case i < 0:
			literal, rest = rest, ""
		case strings.HasPrefix(rest[i:], "{NNN}"):
			literal, placeholder, rest = rest[:i], `\d+`, rest[i+len("{NNN}"):]
		case strings.HasPrefix(rest[i:], "{YYYY}"):
			literal, placeholder, rest = rest[:i], `\d{4}`, rest[i+len("{YYYY}"):]
		default:
			literal, rest = rest[:i+1], rest[i+1:]
		}
		b.WriteString(regexp.QuoteMeta(CodeKey(literal)))
		b.WriteString(placeholder)
	}
	b.WriteString("$")
	return regexp.MustCompile(b.String())
}
