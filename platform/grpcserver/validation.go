package grpcserver

import (
	"errors"
	"fmt"
	"strings"

	"buf.build/gen/go/bufbuild/protovalidate/protocolbuffers/go/buf/validate"
	"buf.build/go/protovalidate"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/tjsia/chapterhouse/platform/apierr"
)

// validationError is a failed validation as the usual INVALID_ARGUMENT,
// every bad field listed. Each field's text is the catalog's
// "validate.<rule id>" (protovalidate's ids: "string.max_len",
// "int32.gte_lte", "string.resource_id"), filled with the values of the
// rules beside the one that failed ({max_len}, {gte} and {lte}), so it
// says the limit in every language.
func validationError(err error) error {
	var verr *protovalidate.ValidationError
	if !errors.As(err, &verr) {
		// A rule that cannot be evaluated is a fault of the protos.
		return apierr.WithCause(apierr.Internal(), err)
	}
	fields := make([]apierr.FieldViolation, 0, len(verr.Violations))
	for _, v := range verr.Violations {
		fields = append(fields, apierr.FieldViolation{
			Field: protovalidate.FieldPathString(v.Proto.GetField()),
			Key:   "validate." + v.Proto.GetRuleId(),
			Args:  ruleValues(v),
		})
	}
	return apierr.InvalidArgument(fields...)
}

// ruleValues are the scalar rules set beside the rule that failed, by
// name: the facts of its text.
func ruleValues(v *protovalidate.Violation) map[string]string {
	if v.FieldDescriptor == nil {
		return nil
	}
	rules, ok := proto.GetExtension(v.FieldDescriptor.Options(), validate.E_Field).(*validate.FieldRules)
	if !ok || rules == nil {
		return nil
	}
	msg := rules.ProtoReflect()
	elements := v.Proto.GetRule().GetElements()
	for i := 0; i+1 < len(elements); i++ {
		fd := msg.Descriptor().Fields().ByNumber(protoreflect.FieldNumber(elements[i].GetFieldNumber()))
		if fd == nil || fd.Kind() != protoreflect.MessageKind || fd.IsList() || fd.IsMap() {
			return nil
		}
		msg = msg.Get(fd).Message()
	}
	// An enum's rules (in, not_in, const) hold value numbers: name them, so
	// the text can show each value's term.
	var enum protoreflect.EnumDescriptor
	if msg.Descriptor().FullName() == "buf.validate.EnumRules" && v.FieldDescriptor.Enum() != nil {
		enum = v.FieldDescriptor.Enum()
	}
	args := map[string]string{}
	msg.Range(func(fd protoreflect.FieldDescriptor, val protoreflect.Value) bool {
		if fd.Kind() == protoreflect.MessageKind || fd.Kind() == protoreflect.GroupKind {
			return true
		}
		if fd.IsList() {
			items := make([]string, 0, val.List().Len())
			for i := range val.List().Len() {
				item := scalar(fd, val.List().Get(i))
				if enum != nil {
					if ev := enum.Values().ByNumber(protoreflect.EnumNumber(val.List().Get(i).Int())); ev != nil {
						item = string(ev.Name())
					}
				}
				items = append(items, item)
			}
			args[string(fd.Name())] = strings.Join(items, ",")
			return true
		}
		args[string(fd.Name())] = scalar(fd, val)
		return true
	})
	return args
}

func scalar(fd protoreflect.FieldDescriptor, v protoreflect.Value) string {
	if fd.Kind() == protoreflect.EnumKind {
		if ev := fd.Enum().Values().ByNumber(v.Enum()); ev != nil {
			return string(ev.Name())
		}
	}
	return fmt.Sprint(v.Interface())
}
