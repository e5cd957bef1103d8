package apilint

import (
	"testing"

	"buf.build/gen/go/bufbuild/protovalidate/protocolbuffers/go/buf/validate"
	"google.golang.org/genproto/googleapis/api/annotations"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	apiv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/api/v1"
)

// TestEveryTextFieldSaysWhatItTakes: every string a client writes into a
// request (the request's own fields, and the fields of every message it
// carries, output-only fields aside) declares what it takes, so no text
// enters the system as it was sent: one line of text
// (chapterhouse.api.v1.single_line), text over several lines (multi_line),
// a resource id (resource_id), a resource name (google.api.
// resource_reference, parsed by the servers), or a format of its own (a
// URI, an e-mail address, a pattern, a list of values). NUL, ESC, CR/LF in
// a name, bidirectional overrides and names of only zero-width spaces are
// then refused with 400 and the field, everywhere, before any service
// reads them.
func TestEveryTextFieldSaysWhatItTakes(t *testing.T) {
	p := &problems{t: t}
	seen := map[protoreflect.FullName]bool{}
	var walk func(md protoreflect.MessageDescriptor)
	walk = func(md protoreflect.MessageDescriptor) {
		if seen[md.FullName()] || md.ParentFile().Package() == "google.protobuf" || md.ParentFile().Package() == "google.type" {
			return
		}
		seen[md.FullName()] = true
		fields := md.Fields()
		for i := range fields.Len() {
			fd := fields.Get(i)
			if serverWrites(fd) {
				continue
			}
			switch {
			case fd.Kind() == protoreflect.MessageKind && !fd.IsMap():
				walk(fd.Message())
			case fd.Kind() == protoreflect.StringKind && !fd.IsMap():
				if !saysWhatItTakes(fd) {
					p.add(fd.FullName(), "a string a client writes with no rule of what it takes (single_line, multi_line, resource_id, a resource_reference or a format)")
				}
			}
		}
	}
	for _, f := range apiFiles {
		services := f.Services()
		for i := range services.Len() {
			methods := services.Get(i).Methods()
			for j := range methods.Len() {
				walk(methods.Get(j).Input())
			}
		}
	}
	p.done()
}

// serverWrites: a field whose value the server sets (output only, or the
// resource's own name, which the request's resource name or the server
// decides), so a client's value never enters.
func serverWrites(fd protoreflect.FieldDescriptor) bool {
	behaviours, _ := proto.GetExtension(fd.Options(), annotations.E_FieldBehavior).([]annotations.FieldBehavior)
	for _, b := range behaviours {
		if b == annotations.FieldBehavior_OUTPUT_ONLY || b == annotations.FieldBehavior_IDENTIFIER {
			return true
		}
	}
	return false
}

// saysWhatItTakes: the field (or, repeated, each item) has a rule that
// decides which characters it takes.
func saysWhatItTakes(fd protoreflect.FieldDescriptor) bool {
	if r := referenceOf(fd); r.GetType() != "" || r.GetChildType() != "" {
		return true
	}
	rules, _ := proto.GetExtension(fd.Options(), validate.E_Field).(*validate.FieldRules)
	s := rules.GetString()
	if fd.IsList() {
		s = rules.GetRepeated().GetItems().GetString()
	}
	if s == nil {
		return false
	}
	for _, ext := range []protoreflect.ExtensionType{apiv1.E_SingleLine, apiv1.E_MultiLine, apiv1.E_ResourceId, apiv1.E_Token} {
		if on, _ := proto.GetExtension(s, ext).(bool); on {
			return true
		}
	}
	return s.GetUri() || s.GetEmail() || s.GetPattern() != "" || len(s.GetIn()) > 0 || s.Const != nil
}
