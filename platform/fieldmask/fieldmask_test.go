package fieldmask

import (
	"strings"
	"testing"

	"google.golang.org/protobuf/types/known/fieldmaskpb"
)

func TestPaths(t *testing.T) {
	updatable := []string{"display_name", "birth_date", "contact", "contact.email"}
	tests := []struct {
		paths []string
		want  []string
		ok    bool
	}{
		{[]string{"display_name"}, []string{"display_name"}, true},
		{[]string{"displayName", "birthDate"}, []string{"display_name", "birth_date"}, true},
		// The REST gateway derives leaf paths from a body; they update the field whole.
		{[]string{"birth_date.year", "birth_date.month", "birth_date.day"}, []string{"birth_date"}, true},
		{[]string{"contact.email"}, []string{"contact.email"}, true},
		{[]string{"contact.phone"}, []string{"contact"}, true},
		{[]string{"*"}, updatable, true},
		{[]string{"rank"}, nil, false},
		{nil, nil, false},
	}
	for _, tt := range tests {
		got, err := Paths(&fieldmaskpb.FieldMask{Paths: tt.paths}, updatable, nil)
		if (err == nil) != tt.ok || strings.Join(got, ",") != strings.Join(tt.want, ",") {
			t.Errorf("Paths(%v) = %v, %v; want %v ok=%v", tt.paths, got, err, tt.want, tt.ok)
		}
	}
}
