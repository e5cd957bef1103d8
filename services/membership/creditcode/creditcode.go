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

// Problem is what makes a code invalid.
type Problem int

// The problems Validate finds, in the order it looks for them.
const (
	// ProblemLength: not 18 characters.
	ProblemLength Problem = iota + 1
	// ProblemCharacter: a character outside the alphabet.
	ProblemCharacter
	// ProblemDivision: a character of the administrative division code
	// (positions 3–8) that is not a digit.
	ProblemDivision
	// ProblemCheck: the last character is not the check character of the
	// first 17.
	ProblemCheck
)

// InvalidError is Validate's answer for an invalid code: the problem and
// its facts, so that a caller can say it in its reader's language.
type InvalidError struct {
	Problem Problem
	// Length is the number of characters given (ProblemLength).
	Length int
	// Position (1-based) and Char are the offending character
	// (ProblemCharacter, ProblemDivision; ProblemCheck: the last one).
	Position int
	Char     string
	// Want is the check character the first 17 give (ProblemCheck).
	Want string
}

func (e *InvalidError) Error() string {
	switch e.Problem {
	case ProblemLength:
		return fmt.Sprintf("must be 18 characters, got %d", e.Length)
	case ProblemCharacter:
		return fmt.Sprintf("character %d (%q) is not allowed", e.Position, e.Char)
	case ProblemDivision:
		return fmt.Sprintf("characters 3–8 are the administrative division code and must be digits; character %d is %q", e.Position, e.Char)
	}
	return fmt.Sprintf("check character is %q, expected %q", e.Char, e.Want)
}

// Validate checks length, alphabet, the administrative-division digits
// (positions 3–8) and the check character; an invalid code is an
// *InvalidError. The code must already be upper case; Normalize makes it
// so.
func Validate(code string) error {
	chars := []rune(code)
	if len(chars) != 18 {
		return &InvalidError{Problem: ProblemLength, Length: len(chars)}
	}
	for i, c := range chars {
		if c >= 0x80 || strings.IndexByte(alphabet, byte(c)) < 0 {
			return &InvalidError{Problem: ProblemCharacter, Position: i + 1, Char: string(c)}
		}
	}
	// Every character is one of the alphabet's, so one byte each.
	for i := 2; i < 8; i++ {
		if code[i] < '0' || code[i] > '9' {
			return &InvalidError{Problem: ProblemDivision, Position: i + 1, Char: code[i : i+1]}
		}
	}
	want, err := CheckChar(code[:17])
	if err != nil {
		return err
	}
	if code[17] != want {
		return &InvalidError{Problem: ProblemCheck, Position: 18, Char: code[17:], Want: string(want)}
	}
	return nil
}

// Normalize trims spaces and upper-cases.
func Normalize(code string) string {
	return strings.ToUpper(strings.TrimSpace(code))
}
