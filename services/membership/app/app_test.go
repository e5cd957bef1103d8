package app_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/tjsia/chapterhouse/platform/apierr"
	"github.com/tjsia/chapterhouse/platform/auth"
	"github.com/tjsia/chapterhouse/platform/bootstrap"
	"github.com/tjsia/chapterhouse/platform/redistest"
	"github.com/tjsia/chapterhouse/platform/servicetest"
	governancev1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/governance/v1"
	membershipv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/membership/v1"

	"github.com/tjsia/chapterhouse/services/membership/app"

	gstreams "github.com/tjsia/chapterhouse/contracts/governance/streams"
)

// TestRun: the assembled service serves health, reflection and its API,
// verifies tokens, and stops cleanly (servicetest checks Run returns nil).
func TestRun(t *testing.T) {
	mr := miniredis.RunT(t)
	rdb := redis.NewClient(&redis.Options{Addr: mr.Addr()})
	t.Cleanup(func() { rdb.Close() })
	svc := servicetest.Start(t, app.Name, rdb, func(ctx context.Context, cfg bootstrap.ServiceConfig) error {
		return app.Run(ctx, app.Config{ServiceConfig: cfg})
	}, servicetest.CheckNames())
	svc.CheckHealthAndReflection(t, "chapterhouse.membership.v1.MembershipService")
	c := membershipv1.NewMembershipServiceClient(svc.Conn)
	if _, err := c.ListOrganizations(svc.As(t, ""), &membershipv1.ListOrganizationsRequest{}); status.Code(err) != codes.Unauthenticated {
		t.Fatalf("without a token: %v", err)
	}
	org, err := c.CreateOrganization(svc.Admin(t), &membershipv1.CreateOrganizationRequest{Organization: &membershipv1.Organization{DisplayName: "X", CreditCode: "91120116MA05JR7Q0E"}})
	if err != nil || org.GetCreditCode() != "91120116MA05JR7Q0E" {
		t.Fatalf("create: %v %v", org, err)
	}

	// Branches are governance's: none is known until its BranchCreated
	// arrives on governance's branches stream.
	list := func() error {
		_, err := c.ListMembers(svc.Admin(t), &membershipv1.ListMembersRequest{Parent: "branches/ai"})
		return err
	}
	if err := list(); status.Code(err) != codes.NotFound {
		t.Fatalf("members of a branch governance never created: %v, want NOT_FOUND", err)
	}
	if err := gstreams.AnnounceBranch(context.Background(), rdb, &governancev1.Branch{Name: "branches/ai", DisplayName: "人工智能分会"}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for err := list(); err != nil; err = list() {
		if time.Now().After(deadline) {
			t.Fatalf("branch still unknown 5s after governance created it: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestRedisDownSaysWhatHappened: with the service's redis-server killed, a
// read is 503 DEPENDENCY_UNAVAILABLE (it changed nothing) and a write is
// 503 OUTCOME_UNKNOWN (retry with the same Idempotency-Key), not 500
// INTERNAL, and neither names the server's address.
func TestRedisDownSaysWhatHappened(t *testing.T) {
	server := redistest.Start(t)
	rdb := server.Client()
	t.Cleanup(func() { rdb.Close() })
	svc := servicetest.Start(t, app.Name, rdb, func(ctx context.Context, cfg bootstrap.ServiceConfig) error {
		return app.Run(ctx, app.Config{ServiceConfig: cfg})
	}, servicetest.CheckNames())
	c := membershipv1.NewMembershipServiceClient(svc.Conn)
	if _, err := c.CreateOrganization(svc.Admin(t), &membershipv1.CreateOrganizationRequest{Organization: &membershipv1.Organization{DisplayName: "X", CreditCode: "91120116MA05JR7Q0E"}}); err != nil {
		t.Fatal(err)
	}
	if err := server.Kill(); err != nil {
		t.Fatal(err)
	}
	_, writeErr := c.CreateOrganization(svc.Admin(t), &membershipv1.CreateOrganizationRequest{Organization: &membershipv1.Organization{DisplayName: "Y", CreditCode: "91120116MA05Q7EX1T"}})
	_, readErr := c.GetOrganization(svc.Admin(t), &membershipv1.GetOrganizationRequest{Name: "organizations/nobody"})
	for _, tc := range []struct {
		name   string
		err    error
		reason string
	}{{"write", writeErr, "OUTCOME_UNKNOWN"}, {"read", readErr, "DEPENDENCY_UNAVAILABLE"}} {
		st := status.Convert(tc.err)
		if st.Code() != codes.Unavailable || apierr.ReasonOf(tc.err).String() != tc.reason {
			t.Errorf("%s with Redis down: %v, want UNAVAILABLE %s", tc.name, tc.err, tc.reason)
		}
		if strings.Contains(st.Message(), server.Addr) {
			t.Errorf("%s: the store's address reached the client: %s", tc.name, st.Message())
		}
	}
}

// TestFirstAdminIdentityFromConfiguration: AUTH_FIRST_ADMIN_ISSUER and
// AUTH_FIRST_ADMIN_SUBJECT come together, beside AUTH_FIRST_ADMIN, with an
// issuer the services trust; anything else is refused at start.
func TestFirstAdminIdentityFromConfiguration(t *testing.T) {
	const issuer = "https://sso.example.org/realms/tjsia"
	cases := []struct {
		name    string
		env     map[string]string
		refused bool
	}{
		{"issuer and subject", map[string]string{"AUTH_FIRST_ADMIN": "people/alice", "AUTH_FIRST_ADMIN_ISSUER": issuer, "AUTH_FIRST_ADMIN_SUBJECT": "f4c1"}, false},
		{"neither", map[string]string{"AUTH_FIRST_ADMIN": "people/alice"}, false},
		{"issuer alone", map[string]string{"AUTH_FIRST_ADMIN": "people/alice", "AUTH_FIRST_ADMIN_ISSUER": issuer}, true},
		{"subject alone", map[string]string{"AUTH_FIRST_ADMIN": "people/alice", "AUTH_FIRST_ADMIN_SUBJECT": "f4c1"}, true},
		{"no person", map[string]string{"AUTH_FIRST_ADMIN_ISSUER": issuer, "AUTH_FIRST_ADMIN_SUBJECT": "f4c1"}, true},
		{"an issuer not trusted", map[string]string{"AUTH_FIRST_ADMIN": "people/alice", "AUTH_FIRST_ADMIN_ISSUER": "https://other.example.org", "AUTH_FIRST_ADMIN_SUBJECT": "f4c1"}, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			getenv := func(k string) string {
				switch k {
				case "LISTEN_ADDR":
					return "127.0.0.1:0"
				case "AUTH_OIDC_ISSUERS":
					return issuer
				}
				return tc.env[k]
			}
			cfg, err := app.ConfigFromEnv(getenv, bootstrap.Deps{})
			if (err != nil) != tc.refused {
				t.Fatalf("refused: %v, want %v", err, tc.refused)
			}
			if err != nil {
				return
			}
			cfg.Listener.Close()
			if want := (auth.Identity{Issuer: tc.env["AUTH_FIRST_ADMIN_ISSUER"], Subject: tc.env["AUTH_FIRST_ADMIN_SUBJECT"]}); cfg.FirstAdminIdentity != want {
				t.Fatalf("identity %+v, want %+v", cfg.FirstAdminIdentity, want)
			}
		})
	}
}

// TestFirstAdminFromConfiguration: AUTH_FIRST_ADMIN names a person,
// people/<id>, or the configuration is refused; Run grants that person the
// admin role once, by "system", when no admin binding exists.
func TestFirstAdminFromConfiguration(t *testing.T) {
	env := func(v string) func(string) string {
		return func(k string) string {
			switch k {
			case "AUTH_FIRST_ADMIN":
				return v
			case "LISTEN_ADDR":
				return "127.0.0.1:0"
			}
			return ""
		}
	}
	if _, err := app.ConfigFromEnv(env("alice"), bootstrap.Deps{}); err == nil {
		t.Error("AUTH_FIRST_ADMIN=alice accepted")
	}
	cfg, err := app.ConfigFromEnv(env("people/alice"), bootstrap.Deps{})
	if err != nil || cfg.FirstAdmin != "people/alice" {
		t.Fatalf("AUTH_FIRST_ADMIN=people/alice: %+v %v", cfg.FirstAdmin, err)
	}
	cfg.Listener.Close()

	mr := miniredis.RunT(t)
	rdb := redis.NewClient(&redis.Options{Addr: mr.Addr()})
	t.Cleanup(func() { rdb.Close() })
	svc := servicetest.Start(t, app.Name, rdb, func(ctx context.Context, cfg bootstrap.ServiceConfig) error {
		return app.Run(ctx, app.Config{ServiceConfig: cfg, FirstAdmin: "people/alice"})
	})
	c := membershipv1.NewMembershipServiceClient(svc.Conn)
	var list *membershipv1.ListRoleBindingsResponse
	deadline := time.Now().Add(5 * time.Second)
	for list, err = c.ListRoleBindings(svc.Admin(t), &membershipv1.ListRoleBindingsRequest{}); err != nil && time.Now().Before(deadline); {
		time.Sleep(50 * time.Millisecond)
		list, err = c.ListRoleBindings(svc.Admin(t), &membershipv1.ListRoleBindingsRequest{})
	}
	if err != nil || len(list.GetRoleBindings()) != 1 {
		t.Fatalf("role bindings after start: %v %v", list, err)
	}
	rb := list.GetRoleBindings()[0]
	if rb.GetPerson() != "people/alice" || rb.GetRole() != membershipv1.Role_ROLE_ADMIN || rb.GetGranter() != "system" || rb.GetReason() != "first admin from configuration" {
		t.Fatalf("the first admin's binding: %v", rb)
	}
}

// TestLinkVerifiedEmailFromConfiguration: AUTH_LINK_VERIFIED_EMAIL is off
// unless set to exactly "true"; anything but true, false or unset is
// refused at start, so a typo neither turns the link on nor leaves it off
// unnoticed.
func TestLinkVerifiedEmailFromConfiguration(t *testing.T) {
	for v, want := range map[string]struct{ on, refused bool }{
		"": {false, false}, "false": {false, false}, "true": {true, false},
		"TRUE": {refused: true}, "1": {refused: true}, "yes": {refused: true}, " true": {refused: true}, "on": {refused: true},
	} {
		getenv := func(k string) string {
			switch k {
			case "LISTEN_ADDR":
				return "127.0.0.1:0"
			case "AUTH_LINK_VERIFIED_EMAIL":
				return v
			}
			return ""
		}
		cfg, err := app.ConfigFromEnv(getenv, bootstrap.Deps{})
		if (err != nil) != want.refused {
			t.Errorf("AUTH_LINK_VERIFIED_EMAIL=%q: refused %v, want %v", v, err, want.refused)
			continue
		}
		if err != nil {
			continue
		}
		cfg.Listener.Close()
		if cfg.LinkVerifiedEmail != want.on {
			t.Errorf("AUTH_LINK_VERIFIED_EMAIL=%q: on %v, want %v", v, cfg.LinkVerifiedEmail, want.on)
		}
	}
}
