package servicetest

import (
	"context"
	"strings"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	"github.com/tjsia/chapterhouse/platform/apierr"
	"github.com/tjsia/chapterhouse/platform/grpcserver"
)

// Unseen is a resource some caller may not see, and a missing one of the
// same shape, as that caller calls them.
type Unseen struct {
	// Caller is the context of the caller who may not see Hidden;
	// Anonymous says it carries no token.
	Caller    context.Context
	Anonymous bool
	// Hidden exists, and the caller may not see it; Missing does not
	// exist. Both are names of the same collection.
	Hidden, Missing string
	// State dumps everything the service stores (e.g. miniredis's Dump):
	// it must not change across a case's two calls.
	State func() string
}

// UnseenCase is one method called on a name under a resource: parent is
// Unseen.Hidden or Unseen.Missing, and Call builds the rest of the
// request (a child's name under parent, a body) the same way for both.
type UnseenCase struct {
	// Method is the full method name.
	Method string
	// Label tells apart several cases of one method.
	Label string
	Call  func(ctx context.Context, parent string) error
	// Want is the code both calls must end in when set, NOT_FOUND
	// otherwise; for an anonymous caller of a method the proto does not
	// declare public it is UNAUTHENTICATED. A refusal that does not
	// depend on the resource (a token required, admins only) is the same
	// for both, and so tells nothing either.
	Want codes.Code
}

// HiddenAsMissing holds the API's rule for what a caller may not see:
// anything under such a resource is answered exactly as under a missing
// one. For every case it calls the method on the hidden resource and on
// the missing one, and fails unless both end in the case's code with the
// same status (code, message, reason and metadata; the details are
// compared whole) once the missing name is read as the hidden one, and
// unless nothing was written. One level down, an answer the caller does
// get must not name what is hidden from it either: ReferencesSeen.
func HiddenAsMissing(t *testing.T, u Unseen, cases []UnseenCase) {
	t.Helper()
	for _, c := range cases {
		name := c.Method[strings.LastIndex(c.Method, "/")+1:]
		if c.Label != "" {
			name += " (" + c.Label + ")"
		}
		t.Run(name, func(t *testing.T) {
			want := c.Want
			switch {
			case u.Anonymous && !grpcserver.IsPublicMethod(c.Method):
				want = codes.Unauthenticated
			case want == codes.OK:
				want = codes.NotFound
			}
			before := u.State()
			missing := c.Call(u.Caller, u.Missing)
			hidden := c.Call(u.Caller, u.Hidden)
			if after := u.State(); after != before {
				t.Errorf("the calls wrote to the store:\nbefore %s\nafter  %s", before, after)
			}
			if got := status.Code(missing); got != want {
				t.Fatalf("under the missing %s: %v, want %v", u.Missing, missing, want)
			}
			m, h := statusText(t, missing), statusText(t, hidden)
			if m = strings.ReplaceAll(m, u.Missing, u.Hidden); m != h {
				t.Fatalf("under the hidden %s the answer differs from under the missing %s (read with the hidden name):\nhidden  %s\nmissing %s", u.Hidden, u.Missing, h, m)
			}
		})
	}
}

// CoversHidden fails unless the cases hold one for every method of
// service but others, the methods whose requests name no resource that
// may be hidden (creating or listing from a public parent). Give it every
// set of cases the service's hidden resources are tested with.
func CoversHidden(t *testing.T, service grpc.ServiceDesc, others []string, cases ...[]UnseenCase) {
	t.Helper()
	covers(t, service, every, caseMethods(func(c UnseenCase) string { return c.Method }, cases...), others,
		"names a resource that may be hidden")
}

func statusText(t *testing.T, err error) string {
	t.Helper()
	b, err := protojson.Marshal(status.Convert(err).Proto())
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TakenID is a create, by a caller allowed to create, with a
// client-chosen id that Existing already holds, and a body that differs
// from it (so the create is no repeat).
type TakenID struct {
	// Method is the full method name.
	Method string
	// Label tells apart several cases of one method.
	Label  string
	Caller context.Context
	// Existing is the name of the resource holding the id.
	Existing string
	Call     func(ctx context.Context) error
}

// TakenIDs holds creates with a taken id to AIP-133, so that a caller
// never learns of a resource they may not see: a caller who may read the
// resource holding the id is told it is taken (ALREADY_EXISTS, naming
// it); anyone else is refused with PERMISSION_DENIED, as they would be
// for an id they may not use, and is told nothing of the resource.
func TakenIDs(t *testing.T, conn grpc.ClientConnInterface, cases []TakenID) {
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
			d, err := protoregistry.GlobalFiles.FindDescriptorByName(protoreflect.FullName(strings.ReplaceAll(strings.TrimPrefix(c.Method, "/"), "/", ".")))
			if err != nil {
				t.Fatal(err)
			}
			typ := resourceType(d.(protoreflect.MethodDescriptor).Output())
			readable := n.Read(c.Caller, conn, typ, c.Existing) == nil
			err = c.Call(c.Caller)
			info := apierr.Info(err)
			switch {
			case readable && (status.Code(err) != codes.AlreadyExists || info.GetMetadata()["resource"] != c.Existing):
				t.Fatalf("the caller may read %s, and the create with its id answered %v; want ALREADY_EXISTS naming it", c.Existing, err)
			case !readable && status.Code(err) != codes.PermissionDenied:
				t.Fatalf("the caller may not read %s, and the create with its id answered %v; want PERMISSION_DENIED (AIP-133)", c.Existing, err)
			case !readable && strings.Contains(statusText(t, err), c.Existing):
				t.Fatalf("the refusal names %s, which the caller may not read: %v", c.Existing, err)
			}
		})
	}
}

// CoversTakenIDs fails unless the cases hold one for every create of
// service that takes a client-chosen id (a request field ending in "_id").
func CoversTakenIDs(t *testing.T, service grpc.ServiceDesc, cases []TakenID) {
	t.Helper()
	covers(t, service, takesAnID, caseMethods(func(c TakenID) string { return c.Method }, cases), nil,
		"takes a client-chosen id")
}

// takesAnID: a Create whose request has a client-chosen id (a field
// ending in _id).
func takesAnID(m protoreflect.MethodDescriptor) bool {
	if !strings.HasPrefix(string(m.Name()), "Create") {
		return false
	}
	fields := m.Input().Fields()
	for j := range fields.Len() {
		if strings.HasSuffix(string(fields.Get(j).Name()), "_id") {
			return true
		}
	}
	return false
}
