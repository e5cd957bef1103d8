package eventstream

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/protobuf/proto"

	"github.com/tjsia/chapterhouse/platform/events"
	"github.com/tjsia/chapterhouse/platform/redistest"
	"github.com/tjsia/chapterhouse/platform/redistx"
	eventsv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/events/v1"
	membershipv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/membership/v1"
)

const tag = "evt"

var stream = StreamKey(tag)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// recorder is a handler that remembers what it saw and fails while fail
// says so.
type recorder struct {
	mu   sync.Mutex
	got  []*eventsv1.Envelope
	fail func(call int) error
}

func (r *recorder) handle(_ context.Context, env *eventsv1.Envelope) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.got = append(r.got, env)
	if r.fail != nil {
		return r.fail(len(r.got))
	}
	return nil
}

func (r *recorder) calls() []*eventsv1.Envelope {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]*eventsv1.Envelope(nil), r.got...)
}

func idsOf(envs []*eventsv1.Envelope) []string {
	out := make([]string, len(envs))
	for i, e := range envs {
		out[i] = e.GetId()
	}
	return out
}

func newEnvelope(t *testing.T, orgName string) *eventsv1.Envelope {
	t.Helper()
	env := events.NewEnvelope(context.Background(), "membership", orgName, "people/alice", time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	env.Payload = &eventsv1.Envelope_OrganizationCreated{OrganizationCreated: &eventsv1.OrganizationCreated{
		Organization: &membershipv1.Organization{Name: orgName, DisplayName: "Org " + orgName},
	}}
	return env
}

// publish commits envs through the outbox in one Tx.
func publish(t *testing.T, c *redis.Client, envs ...*eventsv1.Envelope) {
	t.Helper()
	tx := redistx.New(tag, "tx-"+envs[0].GetId())
	for _, env := range envs {
		if err := Append(tx, tag, env); err != nil {
			t.Fatalf("Append: %v", err)
		}
	}
	if err := tx.Commit(context.Background(), c); err != nil {
		t.Fatalf("Commit: %v", err)
	}
}

func newRunner(t *testing.T, c *redis.Client, group string, h events.Handler, mod func(*RunnerConfig)) *Runner {
	t.Helper()
	cfg := RunnerConfig{Client: c, Stream: stream, Group: group, Consumer: "c1", Handler: h, Logger: quiet}
	if mod != nil {
		mod(&cfg)
	}
	r, err := NewRunner(cfg)
	if err != nil {
		t.Fatalf("NewRunner: %v", err)
	}
	return r
}

func pending(t *testing.T, c *redis.Client, group string) int64 {
	t.Helper()
	p, err := c.XPending(context.Background(), stream, group).Result()
	if err != nil {
		t.Fatalf("XPENDING: %v", err)
	}
	return p.Count
}

func runOnce(t *testing.T, r *Runner) {
	t.Helper()
	if err := r.RunOnce(context.Background()); err != nil {
		t.Fatalf("RunOnce: %v", err)
	}
}

func TestRunOnceDelivers(t *testing.T) {
	redistest.ForEachBackend(t, func(t *testing.T, c *redis.Client) {
		e1, e2 := newEnvelope(t, "organizations/o1"), newEnvelope(t, "organizations/o2")
		publish(t, c, e1, e2)
		rec := &recorder{}
		r := newRunner(t, c, "g", rec.handle, nil)
		runOnce(t, r)

		got := rec.calls()
		if len(got) != 2 {
			t.Fatalf("handler got %d envelopes, want 2", len(got))
		}
		for i, want := range []*eventsv1.Envelope{e1, e2} {
			if !proto.Equal(got[i], want) {
				t.Errorf("envelope %d = %v, want %v", i, got[i], want)
			}
		}
		if n := got[0].GetOrganizationCreated().GetOrganization().GetDisplayName(); n != "Org organizations/o1" {
			t.Errorf("payload display name = %q", n)
		}
		if n := pending(t, c, "g"); n != 0 {
			t.Errorf("XPENDING count = %d, want 0", n)
		}
		if n := c.HLen(context.Background(), r.deliveriesKey()).Val(); n != 0 {
			t.Errorf("delivery counters left: %d", n)
		}
		// Acked entries are not delivered again.
		runOnce(t, r)
		if n := len(rec.calls()); n != 2 {
			t.Errorf("handler called %d times after second RunOnce, want 2", n)
		}
	})
}

// TestAKilledConsumersEventsAreReclaimed: an entry a consumer took and
// never acknowledged (it was killed) waits ClaimIdle, then another consumer
// of the group handles it, once.
func TestAKilledConsumersEventsAreReclaimed(t *testing.T) {
	redistest.ForEachBackend(t, func(t *testing.T, c *redis.Client) {
		ctx := context.Background()
		env := newEnvelope(t, "organizations/o1")
		publish(t, c, env)
		const idle = 200 * time.Millisecond
		rec := &recorder{}
		r := newRunner(t, c, "g", rec.handle, func(cfg *RunnerConfig) { cfg.ClaimIdle = idle; cfg.Consumer = "survivor" })
		runOnce(t, r) // creates the group and takes the first entry
		if len(rec.calls()) != 1 {
			t.Fatalf("survivor handled %d, want 1", len(rec.calls()))
		}
		// A second event is taken by a consumer that dies before acking.
		publish(t, c, newEnvelope(t, "organizations/o2"))
		if _, err := c.XReadGroup(ctx, &redis.XReadGroupArgs{Group: "g", Consumer: "killed", Streams: []string{stream, ">"}, Count: 1, Block: -1}).Result(); err != nil {
			t.Fatalf("the doomed consumer's read: %v", err)
		}
		runOnce(t, r)
		if n := len(rec.calls()); n != 1 {
			t.Fatalf("handled %d before ClaimIdle passed, want 1: the entry is still the killed consumer's", n)
		}
		time.Sleep(idle + 50*time.Millisecond)
		runOnce(t, r)
		runOnce(t, r)
		if n := len(rec.calls()); n != 2 {
			t.Fatalf("handled %d after ClaimIdle, want 2 (the killed consumer's entry, once)", n)
		}
		if n := pending(t, c, "g"); n != 0 {
			t.Fatalf("%d entries still pending", n)
		}
	})
}

func TestRunOnceRedeliversAfterHandlerError(t *testing.T) {
	redistest.ForEachBackend(t, func(t *testing.T, c *redis.Client) {
		env := newEnvelope(t, "organizations/o1")
		publish(t, c, env)
		rec := &recorder{fail: func(call int) error {
			if call == 1 {
				return errors.New("transient")
			}
			return nil
		}}
		const idle = 10 * time.Millisecond
		r := newRunner(t, c, "g", rec.handle, func(cfg *RunnerConfig) { cfg.ClaimIdle = idle })

		runOnce(t, r)
		if n := len(rec.calls()); n != 1 {
			t.Fatalf("handler called %d times, want 1", n)
		}
		if n := pending(t, c, "g"); n != 1 {
			t.Fatalf("XPENDING count after failure = %d, want 1", n)
		}

		time.Sleep(5 * idle)
		runOnce(t, r)
		got := rec.calls()
		if len(got) != 2 || got[1].GetId() != env.GetId() {
			t.Fatalf("deliveries = %v, want the event twice", idsOf(got))
		}
		if n := pending(t, c, "g"); n != 0 {
			t.Errorf("XPENDING count after success = %d, want 0", n)
		}
		if n := c.XLen(context.Background(), DeadLetterKey(stream, "g")).Val(); n != 0 {
			t.Errorf("dead-letter stream has %d entries, want 0", n)
		}
	})
}

func TestRunOnceDeadLettersAfterMaxDeliveries(t *testing.T) {
	redistest.ForEachBackend(t, func(t *testing.T, c *redis.Client) {
		ctx := context.Background()
		env := newEnvelope(t, "organizations/o1")
		publish(t, c, env)
		entryID := c.XRange(ctx, stream, "-", "+").Val()[0].ID
		rec := &recorder{fail: func(int) error { return errors.New("permanent") }}
		const idle = 10 * time.Millisecond
		const max = 3
		r := newRunner(t, c, "g", rec.handle, func(cfg *RunnerConfig) {
			cfg.ClaimIdle = idle
			cfg.MaxDeliveries = max
		})
		dead := DeadLetterKey(stream, "g")

		for i := 1; i <= max; i++ {
			runOnce(t, r)
			if n := len(rec.calls()); n != i {
				t.Fatalf("after round %d handler called %d times", i, n)
			}
			if n := c.XLen(ctx, dead).Val(); n != 0 {
				t.Fatalf("dead-lettered after only %d failures", i)
			}
			time.Sleep(5 * idle)
		}
		runOnce(t, r)
		if n := len(rec.calls()); n != max {
			t.Errorf("handler called %d times, want %d", n, max)
		}
		msgs := c.XRange(ctx, dead, "-", "+").Val()
		if len(msgs) != 1 {
			t.Fatalf("dead-letter stream has %d entries, want 1", len(msgs))
		}
		v := msgs[0].Values
		if v["source_id"] != entryID || v["id"] != env.GetId() {
			t.Errorf("dead letter = %v, want source_id %s and id %s", v, entryID, env.GetId())
		}
		if why, _ := v["why"].(string); !strings.Contains(why, "failed 3 deliveries") {
			t.Errorf("why = %q", why)
		}
		var stored eventsv1.Envelope
		if err := proto.Unmarshal([]byte(v["env"].(string)), &stored); err != nil || !proto.Equal(&stored, env) {
			t.Errorf("dead-lettered envelope = %v (%v), want the original", &stored, err)
		}
		if n := pending(t, c, "g"); n != 0 {
			t.Errorf("XPENDING count = %d, want 0", n)
		}
		if n := c.HLen(ctx, r.deliveriesKey()).Val(); n != 0 {
			t.Errorf("delivery counters left: %d", n)
		}
		// Nothing more to do.
		time.Sleep(5 * idle)
		runOnce(t, r)
		if n := len(rec.calls()); n != max {
			t.Errorf("handler called %d times after dead-lettering, want %d", n, max)
		}
	})
}

func TestRunOnceDeadLettersMalformedAtOnce(t *testing.T) {
	tests := []struct {
		name   string
		values map[string]any
	}{
		{"garbage envelope", map[string]any{"id": "ev-x", "env": "garbage"}},
		{"no envelope field", map[string]any{"id": "ev-y"}},
	}
	redistest.ForEachBackend(t, func(t *testing.T, c *redis.Client) {
		ctx := context.Background()
		for i, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				group := "g" + string(rune('a'+i))
				c.Del(ctx, stream)
				entryID, err := c.XAdd(ctx, &redis.XAddArgs{Stream: stream, Values: tt.values}).Result()
				if err != nil {
					t.Fatal(err)
				}
				rec := &recorder{}
				r := newRunner(t, c, group, rec.handle, nil) // default MaxDeliveries 5
				runOnce(t, r)
				if n := len(rec.calls()); n != 0 {
					t.Errorf("handler called %d times for a malformed entry", n)
				}
				msgs := c.XRange(ctx, DeadLetterKey(stream, group), "-", "+").Val()
				if len(msgs) != 1 {
					t.Fatalf("dead-letter stream has %d entries, want 1", len(msgs))
				}
				v := msgs[0].Values
				if v["source_id"] != entryID || v["id"] != tt.values["id"] {
					t.Errorf("dead letter = %v", v)
				}
				if why, _ := v["why"].(string); !strings.HasPrefix(why, "malformed envelope") {
					t.Errorf("why = %q", why)
				}
				if n := pending(t, c, group); n != 0 {
					t.Errorf("XPENDING count = %d, want 0", n)
				}
			})
		}
	})
}

