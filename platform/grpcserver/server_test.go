package grpcserver_test

import (
	"context"
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/genproto/googleapis/type/date"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/tjsia/chapterhouse/platform/apierr"
	"github.com/tjsia/chapterhouse/platform/auth"
	"github.com/tjsia/chapterhouse/platform/grpcserver"
	"github.com/tjsia/chapterhouse/platform/idempotency"
	"github.com/tjsia/chapterhouse/platform/redistest"
	"github.com/tjsia/chapterhouse/platform/redistx"
	"github.com/tjsia/chapterhouse/platform/servicecall"
	"github.com/tjsia/chapterhouse/platform/servicetest"
	"github.com/tjsia/chapterhouse/platform/telemetry"
	activitiesv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/activities/v1"
	apiv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/api/v1"
	membershipv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/membership/v1"
	standardsv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/standards/v1"
)

// fakeMembership gives the server unary methods to call.
type fakeMembership struct {
	membershipv1.UnimplementedMembershipServiceServer

	mu         sync.Mutex
	creates    int
	principals []auth.Principal // seen by GetOrganization (zero value if none)
	authed     []bool
}

func (f *fakeMembership) GetOrganization(ctx context.Context, req *membershipv1.GetOrganizationRequest) (*membershipv1.Organization, error) {
	if req.GetName() == "organizations/panic" {
		panic("handler exploded")
	}
	p, ok := auth.FromContext(ctx)
	f.mu.Lock()
	f.principals = append(f.principals, p)
	f.authed = append(f.authed, ok)
	f.mu.Unlock()
	return &membershipv1.Organization{Name: req.GetName(), DisplayName: p.Subject}, nil
}

func (f *fakeMembership) CreateOrganization(ctx context.Context, req *membershipv1.CreateOrganizationRequest) (*membershipv1.Organization, error) {
	f.mu.Lock()
	f.creates++
	n := f.creates
	f.mu.Unlock()
	switch req.GetOrganizationId() {
	case "fails":
		return nil, apierr.InvalidTransition("organizations/fails", "create", "REFUSED")
	case "panics":
		panic("create exploded")
	}
	return &membershipv1.Organization{
		Name:        fmt.Sprintf("organizations/%s-%d", req.GetOrganizationId(), n),
		DisplayName: req.GetOrganization().GetDisplayName(),
	}, nil
}

// fakeActivities has a method the protos declare public (GetActivity) and
// one they do not (CreateActivity).
type fakeActivities struct {
	activitiesv1.UnimplementedActivitiesServiceServer

	mu         sync.Mutex
	authed     []bool
	identities []auth.Identity // seen by GetActivity (zero value if none)
}

func (f *fakeActivities) GetActivity(ctx context.Context, req *activitiesv1.GetActivityRequest) (*activitiesv1.Activity, error) {
	_, ok := auth.FromContext(ctx)
	id, _ := auth.IdentityFromContext(ctx)
	f.mu.Lock()
	f.authed = append(f.authed, ok)
	f.identities = append(f.identities, id)
	f.mu.Unlock()
	switch req.GetName() {
	case "branches/ai/activities/bare-status":
		return nil, status.Error(codes.NotFound, "gone")
	case "branches/ai/activities/go-error":
		return nil, errors.New("redis: connection refused to 10.0.0.7:6379")
	case "branches/ai/activities/store-down":
		return nil, fmt.Errorf("store: %w", storeRefused)
	}
	return &activitiesv1.Activity{Name: req.GetName()}, nil
}

func (f *fakeActivities) CreateActivity(ctx context.Context, req *activitiesv1.CreateActivityRequest) (*activitiesv1.Activity, error) {
	switch req.GetActivity().GetTitle() {
	case "store-down":
		return nil, apierr.WithCause(apierr.Internal(), fmt.Errorf("store: %w", storeRefused))
	case "waits":
		// A store call that ends with the call's context, as go-redis's do.
		<-ctx.Done()
		return nil, fmt.Errorf("redistx: commit: %w", ctx.Err())
	}
	return &activitiesv1.Activity{}, nil
}

// storeRefused is what go-redis returns when Redis refuses connections.
var storeRefused = &net.OpError{Op: "dial", Net: "tcp", Addr: &net.TCPAddr{IP: net.IPv4(10, 0, 0, 7), Port: 6379}, Err: syscall.ECONNREFUSED}

func (f *fakeMembership) createCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.creates
}

type harness struct {
	client     membershipv1.MembershipServiceClient
	activities activitiesv1.ActivitiesServiceClient
	fakeAct    *fakeActivities
	standards  standardsv1.StandardsServiceClient
	fakeStd    *fakeStandards
	health     healthpb.HealthClient
	fake       *fakeMembership
	signer     *auth.Signer
	cancel     context.CancelFunc
	served     chan error
	tokenOf    func(subject string) string
	bindings   *tokenRoles
}

