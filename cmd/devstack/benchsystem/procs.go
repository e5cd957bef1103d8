package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/tjsia/chapterhouse/platform/proctest"
)

// proc is one component running as a process of its own.
type proc struct {
	name  string
	cmd   *exec.Cmd
	stats string // host:port of its stats listener
	log   string // its stdout and stderr
	// exited is closed once the process has ended.
	exited chan struct{}
}

// startProc runs this program again in role, with env added to ours.
func startProc(dir, name, role string, env []string) (*proc, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("find own binary: %w", err)
	}
	stats, err := freeAddr()
	if err != nil {
		return nil, err
	}
	logPath := filepath.Join(dir, strings.ReplaceAll(name, "/", "-")+".log")
	logFile, err := os.Create(logPath) //nolint:gosec // G304: our own temporary directory
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(self) //nolint:gosec // G204: this program, in a role
	cmd.Env = append(os.Environ(), append(env, roleEnv+"="+role, statsEnv+"="+stats)...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		_ = logFile.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &proc{name: name, cmd: cmd, stats: stats, log: logPath, exited: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		_ = logFile.Close()
		close(p.exited)
	}()
	return p, nil
}

// stop asks the process to drain (SIGTERM), and kills it after 15 s.
func (p *proc) stop() {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(15 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.exited
	}
}

// rssKiB is the process's resident set (VmRSS), in KiB.
func (p *proc) rssKiB() int64 {
	f, err := os.Open("/proc/" + strconv.Itoa(p.cmd.Process.Pid) + "/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if rest, ok := strings.CutPrefix(s.Text(), "VmRSS:"); ok {
			kib, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kib
		}
	}
	return 0
}

// mallocs is the process's count of heap allocations so far.
func (p *proc) mallocs(ctx context.Context) uint64 {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+p.stats+"/stats", nil)
	if err != nil {
		return 0
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0
	}
	defer resp.Body.Close()
	var s struct {
		Mallocs uint64 `json:"mallocs"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&s)
	return s.Mallocs
}

// profile takes a profile ("profile" for CPU, "allocs") of d into path.
func (p *proc) profile(ctx context.Context, kind string, d time.Duration, path string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet,
		fmt.Sprintf("http://%s/debug/pprof/%s?seconds=%d", p.stats, kind, int(d.Seconds())), nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	f, err := os.Create(path) //nolint:gosec // G304: our own output directory
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = io.Copy(f, resp.Body)
	return err
}

// freeAddr is a free loopback host:port for a process to bind later,
// outside the range other listeners and connections take ports from.
func freeAddr() (string, error) { return proctest.PickAddr("127.0.0.1") }

// waitFor polls url until it answers 200 with token, or timeout passes.
func waitFor(ctx context.Context, url, token string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	client := &http.Client{Timeout: time.Second}
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return err
		}
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := client.Do(req)
		if err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			err = fmt.Errorf("status %d", resp.StatusCode)
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s not ready after %s: %w", url, timeout, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
