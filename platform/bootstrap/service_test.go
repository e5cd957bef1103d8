package bootstrap

import (
	"testing"
	"time"
)

// TestServiceConfigFromEnv: EVENTS_CLAIM_IDLE sets how long a dead
// consumer's events wait (0, eventstream's default, when unset); a value
// that is not a duration, or a negative one, is an error.
func TestServiceConfigFromEnv(t *testing.T) {
	for _, tc := range []struct {
		value string
		want  time.Duration
		ok    bool
	}{{"", 0, true}, {"1s", time.Second, true}, {"250ms", 250 * time.Millisecond, true}, {"soon", 0, false}, {"-1s", 0, false}} {
		env := map[string]string{"LISTEN_ADDR": "127.0.0.1:0", "EVENTS_CLAIM_IDLE": tc.value, "POD_NAME": "pod-1"}
		cfg, err := ServiceConfigFromEnv(func(k string) string { return env[k] }, Deps{}, ":0")
		if (err == nil) != tc.ok {
			t.Fatalf("EVENTS_CLAIM_IDLE=%q: err %v, want ok %v", tc.value, err, tc.ok)
		}
		if err != nil {
			continue
		}
		cfg.Listener.Close()
		if cfg.ClaimIdle != tc.want || cfg.ConsumerName != "pod-1" {
			t.Errorf("EVENTS_CLAIM_IDLE=%q: ClaimIdle %v, consumer %q", tc.value, cfg.ClaimIdle, cfg.ConsumerName)
		}
	}
}
