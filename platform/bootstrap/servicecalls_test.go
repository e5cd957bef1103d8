package bootstrap

import (
	"bytes"
	"context"
	"encoding/base64"
	"strings"
	"testing"
	"time"
)

// TestServiceCallsFromEnv: a service does not start without
// SERVICE_CALL_KEYS, nor with a short or malformed key; the error names the
// setting, never a key. With keys, a credential signed by the first is
// verified by a set holding it second (a rotation).
func TestServiceCallsFromEnv(t *testing.T) {
	ctx := context.Background()
	oldKey := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{1}, 32))
	newKey := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{2}, 32))
	short := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{3}, 31))
	env := func(keys string) func(string) string {
		return func(k string) string { return map[string]string{"SERVICE_CALL_KEYS": keys}[k] }
	}
	needs := Needs{ServiceCalls: true}
	for name, keys := range map[string]string{"unset": "", "short": newKey + "," + short, "not base64": "not a key"} {
		_, _, err := FromEnv(ctx, env(keys), "governance", needs)
		if err == nil || !strings.Contains(err.Error(), "SERVICE_CALL_KEYS") {
			t.Errorf("%s: err = %v, want one naming SERVICE_CALL_KEYS", name, err)
		}
		if err != nil && (strings.Contains(err.Error(), newKey) || strings.Contains(err.Error(), oldKey)) {
			t.Errorf("%s: the error shows a key: %v", name, err)
		}
	}
	deps := func(keys string) Deps {
		t.Helper()
		d, closeAll, err := FromEnv(ctx, env(keys), "governance", needs)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = closeAll(ctx) })
		return d
	}
	now := time.Now()
	signed := deps(oldKey).ServiceCalls.Sign("governance", "/m", "Bearer t", now.Add(time.Second))
	if got, err := deps(newKey+","+oldKey).ServiceCalls.Verify(signed, "/m", "Bearer t", now); err != nil || got != "governance" {
		t.Fatalf("after rotation: %q, %v", got, err)
	}
	// The gateway holds no keys.
	d, closeAll, err := FromEnv(ctx, env(""), "gateway", Needs{})
	if err != nil || d.ServiceCalls != nil {
		t.Fatalf("without Needs.ServiceCalls: %v, %v", d.ServiceCalls, err)
	}
	_ = closeAll(ctx)
}
