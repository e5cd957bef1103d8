package fault_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	gateway "github.com/tjsia/chapterhouse/gateway/app"
	"github.com/tjsia/chapterhouse/platform/auth"
	"github.com/tjsia/chapterhouse/platform/bootstrap"
	"github.com/tjsia/chapterhouse/platform/proctest"
	"github.com/tjsia/chapterhouse/platform/redistest"
	activities "github.com/tjsia/chapterhouse/services/activities/app"
	governance "github.com/tjsia/chapterhouse/services/governance/app"
	membership "github.com/tjsia/chapterhouse/services/membership/app"
	"github.com/tjsia/chapterhouse/services/membership/creditcode"
	standards "github.com/tjsia/chapterhouse/services/standards/app"
)

// TestMain runs a service or the gateway when proctest starts this binary
// in that role (exactly what each one's cmd does), and the tests
// otherwise.
func TestMain(m *testing.M) {
	proctest.Main(map[string]func(){
		membership.Name: role(membership.Name, membership.Needs, membership.ConfigFromEnv, membership.Run),
		governance.Name: role(governance.Name, governance.Needs, governance.ConfigFromEnv, governance.Run),
		activities.Name: role(activities.Name, activities.Needs, activities.ConfigFromEnv, activities.Run),
		standards.Name:  role(standards.Name, standards.Needs, standards.ConfigFromEnv, standards.Run),
		gateway.Name:    role(gateway.Name, gateway.Needs, gateway.ConfigFromEnv, gateway.Run),
	})
	os.Exit(m.Run())
}

// role is the main of a binary: what services/<name>/cmd/<name> runs.
func role[C any](name string, needs bootstrap.Needs, fromEnv func(func(string) string, bootstrap.Deps) (C, error), run func(context.Context, C) error) func() {
	return func() { bootstrap.Serve(name, needs, fromEnv, run) }
}

// services are the four gRPC services, in the order they start.
var services = []string{membership.Name, governance.Name, activities.Name, standards.Name}

// options shape a system.
type options struct {
	// replicas of each service and of the gateway; default 1. With more
	// than one, replica i listens on 127.0.0.<i+1> and callers dial one
	// dns:// target that names them all.
	replicas int
	// dns: callers dial a dns:// target even with one replica, so a
	// replica can move to another address as a replaced pod does.
	dns bool
	// redisArgs for the services' redis-server (the gateway's budgets
	// have one of their own, never killed).
	redisArgs []string
	// drainDelay of every process (DRAIN_DELAY); default 0.
	drainDelay time.Duration
	// via, when set, gives the address the callers of a service (the
	// gateway and the other services) dial instead of the service
	// listening at addr: a fault-injecting proxy in front of it.
	via func(service, addr string) string
}

// system is the four services and the gateway, each a process of its own.
type system struct {
	t       *testing.T
	opts    options
	store   *redistest.Server
	rdb     *redis.Client
	budgets *redistest.Server
	signer  *auth.Signer
	dns     *proctest.DNS
	// procs are the processes by service name (and "gateway"), by replica.
	procs map[string][]*proctest.Process
	// listen are their addresses, by replica.
	listen map[string][]string
	// targets are what callers dial, by service.
	targets map[string]string
	// http reaches the gateway at base.
	http *http.Client
	base string

	mu     sync.Mutex
	starts map[*proctest.Process]int
}

