package follow_test

import (
	"context"
	"io"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/tjsia/chapterhouse/platform/eventstream"
	"github.com/tjsia/chapterhouse/platform/follow"
	"github.com/tjsia/chapterhouse/platform/redistest"
	"github.com/tjsia/chapterhouse/platform/redistx"
	eventsv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/events/v1"
)

// seen remembers the ids of the events a handler got.
type seen struct {
	mu  sync.Mutex
	ids []string
}

func (s *seen) handle(_ context.Context, env *eventsv1.Envelope) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ids = append(s.ids, env.GetId())
	return nil
}

func (s *seen) has(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Contains(s.ids, id)
}

func publish(t *testing.T, c redis.UniversalClient, tag, id string) {
	t.Helper()
	tx := redistx.New(tag, "tx-"+id)
	if err := eventstream.Append(tx, tag, &eventsv1.Envelope{Id: id}); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(context.Background(), c); err != nil {
		t.Fatal(err)
	}
}

// TestDeclaredStreamsAreFollowed: a single stream of one producer and a
// stream per key of another, each read from its producer's own Redis; a
// key that appears while the service runs gets its stream followed.
func TestDeclaredStreamsAreFollowed(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	alpha, beta := redistest.Start(t).Client(), redistest.Start(t).Client()
	sources := map[string]redis.UniversalClient{"alpha": alpha, "beta": beta}
	keys := func(ctx context.Context, source redis.UniversalClient) ([]string, error) {
		return source.SMembers(ctx, "keys").Result()
	}
	var one, perKey seen
	followed, err := follow.New(follow.Config{
		Group: "consumer", Consumer: "pod-1", Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Source: func(p string) redis.UniversalClient { return sources[p] }, Interval: 20 * time.Millisecond,
	},
		follow.One("alpha", eventstream.StreamKey("a"), one.handle),
		follow.PerKey("beta", keys, func(k string) string { return eventstream.StreamKey("b:" + k) }, perKey.handle),
	)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- followed.Run(ctx) }()

	publish(t, alpha, "a", "a-1")
	beta.SAdd(ctx, "keys", "k1")
	publish(t, beta, "b:k1", "k1-1")
	// A key added later, and an event on its stream: followed too.
	beta.SAdd(ctx, "keys", "k2")
	publish(t, beta, "b:k2", "k2-1")
	// The same stream names in the other producer's Redis are not read.
	publish(t, beta, "a", "a-wrong-source")

	deadline := time.Now().Add(10 * time.Second)
	for !one.has("a-1") || !perKey.has("k1-1") || !perKey.has("k2-1") {
		if time.Now().After(deadline) {
			t.Fatalf("not every declared stream was followed: one %v, per key %v", one.ids, perKey.ids)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if one.has("a-wrong-source") {
		t.Fatal("a stream was read from another producer's Redis")
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run after cancel: %v", err)
	}
}

// TestChecksArePerProducer: one readiness check per producer, named for
// it, failing only while that producer's Redis cannot be reached.
func TestChecksArePerProducer(t *testing.T) {
	ctx := context.Background()
	up := redistest.Start(t)
	down := redistest.Start(t)
	sources := map[string]redis.UniversalClient{"up": up.Client(), "down": down.Client()}
	none := func(context.Context, redis.UniversalClient) ([]string, error) { return nil, nil }
	followed, err := follow.New(follow.Config{
		Group: "consumer", Consumer: "pod-1", Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Source: func(p string) redis.UniversalClient { return sources[p] },
	},
		follow.One("up", "s1", func(context.Context, *eventsv1.Envelope) error { return nil }),
		follow.PerKey("up", none, func(k string) string { return k }, func(context.Context, *eventsv1.Envelope) error { return nil }),
		follow.PerKey("down", none, func(k string) string { return k }, func(context.Context, *eventsv1.Envelope) error { return nil }),
	)
	if err != nil {
		t.Fatal(err)
	}
	down.Stop()
	checks := followed.Checks()
	var names []string
	for _, c := range checks {
		names = append(names, c.Name)
	}
	if want := []string{"events source down", "events source up"}; !slices.Equal(names, want) {
		t.Fatalf("checks = %q, want %q", names, want)
	}
	if err := checks[0].Probe(ctx); err == nil || !strings.Contains(err.Error(), "down") {
		t.Fatalf("the unreachable producer's check = %v, want a failure naming it", err)
	}
	if err := checks[1].Probe(ctx); err != nil {
		t.Fatalf("the reachable producer's check = %v", err)
	}
}

// TestIncompleteDeclarationsAreRefused: New fails before anything runs.
func TestIncompleteDeclarationsAreRefused(t *testing.T) {
	cfg := follow.Config{Group: "g", Consumer: "c", Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Source: func(string) redis.UniversalClient { return nil }}
	handler := func(context.Context, *eventsv1.Envelope) error { return nil }
	keys := func(context.Context, redis.UniversalClient) ([]string, error) { return nil, nil }
	for name, s := range map[string]follow.Stream{
		"no handler":           {Producer: "p", Name: "s"},
		"no producer":          {Name: "s", Handler: handler},
		"neither name nor key": {Producer: "p", Handler: handler},
		"both name and key":    {Producer: "p", Name: "s", Keys: keys, PerKey: func(k string) string { return k }, Handler: handler},
		"keys without stream":  {Producer: "p", Keys: keys, Handler: handler},
	} {
		if _, err := follow.New(cfg, s); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, err := follow.New(follow.Config{}, follow.One("p", "s", handler)); err == nil {
		t.Error("an empty Config was accepted")
	}
}
