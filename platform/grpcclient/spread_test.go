package grpcclient_test

import (
	"context"
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"io"
	"log/slog"
	"net"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/resolver"
	"google.golang.org/grpc/resolver/manual"

	"github.com/tjsia/chapterhouse/platform/auth"
	"github.com/tjsia/chapterhouse/platform/grpcclient"
	"github.com/tjsia/chapterhouse/platform/grpcserver"
	"github.com/tjsia/chapterhouse/platform/telemetry"
)

const (
	maxAge      = time.Second
	maxAgeGrace = 500 * time.Millisecond
)

func telemetryForTest(t *testing.T) *telemetry.Providers {
	t.Helper()
	tel, err := telemetry.New(context.Background(), telemetry.Config{ServiceName: "spread-test", Getenv: func(string) string { return "" }})
	if err != nil {
		t.Fatal(err)
	}
	return tel
}

// startInstance runs one server instance, as one pod would, with the
// servers' keepalive settings shortened for the test.
func startInstance(t *testing.T, tel *telemetry.Providers, verifier *auth.Verifier) string {
	t.Helper()
	srv, err := grpcserver.New(grpcserver.Config{
		Name: "spread", Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Telemetry: tel, Verifier: verifier,
		MaxConnectionAge: maxAge, MaxConnectionAgeGrace: maxAgeGrace,
	})
	if err != nil {
		t.Fatal(err)
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = srv.Serve(ctx, lis); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return lis.Addr().String()
}

// dnsStandIn answers like DNS for a headless Service: the current pod
// addresses, read again whenever the client asks (after a connection
// closed), never pushed.
type dnsStandIn struct {
	mu    sync.Mutex
	addrs []string
	r     *manual.Resolver
}

func (d *dnsStandIn) state() resolver.State {
	d.mu.Lock()
	defer d.mu.Unlock()
	var st resolver.State
	for _, a := range d.addrs {
		st.Addresses = append(st.Addresses, resolver.Address{Addr: a})
	}
	return st
}

func (d *dnsStandIn) add(addr string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.addrs = append(d.addrs, addr)
}

// TestLoadSpreadsOverEveryInstance: three instances behind one target name
// share the calls of one client connection fairly; a fourth instance added
// later gets calls once the servers' MaxConnectionAge has made the client
// resolve the name again.
func TestLoadSpreadsOverEveryInstance(t *testing.T) {
	tel := telemetryForTest(t)
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	verifier, err := auth.NewVerifier([]crypto.PublicKey{key.Public()}, auth.DefaultIssuer, auth.DefaultAudience)
	if err != nil {
		t.Fatal(err)
	}
	dns := &dnsStandIn{r: manual.NewBuilderWithScheme("spread")}
	for range 3 {
		dns.add(startInstance(t, tel, verifier))
	}
	dns.r.InitialState(dns.state())
	// Asked from inside the client; answer from another goroutine.
	dns.r.ResolveNowCallback = func(resolver.ResolveNowOptions) { go dns.r.UpdateState(dns.state()) }

	conn, err := grpcclient.Dial("spread:///membership", grpcclient.Config{Telemetry: tel}, grpc.WithResolvers(dns.r))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	health := healthpb.NewHealthClient(conn)
	call := func() string {
		t.Helper()
		var p peer.Peer
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if _, err := health.Check(ctx, &healthpb.HealthCheckRequest{}, grpc.Peer(&p), grpc.WaitForReady(true)); err != nil {
			t.Fatalf("call: %v", err)
		}
		return p.Addr.String()
	}

	// Let every subchannel connect, then count.
	deadline := time.Now().Add(5 * time.Second)
	for seen := map[string]bool{}; len(seen) < 3; seen[call()] = true {
		if time.Now().After(deadline) {
			t.Fatalf("only %d of 3 instances reachable", len(seen))
		}
	}
	const n = 600
	counts := map[string]int{}
	for range n {
		counts[call()]++
	}
	if len(counts) != 3 {
		t.Fatalf("calls reached %d instances, want 3: %v", len(counts), counts)
	}
	for addr, c := range counts {
		// round_robin gives each n/3; allow for connections cycling at
		// MaxConnectionAge during the run.
		if c < n/3*7/10 {
			t.Errorf("instance %s got %d of %d calls, want about %d", addr, c, n, n/3)
		}
	}
	t.Logf("three instances: %v", counts)

	// Scale up: a fourth pod appears in DNS. Nothing tells the client; it
	// must find it when an aged connection closes.
	fourth := startInstance(t, tel, verifier)
	dns.add(fourth)
	added := time.Now()
	limit := maxAge + maxAgeGrace + time.Second
	for call() != fourth {
		if time.Since(added) > limit {
			t.Fatalf("the fourth instance got no call within %v (MaxConnectionAge %v)", limit, maxAge)
		}
		time.Sleep(2 * time.Millisecond)
	}
	t.Logf("fourth instance got traffic %v after it was added (MaxConnectionAge %v)", time.Since(added).Round(time.Millisecond), maxAge)
	counts = map[string]int{}
	for range n {
		counts[call()]++
	}
	if counts[fourth] < n/4*5/10 {
		t.Errorf("fourth instance got %d of %d calls once known, want about %d: %v", counts[fourth], n, n/4, counts)
	}
}
