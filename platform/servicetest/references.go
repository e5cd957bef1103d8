package servicetest

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"google.golang.org/genproto/googleapis/api/annotations"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// Reference is a resource an answer names: the field that names it (a
// path such as "promotions[0].activity"), the resource type its
// google.api.resource_reference declares, and the name.
type Reference struct {
	Field, Type, Name string
}

// References are every resource m names: the values of its string fields,
// single or repeated, annotated google.api.resource_reference (type or
// child_type), in m and every message under it, empty ones left out.
func References(m proto.Message) []Reference {
	var out []Reference
	references(m.ProtoReflect(), "", &out)
	return out
}

func references(m protoreflect.Message, prefix string, out *[]Reference) {
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		path := prefix + string(fd.Name())
		switch {
		case fd.IsMap():
			if fd.MapValue().Kind() == protoreflect.MessageKind {
				v.Map().Range(func(k protoreflect.MapKey, mv protoreflect.Value) bool {
					references(mv.Message(), fmt.Sprintf("%s[%v].", path, k.Interface()), out)
					return true
				})
			}
		case fd.Kind() == protoreflect.MessageKind || fd.Kind() == protoreflect.GroupKind:
			if fd.IsList() {
				for i := range v.List().Len() {
					references(v.List().Get(i).Message(), fmt.Sprintf("%s[%d].", path, i), out)
				}
			} else {
				references(v.Message(), path+".", out)
			}
		case fd.Kind() == protoreflect.StringKind:
			typ := referenceType(fd)
			if typ == "" {
				break
			}
			if fd.IsList() {
				for i := range v.List().Len() {
					if name := v.List().Get(i).String(); name != "" {
						*out = append(*out, Reference{Field: fmt.Sprintf("%s[%d]", path, i), Type: typ, Name: name})
					}
				}
			} else if name := v.String(); name != "" {
				*out = append(*out, Reference{Field: path, Type: typ, Name: name})
			}
		}
		return true
	})
}

func referenceType(fd protoreflect.FieldDescriptor) string {
	r, _ := proto.GetExtension(fd.Options(), annotations.E_ResourceReference).(*annotations.ResourceReference)
	if r.GetType() != "" {
		return r.GetType()
	}
	return r.GetChildType()
}

// Seen is a caller whose answers must name only what it may read.
type Seen struct {
	// Caller is the caller's context; Label names it in failures.
	Caller context.Context
	Label  string
	// Read reads the resource name names, of type typ, as the caller
	// (ctx is Caller) would read it through its own API, and returns the
	// API's error (nil when read). A type it does not know is a test
	// failure of the caller's making: it returns an error saying so.
	Read func(ctx context.Context, typ, name string) error
}

// SeenCase is one call whose answer may name other resources.
type SeenCase struct {
	// Method is the full method name.
	Method string
	// Label tells apart several cases of one method.
	Label string
	// Call calls it as ctx's caller, and must succeed.
	Call func(ctx context.Context) (proto.Message, error)
}

// ReferencesSeen holds the API's rule for what a caller may not see one
// level down: an answer names only resources its caller may read, and
// leaves the others out (the field absent), since a name the caller then
// finds NOT_FOUND would tell it what a hidden resource's own answer does
// not. For every case it calls the method as s.Caller and reads every
// resource the answer names (References) as the same caller: NOT_FOUND
// fails the test, and so does any answer but success or UNAUTHENTICATED,
// which a caller without a token gets only where it sees what is asked
// for (a method that is not public, or a public one on a resource not
// hidden from it), and so tells it nothing new. It returns how many
// references it read, so a test can tell it checked something.
func ReferencesSeen(t *testing.T, s Seen, cases []SeenCase) int {
	t.Helper()
	read := 0
	for _, c := range cases {
		name := c.Method[strings.LastIndex(c.Method, "/")+1:]
		if c.Label != "" {
			name += " (" + c.Label + ")"
		}
		t.Run(s.Label+"/"+name, func(t *testing.T) {
			resp, err := c.Call(s.Caller)
			if err != nil {
				t.Fatalf("the call: %v", err)
			}
			for _, r := range References(resp) {
				read++
				switch err := s.Read(s.Caller, r.Type, r.Name); status.Code(err) {
				case codes.OK, codes.Unauthenticated:
				case codes.NotFound:
					t.Errorf("%s names %s (%s), which this caller reads as NOT_FOUND: leave it out", r.Field, r.Name, r.Type)
				default:
					t.Errorf("%s names %s (%s); reading it: %v", r.Field, r.Name, r.Type, err)
				}
			}
		})
	}
	return read
}

// CoversSeen fails unless the cases hold one for every method of service
// but others (methods whose answers name nothing a caller may not see,
// said why where they are listed).
func CoversSeen(t *testing.T, service grpc.ServiceDesc, others []string, cases ...[]SeenCase) {
	t.Helper()
	covered := map[string]bool{}
	for _, m := range others {
		covered[m] = true
	}
	for _, set := range cases {
		for _, c := range set {
			covered[c.Method[strings.LastIndex(c.Method, "/")+1:]] = true
		}
	}
	for _, m := range service.Methods {
		if !covered[m.MethodName] {
			t.Errorf("%s answers with names of other resources, and has no case", m.MethodName)
		}
	}
}
