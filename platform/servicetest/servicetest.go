// Package servicetest starts one service's Run in-process with real
// dependencies (telemetry SDK, token verifier, optional Redis) and checks
// the behaviour every Chapterhouse gRPC service shares: health, reflection,
// token verification, and the answer of a method it does not implement yet.
//
// Callers sign in as they do in production: with access tokens of an
// OpenID Connect provider (platform/auth/oidctest, over real HTTP), whose
// identities the service resolves to a person and roles through
// auth.Accounts. The fixture's Accounts is a table As fills, standing for
// membership's account links and role bindings; a token's own claims grant
// nothing.
package servicetest

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	reflectionpb "google.golang.org/grpc/reflection/grpc_reflection_v1"

	"github.com/tjsia/chapterhouse/platform/apierr"
	"github.com/tjsia/chapterhouse/platform/auth"
	"github.com/tjsia/chapterhouse/platform/auth/oidckeys"
	"github.com/tjsia/chapterhouse/platform/auth/oidctest"
	"github.com/tjsia/chapterhouse/platform/bootstrap"
	"github.com/tjsia/chapterhouse/platform/grpcserver"
	"github.com/tjsia/chapterhouse/platform/pagetoken"
	"github.com/tjsia/chapterhouse/platform/servicecall"
	"github.com/tjsia/chapterhouse/platform/telemetry"
)

// Running is a started service.
type Running struct {
	Conn     *grpc.ClientConn
	provider *oidctest.Provider
	accounts *accountTable
}

// fixture is what every started service shares: an OpenID Connect
// provider with a verifier that trusts it, the table that links its
// identities, the service call keys, telemetry, a loopback listener, and
// the checks its client makes.
type fixture struct {
	provider *oidctest.Provider
	verifier *auth.Verifier
	accounts *accountTable
	services *servicecall.Keys
	tel      *telemetry.Providers
	lis      net.Listener
	checks   checks
}

// actingKey marks a context whose calls another service makes: the
// connection's interceptor attaches that service's credential.
type actingKey struct{}

func newFixture(t *testing.T, name string, opts []Option) fixture {
	t.Helper()
	var c checks
	for _, o := range opts {
		o(&c)
	}
	provider := oidctest.New(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	issuer, err := oidckeys.DiscoverIssuer(ctx, provider.Issuer, oidckeys.Options{Logger: discardLogger()})
	if err != nil {
		t.Fatal(err)
	}
	// No static keys: the tokens the tests send are the provider's only,
	// as a deployment's are.
	verifier, err := auth.NewVerifier(nil, auth.DefaultIssuer, auth.DefaultAudience, auth.WithOIDCIssuers(issuer))
	if err != nil {
		issuer.Close()
		t.Fatal(err)
	}
	t.Cleanup(verifier.Close)
	tel, err := telemetry.New(context.Background(), telemetry.Config{ServiceName: name, Getenv: func(string) string { return "" }})
	if err != nil {
		t.Fatal(err)
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return fixture{provider: provider, verifier: verifier, accounts: newAccountTable(c.otherAccounts),
		services: servicecall.NewEphemeral(), tel: tel, lis: lis, checks: c}
}

// Option adds a check to the client of a started service, or changes how
// its callers are resolved (OtherAccounts).
type Option func(*checks)

type checks struct {
	reasons       *Reasons
	names         *nameCheck
	otherAccounts auth.Accounts
}

// OtherAccounts resolves the identities the fixture's table does not hold
// (those AsIdentity signs in with) through a: membership's own store, for
// the tests of its account links, so an identity that claimed an
// invitation is its person exactly as in production.
func OtherAccounts(a auth.Accounts) Option { return func(c *checks) { c.otherAccounts = a } }

// RecordReasons records every reason the service answers in r, for
// RunCheckingReasons.
func RecordReasons(r *Reasons) Option { return func(c *checks) { c.reasons = r } }

// CheckNames holds every successful response to the rule for what a
// caller may not see, one level down: each name it holds of a resource
// the service serves (a google.api.resource_reference to a type with a Get
// method, or a resource's own name) is read with that Get as the same
// caller, and the test fails when the caller may not read it.
func CheckNames() Option {
	return func(c *checks) { c.names = &nameCheck{names: map[string]*Names{}} }
}

// dial connects to the service; every error it returns is held to the
// API's contract (apierr.CheckReason): a reason outside the ErrorReason
// enum fails the test. The fixture's checks add more.
func (f fixture) dial(t *testing.T) *Running {
	t.Helper()
	c := f.checks
	conn, err := grpc.NewClient(f.lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithChainUnaryInterceptor(func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
			if service, ok := ctx.Value(actingKey{}).(string); ok {
				// As the service's own connection would (grpcclient.Config.Caller).
				caller := servicecall.Caller{Service: service, Keys: f.services}
				return caller.UnaryClientInterceptor()(ctx, method, req, reply, cc, invoker, opts...)
			}
			return invoker(ctx, method, req, reply, cc, opts...)
		}, func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
			err := invoker(ctx, method, req, reply, cc, opts...)
			if strings.HasPrefix(method, "/grpc.") {
				return err
			}
			if cerr := apierr.CheckReason(err); cerr != nil {
				t.Errorf("%s broke the error contract: %v", method, cerr)
			}
			if ctx.Value(readingNames{}) != nil {
				return err // the name check's own reads: not the tests' calls
			}
			if c.reasons != nil {
				c.reasons.record(method, err)
			}
			if c.names != nil && err == nil {
				c.names.check(t, ctx, cc, method, reply)
			}
			return err
		}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return &Running{Conn: conn, provider: f.provider, accounts: f.accounts}
}

// Start runs run on a loopback listener until the test ends, with a page
// token key of its own. rdb may be nil for services without a store. opts
// add checks to its client. The config's Accounts is the fixture's table,
// which the service's Run keeps instead of asking membership.
func Start(t *testing.T, name string, rdb redis.UniversalClient, run func(ctx context.Context, cfg bootstrap.ServiceConfig) error, opts ...Option) *Running {
	t.Helper()
	f := newFixture(t, name, opts)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	cfg := bootstrap.ServiceConfig{Deps: bootstrap.Deps{Logger: discardLogger(), Telemetry: f.tel, Redis: rdb, Verifier: f.verifier,
		PageTokens: pagetoken.NewEphemeral(), ServiceCalls: f.services}, Listener: f.lis, ConsumerName: "test", Accounts: f.accounts}
	go func() { done <- run(ctx, cfg) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("%s: Run returned %v after cancel", name, err)
			}
		case <-time.After(30 * time.Second):
			t.Errorf("%s: Run did not return after cancel", name)
		}
	})
	return f.dial(t)
}

