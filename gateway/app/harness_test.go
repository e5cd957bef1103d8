package app_test

import (
	"context"
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"io"
	"log/slog"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/go-redis/redis_rate/v10"
	"github.com/redis/go-redis/v9"
	"google.golang.org/grpc"

	"github.com/tjsia/chapterhouse/gateway/app"
	"github.com/tjsia/chapterhouse/platform/auth"
	"github.com/tjsia/chapterhouse/platform/telemetry"
	membershipv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/membership/v1"
)

// startGateway serves backend as every service behind a real gateway
// handler (a real gRPC server on loopback, budgets in miniredis), and
// returns the handler and a signer whose tokens it accepts.
func startGateway(t testing.TB, backend membershipv1.MembershipServiceServer) (http.Handler, *auth.Signer) {
	t.Helper()
	cfg, signer := gatewayConfig(t, backend)
	h, err := app.NewHandler(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = h.Close() })
	return h, signer
}

// runGateway runs the real gateway server (app.Run, as its binary does) in
// front of backend on a loopback port, and returns its address.
func runGateway(t testing.TB, backend membershipv1.MembershipServiceServer) (string, *auth.Signer) {
	t.Helper()
	cfg, signer := gatewayConfig(t, backend)
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cfg.Listener = lis
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- app.Run(ctx, cfg) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("gateway: %v", err)
		}
	})
	return lis.Addr().String(), signer
}

// gatewayConfig is the gateway's configuration in front of backend.
func gatewayConfig(t testing.TB, backend membershipv1.MembershipServiceServer) (app.Config, *auth.Signer) {
	t.Helper()
	ctx := context.Background()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer()
	membershipv1.RegisterMembershipServiceServer(srv, backend)
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(srv.Stop)

	_, key, _ := ed25519.GenerateKey(rand.Reader)
	signer := auth.NewSigner(key, "chapterhouse", "chapterhouse")
	verifier, err := auth.NewVerifier([]crypto.PublicKey{signer.PublicKey()}, "chapterhouse", "chapterhouse")
	if err != nil {
		t.Fatal(err)
	}
	tel, err := telemetry.New(ctx, telemetry.Config{ServiceName: "gateway", Getenv: func(string) string { return "" }})
	if err != nil {
		t.Fatal(err)
	}
	mr := miniredis.RunT(t)
	backends := map[string]string{}
	for _, name := range app.BackendNames() {
		backends[name] = lis.Addr().String()
	}
	return app.Config{
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Telemetry: tel, Backends: backends,
		Redis: redis.NewClient(&redis.Options{Addr: mr.Addr()}), Verifier: verifier,
		RateLimits: app.RateLimits{Anonymous: redis_rate.PerMinute(1000), Authenticated: redis_rate.PerMinute(1000),
			Admin: redis_rate.PerMinute(1000), Verify: redis_rate.PerMinute(1)},
		MaxBodyBytes: 1024, BackendTimeout: 300 * time.Millisecond,
	}, signer
}
