package domain_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
	"google.golang.org/genproto/googleapis/type/date"
	"google.golang.org/grpc/codes"

	"github.com/tjsia/chapterhouse/platform/apierr"
	apiv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/api/v1"
	standardsv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/standards/v1"

	"github.com/tjsia/chapterhouse/contracts/governance/branches"
	"github.com/tjsia/chapterhouse/services/standards/internal/domain"
	"github.com/tjsia/chapterhouse/services/standards/internal/stdtest"
)

// The forms a code given by hand takes that read as another code: each
// row is a way of writing a code so that it looks like one the branch
// holds. NormalizeCode must key every one of them as that code, or refuse
// it as no code at all.
var codeVariants = []struct {
	name, given string
	// key is the key it must have ("" when it must be refused), problem
	// why it is refused (CodeProblem.What).
	key, problem string
}{
	{"as printed", "T/TJSIA 003—2026", "t/tjsia003-2026", ""},
	{"trailing space", "T/TJSIA 003—2026 ", "t/tjsia003-2026", ""},
	{"leading space", " T/TJSIA 003—2026", "t/tjsia003-2026", ""},
	{"a tab", "\tT/TJSIA 003—2026", "", "invisible"},
	{"no-break space", "T/TJSIA\u00a0003—2026", "t/tjsia003-2026", ""},
	{"narrow no-break space", "T/TJSIA\u202f003—2026", "t/tjsia003-2026", ""},
	{"ideographic space", "T/TJSIA\u3000003—2026", "t/tjsia003-2026", ""},
	{"two spaces", "T/TJSIA  003—2026", "t/tjsia003-2026", ""},
	{"no space", "T/TJSIA003—2026", "t/tjsia003-2026", ""},
	{"spaces around the dash", "T/TJSIA 003 — 2026", "t/tjsia003-2026", ""},
	{"hyphen-minus", "T/TJSIA 003-2026", "t/tjsia003-2026", ""},
	{"en dash", "T/TJSIA 003–2026", "t/tjsia003-2026", ""},
	{"minus sign", "T/TJSIA 003−2026", "t/tjsia003-2026", ""},
	{"figure dash", "T/TJSIA 003‒2026", "t/tjsia003-2026", ""},
	{"hyphen", "T/TJSIA 003‐2026", "t/tjsia003-2026", ""},
	{"horizontal bar", "T/TJSIA 003―2026", "t/tjsia003-2026", ""},
	{"full-width hyphen-minus", "T/TJSIA 003－2026", "t/tjsia003-2026", ""},
	{"double em dash (破折号)", "T/TJSIA 003——2026", "t/tjsia003-2026", ""},
	{"box-drawing line", "T/TJSIA 003─2026", "t/tjsia003-2026", ""},
	{"full-width digits", "T/TJSIA ００３—２０２６", "t/tjsia003-2026", ""},
	{"full-width letters and slash", "Ｔ／ＴＪＳＩＡ 003—2026", "t/tjsia003-2026", ""},
	{"mathematical digits", "T/TJSIA 𝟎𝟎𝟑—2026", "t/tjsia003-2026", ""},
	{"lower case", "t/tjsia 003—2026", "t/tjsia003-2026", ""},
	{"mixed case", "T/TjSiA 003—2026", "t/tjsia003-2026", ""},
	{"zero-width space", "T/TJSIA 003\u200b—2026", "", "invisible"},
	{"zero-width joiner", "T/TJSIA 0\u200d03—2026", "", "invisible"},
	{"word joiner", "T/TJSIA 003—\u20602026", "", "invisible"},
	{"byte order mark", "\ufeffT/TJSIA 003—2026", "", "invisible"},
	{"right-to-left override", "T/TJSIA \u202e003—2026", "", "invisible"},
	{"soft hyphen", "T/TJSIA 003\u00ad—2026", "", "invisible"},
	{"newline", "T/TJSIA 003—2026\n", "", "invisible"},
	{"NUL", "T/TJSIA 003—2026\x00", "", "invisible"},
	{"Cyrillic Т and А", "Т/ТJSIА 003—2026", "", "foreign"},
	{"Greek capital Tau", "Τ/TJSIA 003—2026", "", "foreign"},
	{"only spaces", "   ", "", "blank"},
	{"only no-break and ideographic spaces", "\u00a0\u3000", "", "blank"},
	{"not UTF-8", "T/TJSIA \xff003—2026", "", "not_utf8"},
	{"longer than 60 once normalised", strings.Repeat("⒇", 20), "", "too_long"},
	{"a local code, kept", "DB12/T 1234—2026", "db12/t1234-2026", ""},
	{"Chinese characters, kept", "津标 12—2026", "津标12-2026", ""},
}

