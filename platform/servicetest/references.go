package servicetest

import (
	"context"
	"strings"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
)

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
// level down, across services (CheckNames holds it within one service, for
// every answer a test sees): an answer names only resources its caller may read, and
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
				switch err := s.Read(s.Caller, r.Type, r.Value); status.Code(err) {
				case codes.OK, codes.Unauthenticated:
				case codes.NotFound:
					t.Errorf("%s names %s (%s), which this caller reads as NOT_FOUND: leave it out", r.Field, r.Value, r.Type)
				default:
					t.Errorf("%s names %s (%s); reading it: %v", r.Field, r.Value, r.Type, err)
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
	covers(t, service, every, caseMethods(func(c SeenCase) string { return c.Method }, cases...), others,
		"answers with names of other resources")
}
