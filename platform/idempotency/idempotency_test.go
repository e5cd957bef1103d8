package idempotency_test

import (
	"bytes"
	"context"
	"errors"
	"regexp"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/tjsia/chapterhouse/platform/idempotency"
	"github.com/tjsia/chapterhouse/platform/redistest"
)

// step is one call in a scenario: Begin with hash (want resp/err), or
// Complete / Abandon.
type step struct {
	op       string // "begin", "complete", "abandon"
	hash     string
	resp     []byte // for complete: what to store; for begin: what to expect
	wantErr  error
	wantDone bool // begin must return a non-nil stored response
}

func TestStoreLifecycle(t *testing.T) {
	h1 := idempotency.RequestHash([]byte("request one"))
	h2 := idempotency.RequestHash([]byte("request two"))
	tests := []struct {
		name  string
		steps []step
	}{
		{"new request", []step{
			{op: "begin", hash: h1},
		}},
		{"repeat while pending", []step{
			{op: "begin", hash: h1},
			{op: "begin", hash: h1, wantErr: idempotency.ErrInProgress},
		}},
		{"different request while pending", []step{
			{op: "begin", hash: h1},
			{op: "begin", hash: h2, wantErr: idempotency.ErrMismatch},
		}},
		{"repeat after complete replays", []step{
			{op: "begin", hash: h1},
			{op: "complete", resp: []byte("\x0a\x03abc\x00\xff")},
			{op: "begin", hash: h1, resp: []byte("\x0a\x03abc\x00\xff"), wantDone: true},
			{op: "begin", hash: h1, resp: []byte("\x0a\x03abc\x00\xff"), wantDone: true},
		}},
		{"different request after complete", []step{
			{op: "begin", hash: h1},
			{op: "complete", resp: []byte("r")},
			{op: "begin", hash: h2, wantErr: idempotency.ErrMismatch},
		}},
		{"empty response is still a replay", []step{
			// An empty proto message marshals to zero bytes; the caller
			// tells "replay" from "execute" by a non-nil slice.
			{op: "begin", hash: h1},
			{op: "complete", resp: []byte{}},
			{op: "begin", hash: h1, resp: []byte{}, wantDone: true},
		}},
		{"abandon frees the key", []step{
			{op: "begin", hash: h1},
			{op: "abandon"},
			{op: "begin", hash: h2},
			{op: "begin", hash: h2, wantErr: idempotency.ErrInProgress},
		}},
	}
	redistest.ForEachBackend(t, func(t *testing.T, c *redis.Client) {
		ctx := context.Background()
		store := idempotency.New(c, time.Hour)
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				key := idempotency.Key("people/alice", "/svc/"+tt.name, "client-key")
				for i, s := range tt.steps {
					switch s.op {
					case "begin":
						got, err := store.Begin(ctx, "people/alice", key, s.hash)
						if !errors.Is(err, s.wantErr) {
							t.Fatalf("step %d: Begin err = %v, want %v", i, err, s.wantErr)
						}
						if s.wantDone {
							if got == nil || !bytes.Equal(got, s.resp) {
								t.Fatalf("step %d: Begin = %q (nil %v), want %q", i, got, got == nil, s.resp)
							}
						} else if got != nil {
							t.Fatalf("step %d: Begin = %q, want nil", i, got)
						}
					case "complete":
						if err := store.Complete(ctx, "people/alice", key, s.resp); err != nil {
							t.Fatalf("step %d: Complete: %v", i, err)
						}
					case "abandon":
						if err := store.Abandon(ctx, key); err != nil {
							t.Fatalf("step %d: Abandon: %v", i, err)
						}
					}
				}
			})
		}
	})
}