func TestEachGroupGetsEveryEvent(t *testing.T) {
	redistest.ForEachBackend(t, func(t *testing.T, c *redis.Client) {
		e1, e2 := newEnvelope(t, "organizations/o1"), newEnvelope(t, "organizations/o2")
		publish(t, c, e1)
		publish(t, c, e2)
		recA, recB := &recorder{}, &recorder{}
		ra := newRunner(t, c, "projector", recA.handle, nil)
		rb := newRunner(t, c, "notifier", recB.handle, nil)
		runOnce(t, ra)
		runOnce(t, rb)
		want := []string{e1.GetId(), e2.GetId()}
		for name, rec := range map[string]*recorder{"projector": recA, "notifier": recB} {
			if got := idsOf(rec.calls()); strings.Join(got, ",") != strings.Join(want, ",") {
				t.Errorf("group %s got %v, want %v", name, got, want)
			}
			if n := pending(t, c, name); n != 0 {
				t.Errorf("group %s XPENDING count = %d, want 0", name, n)
			}
		}
	})
}

func TestRunStopsWhenContextCancelled(t *testing.T) {
	redistest.ForEachBackend(t, func(t *testing.T, c *redis.Client) {
		before := newEnvelope(t, "organizations/before")
		publish(t, c, before)
		rec := &recorder{}
		r := newRunner(t, c, "g", rec.handle, func(cfg *RunnerConfig) { cfg.Block = 50 * time.Millisecond })
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		done := make(chan error, 1)
		go func() { done <- r.Run(ctx) }()

		// History and new events are both delivered.
		after := newEnvelope(t, "organizations/after")
		publish(t, c, after)
		deadline := time.Now().Add(10 * time.Second)
		for len(rec.calls()) < 2 {
			if time.Now().After(deadline) {
				t.Fatalf("Run delivered %v, want both events", idsOf(rec.calls()))
			}
			time.Sleep(10 * time.Millisecond)
		}
		if got := idsOf(rec.calls()); got[0] != before.GetId() || got[1] != after.GetId() {
			t.Errorf("delivered %v, want [%s %s]", got, before.GetId(), after.GetId())
		}

		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run returned %v, want nil", err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("Run did not return after its context was cancelled")
		}
	})
}

