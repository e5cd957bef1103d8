// Package proctest runs a service as a real child process that a test can
// kill with SIGKILL, stop with SIGTERM and start again: what crash, drain
// and restart tests need, and what an in-process service cannot give (a
// goroutine cannot be killed at an arbitrary instant).
//
// The child is the test binary itself, run again with RoleEnv naming a
// role: TestMain calls Main first, which runs that role's main function
// (the same bootstrap.Serve a service's cmd runs) instead of the tests.
// So a crash test needs no `go build` of its own, which on a loaded
// 2-core machine costs more than the test (linking the five binaries took
// 51 s there), and the children carry the race detector when the tests
// do.
package proctest

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

// RoleEnv names the role a child process runs.
const RoleEnv = "PROCTEST_ROLE"

// Main runs the role RoleEnv names, if any, and exits with its status;
// otherwise it returns and the tests run. Call it first in TestMain.
func Main(roles map[string]func()) {
	role := os.Getenv(RoleEnv)
	if role == "" {
		return
	}
	run, ok := roles[role]
	if !ok {
		fmt.Fprintf(os.Stderr, "proctest: no role %q\n", role)
		os.Exit(2)
	}
	run()
	os.Exit(0)
}

// Process is one role's child process; it may be killed, stopped and
// started again any number of times.
type Process struct {
	t    testing.TB
	name string
	role string
	env  []string
	log  string

	mu     sync.Mutex
	cmd    *exec.Cmd
	done   chan struct{}
	err    error
	starts int
}

// Start runs role in a child process named name (for logs) with env
// added to the test's environment, and kills it when the test ends. The
// child's output goes to a log file, shown when the test fails; a data
// race the child reports fails the test.
func Start(t testing.TB, name, role string, env ...string) *Process {
	t.Helper()
	p := &Process{t: t, name: name, role: role, env: env, log: filepath.Join(t.TempDir(), name+".log")}
	if err := p.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = p.Kill()
		out := p.Log()
		if strings.Contains(out, "WARNING: DATA RACE") {
			t.Errorf("%s reported a data race:\n%s", name, tail(out, 8000))
		} else if t.Failed() {
			t.Logf("%s's output (last 4 KB):\n%s", name, tail(out, 4096))
		}
	})
	return p
}

// Name is the name the process was started with.
func (p *Process) Name() string { return p.name }

// Start starts the process again after it stopped, with the same role
// and environment, and extra env (later values win).
func (p *Process) Start(extra ...string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd != nil && !isDone(p.done) {
		return fmt.Errorf("proctest: %s is still running", p.name)
	}
	self, err := os.Executable()
	if err != nil {
		return fmt.Errorf("proctest: %w", err)
	}
	out, err := os.OpenFile(p.log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("proctest: %w", err)
	}
	p.starts++
	fmt.Fprintf(out, "--- proctest: start %d of %s at %s\n", p.starts, p.name, time.Now().Format(time.RFC3339Nano))
	cmd := exec.Command(self) //nolint:gosec // G204: the test binary itself, re-run in a role
	cmd.Env = append(append(append(os.Environ(), RoleEnv+"="+p.role), p.env...), extra...)
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		out.Close()
		return fmt.Errorf("proctest: start %s: %w", p.name, err)
	}
	done := make(chan struct{})
	p.cmd, p.done, p.err = cmd, done, nil
	go func() {
		err := cmd.Wait()
		out.Close()
		p.mu.Lock()
		p.err = err
		p.mu.Unlock()
		close(done)
	}()
	return nil
}

// Kill sends SIGKILL, as a crash would (no drain, no final flush), and
// returns once the process is gone. Killing a stopped process does
// nothing.
func (p *Process) Kill() error {
	cmd, done := p.current()
	if cmd == nil || isDone(done) {
		return nil
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("proctest: kill %s: %w", p.name, err)
	}
	<-done
	return nil
}

// Terminate sends SIGTERM, as an orchestrator stopping a pod does, and
// waits up to timeout for the process to exit; it fails unless the
// process exited by itself with status 0 (a drain that overran is then
// killed).
func (p *Process) Terminate(timeout time.Duration) error {
	cmd, done := p.current()
	if cmd == nil || isDone(done) {
		return fmt.Errorf("proctest: %s is not running", p.name)
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		return fmt.Errorf("proctest: terminate %s: %w", p.name, err)
	}
	select {
	case <-done:
	case <-time.After(timeout):
		_ = p.Kill()
		return fmt.Errorf("proctest: %s still running %s after SIGTERM", p.name, timeout)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.err != nil {
		return fmt.Errorf("proctest: %s exited after SIGTERM: %w", p.name, p.err)
	}
	return nil
}

// Running reports whether the process is running.
func (p *Process) Running() bool {
	cmd, done := p.current()
	return cmd != nil && !isDone(done)
}

// Log is everything the process wrote, over all its starts.
func (p *Process) Log() string {
	b, _ := os.ReadFile(p.log)
	return string(b)
}

func (p *Process) current() (*exec.Cmd, chan struct{}) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.cmd, p.done
}

func isDone(c chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n:]
}

// FreeAddr is a loopback address (host, e.g. "127.0.0.1", and a port free
// now) for a child to listen on. The child binds it later, so the port is
// taken from below the kernel's ephemeral range: every listener on port 0
// and every outgoing connection of the other tests running in parallel
// takes its port from that range, and one of them took a port chosen
// there before the child could bind it (seen in CI: "address already in
// use"). Where the range cannot be read, any free port is taken.
func FreeAddr(t testing.TB, host string) string {
	t.Helper()
	addr, err := PickAddr(host)
	if err != nil {
		t.Fatal(err)
	}
	return addr
}

// PickAddr is FreeAddr for a program that starts processes (the system
// benchmark), returning its error.
func PickAddr(host string) (string, error) {
	if low := ephemeralLow(); low > firstPort {
		for range 200 {
			port := firstPort + rand.IntN(low-firstPort) //nolint:gosec // G404: a test port, not a secret
			l, err := net.Listen("tcp", net.JoinHostPort(host, strconv.Itoa(port)))
			if err == nil {
				addr := l.Addr().String()
				_ = l.Close()
				return addr, nil
			}
		}
	}
	l, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		return "", fmt.Errorf("proctest: %w", err)
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// firstPort is the lowest port FreeAddr picks: above the well-known and
// the common fixed service ports.
const firstPort = 20000

// ephemeralLow is the first port of the kernel's ephemeral range, or 0.
func ephemeralLow() int {
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err != nil {
		return 0
	}
	fields := strings.Fields(string(b))
	if len(fields) != 2 {
		return 0
	}
	low, err := strconv.Atoi(fields[0])
	if err != nil {
		return 0
	}
	return low
}

// WaitServing waits until the gRPC server at addr reports SERVING on the
// standard health service (its readiness), or timeout passes.
func WaitServing(ctx context.Context, addr string, timeout time.Duration) error {
	conn, err := grpc.NewClient("passthrough:///"+addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return fmt.Errorf("proctest: %w", err)
	}
	defer conn.Close()
	deadline := time.Now().Add(timeout)
	var last error
	for {
		cctx, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
		resp, err := healthpb.NewHealthClient(conn).Check(cctx, &healthpb.HealthCheckRequest{})
		cancel()
		switch {
		case err != nil:
			last = err
		case resp.GetStatus() != healthpb.HealthCheckResponse_SERVING:
			last = fmt.Errorf("status %s", resp.GetStatus())
		default:
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("proctest: %s not serving after %s: %w", addr, timeout, last)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}
