package creditcode

import (
	"errors"
	"testing"
)

func TestValidate(t *testing.T) {
	tests := []struct {
		name, code string
		// want is the problem and its facts; nil for a valid code.
		want *InvalidError
	}{
		{"valid", "91120116MA05JR7Q0E", nil},
		{"valid, digit check character", "91120222MA06TU8X03", nil},
		{"valid, another", "91120118MA07B2PD0K", nil},
		{"wrong check character", "91120116MA05JR7Q0F", &InvalidError{Problem: ProblemCheck, Position: 18, Char: "F", Want: "E"}},
		{"too short", "91120116MA05JR7Q0", &InvalidError{Problem: ProblemLength, Length: 17}},
		{"too long", "91120116MA05JR7Q0EX", &InvalidError{Problem: ProblemLength, Length: 19}},
		{"full-width: 18 characters, none of them allowed", "９１１２０１１６ＭＡ０５ＪＲ７Ｑ０Ｅ", &InvalidError{Problem: ProblemCharacter, Position: 1, Char: "９"}},
		{"forbidden letter I", "91120116MA05JR7I0E", &InvalidError{Problem: ProblemCharacter, Position: 16, Char: "I"}},
		{"forbidden letter O", "9112011OMA05JR7Q0E", &InvalidError{Problem: ProblemCharacter, Position: 8, Char: "O"}},
		{"forbidden check character", "91120116MA05JR7Q0Z", &InvalidError{Problem: ProblemCharacter, Position: 18, Char: "Z"}},
		{"division code not digits", "91A20116MA05JR7Q0E", &InvalidError{Problem: ProblemDivision, Position: 3, Char: "A"}},
		{"lower case (not normalised)", "91120116ma05jr7q0e", &InvalidError{Problem: ProblemCharacter, Position: 9, Char: "m"}},
		{"empty", "", &InvalidError{Problem: ProblemLength}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Validate(tt.code)
			if tt.want == nil {
				if err != nil {
					t.Fatalf("Validate(%q) = %v, want valid", tt.code, err)
				}
				return
			}
			var got *InvalidError
			if !errors.As(err, &got) || *got != *tt.want {
				t.Fatalf("Validate(%q) = %#v, want %#v", tt.code, err, tt.want)
			}
		})
	}
	if got := Normalize(" 91120116ma05jr7q0e "); Validate(got) != nil {
		t.Fatalf("normalised code %q should be valid", got)
	}
}
