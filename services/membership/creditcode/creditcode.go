// Package creditcode is the unified social credit code (统一社会信用代码,
// GB 32100-2015) that identifies every organisation: its check character,
// its validation and its normal form. The membership service validates
// codes with it; clients and tests use it to make valid ones.
package creditcode

import (
	"fmt"
	"strings"
)

// The unified social credit code (统一社会信用代码, GB 32100-2015) has 18
// characters from a 31-character alphabet (no I, O, Z, S, V). The last one
// is a check character over the first 17.
const alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"

var weights = [17]int{1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28}

// CheckChar computes the check character for the first 17 characters of a
// credit code.
func CheckChar(first17 string) (byte, error) {
	if len(first17) != 17 {
		return 0, fmt.Errorf("need 17 characters, got %d", len(first17))
	}
	sum := 0
	for i := 0; i < 17; i++ {
		v := strings.IndexByte(alphabet, first17[i])
		if v < 0 {
			return 0, fmt.Errorf("character %d (%q) is not allowed", i+1, first17[i])
		}
		sum += v * weights[i]
	}
	check := (31 - sum%31) % 31
	return alphabet[check], nil
}

// Complete is first17 followed by its check character.
func Complete(first17 string) (string, error) {
	check, err := CheckChar(first17)
	if err != nil {
		return "", err
	}
	return first17 + string(check), nil
}

// Validate checks length, alphabet, the administrative-division digits
// (positions 3–8) and the check character. The code must already be upper
// case; Normalize makes it so.
func Validate(code string) error {
	if len(code) != 18 {
		return fmt.Errorf("must be 18 characters, got %d", len([]rune(code)))
	}
	for i := 2; i < 8; i++ {
		if code[i] < '0' || code[i] > '9' {
			return fmt.Errorf("characters 3–8 are the administrative division code and must be digits")
		}
	}
	want, err := CheckChar(code[:17])
	if err != nil {
		return err
	}
	if strings.IndexByte(alphabet, code[17]) < 0 {
		return fmt.Errorf("check character %q is not allowed", code[17])
	}
	if code[17] != want {
		return fmt.Errorf("check character is %q, expected %q", code[17], want)
	}
	return nil
}

// Normalize trims spaces and upper-cases.
func Normalize(code string) string {
	return strings.ToUpper(strings.TrimSpace(code))
}