// startSystem starts the system and returns once every process serves and
// the other services know governance's initial branch "ai".
func startSystem(t *testing.T, opts options) *system {
	t.Helper()
	if opts.replicas == 0 {
		opts.replicas = 1
	}
	s := &system{t: t, opts: opts, procs: map[string][]*proctest.Process{}, listen: map[string][]string{},
		targets: map[string]string{}, starts: map[*proctest.Process]int{}}
	s.store = redistest.Start(t, opts.redisArgs...)
	s.budgets = redistest.Start(t)
	s.rdb = redis.NewClient(&redis.Options{Addr: s.store.Addr})
	t.Cleanup(func() { s.rdb.Close() })

	var credentials []string
	s.signer, credentials = proctest.Credentials(t)
	common := append(credentials, "DRAIN_DELAY="+opts.drainDelay.String(), "LOG_LEVEL=warn", "OTEL_TRACES_EXPORTER=none", "OTEL_METRICS_EXPORTER=none",
		// A killed consumer's entries are taken over after 1 s, not
		// eventstream.DefaultClaimIdle: the tests kill many.
		"EVENTS_CLAIM_IDLE=1s")

	if opts.replicas > 1 || opts.dns {
		// Replica i listens on 127.0.0.<i+1>: Linux answers on all of
		// 127/8, other systems may not.
		l, err := net.Listen("tcp", "127.0.0.2:0")
		if err != nil {
			if os.Getenv("CI") != "" {
				t.Fatalf("replicas need a second loopback address, 127.0.0.2: %v", err)
			}
			t.Skipf("replicas need a second loopback address, 127.0.0.2: %v", err)
		}
		l.Close()
		s.dns = proctest.StartDNS(t)
	}
	hosts := make([]netip.Addr, opts.replicas)
	for i := range hosts {
		hosts[i] = netip.AddrFrom4([4]byte{127, 0, 0, byte(i + 1)})
	}
	names := append(append([]string{}, services...), gateway.Name)
	for _, name := range names {
		_, port, _ := net.SplitHostPort(proctest.FreeAddr(t, "127.0.0.1"))
		for _, h := range hosts {
			s.listen[name] = append(s.listen[name], net.JoinHostPort(h.String(), port))
		}
	}
	// Every address is taken before a proxy listens: a proxy's free port
	// must not be a service's.
	for _, name := range names {
		_, port, _ := net.SplitHostPort(s.listen[name][0])
		switch {
		case opts.via != nil && name != gateway.Name:
			s.targets[name] = opts.via(name, s.listen[name][0])
		case s.dns != nil:
			s.dns.Set(name+".fault.test", hosts...)
			s.targets[name] = s.dns.Target(name+".fault.test", port)
		default:
			s.targets[name] = s.listen[name][0]
		}
	}
	peers := []string{"MEMBERSHIP_ADDR=" + s.targets[membership.Name], "GOVERNANCE_ADDR=" + s.targets[governance.Name],
		"ACTIVITIES_ADDR=" + s.targets[activities.Name], "STANDARDS_ADDR=" + s.targets[standards.Name]}
	for _, name := range services {
		for i, addr := range s.listen[name] {
			env := append(append([]string{"LISTEN_ADDR=" + addr, "REDIS_URL=" + s.store.URL()}, common...), peers...)
			p := proctest.Start(t, fmt.Sprintf("%s-%d", name, i+1), name, append(env, s.podName(nil, name, i))...)
			s.procs[name] = append(s.procs[name], p)
		}
	}
	for i, addr := range s.listen[gateway.Name] {
		env := append(append([]string{"LISTEN_ADDR=" + addr, "REDIS_URL=" + s.budgets.URL(),
			"RATE_LIMIT_ANONYMOUS=1000000/s", "RATE_LIMIT_AUTHENTICATED=1000000/s", "RATE_LIMIT_ADMIN=1000000/s", "RATE_LIMIT_VERIFY=1000000/s"},
			common...), peers...)
		s.procs[gateway.Name] = append(s.procs[gateway.Name], proctest.Start(t, fmt.Sprintf("gateway-%d", i+1), gateway.Name, env...))
	}
	s.http = &http.Client{Timeout: 20 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 128, MaxConnsPerHost: 128}}
	t.Cleanup(s.http.CloseIdleConnections)
	s.base = "http://" + s.listen[gateway.Name][0]
	for name := range s.procs {
		for i := range s.procs[name] {
			s.waitReady(name, i)
		}
	}
	admin := s.as("people/admin", auth.RoleAdmin)
	for _, path := range []string{"/v1/branches/ai/members", "/v1/branches/ai/activities", "/v1/branches/ai/standards", "/v1/branches/ai/resolutions"} {
		eventually(t, 60*time.Second, func() string {
			if r := admin.do("GET", path, nil); r.status != http.StatusOK {
				return fmt.Sprintf("GET %s = %d %s %v", path, r.status, r.raw, r.err)
			}
			return ""
		})
	}
	return s
}

// podName is the POD_NAME of p's next start: a restarted process is a new
// pod, with a consumer name of its own in every consumer group.
func (s *system) podName(p *proctest.Process, name string, replica int) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 1
	if p != nil {
		s.starts[p]++
		n = s.starts[p] + 1
	}
	return fmt.Sprintf("POD_NAME=%s-%d-%d", name, replica+1, n)
}

// restart starts replica i of name again, as a new pod, and waits until it
// serves.
func (s *system) restart(name string, i int) {
	s.t.Helper()
	p := s.procs[name][i]
	if err := p.Start(s.podName(p, name, i)); err != nil {
		s.t.Fatal(err)
	}
	s.waitReady(name, i)
}

// waitReady waits until replica i of name serves: SERVING on gRPC health
// for a service, /readyz for the gateway.
func (s *system) waitReady(name string, i int) {
	s.t.Helper()
	addr := s.listen[name][i]
	if name != gateway.Name {
		if err := proctest.WaitServing(context.Background(), addr, 60*time.Second); err != nil {
			s.t.Fatal(err)
		}
		return
	}
	probe := &http.Client{Timeout: 2 * time.Second}
	defer probe.CloseIdleConnections()
	eventually(s.t, 60*time.Second, func() string {
		resp, err := probe.Get("http://" + addr + "/readyz")
		if err != nil {
			return err.Error()
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Sprintf("gateway %s /readyz %d", addr, resp.StatusCode)
		}
		return ""
	})
}

// token is a bearer token for subject with roles.
func (s *system) token(subject string, roles ...string) string {
	tok, err := s.signer.Sign(subject, roles, time.Hour)
	if err != nil {
		s.t.Fatal(err)
	}
	return tok
}