func TestNewRunnerValidates(t *testing.T) {
	c := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"}) // never dialled
	defer c.Close()
	h := func(context.Context, *eventsv1.Envelope) error { return nil }
	full := RunnerConfig{Client: c, Stream: "s", Group: "g", Consumer: "c", Handler: h}
	tests := []struct {
		name string
		mod  func(*RunnerConfig)
	}{
		{"no client", func(c *RunnerConfig) { c.Client = nil }},
		{"no stream", func(c *RunnerConfig) { c.Stream = "" }},
		{"no group", func(c *RunnerConfig) { c.Group = "" }},
		{"no consumer", func(c *RunnerConfig) { c.Consumer = "" }},
		{"no handler", func(c *RunnerConfig) { c.Handler = nil }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := full
			tt.mod(&cfg)
			if _, err := NewRunner(cfg); err == nil {
				t.Fatal("NewRunner accepted an incomplete config")
			}
		})
	}
	r, err := NewRunner(full)
	if err != nil {
		t.Fatal(err)
	}
	if r.cfg.MaxDeliveries != 5 || r.cfg.ClaimIdle != DefaultClaimIdle || r.cfg.Block != time.Second {
		t.Errorf("defaults = %d, %v, %v", r.cfg.MaxDeliveries, r.cfg.ClaimIdle, r.cfg.Block)
	}
}

func TestHandlerContinuesTheProducersTrace(t *testing.T) {
	redistest.ForEachBackend(t, func(t *testing.T, c *redis.Client) {
		traceID := trace.TraceID{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}
		sc := trace.NewSpanContext(trace.SpanContextConfig{TraceID: traceID, SpanID: trace.SpanID{1, 1, 1, 1, 1, 1, 1, 1}, TraceFlags: trace.FlagsSampled})
		env := events.NewEnvelope(trace.ContextWithSpanContext(context.Background(), sc), "membership", "organizations/o1", "people/alice", time.Now())
		if !strings.Contains(env.GetTraceparent(), traceID.String()) {
			t.Fatalf("traceparent = %q, want trace id %s", env.GetTraceparent(), traceID)
		}
		publish(t, c, env)
		var seen trace.TraceID
		r := newRunner(t, c, "g", func(ctx context.Context, _ *eventsv1.Envelope) error {
			seen = trace.SpanContextFromContext(ctx).TraceID()
			return nil
		}, nil)
		runOnce(t, r)
		if seen != traceID {
			t.Fatalf("handler trace id = %s, want %s", seen, traceID)
		}
	})
}
