package servicetest

import (
	"strings"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
)

// methodName is the method of a full method name
// ("/pkg.Service/Method" -> "Method").
func methodName(full string) string { return full[strings.LastIndex(full, "/")+1:] }

// covers fails, saying why ("names a resource that may be hidden, and has
// no case"), for every method of service that needs a case (needs says
// which do) and is neither among covered (the methods of the test's
// cases, by full name) nor among others (methods excused by name, each
// with why where the test lists it).
func covers(t *testing.T, service grpc.ServiceDesc, needs func(protoreflect.MethodDescriptor) bool, covered, others []string, why string) {
	t.Helper()
	d, err := protoregistry.GlobalFiles.FindDescriptorByName(protoreflect.FullName(service.ServiceName))
	if err != nil {
		t.Fatal(err)
	}
	have := map[string]bool{}
	for _, m := range others {
		have[m] = true
	}
	for _, m := range covered {
		have[methodName(m)] = true
	}
	methods := d.(protoreflect.ServiceDescriptor).Methods()
	for i := range methods.Len() {
		m := methods.Get(i)
		if needs(m) && !have[string(m.Name())] {
			t.Errorf("%s %s, and has no case", m.Name(), why)
		}
	}
}

// every method needs a case.
func every(protoreflect.MethodDescriptor) bool { return true }

// caseMethods are the full method names of sets of cases.
func caseMethods[C any](method func(C) string, sets ...[]C) []string {
	var out []string
	for _, set := range sets {
		for _, c := range set {
			out = append(out, method(c))
		}
	}
	return out
}
