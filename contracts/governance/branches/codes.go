package branches

import (
	"fmt"
	"strings"

	governancev1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/governance/v1"
)

// DefaultCodeFormats are the standard code formats of a branch created
// without any: group standards are "T/TJSIA {NNN}—{YYYY}"; conventions and
// agreements are numbered the same way with their own prefixes; a local
// industry standard's code comes from the authority that issues it, so it
// is given at publication. Governance fills them in at creation; a branch
// stored before formats existed reads as having them.
func DefaultCodeFormats() *governancev1.StandardCodeFormats {
	return &governancev1.StandardCodeFormats{
		GroupStandard:            "T/TJSIA {NNN}—{YYYY}",
		SelfDisciplineConvention: "TJSIA ZL {NNN}—{YYYY}",
		Agreement:                "TJSIA XY {NNN}—{YYYY}",
	}
}

// CodeFormats are b's formats, or the defaults for a branch that has none.
func CodeFormats(b *governancev1.Branch) *governancev1.StandardCodeFormats {
	if f := b.GetStandardCodeFormats(); f != nil {
		return f
	}
	return DefaultCodeFormats()
}

// FormatCode renders a code format for a number and year: {NNN} becomes
// the number with at least three digits, {YYYY} the year.
func FormatCode(format string, number int64, year int) string {
	return strings.NewReplacer("{NNN}", fmt.Sprintf("%03d", number), "{YYYY}", fmt.Sprintf("%04d", year)).Replace(format)
}
