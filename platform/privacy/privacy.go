// Package privacy masks the fields of a response that hold a person's
// private data. The rule is declared once, in the protos: a private field
// carries (chapterhouse.api.v1.readers), saying who may read it (the
// person it is about, static roles, services calling as themselves), and
// a message holding one names its person with
// (chapterhouse.api.v1.data_subject). Mask reads those options; no method
// keeps a list of its own. platform/grpcserver runs it on every response
// every service sends.
package privacy

import (
	"slices"
	"sync"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/tjsia/chapterhouse/platform/auth"
	apiv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/api/v1"
)

// ReadersOf is the field's readers option, nil when the field is not
// private.
func ReadersOf(fd protoreflect.FieldDescriptor) *apiv1.Readers {
	r, _ := proto.GetExtension(fd.Options(), apiv1.E_Readers).(*apiv1.Readers)
	return r
}

// SubjectField is the field of md naming the person its private fields are
// about (its data_subject option), nil when md names none.
func SubjectField(md protoreflect.MessageDescriptor) protoreflect.FieldDescriptor {
	name, _ := proto.GetExtension(md.Options(), apiv1.E_DataSubject).(string)
	if name == "" {
		return nil
	}
	return md.Fields().ByName(protoreflect.Name(name))
}

// May reports whether viewer may read a field with readers r about the
// person named subject ("" when no enclosing message names one). An
// anonymous caller is the zero Principal, who reads nothing private.
func May(r *apiv1.Readers, viewer auth.Principal, subject string) bool {
	if r == nil {
		return true
	}
	if r.GetSubject() && subject != "" && viewer.Subject == subject {
		return true
	}
	if viewer.HasRole(r.GetRoles()...) {
		return true
	}
	return viewer.Service != "" && slices.Contains(r.GetServices(), viewer.Service)
}

// holds caches, per message type, whether it or a message it contains has
// a private field: most responses have none, and are passed through after
// one map lookup.
var holds sync.Map // protoreflect.FullName → bool

// HoldsPrivate reports whether a message of type md can hold private data:
// a private field of its own, or one of a message it contains.
func HoldsPrivate(md protoreflect.MessageDescriptor) bool {
	if v, ok := holds.Load(md.FullName()); ok {
		return v.(bool)
	}
	v := holdsPrivate(md, map[protoreflect.FullName]bool{})
	holds.Store(md.FullName(), v)
	return v
}

func holdsPrivate(md protoreflect.MessageDescriptor, visiting map[protoreflect.FullName]bool) bool {
	if visiting[md.FullName()] {
		return false // a recursive type: its private fields are found where it began
	}
	visiting[md.FullName()] = true
	fields := md.Fields()
	for i := 0; i < fields.Len(); i++ {
		fd := fields.Get(i)
		if ReadersOf(fd) != nil {
			return true
		}
		if inner := contained(fd); inner != nil && holdsPrivate(inner, visiting) {
			return true
		}
	}
	return false
}

// contained is the message type a field holds (for a map, its values), or
// nil for scalars.
func contained(fd protoreflect.FieldDescriptor) protoreflect.MessageDescriptor {
	if fd.IsMap() {
		return fd.MapValue().Message()
	}
	return fd.Message()
}

// Mask returns msg as viewer may see it: msg itself when it holds nothing
// viewer may not read, otherwise a copy with each such field cleared (as if
// never set). msg is never changed: it may be a stored record.
func Mask(msg proto.Message, viewer auth.Principal) proto.Message {
	if msg == nil {
		return msg
	}
	m := msg.ProtoReflect()
	if !m.IsValid() || !HoldsPrivate(m.Descriptor()) || !walk(m, viewer, "", false) {
		return msg
	}
	c := proto.Clone(msg)
	walk(c.ProtoReflect(), viewer, "", true)
	return c
}

// walk finds (apply false: reports whether there is any) or clears (apply
// true) the fields of m that viewer may not read, subject being the person
// the enclosing messages name.
func walk(m protoreflect.Message, viewer auth.Principal, subject string, apply bool) bool {
	md := m.Descriptor()
	if !HoldsPrivate(md) {
		return false
	}
	if f := SubjectField(md); f != nil {
		subject = m.Get(f).String()
	}
	hidden := false
	fields := md.Fields()
	for i := 0; i < fields.Len(); i++ {
		fd := fields.Get(i)
		if !m.Has(fd) {
			continue
		}
		if r := ReadersOf(fd); r != nil && !May(r, viewer, subject) {
			if !apply {
				return true
			}
			m.Clear(fd)
			hidden = true
			continue
		}
		inner := contained(fd)
		if inner == nil || !HoldsPrivate(inner) {
			continue
		}
		var v protoreflect.Value
		if apply {
			v = m.Mutable(fd)
		} else {
			v = m.Get(fd)
		}
		switch {
		case fd.IsList():
			list := v.List()
			for j := 0; j < list.Len(); j++ {
				if walk(list.Get(j).Message(), viewer, subject, apply) {
					if !apply {
						return true
					}
					hidden = true
				}
			}
		case fd.IsMap():
			v.Map().Range(func(_ protoreflect.MapKey, value protoreflect.Value) bool {
				if walk(value.Message(), viewer, subject, apply) {
					hidden = true
				}
				return apply || !hidden
			})
			if hidden && !apply {
				return true
			}
		default:
			if walk(v.Message(), viewer, subject, apply) {
				if !apply {
					return true
				}
				hidden = true
			}
		}
	}
	return hidden
}
