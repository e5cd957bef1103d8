// Package servicetest starts one service's Run in-process with real
// dependencies (telemetry SDK, token verifier, optional Redis) and checks
// the behaviour every Chapterhouse gRPC service shares: health, reflection,
// token verification, and the answer of a method it does not implement yet.
package servicetest

import (
	"context"
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"net"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	reflectionpb "google.golang.org/grpc/reflection/grpc_reflection_v1"

	"github.com/tjsia/chapterhouse/platform/auth"
	"github.com/tjsia/chapterhouse/platform/bootstrap"
	"github.com/tjsia/chapterhouse/platform/telemetry"
)

// Running is a started service.
type Running struct {
	Conn   *grpc.ClientConn
	signer *auth.Signer
}

// Start runs run on a loopback listener until the test ends. rdb may be nil
// for services without a store.
func Start(t *testing.T, name string, rdb redis.UniversalClient, run func(ctx context.Context, cfg bootstrap.ServiceConfig) error) *Running {
	t.Helper()
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	signer := auth.NewSigner(key, auth.DefaultIssuer, auth.DefaultAudience)
	verifier, err := auth.NewVerifier([]crypto.PublicKey{signer.PublicKey()}, auth.DefaultIssuer, auth.DefaultAudience)
	if err != nil {
		t.Fatal(err)
	}
	tel, err := telemetry.New(context.Background(), telemetry.Config{ServiceName: name, Getenv: func(string) string { return "" }})
	if err != nil {
		t.Fatal(err)
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	cfg := bootstrap.ServiceConfig{Deps: bootstrap.Deps{Logger: nil, Telemetry: tel, Redis: rdb, Verifier: verifier}, Listener: lis, ConsumerName: "test"}
	cfg.Logger = discardLogger()
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
	conn, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return &Running{Conn: conn, signer: signer}
}

// As returns a context carrying a token for subject with roles ("" for no
// token).
func (r *Running) As(t *testing.T, subject string, roles ...string) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	if subject == "" {
		return ctx
	}
	tok, err := r.signer.Sign(subject, roles, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+tok)
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

// Admin is a context with an admin token.
func (r *Running) Admin(t *testing.T) context.Context {
	return r.As(t, AdminSubject, auth.RoleAdmin)
}
