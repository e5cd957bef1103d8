package fault_test

import (
	"context"
	"net"
	"net/http"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/tjsia/chapterhouse/platform/proctest"
	membership "github.com/tjsia/chapterhouse/services/membership/app"
)

// TestOneReplicaMovesToANewAddress: the only replica of membership is
// replaced by a pod at another address (as Kubernetes replaces a pod),
// under steady reads through the gateway. Once the replacement serves,
// the gateway must reach it within a second or two, not when grpc-go's DNS
// resolver next allows itself to look again (30 s after its last look by
// default: a single-replica service was down that long after a restart).
func TestOneReplicaMovesToANewAddress(t *testing.T) {
	s := startSystem(t, options{dns: true})
	f := s.fixtures()
	reader := s.as("people/admin")

	var mu sync.Mutex
	var lastOK time.Time
	var requests, failures int
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			select {
			case <-done:
				return
			case <-time.After(10 * time.Millisecond):
			}
			r := reader.do("GET", "/v1/"+f.lead, nil)
			mu.Lock()
			requests++
			if r.err == nil && r.status == http.StatusOK {
				lastOK = time.Now()
			} else {
				failures++
			}
			mu.Unlock()
		}
	})
	defer func() { close(done); wg.Wait() }()
	time.Sleep(300 * time.Millisecond)

	p := s.procs[membership.Name][0]
	stopped := time.Now()
	if err := p.Terminate(30 * time.Second); err != nil {
		t.Fatal(err)
	}
	_, port, _ := net.SplitHostPort(s.listen[membership.Name][0])
	moved := net.JoinHostPort("127.0.0.2", port)
	s.dns.Set(membership.Name+".fault.test", netip.MustParseAddr("127.0.0.2"))
	if err := p.Start(s.podName(p, membership.Name, 0), "LISTEN_ADDR="+moved); err != nil {
		t.Fatal(err)
	}
	if err := proctest.WaitServing(context.Background(), moved, 60*time.Second); err != nil {
		t.Fatal(err)
	}
	serving := time.Now()
	deadline := serving.Add(40 * time.Second)
	for {
		mu.Lock()
		ok := lastOK.After(serving)
		mu.Unlock()
		if ok || time.Now().After(deadline) {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	mu.Lock()
	recovered, n, failed := lastOK, requests, failures
	mu.Unlock()
	if !recovered.After(serving) {
		t.Fatalf("the gateway did not reach the moved replica within 40 s of it serving (%d of %d reads failed)", failed, n)
	}
	lag := recovered.Sub(serving)
	t.Logf("one replica moved: stopped to serving at its new address %v, then the gateway's first answer from it %v later; %d of %d reads failed",
		serving.Sub(stopped).Round(time.Millisecond), lag.Round(time.Millisecond), failed, n)
	if lag > 2*time.Second {
		t.Errorf("the gateway reached the moved replica %v after it served, want within 2 s", lag.Round(time.Millisecond))
	}
}
