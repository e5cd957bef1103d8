package servicetest

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"google.golang.org/genproto/googleapis/api/annotations"
	"google.golang.org/grpc"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
)

// Name is one resource name a message holds: the field that holds it
// (a path such as "officers[2].nomination"), the resource type the field
// refers to, and the name.
type Name struct {
	Field, Type, Value string
}

// Names knows the resources a service serves: every resource type with a
// Get method (GetX taking a name and returning X), and through it whether
// a caller may read one. A field names such a resource when it carries a
// google.api.resource_reference to its type, or is the identifier (name)
// of a message of that type.
type Names struct {
	service protoreflect.ServiceDescriptor
	getters map[string]protoreflect.MethodDescriptor
}

// NamesOf reads the resources of the service named serviceName (a full
// name such as chapterhouse.governance.v1.GovernanceService) from its
// registered descriptor.
func NamesOf(serviceName string) (*Names, error) {
	d, err := protoregistry.GlobalFiles.FindDescriptorByName(protoreflect.FullName(serviceName))
	if err != nil {
		return nil, fmt.Errorf("servicetest: service %s: %w", serviceName, err)
	}
	sd, ok := d.(protoreflect.ServiceDescriptor)
	if !ok {
		return nil, fmt.Errorf("servicetest: %s is not a service", serviceName)
	}
	n := &Names{service: sd, getters: map[string]protoreflect.MethodDescriptor{}}
	methods := sd.Methods()
	for i := range methods.Len() {
		m := methods.Get(i)
		typ := resourceType(m.Output())
		if typ == "" || string(m.Name()) != "Get"+string(m.Output().Name()) {
			continue
		}
		if f := m.Input().Fields().ByName("name"); f != nil && f.Kind() == protoreflect.StringKind && !f.IsList() {
			n.getters[typ] = m
		}
	}
	return n, nil
}

// resourceType is the google.api.resource type of message md, or "".
func resourceType(md protoreflect.MessageDescriptor) string {
	r, _ := proto.GetExtension(md.Options(), annotations.E_Resource).(*annotations.ResourceDescriptor)
	return r.GetType()
}

// referenceType is the resource type field fd refers to (its
// resource_reference's type, or child_type), or "".
func referenceType(fd protoreflect.FieldDescriptor) string {
	r, _ := proto.GetExtension(fd.Options(), annotations.E_ResourceReference).(*annotations.ResourceReference)
	if r.GetType() != "" {
		return r.GetType()
	}
	return r.GetChildType()
}

// Served reports whether the service has a Get method for resources of typ.
func (n *Names) Served(typ string) bool { _, ok := n.getters[typ]; return ok }

// In returns every name msg holds of a resource the service serves, in
// field order, looking into nested messages and lists of them.
func (n *Names) In(msg proto.Message) []Name {
	var all, out []Name
	walk(msg.ProtoReflect(), "", true, &all)
	for _, name := range all {
		if n.Served(name.Type) {
			out = append(out, name)
		}
	}
	return out
}

// References are every resource msg names, of any service: the values of
// its string fields, single or repeated, annotated
// google.api.resource_reference (type or child_type), in msg and every
// message under it (lists and maps of them too), empty ones left out.
func References(msg proto.Message) []Name {
	var out []Name
	walk(msg.ProtoReflect(), "", false, &out)
	return out
}

// walk collects the names m holds; with identifiers, a resource
// message's own name too.
func walk(m protoreflect.Message, prefix string, identifiers bool, out *[]Name) {
	self := resourceType(m.Descriptor())
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		path := prefix + string(fd.Name())
		switch {
		case fd.IsMap():
			if fd.MapValue().Kind() == protoreflect.MessageKind {
				v.Map().Range(func(k protoreflect.MapKey, mv protoreflect.Value) bool {
					walk(mv.Message(), fmt.Sprintf("%s[%v].", path, k.Interface()), identifiers, out)
					return true
				})
			}
		case fd.Kind() == protoreflect.MessageKind && fd.IsList():
			for i := range v.List().Len() {
				walk(v.List().Get(i).Message(), fmt.Sprintf("%s[%d].", path, i), identifiers, out)
			}
		case fd.Kind() == protoreflect.MessageKind:
			walk(v.Message(), path+".", identifiers, out)
		case fd.Kind() == protoreflect.StringKind:
			typ := referenceType(fd)
			if typ == "" && identifiers && fd.Name() == "name" {
				typ = self
			}
			if typ == "" {
				return true
			}
			if fd.IsList() {
				for i := range v.List().Len() {
					if s := v.List().Get(i).String(); s != "" {
						*out = append(*out, Name{Field: fmt.Sprintf("%s[%d]", path, i), Type: typ, Value: s})
					}
				}
			} else if s := v.String(); s != "" {
				*out = append(*out, Name{Field: path, Type: typ, Value: s})
			}
		}
		return true
	})
}

// Read reads name, a resource of typ, with the service's Get method as
// ctx's caller: nil when that caller may read it.
func (n *Names) Read(ctx context.Context, conn grpc.ClientConnInterface, typ, name string) error {
	m, ok := n.getters[typ]
	if !ok {
		return fmt.Errorf("servicetest: %s serves no Get for %s", n.service.FullName(), typ)
	}
	in, err := protoregistry.GlobalTypes.FindMessageByName(m.Input().FullName())
	if err != nil {
		return err
	}
	outType, err := protoregistry.GlobalTypes.FindMessageByName(m.Output().FullName())
	if err != nil {
		return err
	}
	req := in.New()
	req.Set(m.Input().Fields().ByName("name"), protoreflect.ValueOfString(name))
	method := "/" + string(n.service.FullName()) + "/" + string(m.Name())
	return conn.Invoke(context.WithValue(ctx, readingNames{}, true), method, req.Interface(), outType.New().Interface())
}

