package fieldmask

import (
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/fieldmaskpb"
	"google.golang.org/protobuf/types/known/sourcecontextpb"
	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/typepb"
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

// TestApply: top-level fields are copied or cleared; a dotted path
// changes one field inside a message, making the message when dst has
// none, and leaves the fields beside it.
func TestApply(t *testing.T) {
	src := &structpb.Struct{Fields: map[string]*structpb.Value{"a": structpb.NewStringValue("x")}}
	tests := []struct {
		name     string
		dst, src proto.Message
		paths    []string
		want     proto.Message
	}{
		{"a message field, set", &typepb.Field{}, &typepb.Field{Name: "n", DefaultValue: "d"}, []string{"name"}, &typepb.Field{Name: "n"}},
		{"a field src does not set is cleared", &typepb.Field{Name: "old", Number: 3}, &typepb.Field{}, []string{"name", "number"}, &typepb.Field{}},
		{"a list", &typepb.Type{Oneofs: []string{"old"}}, &typepb.Type{Oneofs: []string{"a", "b"}}, []string{"oneofs"}, &typepb.Type{Oneofs: []string{"a", "b"}}},
		{"inside a message dst lacks", &typepb.Type{}, &typepb.Type{SourceContext: &sourcecontextpb.SourceContext{FileName: "f"}},
			[]string{"source_context.file_name"}, &typepb.Type{SourceContext: &sourcecontextpb.SourceContext{FileName: "f"}}},
		{"inside a message, cleared", &typepb.Type{Name: "t", SourceContext: &sourcecontextpb.SourceContext{FileName: "f"}}, &typepb.Type{},
			[]string{"source_context.file_name"}, &typepb.Type{Name: "t", SourceContext: &sourcecontextpb.SourceContext{}}},
		{"a whole message", &structpb.Value{}, structpb.NewStructValue(src), []string{"struct_value"}, structpb.NewStructValue(src)},
		{"no such field", &typepb.Field{Name: "n"}, &typepb.Field{}, []string{"nope", "name.nope"}, &typepb.Field{Name: "n"}},
	}
	for _, tt := range tests {
		Apply(tt.dst, tt.src, tt.paths)
		if !proto.Equal(tt.dst, tt.want) {
			t.Errorf("%s: got %v, want %v", tt.name, tt.dst, tt.want)
		}
	}
}