// tokenRoles is membership answering who a static-key token's caller is:
// the person it names, with the roles bound to them when the token was
// minted (tokenOf grants admin), since the token's roles claim grants
// nothing. Keyed by token, so one person's two tokens can stand for the
// person before and after a role was revoked.
type tokenRoles struct {
	mu    sync.Mutex
	roles map[string][]string
}

func (b *tokenRoles) grant(token string, roles ...string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.roles[token] = roles
}

func (b *tokenRoles) Linked(_ context.Context, p auth.Principal) (auth.Linked, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return auth.Linked{Person: p.Subject, Roles: b.roles[p.Token]}, nil
}

func start(t *testing.T, mod func(*grpcserver.Config)) *harness {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	signer := auth.NewSigner(priv, auth.DefaultIssuer, auth.DefaultAudience)
	verifier, err := auth.NewVerifier([]crypto.PublicKey{signer.PublicKey()}, auth.DefaultIssuer, auth.DefaultAudience)
	if err != nil {
		t.Fatal(err)
	}
	tel, err := telemetry.New(context.Background(), telemetry.Config{ServiceName: "test", Getenv: func(string) string { return "" }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tel.Shutdown(context.Background()) })
	cfg := grpcserver.Config{
		Name:      "test",
		Logger:    slog.New(slog.NewTextHandler(io.Discard, nil)),
		Telemetry: tel,
		Verifier:  verifier,
	}
	bindings := &tokenRoles{roles: map[string][]string{}}
	cfg.Accounts = bindings
	if mod != nil {
		mod(&cfg)
	}
	srv, err := grpcserver.New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	fake := &fakeMembership{}
	membershipv1.RegisterMembershipServiceServer(srv.GRPC(), fake)
	fakeAct := &fakeActivities{}
	activitiesv1.RegisterActivitiesServiceServer(srv.GRPC(), fakeAct)
	fakeStd := &fakeStandards{}
	standardsv1.RegisterStandardsServiceServer(srv.GRPC(), fakeStd)

	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ctx, lis) }()

	conn, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{
		client:     membershipv1.NewMembershipServiceClient(conn),
		activities: activitiesv1.NewActivitiesServiceClient(conn),
		fakeAct:    fakeAct,
		standards:  standardsv1.NewStandardsServiceClient(conn),
		fakeStd:    fakeStd,
		health:     healthpb.NewHealthClient(conn),
		fake:       fake, signer: signer, cancel: cancel, served: served, bindings: bindings,
	}
	h.tokenOf = func(subject string) string {
		tok, err := signer.Sign(subject, []string{auth.RoleAdmin}, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		bindings.grant(tok, auth.RoleAdmin)
		return tok
	}
	t.Cleanup(func() {
		cancel()
		_ = conn.Close()
		select {
		case err := <-served:
			if err != nil {
				t.Errorf("Serve: %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Error("Serve did not return after cancel")
		}
	})
	return h
}

func withToken(ctx context.Context, tok string) context.Context {
	return metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+tok)
}

func errorInfo(err error) *errdetails.ErrorInfo {
	for _, d := range status.Convert(err).Details() {
		if info, ok := d.(*errdetails.ErrorInfo); ok {
			return info
		}
	}
	return nil
}

func TestAuthentication(t *testing.T) {
	h := start(t, nil)
	expired, err := h.signer.Sign("people/alice", nil, -time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	valid := h.tokenOf("people/alice")
	tests := []struct {
		name     string
		md       []string
		wantCode codes.Code
	}{
		{"no token", nil, codes.Unauthenticated},
		{"garbage token", []string{"authorization", "Bearer not.a.jwt"}, codes.Unauthenticated},
		{"expired token", []string{"authorization", "Bearer " + expired}, codes.Unauthenticated},
		{"not a bearer scheme", []string{"authorization", "Basic " + valid}, codes.Unauthenticated},
		{"valid token", []string{"authorization", "Bearer " + valid}, codes.OK},
		{"lower-case scheme", []string{"authorization", "bearer " + valid}, codes.OK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := metadata.AppendToOutgoingContext(context.Background(), tt.md...)
			org, err := h.client.GetOrganization(ctx, &membershipv1.GetOrganizationRequest{Name: "organizations/o1"})
			if code := status.Code(err); code != tt.wantCode {
				t.Fatalf("code = %v (%v), want %v", code, err, tt.wantCode)
			}
			if tt.wantCode != codes.OK {
				if info := errorInfo(err); info == nil || info.GetReason() != "UNAUTHENTICATED" {
					t.Errorf("ErrorInfo = %v, want reason UNAUTHENTICATED", info)
				}
				return
			}
			if org.GetDisplayName() != "people/alice" {
				t.Errorf("handler saw subject %q, want people/alice", org.GetDisplayName())
			}
		})
	}
	// Only the two valid calls reached the handler, each with the principal.
	h.fake.mu.Lock()
	defer h.fake.mu.Unlock()
	if len(h.fake.principals) != 2 {
		t.Fatalf("handler called %d times, want 2", len(h.fake.principals))
	}
	for _, p := range h.fake.principals {
		if p.Subject != "people/alice" || !p.IsAdmin() || p.Token != valid {
			t.Errorf("principal = %+v", p)
		}
	}
}

// TestPublicMethods: the (chapterhouse.api.v1.public) method option, and
// nothing else, decides which methods need no token.
func TestPublicMethods(t *testing.T) {
	h := start(t, nil)
	ctx := context.Background()
	if !grpcserver.IsPublicMethod(activitiesv1.ActivitiesService_GetActivity_FullMethodName) ||
		grpcserver.IsPublicMethod(activitiesv1.ActivitiesService_CreateActivity_FullMethodName) {
		t.Fatal("the proto option is not read as declared")
	}
	// Public: callable anonymously, with no principal.
	if _, err := h.activities.GetActivity(ctx, &activitiesv1.GetActivityRequest{Name: "branches/ai/activities/a1"}); err != nil {
		t.Fatalf("anonymous public call: %v", err)
	}
	// A token that is present must still be valid.
	_, err := h.activities.GetActivity(withToken(ctx, "garbage"), &activitiesv1.GetActivityRequest{Name: "branches/ai/activities/a1"})
	if status.Code(err) != codes.Unauthenticated {
		t.Fatalf("public call with bad token: code %v, want Unauthenticated", status.Code(err))
	}
	// Other methods stay protected.
	_, err = h.activities.CreateActivity(ctx, &activitiesv1.CreateActivityRequest{Parent: "branches/ai"})
	if status.Code(err) != codes.Unauthenticated {
		t.Fatalf("non-public call: code %v, want Unauthenticated", status.Code(err))
	}
	if _, err := h.client.GetOrganization(ctx, &membershipv1.GetOrganizationRequest{Name: "organizations/o1"}); status.Code(err) != codes.Unauthenticated {
		t.Fatalf("membership read without the option: code %v, want Unauthenticated", status.Code(err))
	}
	h.fakeAct.mu.Lock()
	defer h.fakeAct.mu.Unlock()
	if len(h.fakeAct.authed) != 1 || h.fakeAct.authed[0] {
		t.Fatalf("handler calls/authenticated = %v, want one anonymous call", h.fakeAct.authed)
	}
}

// TestEveryErrorHasAReason: bare statuses and Go errors from handlers leave
// the server as Chapterhouse errors, and a Go error's text (which may name
// internal addresses) is not sent.
func TestEveryErrorHasAReason(t *testing.T) {
	h := start(t, nil)
	ctx := context.Background()
	tests := []struct {
		name   string
		code   codes.Code
		reason string
	}{
		{"bare-status", codes.NotFound, "NOT_FOUND"},
		{"go-error", codes.Internal, "INTERNAL"},
	}
	for _, tt := range tests {
		_, err := h.activities.GetActivity(ctx, &activitiesv1.GetActivityRequest{Name: "branches/ai/activities/" + tt.name})
		if status.Code(err) != tt.code || errorInfo(err).GetReason() != tt.reason {
			t.Errorf("%s: %v, want %v %s", tt.name, err, tt.code, tt.reason)
		}
		if err := apierr.CheckReason(err); err != nil {
			t.Errorf("%s: %v", tt.name, err)
		}
		if strings.Contains(status.Convert(err).Message(), "10.0.0.7") {
			t.Errorf("%s: internal detail sent to the client: %v", tt.name, err)
		}
	}
}

// TestStoreDownSaysWhatHappened: a read that met an unreachable Redis
// changed nothing (503 DEPENDENCY_UNAVAILABLE); a write may have been
// applied (503 OUTCOME_UNKNOWN: retry with the same key). Neither names the
// store's address.
func TestStoreDownSaysWhatHappened(t *testing.T) {
	h := start(t, nil)
	ctx := withToken(context.Background(), h.tokenOf("people/alice"))
	_, readErr := h.activities.GetActivity(ctx, &activitiesv1.GetActivityRequest{Name: "branches/ai/activities/store-down"})
	_, writeErr := h.activities.CreateActivity(ctx, &activitiesv1.CreateActivityRequest{Parent: "branches/ai",
		Activity: &activitiesv1.Activity{Title: "store-down", Kind: activitiesv1.ActivityKind_ACTIVITY_KIND_TRAINING, Audience: activitiesv1.Audience_AUDIENCE_PUBLIC}})
	for _, tc := range []struct {
		name   string
		err    error
		reason apiv1.ErrorReason
	}{{"read", readErr, apiv1.ErrorReason_DEPENDENCY_UNAVAILABLE}, {"write", writeErr, apiv1.ErrorReason_OUTCOME_UNKNOWN}} {
		if status.Code(tc.err) != codes.Unavailable || errorInfo(tc.err).GetReason() != tc.reason.String() {
			t.Errorf("%s: %v, want UNAVAILABLE %s", tc.name, tc.err, tc.reason)
		}
		if strings.Contains(status.Convert(tc.err).Message(), "10.0.0.7") {
			t.Errorf("%s: the store's address reached the client: %v", tc.name, tc.err)
		}
	}
}

// TestRequestsAreValidated: the protos' buf.validate rules refuse a bad
// request before the handler runs, listing every bad field in the usual
// INVALID_ARGUMENT body.
func TestRequestsAreValidated(t *testing.T) {
	h := start(t, nil)
	ctx := withToken(context.Background(), h.tokenOf("people/alice"))
	_, err := h.client.CreateOrganization(ctx, &membershipv1.CreateOrganizationRequest{
		OrganizationId: "Not_An_Id",
		Organization:   &membershipv1.Organization{DisplayName: strings.Repeat("名", 201)},
	})
	if status.Code(err) != codes.InvalidArgument || errorInfo(err).GetReason() != "INVALID_ARGUMENT" {
		t.Fatalf("bad request: %v", err)
	}
	var fields []string
	for _, d := range status.Convert(err).Details() {
		if br, ok := d.(*errdetails.BadRequest); ok {
			for _, v := range br.GetFieldViolations() {
				fields = append(fields, v.GetField())
			}
		}
	}
	if strings.Join(fields, ",") != "organization.display_name,organization_id" && strings.Join(fields, ",") != "organization_id,organization.display_name" {
		t.Fatalf("field violations = %v", fields)
	}
	if h.fake.createCount() != 0 {
		t.Fatal("the handler ran for an invalid request")
	}
}

func TestHealthIsPublicAndServing(t *testing.T) {
	h := start(t, nil)
	for _, service := range []string{"", "chapterhouse.membership.v1.MembershipService"} {
		resp, err := h.health.Check(context.Background(), &healthpb.HealthCheckRequest{Service: service})
		if err != nil {
			t.Fatalf("Check(%q): %v", service, err)
		}
		if resp.GetStatus() != healthpb.HealthCheckResponse_SERVING {
			t.Errorf("Check(%q) = %v, want SERVING", service, resp.GetStatus())
		}
	}
}

// TestReadinessChecks: a failing check makes the server not ready (""
// and every service name report NOT_SERVING) and the log names the check
// and its error, while liveness stays SERVING; it is ready again once the
// check passes.
func TestReadinessChecks(t *testing.T) {
	var failing atomic.Bool
	failing.Store(true)
	var logs servicetest.LogBuffer
	h := start(t, func(c *grpcserver.Config) {
		c.Logger = logs.Logger()
		c.ReadinessInterval = 20 * time.Millisecond
		c.Readiness = []grpcserver.Check{{Name: "events source membership", Probe: func(context.Context) error {
			if failing.Load() {
				return errors.New("dial tcp 10.1.2.3:6379: connection refused")
			}
			return nil
		}}}
	})
	waitFor := func(service string, want healthpb.HealthCheckResponse_ServingStatus) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for {
			resp, err := h.health.Check(context.Background(), &healthpb.HealthCheckRequest{Service: service})
			if err == nil && resp.GetStatus() == want {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("health %q = %v (%v), want %v", service, resp.GetStatus(), err, want)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	waitFor("", healthpb.HealthCheckResponse_NOT_SERVING)
	waitFor("chapterhouse.activities.v1.ActivitiesService", healthpb.HealthCheckResponse_NOT_SERVING)
	waitFor(grpcserver.LivenessService, healthpb.HealthCheckResponse_SERVING)
	if got := logs.String(); !strings.Contains(got, "events source membership") || !strings.Contains(got, "connection refused") {
		t.Fatalf("log does not name the failing check and why:\n%s", got)
	}
	failing.Store(false)
	waitFor("", healthpb.HealthCheckResponse_SERVING)
	waitFor("chapterhouse.activities.v1.ActivitiesService", healthpb.HealthCheckResponse_SERVING)
}

func TestPanicBecomesInternal(t *testing.T) {
	h := start(t, nil)
	ctx := withToken(context.Background(), h.tokenOf("people/alice"))
	_, err := h.client.GetOrganization(ctx, &membershipv1.GetOrganizationRequest{Name: "organizations/panic"})
	st := status.Convert(err)
	if st.Code() != codes.Internal || errorInfo(err).GetReason() != "INTERNAL" || strings.Contains(st.Message(), "exploded") {
		t.Fatalf("panic: status = %v %q, want Internal INTERNAL, saying nothing of the panic", st.Code(), st.Message())
	}
	// The server survives and keeps serving.
	org, err := h.client.GetOrganization(ctx, &membershipv1.GetOrganizationRequest{Name: "organizations/o1"})
	if err != nil || org.GetName() != "organizations/o1" {
		t.Fatalf("call after panic = %v, %v", org, err)
	}
}

func TestIdempotencyKeyReplay(t *testing.T) {
	rc := redistest.Start(t).Client()
	t.Cleanup(func() { _ = rc.Close() })
	h := start(t, func(c *grpcserver.Config) { c.Idempotency = idempotency.New(rc, time.Hour) })

	alice := withToken(context.Background(), h.tokenOf("people/alice"))
	bob := withToken(context.Background(), h.tokenOf("people/bob"))
	withKey := func(ctx context.Context, key string) context.Context {
		return metadata.AppendToOutgoingContext(ctx, grpcserver.IdempotencyKeyHeader, key)
	}
	req := func(id string) *membershipv1.CreateOrganizationRequest {
		return &membershipv1.CreateOrganizationRequest{OrganizationId: id, Organization: &membershipv1.Organization{DisplayName: "Org " + id}}
	}
	type result struct {
		org    *membershipv1.Organization
		err    error
		replay []string
	}
	call := func(ctx context.Context, r *membershipv1.CreateOrganizationRequest) result {
		var hdr metadata.MD
		org, err := h.client.CreateOrganization(ctx, r, grpc.Header(&hdr))
		return result{org, err, hdr.Get("idempotent-replay")}
	}

	// First call runs the handler; the repeat replays its response.
	first := call(withKey(alice, "k1"), req("a"))
	if first.err != nil || first.org.GetName() != "organizations/a-1" || len(first.replay) != 0 {
		t.Fatalf("first call = %v, %v, replay header %v", first.org, first.err, first.replay)
	}
	second := call(withKey(alice, "k1"), req("a"))
	if second.err != nil {
		t.Fatalf("repeat: %v", second.err)
	}
	if second.org.GetName() != first.org.GetName() || second.org.GetDisplayName() != "Org a" {
		t.Errorf("repeat returned %v, want the first response %v", second.org, first.org)
	}
	if len(second.replay) != 1 || second.replay[0] != "true" {
		t.Errorf("repeat idempotent-replay header = %v, want [true]", second.replay)
	}
	if n := h.fake.createCount(); n != 1 {
		t.Fatalf("handler called %d times, want 1", n)
	}

	// Same key, different request: rejected without running the handler.
	reused := call(withKey(alice, "k1"), req("b"))
	if status.Code(reused.err) != codes.InvalidArgument {
		t.Fatalf("reused key: code %v (%v), want InvalidArgument", status.Code(reused.err), reused.err)
	}
	if info := errorInfo(reused.err); info.GetReason() != "IDEMPOTENCY_KEY_REUSED" || info.GetDomain() != "chapterhouse" {
		t.Errorf("reused key ErrorInfo = %v", info)
	}
	if n := h.fake.createCount(); n != 1 {
		t.Fatalf("handler called %d times after reuse, want 1", n)
	}

	// Keys are per caller: bob's k1 is a different key.
	if r := call(withKey(bob, "k1"), req("a")); r.err != nil || r.org.GetName() != "organizations/a-2" || len(r.replay) != 0 {
		t.Errorf("bob's call = %v, %v, replay %v; want a fresh execution", r.org, r.err, r.replay)
	}
	// No key: every call executes.
	for want := 3; want <= 4; want++ {
		if r := call(alice, req("a")); r.err != nil || r.org.GetName() != fmt.Sprintf("organizations/a-%d", want) {
			t.Errorf("call without key = %v, %v", r.org, r.err)
		}
	}

	// A failed request releases its key, so the client may retry it.
	for i := range 2 {
		if r := call(withKey(alice, "k-fail"), req("fails")); status.Code(r.err) != codes.FailedPrecondition {
			t.Fatalf("failing call %d: code %v, want FailedPrecondition", i, status.Code(r.err))
		}
	}
	if n := h.fake.createCount(); n != 6 {
		t.Errorf("handler called %d times, want 6 (both failing calls executed)", n)
	}

	// An oversized key is refused.
	long := strings.Repeat("k", idempotency.MaxKeyLength+1)
	if r := call(withKey(alice, long), req("a")); status.Code(r.err) != codes.InvalidArgument {
		t.Errorf("oversized key: code %v, want InvalidArgument", status.Code(r.err))
	}
	if n := h.fake.createCount(); n != 6 {
		t.Errorf("handler called %d times after oversized key, want 6", n)
	}
}

func TestIdempotencyKeyReleasedAfterPanic(t *testing.T) {
	rc := redistest.Start(t).Client()
	t.Cleanup(func() { _ = rc.Close() })
	h := start(t, func(c *grpcserver.Config) { c.Idempotency = idempotency.New(rc, time.Hour) })
	ctx := metadata.AppendToOutgoingContext(withToken(context.Background(), h.tokenOf("people/alice")),
		grpcserver.IdempotencyKeyHeader, "k-panic")
	// A panicking handler is a failed request like any other: the retry
	// must run again (and get Internal again), not be told the first
	// attempt is still in progress.
	for i := range 2 {
		_, err := h.client.CreateOrganization(ctx, &membershipv1.CreateOrganizationRequest{OrganizationId: "panics"})
		if status.Code(err) != codes.Internal {
			t.Fatalf("attempt %d: code %v (%v), want Internal", i, status.Code(err), err)
		}
	}
	if n := h.fake.createCount(); n != 2 {
		t.Fatalf("handler called %d times, want 2", n)
	}
}

func TestGracefulShutdownDrains(t *testing.T) {
	const drain = 500 * time.Millisecond
	h := start(t, func(c *grpcserver.Config) { c.DrainDelay = drain })
	ctx := context.Background()

	watchCtx, stopWatch := context.WithCancel(ctx)
	defer stopWatch()
	watch, err := h.health.Watch(watchCtx, &healthpb.HealthCheckRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if resp, err := watch.Recv(); err != nil || resp.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		t.Fatalf("initial health = %v, %v; want SERVING", resp.GetStatus(), err)
	}

	h.cancel()
	// The status flips as soon as the drain starts.
	resp, err := watch.Recv()
	if err != nil || resp.GetStatus() != healthpb.HealthCheckResponse_NOT_SERVING {
		t.Fatalf("health after cancel = %v, %v; want NOT_SERVING", resp.GetStatus(), err)
	}
	// During the drain the server still answers calls, reporting
	// NOT_SERVING for itself and its services.
	for _, service := range []string{"", "chapterhouse.membership.v1.MembershipService"} {
		check, err := h.health.Check(ctx, &healthpb.HealthCheckRequest{Service: service})
		if err != nil || check.GetStatus() != healthpb.HealthCheckResponse_NOT_SERVING {
			t.Fatalf("Check(%q) during drain = %v, %v; want NOT_SERVING", service, check.GetStatus(), err)
		}
	}
	// GracefulStop waits for open streams; end ours.
	stopWatch()
	select {
	case err := <-h.served:
		if err != nil {
			t.Fatalf("Serve returned %v, want nil", err)
		}
		h.served <- nil // for the cleanup
	case <-time.After(30 * time.Second):
		t.Fatal("Serve did not return after cancel")
	}
	// Once stopped, no more calls are taken.
	callCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if _, err := h.health.Check(callCtx, &healthpb.HealthCheckRequest{}); status.Code(err) != codes.Unavailable {
		t.Fatalf("Check after stop: code %v, want Unavailable", status.Code(err))
	}
}

func TestNewRequiresVerifierAndTelemetry(t *testing.T) {
	tel, err := telemetry.New(context.Background(), telemetry.Config{ServiceName: "test", Getenv: func(string) string { return "" }})
	if err != nil {
		t.Fatal(err)
	}
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	verifier, _ := auth.NewVerifier([]crypto.PublicKey{priv.Public()}, auth.DefaultIssuer, auth.DefaultAudience)
	if _, err := grpcserver.New(grpcserver.Config{Telemetry: tel}); err == nil {
		t.Error("New without a verifier succeeded")
	}
	if _, err := grpcserver.New(grpcserver.Config{Verifier: verifier}); err == nil {
		t.Error("New without telemetry succeeded")
	}
}

// TestIdempotencyKeyOnAReadKeepsNothing: a read sent with an
// Idempotency-Key runs as without one, and nothing is stored for it (a
// member could otherwise make the system of record keep whole pages for a
// day).
func TestIdempotencyKeyOnAReadKeepsNothing(t *testing.T) {
	rc := redistest.Start(t).Client()
	t.Cleanup(func() { _ = rc.Close() })
	h := start(t, func(c *grpcserver.Config) { c.Idempotency = idempotency.New(rc, time.Hour) })
	ctx := metadata.AppendToOutgoingContext(withToken(context.Background(), h.tokenOf("people/alice")),
		grpcserver.IdempotencyKeyHeader, "read-key")
	for range 3 {
		var hdr metadata.MD
		if _, err := h.client.GetOrganization(ctx, &membershipv1.GetOrganizationRequest{Name: "organizations/o1"}, grpc.Header(&hdr)); err != nil {
			t.Fatal(err)
		}
		if replay := hdr.Get("idempotent-replay"); len(replay) != 0 {
			t.Fatalf("a read was replayed: %v", replay)
		}
	}
	if n := rc.DBSize(context.Background()).Val(); n != 0 {
		t.Fatalf("%d keys stored for reads, want 0: %v", n, rc.Keys(context.Background(), "*").Val())
	}
}

// TestIdempotencyKeysPerCallerAreBounded: a caller past its bound of new
// keys gets 429 IDEMPOTENCY_KEYS_EXHAUSTED without the write running;
// replays of its keys, and other callers, go on.
func TestIdempotencyKeysPerCallerAreBounded(t *testing.T) {
	rc := redistest.Start(t).Client()
	t.Cleanup(func() { _ = rc.Close() })
	h := start(t, func(c *grpcserver.Config) {
		c.Idempotency = idempotency.New(rc, time.Hour, idempotency.WithMaxKeysPerCaller(3))
	})
	alice := withToken(context.Background(), h.tokenOf("people/alice"))
	create := func(ctx context.Context, key string) error {
		_, err := h.client.CreateOrganization(metadata.AppendToOutgoingContext(ctx, grpcserver.IdempotencyKeyHeader, key),
			&membershipv1.CreateOrganizationRequest{OrganizationId: key, Organization: &membershipv1.Organization{DisplayName: key}})
		return err
	}
	for _, k := range []string{"k1", "k2", "k3", "k1"} {
		if err := create(alice, k); err != nil {
			t.Fatalf("%s: %v", k, err)
		}
	}
	err := create(alice, "k4")
	if status.Code(err) != codes.ResourceExhausted || errorInfo(err).GetReason() != "IDEMPOTENCY_KEYS_EXHAUSTED" {
		t.Fatalf("a fourth key: %v, want ResourceExhausted IDEMPOTENCY_KEYS_EXHAUSTED", err)
	}
	if n := h.fake.createCount(); n != 3 {
		t.Fatalf("handler ran %d times, want 3", n)
	}
	if err := create(alice, "k2"); err != nil {
		t.Fatalf("a replay past the bound: %v", err)
	}
	if err := create(withToken(context.Background(), h.tokenOf("people/bob")), "k4"); err != nil {
		t.Fatalf("another caller: %v", err)
	}
	if keys := rc.Keys(context.Background(), "{idem:*").Val(); len(keys) != 4 {
		t.Fatalf("%d keys kept, want 4 (alice's 3, bob's 1)", len(keys))
	}
}

// CreatePerson answers with a whole person record, private fields and all,
// as a store would: the person "applied" is answered as an earlier run's
// applied write (redistx.AppliedError), the way a retry after a lost
// answer is.
func (f *fakeMembership) CreatePerson(_ context.Context, req *membershipv1.CreatePersonRequest) (*membershipv1.Person, error) {
	f.mu.Lock()
	f.creates++
	f.mu.Unlock()
	p := &membershipv1.Person{Name: "people/" + req.GetPersonId(), DisplayName: req.GetPerson().GetDisplayName(),
		BirthDate: &date.Date{Year: 1979, Month: 11, Day: 3}, Contact: &membershipv1.ContactInfo{Email: "li-na@example.org"}}
	if req.GetPersonId() == "applied" {
		b, err := proto.Marshal(p)
		if err != nil {
			return nil, err
		}
		return nil, &redistx.AppliedError{Result: b}
	}
	return p, nil
}

// TestServiceCredentials: a call that carries a service's credential
// (platform/servicecall) beside the caller's token reaches the handler
// with the principal naming that service; a credential made for another
// method or another token, or one the server cannot check, is refused as
// UNAUTHENTICATED, and the handler never runs.
func TestServiceCredentials(t *testing.T) {
	keys := servicecall.NewEphemeral()
	h := start(t, func(c *grpcserver.Config) { c.ServiceCalls = keys })
	noKeys := start(t, nil)
	tok := h.tokenOf("people/alice")
	get := membershipv1.MembershipService_GetOrganization_FullMethodName
	credential := func(method, authorization string) string {
		return keys.Sign("governance", method, authorization, time.Now().Add(time.Minute))
	}
	call := func(h *harness, cred string) (*membershipv1.Organization, error) {
		ctx := withToken(context.Background(), tok)
		if cred != "" {
			ctx = metadata.AppendToOutgoingContext(ctx, servicecall.Header, cred)
		}
		return h.client.GetOrganization(ctx, &membershipv1.GetOrganizationRequest{Name: "organizations/o1"})
	}
	if _, err := call(h, credential(get, "Bearer "+tok)); err != nil {
		t.Fatalf("a service's call: %v", err)
	}
	if _, err := call(h, ""); err != nil {
		t.Fatalf("a call without a credential: %v", err)
	}
	for name, c := range map[string]struct {
		h    *harness
		cred string
	}{
		"made for another method": {h, credential(membershipv1.MembershipService_GetPerson_FullMethodName, "Bearer "+tok)},
		"made for another token":  {h, credential(get, "Bearer "+h.tokenOf("people/bob"))},
		"not a credential":        {h, "governance.1.x"},
		"a server without keys":   {noKeys, credential(get, "Bearer "+tok)},
	} {
		if _, err := call(c.h, c.cred); status.Code(err) != codes.Unauthenticated || errorInfo(err).GetReason() != "UNAUTHENTICATED" {
			t.Errorf("%s: %v, want UNAUTHENTICATED", name, err)
		}
	}
	h.fake.mu.Lock()
	defer h.fake.mu.Unlock()
	if len(h.fake.principals) != 2 || h.fake.principals[0].Service != "governance" || h.fake.principals[1].Service != "" ||
		h.fake.principals[0].Subject != "people/alice" {
		t.Fatalf("the handler saw %+v, want alice through governance, then alice alone", h.fake.principals)
	}
}

// TestResponsesAreMaskedForTheirCaller: every response is masked for the
// caller it goes to (platform/privacy), including an Idempotency-Key
// replay of a response stored for an earlier call and the record of an
// earlier run's applied write. The same subject replaying once it no
// longer holds admin sees no private field, though the stored response
// has them.
func TestResponsesAreMaskedForTheirCaller(t *testing.T) {
	rc := redistest.Start(t).Client()
	t.Cleanup(func() { _ = rc.Close() })
	h := start(t, func(c *grpcserver.Config) { c.Idempotency = idempotency.New(rc, time.Hour) })
	asAdmin := withToken(context.Background(), h.tokenOf("people/admin"))
	notAdmin, err := h.signer.Sign("people/admin", nil, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	asPlain := withToken(context.Background(), notAdmin)
	withKey := func(ctx context.Context, key string) context.Context {
		return metadata.AppendToOutgoingContext(ctx, grpcserver.IdempotencyKeyHeader, key)
	}
	create := func(ctx context.Context, id string) (*membershipv1.Person, []string) {
		t.Helper()
		var hdr metadata.MD
		p, err := h.client.CreatePerson(ctx, &membershipv1.CreatePersonRequest{PersonId: id, Person: &membershipv1.Person{DisplayName: "李娜"}}, grpc.Header(&hdr))
		if err != nil {
			t.Fatalf("CreatePerson %s: %v", id, err)
		}
		return p, hdr.Get("idempotent-replay")
	}
	private := func(p *membershipv1.Person) bool { return p.GetBirthDate() != nil || p.GetContact() != nil }

	if p, _ := create(withKey(asAdmin, "k"), "li-na"); !private(p) {
		t.Fatalf("admin's answer lacks the private fields: %v", p)
	}
	if p, replay := create(withKey(asPlain, "k"), "li-na"); private(p) || len(replay) != 1 || p.GetDisplayName() != "李娜" {
		t.Fatalf("the replay to a caller who may not read them = %v (replay %v)", p, replay)
	}
	if p, _ := create(withKey(asAdmin, "k"), "li-na"); !private(p) {
		t.Fatalf("the replay to admin lacks the private fields: %v", p)
	}
	if n := h.fake.createCount(); n != 1 {
		t.Fatalf("handler ran %d times, want 1", n)
	}
	if p, replay := create(withKey(asPlain, "k-applied"), "applied"); private(p) || len(replay) != 1 {
		t.Fatalf("an applied write's record, replayed = %v (replay %v)", p, replay)
	}
	if p, _ := create(asPlain, "no-key"); private(p) {
		t.Fatalf("a plain answer = %v", p)
	}
}