// TestNormalizeCode (S1): every way of writing a code that reads as
// another, one row each, is keyed as that code or refused with its
// reason; the stored form is NFKC, trimmed, with single spaces.
func TestNormalizeCode(t *testing.T) {
	for _, tt := range codeVariants {
		t.Run(tt.name, func(t *testing.T) {
			code, key, problem := domain.NormalizeCode(tt.given)
			if tt.problem != "" {
				if problem == nil || problem.What != tt.problem {
					t.Fatalf("NormalizeCode(%q) = %q, %q, %+v; want refused: %s", tt.given, code, key, problem, tt.problem)
				}
				return
			}
			if problem != nil || key != tt.key {
				t.Fatalf("NormalizeCode(%q) = %q, %q, %+v; want key %q", tt.given, code, key, problem, tt.key)
			}
			if code != strings.TrimSpace(code) || strings.Contains(code, "  ") || !norm.NFKC.IsNormalString(code) {
				t.Fatalf("stored form %q is not NFKC, trimmed, single-spaced", code)
			}
		})
	}
}

// TestHandGivenCodesCannotBeForged (S1): a local industry standard is
// published with a code given by hand. Every variant of a code the
// branch's numbering gives out is refused as having that form, every
// variant of a code another standard holds is refused as taken, and a
// code that is no code is refused with the character at fault; each
// refusal names its facts and changes nothing stored.
func TestHandGivenCodesCannotBeForged(t *testing.T) {
	f, mr := fixture(t)
	held := propose(t, f, "held", standardsv1.StandardKind_STANDARD_KIND_LOCAL_INDUSTRY_STANDARD)
	toApproved(t, f, held.GetName())
	day := &date.Date{Year: 2027, Month: 1, Day: 1}
	pub := of(f.Svc.PublishStandard(ctx, stdtest.Chair, &standardsv1.PublishStandardRequest{Name: held.GetName(),
		Code: "\u3000DB12/T  1234—2026 ", EffectiveDate: day})).must(t)
	if pub.GetCode() != "DB12/T 1234—2026" {
		t.Fatalf("stored code %q, want the normal form", pub.GetCode())
	}
	next := propose(t, f, "next", standardsv1.StandardKind_STANDARD_KIND_LOCAL_INDUSTRY_STANDARD)
	toApproved(t, f, next.GetName())
	refused := func(t *testing.T, code string, grpcCode codes.Code, reason apiv1.ErrorReason) map[string]string {
		t.Helper()
		before := snapshot(mr)
		_, err := f.Svc.PublishStandard(ctx, stdtest.Chair, &standardsv1.PublishStandardRequest{Name: next.GetName(), Code: code, EffectiveDate: day})
		wantReason(t, err, grpcCode, reason)
		if snapshot(mr) != before {
			t.Fatalf("publishing with %q was refused (%v) and changed the store", code, err)
		}
		return apierr.Info(err).GetMetadata()
	}
	for _, tt := range codeVariants {
		t.Run(tt.name, func(t *testing.T) {
			if tt.problem != "" {
				md := refused(t, tt.given, codes.InvalidArgument, apiv1.ErrorReason_STANDARD_CODE_NOT_ALLOWED)
				if md["kind"] != "STANDARD_KIND_LOCAL_INDUSTRY_STANDARD" || md["code"] != strings.ToValidUTF8(tt.given, "\uFFFD") {
					t.Fatalf("metadata %v: want the kind and the code given", md)
				}
				return
			}
			if tt.key == "t/tjsia003-2026" {
				md := refused(t, tt.given, codes.InvalidArgument, apiv1.ErrorReason_STANDARD_CODE_NOT_ALLOWED)
				if md["format"] != "T/TJSIA {NNN}—{YYYY}" || md["code"] != tt.given {
					t.Fatalf("metadata %v: want the format it has the form of", md)
				}
			}
		})
	}
	for _, variant := range []string{"DB12/T 1234—2026", " DB12/T 1234—2026", "DB12/T 1234-2026", "DB12/T 1234–2026", "db12/t 1234—2026",
		"DB12/T\u00a01234—2026", "ＤＢ１２/Ｔ １２３４—２０２６", "DB12/T 1234 — 2026"} {
		t.Run("taken "+variant, func(t *testing.T) {
			md := refused(t, variant, codes.AlreadyExists, apiv1.ErrorReason_STANDARD_CODE_TAKEN)
			if md["standard"] != held.GetName() {
				t.Fatalf("metadata %v: want the standard that holds it", md)
			}
		})
	}
	// A code of its own, in any form, is the next standard's.
	got := of(f.Svc.PublishStandard(ctx, stdtest.Chair, &standardsv1.PublishStandardRequest{Name: next.GetName(),
		Code: "ＤＢ１２/Ｔ １２３５－２０２６", EffectiveDate: day})).must(t)
	if got.GetCode() != "DB12/T 1235-2026" {
		t.Fatalf("stored %q", got.GetCode())
	}
}

