// Package follow is how a service says which other services' event streams
// it follows: a list of Streams, each naming its producer, its stream (or
// a stream per key, such as per branch) and its handler. Follow builds the
// runners, gives the readiness checks (one per producer) and runs them, so
// a service's composition root names what it follows and nothing of how.
package follow

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"time"

	"github.com/redis/go-redis/v9"
	"go.opentelemetry.io/otel/trace"
	"golang.org/x/sync/errgroup"

	"github.com/tjsia/chapterhouse/platform/events"
	"github.com/tjsia/chapterhouse/platform/eventstream"
	"github.com/tjsia/chapterhouse/platform/grpcserver"
)

// Stream is one declaration: follow a producer's stream, or one stream per
// key. A producer's contract package (its streams) is where Streams are
// made, so a consumer never builds another service's key names.
type Stream struct {
	// Producer names the source: its Redis is Config.Source(Producer).
	Producer string
	// Name is the stream of a single-stream declaration.
	Name string
	// Keys lists, from the producer's Redis, the keys that have a stream
	// now (a per-key declaration); a key once listed keeps its runner.
	Keys func(ctx context.Context, source redis.UniversalClient) ([]string, error)
	// PerKey is the stream of one key.
	PerKey  func(key string) string
	Handler events.Handler
}

// One follows a single stream of producer.
func One(producer, stream string, handler events.Handler) Stream {
	return Stream{Producer: producer, Name: stream, Handler: handler}
}

// PerKey follows one stream of producer per key that keys lists.
func PerKey(producer string, keys func(context.Context, redis.UniversalClient) ([]string, error), stream func(key string) string, handler events.Handler) Stream {
	return Stream{Producer: producer, Keys: keys, PerKey: stream, Handler: handler}
}

// Config is what every stream a service follows shares.
type Config struct {
	// Group is the consumer group: the consuming service's name, so its
	// replicas share the work and other services get their own copy.
	Group string
	// Consumer names this instance within the group.
	Consumer string
	// Source returns a producer's Redis (bootstrap.Deps.EventSource).
	Source         func(producer string) redis.UniversalClient
	Logger         *slog.Logger
	TracerProvider trace.TracerProvider
	// ClaimIdle: see eventstream.RunnerConfig; 0 is its default.
	ClaimIdle time.Duration
	// Interval between looks for new keys of per-key streams; default 5s.
	Interval time.Duration
}

// Followed is the running side of a set of declarations.
type Followed struct {
	byProducer map[string][]probe
	run        []func(context.Context) error
}

type probe func(context.Context) error

// New builds a runner (or, per key, a supervisor of runners) for each
// stream. It fails on an incomplete declaration, before anything runs.
func New(cfg Config, streams ...Stream) (*Followed, error) {
	if cfg.Group == "" || cfg.Consumer == "" || cfg.Source == nil || cfg.Logger == nil {
		return nil, errors.New("follow: Config needs Group, Consumer, Source and Logger")
	}
	f := &Followed{byProducer: map[string][]probe{}}
	for _, s := range streams {
		if s.Producer == "" || s.Handler == nil || (s.Name == "") == (s.Keys == nil || s.PerKey == nil) {
			return nil, fmt.Errorf("follow: a stream of %q needs a handler and either a name or keys and a stream per key", s.Producer)
		}
		source := cfg.Source(s.Producer)
		runner := func(stream string) (*eventstream.Runner, error) {
			return eventstream.NewRunner(eventstream.RunnerConfig{
				Client: source, Source: s.Producer, Stream: stream, Group: cfg.Group, Consumer: cfg.Consumer,
				Handler: s.Handler, Logger: cfg.Logger, TracerProvider: cfg.TracerProvider, ClaimIdle: cfg.ClaimIdle,
			})
		}
		if s.Name != "" {
			r, err := runner(s.Name)
			if err != nil {
				return nil, fmt.Errorf("follow: %s %s: %w", s.Producer, s.Name, err)
			}
			f.add(s.Producer, r.Check, r.Run)
			continue
		}
		keys, perKey := s.Keys, s.PerKey
		sup, err := eventstream.NewSupervisor(eventstream.SupervisorConfig{
			Keys:     func(ctx context.Context) ([]string, error) { return keys(ctx, source) },
			Runner:   func(key string) (*eventstream.Runner, error) { return runner(perKey(key)) },
			Interval: cfg.Interval, Logger: cfg.Logger,
		})
		if err != nil {
			return nil, fmt.Errorf("follow: %s: %w", s.Producer, err)
		}
		// A per-key set can be empty (no branch yet): its producer's Redis
		// must still answer for the service to be ready.
		ping := func(ctx context.Context) error {
			if err := source.Ping(ctx).Err(); err != nil {
				return fmt.Errorf("events source %s unreachable: %w", s.Producer, err)
			}
			return nil
		}
		f.add(s.Producer, ping, sup.Run)
		f.add(s.Producer, sup.Check, nil)
	}
	return f, nil
}

func (f *Followed) add(producer string, check probe, run func(context.Context) error) {
	f.byProducer[producer] = append(f.byProducer[producer], check)
	if run != nil {
		f.run = append(f.run, run)
	}
}

// Checks are the readiness checks: one per producer ("events source
// <producer>"), failing while its Redis cannot be reached or the keys of
// its per-key streams cannot be listed.
func (f *Followed) Checks() []grpcserver.Check {
	producers := make([]string, 0, len(f.byProducer))
	for p := range f.byProducer {
		producers = append(producers, p)
	}
	sort.Strings(producers)
	checks := make([]grpcserver.Check, 0, len(producers))
	for _, p := range producers {
		probes := f.byProducer[p]
		checks = append(checks, grpcserver.Check{Name: "events source " + p, Probe: func(ctx context.Context) error {
			for _, probe := range probes {
				if err := probe(ctx); err != nil {
					return err
				}
			}
			return nil
		}})
	}
	return checks
}

// Run follows every stream until ctx is done or one fails.
func (f *Followed) Run(ctx context.Context) error {
	g, gctx := errgroup.WithContext(ctx)
	for _, run := range f.run {
		g.Go(func() error { return run(gctx) })
	}
	return g.Wait()
}
