package main

import (
	"bufio"
	"errors"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/tjsia/chapterhouse/platform/proctest"
	"github.com/tjsia/chapterhouse/platform/servicetest"
)

// TestMain lets a test run this program as a child process: the test
// binary run again in the role "devstack" is the devstack's main.
func TestMain(m *testing.M) {
	proctest.Main(map[string]func(){"devstack": main})
	os.Exit(m.Run())
}

// TestCtrlCIsACleanStop: Ctrl-C (SIGINT) stops the devstack with exit
// status 0 and no error logged, whether it comes while the system starts,
// while it seeds, or once it runs (`make run` printed "Error 1" after a
// clean stop, and a stop while seeding logged the cancelled calls as
// INTERNAL errors).
func TestCtrlCIsACleanStop(t *testing.T) {
	for _, tc := range []struct {
		name  string
		after string        // the line of output to wait for
		delay time.Duration // then wait this long
	}{
		{"while starting", "Store:", 0},
		{"while seeding", "Loading the demo data...", 0},
		{"once running", "Press Ctrl-C to stop.", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "--http-addr", "127.0.0.1:0", "--issuer-addr", "127.0.0.1:0", "--tokens-file", "") //nolint:gosec // G204, G702: the test binary itself, re-run as the devstack
			cmd.Env = append(os.Environ(), proctest.RoleEnv+"=devstack", "LOG_LEVEL=info")
			var stderr servicetest.LogBuffer
			cmd.Stderr = &stderr
			stdout, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = cmd.Process.Kill() })
			seen := make(chan struct{})
			var out strings.Builder
			go func() {
				scanner := bufio.NewScanner(stdout)
				once := sync.Once{}
				for scanner.Scan() {
					out.WriteString(scanner.Text() + "\n")
					if strings.HasPrefix(scanner.Text(), tc.after) {
						once.Do(func() { close(seen) })
					}
				}
			}()
			select {
			case <-seen:
			case <-time.After(2 * time.Minute):
				t.Fatalf("no %q in the output; stderr:\n%s", tc.after, stderr.String())
			}
			time.Sleep(tc.delay)
			if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			select {
			case err := <-done:
				var exit *exec.ExitError
				if errors.As(err, &exit) || err != nil {
					t.Fatalf("the devstack stopped with %v, want exit status 0; stderr:\n%s", err, stderr.String())
				}
			case <-time.After(time.Minute):
				t.Fatal("the devstack did not stop within a minute of SIGINT")
			}
			for _, line := range strings.Split(stderr.String(), "\n") {
				if strings.Contains(line, "level=ERROR") || strings.Contains(line, "code=Internal") || strings.Contains(line, "level=WARN") {
					t.Errorf("logged on a clean stop: %s", line)
				}
			}
		})
	}
}
