package creditcode

import (
	"strings"
	"testing"
)

// FuzzCreditCode holds the unified social credit code check to GB 32100-2015
// as written here apart from creditcode.go (its weights are 3^i mod 31):
// Validate accepts exactly the 18-character codes of the
// alphabet whose characters 3–8 are digits and whose last is the check
// character of the first 17; CheckChar answers exactly for 17
// characters of the alphabet; with a valid first 17, exactly one of the 31
// last characters is accepted. Nothing panics on any string, normalised or
// not.
func FuzzCreditCode(f *testing.F) {
	for _, code := range []string{
		"91120116MA05JR7Q0E", "91120222MA06TU8X03", "91120118MA07B2PD0K",
		"91120116MA05JR7Q0F", "91120116MA05JR7Q0", "91120116MA05JR7Q0EX",
		"91120116MA05JR7I0E", "9112011OMA05JR7Q0E", "91A20116MA05JR7Q0E",
		" 91120116ma05jr7q0e ", "000000000000000000", "YYYYYYYYYYYYYYYYYY",
		"９１１２０１１６ＭＡ０５ＪＲ７Ｑ０Ｅ", "91120116MA05JR7Q0\xff", "",
	} {
		f.Add(code)
	}
	f.Fuzz(func(t *testing.T, code string) {
		for _, c := range []string{code, Normalize(code)} {
			err := Validate(c)
			if want := validByGB32100(c); (err == nil) != want {
				t.Fatalf("Validate(%q) = %v, want ok=%v", c, err, want)
			}
		}

		first17 := code
		if len(first17) > 17 {
			first17 = first17[:17]
		}
		got, err := CheckChar(first17)
		want, ok := checkCharByGB32100(first17)
		if (err == nil) != ok || (ok && got != want) {
			t.Fatalf("CheckChar(%q) = %q, %v; want %q, ok=%v", first17, got, err, want, ok)
		}
		if !ok || !divisionDigits(first17) {
			return
		}
		accepted := 0
		for i := range 256 {
			candidate := first17 + string([]byte{byte(i)})
			if Validate(candidate) == nil {
				accepted++
				if byte(i) != want {
					t.Fatalf("%q accepted with check character %q, want %q", candidate, byte(i), want)
				}
			}
		}
		if accepted != 1 {
			t.Fatalf("%q: %d check characters accepted, want 1", first17, accepted)
		}
	})
}

// gb32100Alphabet: digits and upper-case letters without I, O, Z, S, V.
const gb32100Alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"

// checkCharByGB32100 is the check character of 17 characters of the
// alphabet: C18 = 31 - (Σ Ci·Wi mod 31), 31 read as 0, with Wi = 3^(i-1)
// mod 31.
func checkCharByGB32100(first17 string) (byte, bool) {
	if len(first17) != 17 {
		return 0, false
	}
	sum, w := 0, 1
	for i := range 17 {
		v := strings.IndexByte(gb32100Alphabet, first17[i])
		if v < 0 {
			return 0, false
		}
		sum += v * w
		w = w * 3 % 31
	}
	return gb32100Alphabet[(31-sum%31)%31], true
}

// divisionDigits: characters 3–8, the administrative division, are digits.
func divisionDigits(code string) bool {
	for i := 2; i < 8; i++ {
		if code[i] < '0' || code[i] > '9' {
			return false
		}
	}
	return true
}

func validByGB32100(code string) bool {
	if len(code) != 18 {
		return false
	}
	want, ok := checkCharByGB32100(code[:17])
	return ok && divisionDigits(code) && code[17] == want
}