// Serve runs a grpcserver with the real interceptors (authentication,
// validation, error contract) and the services register adds, on a
// loopback listener until the test ends, resolving callers through the
// fixture's table. opts add checks to its client.
func Serve(t *testing.T, name string, register func(s *grpc.Server), opts ...Option) *Running {
	t.Helper()
	f := newFixture(t, name, opts)
	srv, err := grpcserver.New(grpcserver.Config{Name: name, Logger: discardLogger(), Telemetry: f.tel, Verifier: f.verifier, Accounts: f.accounts, ServiceCalls: f.services})
	if err != nil {
		t.Fatal(err)
	}
	register(srv.GRPC())
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, f.lis) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("%s: Serve: %v", name, err)
		}
	})
	return f.dial(t)
}

// AsRole is a context carrying role's token (none for Anonymous), and,
// for a role a service plays, that service's credential.
func (r *Running) AsRole(t *testing.T, role Role) context.Context {
	t.Helper()
	ctx := r.As(t, role.Subject, role.Roles...)
	if role.Service != "" {
		ctx = context.WithValue(ctx, actingKey{}, role.Service)
	}
	return ctx
}

// As returns a context carrying an access token of the fixture's provider
// for subject, a person ("people/<id>"), holding roles; "" is no token.
// The token's identity is one of its own for each person and role set
// (identitySubject), which As links to subject with roles in the
// fixture's table, as membership's account link and role bindings would:
// the service learns both from its Accounts, not from the token.
func (r *Running) As(t *testing.T, subject string, roles ...string) context.Context {
	t.Helper()
	if subject == "" {
		return r.callContext(t)
	}
	sub, sorted, err := identitySubject(subject, roles)
	if err != nil {
		t.Fatal(err)
	}
	r.accounts.link(auth.Identity{Issuer: r.provider.Issuer, Subject: sub}, subject, sorted)
	return r.withToken(t, sub)
}

// AsIdentity returns a context carrying an access token of the fixture's
// provider for its identity subject, which the fixture's table does not
// link: a sign-in that is nobody until an account link says otherwise
// (OtherAccounts). subject may not have the form of As's identities.
func (r *Running) AsIdentity(t *testing.T, subject string) context.Context {
	t.Helper()
	if subject == "" || isTableSubject(subject) {
		t.Fatalf("AsIdentity(%q): give a subject that is not empty and does not start with \"[\", the form of As's identities", subject)
	}
	return r.withToken(t, subject)
}

// Issuer is the issuer URL of the fixture's provider: the issuer of the
// identities As and AsIdentity sign in with.
func (r *Running) Issuer() string { return r.provider.Issuer }

// callContext is a context for one test's calls, bounded so a hung call
// fails the test instead of stalling it.
func (r *Running) callContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// withToken is a call context carrying the provider's access token for
// the identity subject, audience Chapterhouse.
func (r *Running) withToken(t *testing.T, subject string) context.Context {
	t.Helper()
	tok := r.provider.Token(t, subject, auth.DefaultAudience, nil)
	return metadata.AppendToOutgoingContext(r.callContext(t), "authorization", "Bearer "+tok)
}

// CheckHealthAndReflection waits for SERVING and checks that reflection
// lists service (a full name such as chapterhouse.governance.v1.GovernanceService).
func (r *Running) CheckHealthAndReflection(t *testing.T, service string) {
	t.Helper()
	health := healthpb.NewHealthClient(r.Conn)
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := health.Check(r.As(t, ""), &healthpb.HealthCheckRequest{Service: service})
		if err == nil && resp.GetStatus() == healthpb.HealthCheckResponse_SERVING {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("health of %s: %v %v", service, resp, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	stream, err := reflectionpb.NewServerReflectionClient(r.Conn).ServerReflectionInfo(r.As(t, ""))
	if err != nil {
		t.Fatal(err)
	}
	if err := stream.Send(&reflectionpb.ServerReflectionRequest{MessageRequest: &reflectionpb.ServerReflectionRequest_ListServices{}}); err != nil {
		t.Fatal(err)
	}
	resp, err := stream.Recv()
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range resp.GetListServicesResponse().GetService() {
		if s.GetName() == service {
			return
		}
	}
	t.Fatalf("reflection does not list %s: %v", service, resp)
}

// AdminSubject is the subject used for admin calls.
const AdminSubject = "people/admin"

// Admin is a context with the token of AdminSubject, whom the table
// grants the admin role.
func (r *Running) Admin(t *testing.T) context.Context {
	return r.As(t, AdminSubject, auth.RoleAdmin)
}
