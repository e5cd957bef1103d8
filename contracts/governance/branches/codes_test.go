package branches_test

import (
	"testing"

	governancev1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/governance/v1"

	"github.com/tjsia/chapterhouse/contracts/governance/branches"
)

// TestCodes (S1): a format's number has at least three digits and the
// year four; a branch stored before formats existed reads as having the
// defaults, and one that set its own keeps them, empty ones included.
func TestCodes(t *testing.T) {
	for _, c := range []struct {
		format string
		n      int64
		year   int
		want   string
	}{
		{"T/TJSIA {NNN}—{YYYY}", 1, 2026, "T/TJSIA 001—2026"},
		{"T/TJSIA {NNN}—{YYYY}", 42, 2027, "T/TJSIA 042—2027"},
		{"T/TJSIA {NNN}—{YYYY}", 1234, 2030, "T/TJSIA 1234—2030"},
		{"{YYYY}-ZL-{NNN}", 7, 2026, "2026-ZL-007"},
	} {
		if got := branches.FormatCode(c.format, c.n, c.year); got != c.want {
			t.Errorf("FormatCode(%q, %d, %d) = %q, want %q", c.format, c.n, c.year, got, c.want)
		}
	}
	if got := branches.CodeFormats(&governancev1.Branch{}).GetGroupStandard(); got != "T/TJSIA {NNN}—{YYYY}" {
		t.Errorf("default group standard format %q", got)
	}
	own := &governancev1.Branch{StandardCodeFormats: &governancev1.StandardCodeFormats{GroupStandard: "T/TJAI {NNN}—{YYYY}"}}
	if f := branches.CodeFormats(own); f.GetGroupStandard() != "T/TJAI {NNN}—{YYYY}" || f.GetAgreement() != "" {
		t.Errorf("a branch's own formats: %v", f)
	}
}
