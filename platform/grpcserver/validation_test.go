package grpcserver_test

import (
	"sort"
	"testing"

	"buf.build/gen/go/bufbuild/protovalidate/protocolbuffers/go/buf/validate"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	"github.com/tjsia/chapterhouse/platform/i18n"
	_ "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/activities/v1"
	_ "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/governance/v1"
	_ "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/membership/v1"
	_ "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/standards/v1"
)

// TestEveryValidationRuleHasItsText: every buf.validate rule the API's
// protos set can fail with the ids its definition declares (its
// predefined CEL rules); each id has its text, "validate.<id>", in every
// language, so a field refused by validation is explained in the caller's
// language with the rule's limits.
func TestEveryValidationRuleHasItsText(t *testing.T) {
	ids := map[string][]string{} // rule id -> fields that can fail with it
	protoregistry.GlobalFiles.RangeFiles(func(f protoreflect.FileDescriptor) bool {
		if len(f.Package()) < len("chapterhouse.") || string(f.Package())[:len("chapterhouse.")] != "chapterhouse." {
			return true
		}
		var walk func(protoreflect.MessageDescriptors)
		walk = func(msgs protoreflect.MessageDescriptors) {
			for i := range msgs.Len() {
				m := msgs.Get(i)
				walk(m.Messages())
				for j := range m.Fields().Len() {
					fd := m.Fields().Get(j)
					rules, _ := proto.GetExtension(fd.Options(), validate.E_Field).(*validate.FieldRules)
					if rules == nil {
						continue
					}
					for _, id := range ruleIDs(rules.ProtoReflect()) {
						ids[id] = append(ids[id], string(fd.FullName()))
					}
				}
			}
		}
		walk(f.Messages())
		return true
	})
	if len(ids) == 0 {
		t.Fatal("no validation rules found in the API's protos")
	}
	cat := i18n.Default()
	var missing []string
	for id, fields := range ids {
		for _, lang := range i18n.Languages() {
			if !cat.Has(lang, "validate."+id) {
				missing = append(missing, lang+" validate."+id+" (e.g. "+fields[0]+")")
			}
		}
	}
	sort.Strings(missing)
	for _, m := range missing {
		t.Error("no text for", m)
	}
}

// ruleIDs are the ids a set of rules can fail with: for every rule set in
// it (recursively, as items and keys rules nest), the ids of the CEL
// expressions that define that rule, and "required" for required.
func ruleIDs(m protoreflect.Message) []string {
	var out []string
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		switch fd.FullName() {
		case "buf.validate.FieldRules.required":
			out = append(out, "required")
		case "buf.validate.EnumRules.defined_only":
			// Checked natively, without a CEL rule of its own.
			out = append(out, "enum.defined_only")
		}
		if predefined, ok := proto.GetExtension(fd.Options(), validate.E_Predefined).(*validate.PredefinedRules); ok {
			for _, rule := range predefined.GetCel() {
				out = append(out, rule.GetId())
			}
		}
		if fd.Kind() == protoreflect.MessageKind && !fd.IsList() && !fd.IsMap() {
			out = append(out, ruleIDs(v.Message())...)
		}
		return true
	})
	return out
}
