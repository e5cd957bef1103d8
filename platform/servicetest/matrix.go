package servicetest

import (
	"context"
	"strings"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/tjsia/chapterhouse/platform/grpcserver"
)

// Role is a caller in an authorisation matrix: a person (Subject,
// "people/<id>") signed in with a provider token whose identity the
// fixture's table links to that person holding the static Roles (Running.As),
// or no token at all (Anonymous); with Service, another Chapterhouse
// service calling with its service credential on that person's behalf.
type Role struct {
	Name    string
	Subject string
	Roles   []string
	Service string
}

// Anonymous calls without a token.
var Anonymous = Role{Name: "anonymous"}

// Case is one row of a matrix: a call of one RPC and the roles it lets
// through.
type Case struct {
	// Method is the full method name, e.g.
	// membershipv1.MembershipService_CreateOrganization_FullMethodName.
	Method string
	// Label tells apart several cases of one method ("someone else").
	Label   string
	Allowed []Role
	Call    func(ctx context.Context) error
	// Refused, when set, recognises a refusal of the caller that is not a
	// permission error: the charter names who may propose a chair (G5) or
	// a secretary-general (G7), so a wrong proposer is a charter
	// violation, listed with the other broken rules.
	Refused func(err error) bool
}

// Matrix calls every case as every role and checks who is let through.
// Denied is UNAUTHENTICATED, PERMISSION_DENIED, or NOT_FOUND (the API
// answers a resource the caller may not see exactly as a missing one). It
// also holds the API's declarations: every method of service needs a case;
// an anonymous call of a method the proto does not declare public is
// UNAUTHENTICATED; a caller without a token is never PERMISSION_DENIED,
// since what it lacks is a credential (RFC 9110: UNAUTHENTICATED, where
// signing in may lift the refusal, or NOT_FOUND where the resource is
// hidden from it); and every error carries a known reason.
func Matrix(t *testing.T, service grpc.ServiceDesc, roles []Role, as func(Role) context.Context, cases []Case) {
	t.Helper()
	covered := map[string]bool{}
	for _, c := range cases {
		if !strings.HasPrefix(c.Method, "/"+service.ServiceName+"/") {
			t.Fatalf("case %s%s is not a method of %s", c.Method, c.Label, service.ServiceName)
		}
		covered[c.Method] = true
	}
	for _, m := range service.Methods {
		if full := "/" + service.ServiceName + "/" + m.MethodName; !covered[full] {
			t.Errorf("the matrix has no case for %s", full)
		}
	}
	for _, c := range cases {
		public := grpcserver.IsPublicMethod(c.Method)
		name := c.Method[strings.LastIndex(c.Method, "/")+1:]
		if c.Label != "" {
			name += " (" + c.Label + ")"
		}
		for _, r := range roles {
			t.Run(name+"/"+r.Name, func(t *testing.T) {
				allowed := false
				for _, a := range c.Allowed {
					allowed = allowed || a.Name == r.Name
				}
				err := c.Call(as(r))
				code := status.Code(err)
				if r.Subject == "" && !public && code != codes.Unauthenticated {
					t.Fatalf("without a token, on a method the proto does not declare public: %v, want UNAUTHENTICATED", err)
				}
				if r.Subject == "" && code == codes.PermissionDenied {
					t.Fatalf("without a token: %v; a refusal signing in may lift is UNAUTHENTICATED, and what is hidden NOT_FOUND", err)
				}
				denied := code == codes.PermissionDenied || code == codes.Unauthenticated || code == codes.NotFound ||
					(c.Refused != nil && err != nil && c.Refused(err))
				if allowed && denied {
					t.Fatalf("%s should be allowed: %v", r.Name, err)
				}
				if !allowed && !denied {
					t.Fatalf("%s should be denied: %v", r.Name, err)
				}
			})
		}
	}
}
