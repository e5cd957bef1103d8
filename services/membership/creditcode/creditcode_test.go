package creditcode

import "testing"

func TestValidate(t *testing.T) {
	tests := []struct {
		name, code string
		ok         bool
	}{
		{"valid", "91120116MA05JR7Q0E", true},
		{"valid, digit check character", "91120222MA06TU8X03", true},
		{"valid, another", "91120118MA07B2PD0K", true},
		{"wrong check character", "91120116MA05JR7Q0F", false},
		{"too short", "91120116MA05JR7Q0", false},
		{"too long", "91120116MA05JR7Q0EX", false},
		{"forbidden letter I", "91120116MA05JR7I0E", false},
		{"forbidden letter O", "9112011OMA05JR7Q0E", false},
		{"division code not digits", "91A20116MA05JR7Q0E", false},
		{"lower case (not normalised)", "91120116ma05jr7q0e", false},
		{"empty", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Validate(tt.code)
			if (err == nil) != tt.ok {
				t.Fatalf("Validate(%q) = %v, want ok=%v", tt.code, err, tt.ok)
			}
		})
	}
	if got := Normalize(" 91120116ma05jr7q0e "); Validate(got) != nil {
		t.Fatalf("normalised code %q should be valid", got)
	}
}