// FuzzNormalizeCode: whatever is given, a code NormalizeCode accepts is
// its own normal form (normalising it again changes nothing), holds only
// what a code may, and keys as every way of writing it with other spaces,
// case or dashes.
func FuzzNormalizeCode(f *testing.F) {
	for _, tt := range codeVariants {
		f.Add(tt.given)
	}
	f.Fuzz(func(t *testing.T, given string) {
		code, key, problem := domain.NormalizeCode(given)
		if problem != nil {
			if code != "" || key != "" {
				t.Fatalf("refused %q (%s) but returned %q, %q", given, problem.What, code, key)
			}
			return
		}
		if code == "" || key == "" || utf8.RuneCountInString(code) > domain.MaxCodeLength {
			t.Fatalf("accepted %q as %q, %q", given, code, key)
		}
		again, againKey, p := domain.NormalizeCode(code)
		if p != nil || again != code || againKey != key {
			t.Fatalf("%q normalises to %q (%q) but that to %q (%q) %+v", given, code, key, again, againKey, p)
		}
		if domain.CodeKey(key) != key {
			t.Fatalf("the key %q of %q is not its own key", key, given)
		}
		for _, variant := range []string{" " + code + " ", strings.ToLower(code), strings.ToUpper(code),
			strings.ReplaceAll(code, "—", "-"), strings.ReplaceAll(code, "-", "–"), strings.ReplaceAll(code, " ", "\u00a0")} {
			if _, k, p := domain.NormalizeCode(variant); p == nil && k != key {
				t.Fatalf("%q keys as %q, but %q as %q", code, key, variant, k)
			}
		}
	})
}

// TestNumberedForm: a code has the form of a branch format whatever its
// spaces, case and dashes; other codes have none.
func TestNumberedForm(t *testing.T) {
	formats := branches.DefaultCodeFormats()
	for code, want := range map[string]string{
		"T/TJSIA 003—2026":   "T/TJSIA {NNN}—{YYYY}",
		"t/tjsia 3-2026":     "T/TJSIA {NNN}—{YYYY}",
		"TJSIA ZL 012—2027":  "TJSIA ZL {NNN}—{YYYY}",
		"tjsia xy 1000-2030": "TJSIA XY {NNN}—{YYYY}",
		"T/TJSIA 003—26":     "",
		"DB12/T 1234—2026":   "",
		"T/TJSIA A03—2026":   "",
	} {
		if got := domain.NumberedForm(formats, code); got != want {
			t.Errorf("NumberedForm(%q) = %q, want %q", code, got, want)
		}
	}
}