// caller calls the REST API as one principal.
type caller struct {
	s     *system
	token string
}

// as is a caller for subject holding roles. A token's roles claim grants
// nothing, so each role is granted as the secretariat grants it: a role
// binding made by the first admin (proctest.FirstAdmin), on a person
// created first when missing.
func (s *system) as(subject string, roles ...string) caller {
	s.t.Helper()
	admin := caller{s: s, token: s.token(proctest.FirstAdmin)}
	for _, role := range roles {
		if subject == proctest.FirstAdmin && role == auth.RoleAdmin {
			continue // an admin by configuration
		}
		id := strings.TrimPrefix(subject, "people/")
		admin.setUp("create "+subject, "/v1/people?personId="+id, map[string]any{"displayName": id,
			"birthDate": map[string]any{"year": 1980, "month": 1, "day": 1}}, "ALREADY_EXISTS")
		admin.setUp("grant "+role+" to "+subject, "/v1/roleBindings", map[string]any{"person": subject,
			"role": "ROLE_" + strings.ToUpper(role), "reason": "granted for a fault test"}, "ROLE_ALREADY_GRANTED")
	}
	return caller{s: s, token: s.token(subject, roles...)}
}

// setUp POSTs body to path with one Idempotency-Key until answered, as
// the tests' clients do through injected faults, and fails the test
// unless the answer is 200 or the refusal done (what was to be done
// already is).
func (c caller) setUp(what, path string, body any, done string) {
	c.s.t.Helper()
	key := make([]byte, 12)
	_, _ = rand.Read(key)
	var r reply
	for try := 0; try < 100; try++ {
		r = c.do("POST", path, body, "Idempotency-Key", base64.RawURLEncoding.EncodeToString(key))
		if r.err == nil && r.status != http.StatusServiceUnavailable && r.reason() != "IDEMPOTENCY_KEY_IN_PROGRESS" {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if r.status != http.StatusOK && r.reason() != done {
		c.s.t.Fatalf("%s: %s %s", what, r.outcome(), r.raw)
	}
}

// reply is a REST response, or the transport error that stood for one.
type reply struct {
	status int
	header http.Header
	raw    []byte
	body   map[string]any
	err    error
}

// reason is the error body's reason, "" for a success.
func (r reply) reason() string {
	e, _ := r.body["error"].(map[string]any)
	reason, _ := e["reason"].(string)
	return reason
}

func (r reply) str(field string) string {
	v, _ := r.body[field].(string)
	return v
}

// outcome names what a client saw: "200", "503 OUTCOME_UNKNOWN", or the
// transport error.
func (r reply) outcome() string {
	switch {
	case r.err != nil:
		return "transport error"
	case r.status == http.StatusOK:
		return "200"
	}
	return fmt.Sprintf("%d %s", r.status, r.reason())
}

// do sends one request; header holds key, value pairs.
func (c caller) do(method, path string, body any, header ...string) reply {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return reply{err: err}
		}
		rd = bytes.NewReader(b)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, c.s.base+path, rd)
	if err != nil {
		return reply{err: err}
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := c.s.http.Do(req)
	if err != nil {
		return reply{err: err}
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return reply{err: err}
	}
	r := reply{status: resp.StatusCode, header: resp.Header, raw: raw}
	if len(raw) > 0 {
		_ = json.Unmarshal(raw, &r.body)
	}
	return r
}

// try sends a setup request, retrying while the system is briefly
// unavailable (a write with an Idempotency-Key of its own, as a client
// should), and returns its body unless it failed.
func (c caller) try(method, path string, body any) (map[string]any, error) {
	var r reply
	var header []string
	if method != http.MethodGet {
		key := make([]byte, 12)
		_, _ = rand.Read(key)
		header = []string{"Idempotency-Key", base64.RawURLEncoding.EncodeToString(key)}
	}
	for try := 0; try < 100; try++ {
		r = c.do(method, path, body, header...)
		if r.err == nil && r.status != http.StatusServiceUnavailable && r.status != http.StatusConflict {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if r.status != http.StatusOK {
		return nil, fmt.Errorf("%s %s = %d %s %v", method, path, r.status, r.raw, r.err)
	}
	return r.body, nil
}

// ok is try on the test's goroutine, failing the test on an error.
func (c caller) ok(method, path string, body any) map[string]any {
	c.s.t.Helper()
	b, err := c.try(method, path, body)
	if err != nil {
		c.s.t.Fatal(err)
	}
	return b
}

// eventually retries check until it returns "" or timeout passes.
func eventually(t *testing.T, timeout time.Duration, check func() string) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		complaint := check()
		if complaint == "" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("still, after %s: %s", timeout, complaint)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// creditCode completes 17 characters of a unified social credit code with
// the GB 32100 check character.
func creditCode(first17 string) string {
	code, err := creditcode.Complete(first17)
	if err != nil {
		panic(err) // the tests' own 17 characters
	}
	return code
}

// stamp is an RFC 3339 time d from now.
func stamp(d time.Duration) string { return time.Now().Add(d).UTC().Format(time.RFC3339) }
