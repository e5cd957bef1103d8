package fault_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	gateway "github.com/tjsia/chapterhouse/gateway/app"
	"github.com/tjsia/chapterhouse/platform/auth"
)

// balancer stands for the load balancer in front of the gateways (a
// Kubernetes Service): new connections go round-robin to the gateways
// whose /readyz answered 200 at the last probe (every 100 ms); a
// connection already open stays where it is until the gateway closes it.
type balancer struct {
	addrs []string
	mu    sync.Mutex
	ready []bool
	next  int
}

func (s *system) balance(t *testing.T) {
	b := &balancer{addrs: s.listen[gateway.Name], ready: make([]bool, len(s.listen[gateway.Name]))}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	t.Cleanup(func() { cancel(); <-done })
	b.probe()
	go func() {
		defer close(done)
		for {
			select {
			case <-ctx.Done():
				return
			case <-time.After(100 * time.Millisecond):
				b.probe()
			}
		}
	}()
	var d net.Dialer
	s.http = &http.Client{Timeout: 20 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 128,
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			addr, err := b.pick()
			if err != nil {
				return nil, err
			}
			return d.DialContext(ctx, network, addr)
		}}}
	s.base = "http://gateway.fault.test"
}

func (b *balancer) probe() {
	client := &http.Client{Timeout: 200 * time.Millisecond}
	defer client.CloseIdleConnections()
	for i, addr := range b.addrs {
		resp, err := client.Get("http://" + addr + "/readyz")
		ok := err == nil && resp.StatusCode == http.StatusOK
		if err == nil {
			resp.Body.Close()
		}
		b.mu.Lock()
		b.ready[i] = ok
		b.mu.Unlock()
	}
}

func (b *balancer) pick() (string, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for range b.addrs {
		b.next = (b.next + 1) % len(b.addrs)
		if b.ready[b.next] {
			return b.addrs[b.next], nil
		}
	}
	return "", fmt.Errorf("no gateway is ready")
}

// window counts the requests and errors while one process drains.
type window struct {
	name             string
	requests, errors atomic.Int64
	mu               sync.Mutex
	outcomes         map[string]int
}

// TestGracefulDrainUnderLoad: two replicas of every service, one dns://
// target naming both (as a headless Service does), and two gateways behind
// a balancer that follows their /readyz. Under steady reads and writes
// through the gateways, each replica of each service and of the gateway in
// turn is sent SIGTERM, must drain and exit 0 by itself, and is replaced by
// a new process at the same address: a rolling restart of everything.
// Errors ÷ requests ≤ 0.001 overall and for each restart.
func TestGracefulDrainUnderLoad(t *testing.T) {
	began := time.Now()
	s := startSystem(t, options{replicas: 2, drainDelay: 500 * time.Millisecond})
	f := s.fixtures()
	std := f.admin.ok("POST", "/v1/branches/ai/standards", map[string]any{"kind": "STANDARD_KIND_GROUP_STANDARD", "title": "读取", "leadUnit": f.lead})["name"].(string)
	s.balance(t)

	var current atomic.Pointer[window]
	var windows []*window
	begin := func(name string) {
		w := &window{name: name, outcomes: map[string]int{}}
		windows = append(windows, w)
		current.Store(w)
	}
	count := func(r reply) {
		w := current.Load()
		w.requests.Add(1)
		if r.err == nil && r.status == http.StatusOK {
			return
		}
		w.errors.Add(1)
		w.mu.Lock()
		w.outcomes[r.outcome()]++
		w.mu.Unlock()
	}
	begin("warm-up")

	reads := []string{"/v1/" + f.salon, "/v1/" + f.lead, "/v1/" + std, "/v1/branches/ai/terms/1", "/v1/organizations/lead"}
	creates := []func(string) (string, map[string]any){
		func(title string) (string, map[string]any) {
			return "/v1/people?personId=" + title, map[string]any{"displayName": title, "birthDate": map[string]any{"year": 1980, "month": 1, "day": 2}}
		},
		func(title string) (string, map[string]any) { return victims["activities"].create(f, title) },
		func(title string) (string, map[string]any) { return victims["governance"].create(f, title) },
		func(title string) (string, map[string]any) { return victims["standards"].create(f, title) },
	}
	run := fmt.Sprintf("drain-%d", time.Now().UnixNano()%1e6)
	done := make(chan struct{})
	var wg sync.WaitGroup
	for c := range 8 {
		// Each writer is an admin of its own: on a quiet machine one
		// caller's keyed writes passed the 10,000 new Idempotency-Keys a
		// caller may claim in a day (429 IDEMPOTENCY_KEYS_EXHAUSTED).
		writer := s.as(fmt.Sprintf("people/drain-writer-%d", c), auth.RoleAdmin)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-done:
					return
				default:
				}
				if c%2 == 0 {
					count(f.admin.do("GET", reads[(c+i)%len(reads)], nil))
				} else {
					// A write, retried with its key until answered, as a
					// client would; every failed try counts.
					title := fmt.Sprintf("%s-%d-%05d", run, c, i)
					path, body := creates[(c/2+i)%len(creates)](title)
					for try := 0; try < 20; try++ {
						r := writer.do("POST", path, body, "Idempotency-Key", "key-"+title)
						count(r)
						if r.err == nil && r.status == http.StatusOK {
							break
						}
						time.Sleep(50 * time.Millisecond)
					}
				}
				time.Sleep(5 * time.Millisecond)
			}
		}()
	}
	time.Sleep(500 * time.Millisecond)
	for _, name := range append(append([]string{}, services...), gateway.Name) {
		for _, i := range []int{1, 0} {
			begin(fmt.Sprintf("%s-%d", name, i+1))
			if err := s.procs[name][i].Terminate(30 * time.Second); err != nil {
				t.Error(err)
			}
			s.restart(name, i)
			// The replacement takes traffic once its callers reconnect
			// (grpcclient's backoff, up to about a second after it
			// listens) or the balancer sees it ready (100 ms).
			if name == gateway.Name {
				time.Sleep(500 * time.Millisecond)
			} else {
				time.Sleep(1500 * time.Millisecond)
			}
		}
	}
	close(done)
	wg.Wait()

	var total, errs int64
	var per []string
	for _, w := range windows {
		n, e := w.requests.Load(), w.errors.Load()
		total, errs = total+n, errs+e
		detail := ""
		if e > 0 {
			var o []string
			for k, v := range w.outcomes {
				o = append(o, fmt.Sprintf("%d × %s", v, k))
			}
			detail = " (" + strings.Join(o, ", ") + ")"
		}
		per = append(per, fmt.Sprintf("%s %d/%d%s", w.name, e, n, detail))
		if w.name != "warm-up" && n > 0 && float64(e)/float64(n) > 0.001 {
			t.Errorf("draining %s: %d errors in %d requests, more than 0.001", w.name, e, n)
		}
	}
	t.Logf("graceful drain (SIGTERM, then a new process at the same address) of both replicas of every service and both gateways under load: %d errors in %d requests (%.5f); by restart, errors/requests: %s; %s",
		errs, total, float64(errs)/float64(max(total, 1)), strings.Join(per, "; "), time.Since(began).Round(time.Second))
	if float64(errs)/float64(max(total, 1)) > 0.001 {
		t.Errorf("%d errors in %d requests, more than 0.001", errs, total)
	}
}
