package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestMain lets the test binary run in a role too: the benchmark starts
// itself again for each component.
func TestMain(m *testing.M) {
	if role := os.Getenv(roleEnv); role != "" {
		runRole(role)
		return
	}
	os.Exit(m.Run())
}

// TestBenchmarkRunsAndTheStormFillsExactly: a short run of the whole
// benchmark produces every figure, with no failed request, and the storm
// confirms exactly the capacity (stored as answered) however many register
// at once. It checks the program, not the speed (the ratios are whatever
// this machine gives).
func TestBenchmarkRunsAndTheStormFillsExactly(t *testing.T) {
	if testing.Short() {
		t.Skip("starts eleven processes")
	}
	out := filepath.Join(t.TempDir(), "bench.json")
	cfg := config{round: 600 * time.Millisecond, rounds: 3, clients: 8, fixed: 500 * time.Millisecond,
		storm: 60, capacity: 7, out: out, profiles: t.TempDir()}
	if err := run(context.Background(), cfg); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(out) //nolint:gosec // G304: the test's own temporary file
	if err != nil {
		t.Fatal(err)
	}
	var r results
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatal(err)
	}
	if r.ThroughputRatio <= 0 || r.TracedRatio <= 0 || r.HalfLoad.P99Ratio <= 0 || r.AllocsPerRequest.System <= 0 {
		t.Errorf("a figure is missing: %s", b)
	}
	if r.System.Failed+r.Bare.Failed+r.Traced.Failed != 0 || r.HalfLoad.System.Failed+r.HalfLoad.Bare.Failed != 0 {
		t.Errorf("failed requests: %s", b)
	}
	if s := r.Storm; s.Confirmed != 7 || s.StoredConfirmed != 7 || s.Waitlisted != 53 || s.Errors != 0 {
		t.Errorf("storm: %+v", s)
	}
	if r.SpansExported == 0 {
		t.Error("the traced system exported nothing")
	}
	if r.RedisCommandsByName["system"]["hmget"] == 0 {
		t.Errorf("Redis calls by command: %v", r.RedisCommandsByName)
	}
	for _, p := range []string{"untraced/membership", "untraced/gateway", "bare/service"} {
		if r.RSS[p].IdleKiB == 0 || r.RSS[p].LoadKiB == 0 {
			t.Errorf("RSS of %s: %+v", p, r.RSS[p])
		}
	}
}