func TestStoreExpiry(t *testing.T) {
	redistest.ForEachBackend(t, func(t *testing.T, c *redis.Client) {
		ctx := context.Background()
		store := idempotency.New(c, 10*time.Minute)
		key := idempotency.Key("people/alice", "/svc/M", "k")
		if _, err := store.Begin(ctx, "people/alice", key, "h"); err != nil {
			t.Fatal(err)
		}
		// A pending claim expires on its own (a crashed request must not
		// block the key for ever), sooner than a completed response.
		if ttl := c.PTTL(ctx, key).Val(); ttl <= 0 || ttl > time.Minute {
			t.Errorf("pending TTL = %v, want within (0, 1m]", ttl)
		}
		if err := store.Complete(ctx, "people/alice", key, []byte("r")); err != nil {
			t.Fatal(err)
		}
		if ttl := c.PTTL(ctx, key).Val(); ttl <= time.Minute || ttl > 10*time.Minute {
			t.Errorf("completed TTL = %v, want within (1m, 10m]", ttl)
		}
	})
}

func TestKey(t *testing.T) {
	base := idempotency.Key("people/alice", "/pkg.S/Create", "k1")
	if !regexp.MustCompile(`^\{idem:[0-9a-f]{32}\}$`).MatchString(base) {
		t.Fatalf("Key = %q, want {idem:<32 hex>}", base)
	}
	if again := idempotency.Key("people/alice", "/pkg.S/Create", "k1"); again != base {
		t.Errorf("Key not deterministic: %q vs %q", again, base)
	}
	others := map[string]string{
		"other caller": idempotency.Key("people/bob", "/pkg.S/Create", "k1"),
		"other method": idempotency.Key("people/alice", "/pkg.S/Update", "k1"),
		"other key":    idempotency.Key("people/alice", "/pkg.S/Create", "k2"),
		// The separator keeps ("a","bc") and ("ab","c") apart.
		"shifted parts": idempotency.Key("people/alic", "e/pkg.S/Create", "k1"),
	}
	for name, k := range others {
		if k == base {
			t.Errorf("%s: Key collides with the base key", name)
		}
	}
	if idempotency.RequestHash([]byte("a")) == idempotency.RequestHash([]byte("b")) {
		t.Error("RequestHash equal for different requests")
	}
	if h := idempotency.RequestHash([]byte("a")); h != idempotency.RequestHash([]byte("a")) || len(h) != 64 {
		t.Errorf("RequestHash = %q, want a stable 64-hex digest", h)
	}
}

// TestOnlyCompletedKeysCount: a request that was refused (its claim
// abandoned) leaves nothing in Redis and does not count against the
// caller's bound; completed keys do.
func TestOnlyCompletedKeysCount(t *testing.T) {
	redistest.ForEachBackend(t, func(t *testing.T, c *redis.Client) {
		ctx := context.Background()
		store := idempotency.New(c, time.Hour, idempotency.WithMaxKeysPerCaller(2))
		for i := range 5 {
			key := idempotency.Key("people/alice", "/svc/M", "refused-"+string(rune('a'+i)))
			if _, err := store.Begin(ctx, "people/alice", key, "h"); err != nil {
				t.Fatalf("refused request %d: Begin: %v", i, err)
			}
			if err := store.Abandon(ctx, key); err != nil {
				t.Fatal(err)
			}
		}
		if keys := c.Keys(ctx, "*").Val(); len(keys) != 0 {
			t.Fatalf("refused requests left %v in Redis, want nothing", keys)
		}
		for _, k := range []string{"k1", "k2"} {
			key := idempotency.Key("people/alice", "/svc/M", k)
			if _, err := store.Begin(ctx, "people/alice", key, "h"); err != nil {
				t.Fatalf("%s: %v", k, err)
			}
			if err := store.Complete(ctx, "people/alice", key, []byte("r")); err != nil {
				t.Fatal(err)
			}
		}
		before := c.Keys(ctx, "*").Val()
		if _, err := store.Begin(ctx, "people/alice", idempotency.Key("people/alice", "/svc/M", "k3"), "h"); !errors.Is(err, idempotency.ErrTooManyKeys) {
			t.Fatalf("a third completed key: %v, want ErrTooManyKeys", err)
		}
		if after := c.Keys(ctx, "*").Val(); len(after) != len(before) {
			t.Fatalf("a request refused for the bound wrote keys: %v, before %v", after, before)
		}
		if got, err := store.Begin(ctx, "people/alice", idempotency.Key("people/alice", "/svc/M", "k1"), "h"); err != nil || string(got) != "r" {
			t.Fatalf("a replay at the bound: %q %v", got, err)
		}
	})
}
