package proctest_test

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/tjsia/chapterhouse/platform/proctest"
)

func TestMain(m *testing.M) {
	proctest.Main(map[string]func(){
		// serve waits for SIGTERM, says so and exits 0, as a service
		// that drains does.
		"serve": func() {
			term := make(chan os.Signal, 1)
			signal.Notify(term, syscall.SIGTERM)
			os.Stdout.WriteString("serving " + os.Getenv("GREETING") + "\n")
			<-term
			os.Stdout.WriteString("drained\n")
		},
	})
	os.Exit(m.Run())
}

// TestKillTerminateRestart: a child is killed at once (no drain line), is
// started again with changed settings, and stops by itself on SIGTERM.
func TestKillTerminateRestart(t *testing.T) {
	p := proctest.Start(t, "child", "serve", "GREETING=first")
	waitFor(t, p, "serving first")
	if err := p.Kill(); err != nil {
		t.Fatal(err)
	}
	if p.Running() {
		t.Fatal("running after Kill")
	}
	if err := p.Start("GREETING=second"); err != nil {
		t.Fatal(err)
	}
	if err := p.Start(); err == nil {
		t.Fatal("a second Start while running was allowed")
	}
	waitFor(t, p, "serving second")
	if err := p.Terminate(10 * time.Second); err != nil {
		t.Fatal(err)
	}
	if got := p.Log(); strings.Count(got, "drained") != 1 || !strings.Contains(got, "start 2 of child") {
		t.Fatalf("log = %q: want one drain, after the second start only", got)
	}
}

func waitFor(t *testing.T, p *proctest.Process, line string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(p.Log(), line) {
		if time.Now().After(deadline) {
			t.Fatalf("%q never written; log: %s", line, p.Log())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestDNSSpreadsOneTargetOverReplicas: a name the test DNS gives two
// loopback addresses is one gRPC target, and round_robin reaches both
// replicas behind it.
func TestDNSSpreadsOneTargetOverReplicas(t *testing.T) {
	dns := proctest.StartDNS(t)
	port := ""
	var calls [2]atomic.Int64
	for i, host := range []string{"127.0.0.1", "127.0.0.2"} {
		addr := host + ":0"
		if port != "" {
			addr = host + ":" + port
		}
		lis, err := net.Listen("tcp", addr)
		if err != nil {
			t.Skipf("no second loopback address here: %v", err)
		}
		_, port, _ = net.SplitHostPort(lis.Addr().String())
		srv := grpc.NewServer(grpc.UnaryInterceptor(func(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
			calls[i].Add(1)
			return h(ctx, req)
		}))
		healthpb.RegisterHealthServer(srv, health.NewServer())
		go func() { _ = srv.Serve(lis) }()
		t.Cleanup(srv.Stop)
	}
	dns.Set("svc.test", netip.MustParseAddr("127.0.0.1"), netip.MustParseAddr("127.0.0.2"))
	conn, err := grpc.NewClient(dns.Target("svc.test", port), grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultServiceConfig(`{"loadBalancingConfig":[{"round_robin":{}}]}`))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for i := 0; i < 40 && (calls[0].Load() == 0 || calls[1].Load() == 0); i++ {
		if _, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{}, grpc.WaitForReady(true)); err != nil {
			t.Fatal(err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if calls[0].Load() == 0 || calls[1].Load() == 0 {
		t.Fatalf("calls per replica %d, %d: want both reached", calls[0].Load(), calls[1].Load())
	}
	if err := proctest.WaitServing(ctx, "127.0.0.2:"+port, 5*time.Second); err != nil {
		t.Fatal(err)
	}
}

// TestFreeAddrIsOutsideTheEphemeralRange: a port chosen for a child to bind
// later is below the kernel's ephemeral range, where no listener on port 0
// or outgoing connection of a parallel test can take it first, and is free.
func TestFreeAddrIsOutsideTheEphemeralRange(t *testing.T) {
	low := ephemeralLowForTest()
	if low == 0 {
		t.Skip("no /proc/sys/net/ipv4/ip_local_port_range here")
	}
	for range 20 {
		addr := proctest.FreeAddr(t, "127.0.0.1")
		_, p, _ := net.SplitHostPort(addr)
		port, err := strconv.Atoi(p)
		if err != nil || port < 20000 || port >= low {
			t.Fatalf("FreeAddr gave %s, want a port in [20000, %d)", addr, low)
		}
		l, err := net.Listen("tcp", addr)
		if err != nil {
			t.Fatalf("FreeAddr gave %s, which is not free: %v", addr, err)
		}
		l.Close()
	}
}

// ephemeralLowForTest reads the range apart from FreeAddr's own reading.
func ephemeralLowForTest() int {
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err != nil {
		return 0
	}
	var low, high int
	if _, err := fmt.Sscan(string(b), &low, &high); err != nil {
		return 0
	}
	return low
}