// Unreadable returns, for each name msg holds that ctx's caller may not
// read, what its Get answered. Hidden must answer exactly like missing one
// level down too: a response names nothing its caller would be told does
// not exist.
func (n *Names) Unreadable(ctx context.Context, conn grpc.ClientConnInterface, msg proto.Message) []string {
	var out []string
	seen := map[string]bool{}
	for _, name := range n.In(msg) {
		if seen[name.Value] {
			continue
		}
		seen[name.Value] = true
		if err := n.Read(ctx, conn, name.Type, name.Value); err != nil {
			out = append(out, fmt.Sprintf("%s = %s: %v", name.Field, name.Value, status.Convert(err).Message()))
		}
	}
	return out
}

// readingNames marks the Get calls the name check makes itself, so that
// their own responses are not checked again.
type readingNames struct{}

// nameCheck checks every successful response a client gets: each name it
// holds of a resource the called service serves is readable by the same
// caller. It learns each service's resources on its first call.
type nameCheck struct {
	mu    sync.Mutex
	names map[string]*Names
}

func (c *nameCheck) of(service string) (*Names, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if n, ok := c.names[service]; ok {
		return n, nil
	}
	n, err := NamesOf(service)
	if err != nil {
		return nil, err
	}
	c.names[service] = n
	return n, nil
}

func (c *nameCheck) check(t *testing.T, ctx context.Context, conn grpc.ClientConnInterface, method string, reply any) {
	msg, ok := reply.(proto.Message)
	if !ok || ctx.Value(readingNames{}) != nil {
		return
	}
	service := strings.TrimPrefix(method[:strings.LastIndex(method, "/")], "/")
	n, err := c.of(service)
	if err != nil {
		t.Errorf("%s: %v", method, err)
		return
	}
	if bad := n.Unreadable(ctx, conn, msg); len(bad) > 0 {
		t.Errorf("%s answered names its caller may not read (leave them out, or mask them):\n  %s", method, strings.Join(bad, "\n  "))
	}
}

// Naming is a resource one caller may not read and another may, as other
// methods' responses name it.
type Naming struct {
	// Hidden is the resource's name.
	Hidden string
	// Caller may not read Hidden; Seer may.
	Caller, Seer context.Context
}

// NamingCase is one call of a method whose response may name Naming.Hidden.
// Call makes whatever it needs under the caller it is given (a draft to
// amend, say) and returns the method's response.
type NamingCase struct {
	// Method is the full method name.
	Method string
	// Label tells apart several cases of one method.
	Label string
	Call  func(ctx context.Context) (proto.Message, error)
}

// HiddenNotNamed holds the rule for what a caller may not see one level
// down: a response to that caller leaves the hidden resource out (every
// name it holds is readable by the same caller), while the same call by
// one who may see it names it, so the case tests something.
func HiddenNotNamed(t *testing.T, conn grpc.ClientConnInterface, u Naming, cases []NamingCase) {
	t.Helper()
	for _, c := range cases {
		name := c.Method[strings.LastIndex(c.Method, "/")+1:]
		if c.Label != "" {
			name += " (" + c.Label + ")"
		}
		t.Run(name, func(t *testing.T) {
			service := strings.TrimPrefix(c.Method[:strings.LastIndex(c.Method, "/")], "/")
			n, err := NamesOf(service)
			if err != nil {
				t.Fatal(err)
			}
			seen, err := c.Call(u.Seer)
			if err != nil {
				t.Fatalf("as one who may see %s: %v", u.Hidden, err)
			}
			if !slices.ContainsFunc(n.In(seen), func(x Name) bool { return x.Value == u.Hidden }) {
				t.Fatalf("as one who may see %s, the response does not name it, so the case shows nothing: %v", u.Hidden, seen)
			}
			got, err := c.Call(u.Caller)
			if err != nil {
				t.Fatalf("as one who may not see %s: %v", u.Hidden, err)
			}
			if i := slices.IndexFunc(n.In(got), func(x Name) bool { return x.Value == u.Hidden }); i >= 0 {
				t.Errorf("the response to one who may not see it names %s in %s", u.Hidden, n.In(got)[i].Field)
			}
			if bad := n.Unreadable(u.Caller, conn, got); len(bad) > 0 {
				t.Errorf("the response names what its caller may not read:\n  %s", strings.Join(bad, "\n  "))
			}
		})
	}
}

// CoversNaming fails unless the cases hold one for every method of service
// whose response has a field referring to resources of typ (its own
// identifier aside), but others: the methods that answer only callers who
// may read every such resource, each with why in the caller's comment.
func CoversNaming(t *testing.T, service grpc.ServiceDesc, typ string, others []string, cases ...[]NamingCase) {
	t.Helper()
	covers(t, service, func(m protoreflect.MethodDescriptor) bool {
		return refersTo(m.Output(), typ, map[protoreflect.FullName]bool{})
	},
		caseMethods(func(c NamingCase) string { return c.Method }, cases...), others, "answers with names of "+typ)
}

// refersTo reports whether messages of md can hold, in some field, a
// reference to typ (identifiers of typ itself do not count).
func refersTo(md protoreflect.MessageDescriptor, typ string, visiting map[protoreflect.FullName]bool) bool {
	if visiting[md.FullName()] {
		return false
	}
	visiting[md.FullName()] = true
	fields := md.Fields()
	for i := range fields.Len() {
		fd := fields.Get(i)
		switch {
		case fd.Kind() == protoreflect.StringKind && referenceType(fd) == typ:
			return true
		case fd.Kind() == protoreflect.MessageKind && !fd.IsMap() && refersTo(fd.Message(), typ, visiting):
			return true
		}
	}
	return false
}
