package eventstream

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/cenkalti/backoff/v5"
	"github.com/redis/go-redis/v9"
	eventsv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/events/v1"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
	"google.golang.org/protobuf/proto"

	"github.com/tjsia/chapterhouse/platform/events"
)

// RunnerConfig configures one consumer of one stream.
type RunnerConfig struct {
	// Client reaches the Redis the stream lives in: the producer's, which
	// need not be the consumer's own.
	Client redis.UniversalClient
	// Source names the producer, for logs ("membership").
	Source   string
	Stream   string
	Group    string
	Consumer string
	Handler  events.Handler
	// MaxDeliveries before an entry is dead-lettered; default 5.
	MaxDeliveries int
	// ClaimIdle is how long an entry stays pending before another consumer
	// reclaims it; default DefaultClaimIdle.
	ClaimIdle time.Duration
	// Block is the XREADGROUP block time; default 1s.
	Block          time.Duration
	Logger         *slog.Logger
	TracerProvider trace.TracerProvider
}

// DefaultClaimIdle is how long an entry a consumer took stays with it
// before another consumer of the group reclaims it (checked every half of
// it): the wait of the events a killed consumer held. The handlers here
// take milliseconds, so 10 s is generous for a live one. What it costs:
// a handler still running after 10 s has its entry handled a second time
// by another consumer (handlers are idempotent, so this is duplicate work,
// not a duplicate effect), and every runner asks XAUTOCLAIM every 5 s.
const DefaultClaimIdle = 10 * time.Second

// Runner consumes one stream through one consumer group.
type Runner struct {
	cfg    RunnerConfig
	tracer trace.Tracer
}

// NewRunner validates cfg and applies defaults.
func NewRunner(cfg RunnerConfig) (*Runner, error) {
	if cfg.Client == nil || cfg.Stream == "" || cfg.Group == "" || cfg.Consumer == "" || cfg.Handler == nil {
		return nil, errors.New("events: runner needs client, stream, group, consumer and handler")
	}
	if cfg.MaxDeliveries <= 0 {
		cfg.MaxDeliveries = 5
	}
	if cfg.ClaimIdle <= 0 {
		cfg.ClaimIdle = DefaultClaimIdle
	}
	if cfg.Block <= 0 {
		cfg.Block = time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.TracerProvider == nil {
		cfg.TracerProvider = noop.NewTracerProvider()
	}
	if cfg.Source == "" {
		cfg.Source = "unnamed"
	}
	cfg.Logger = cfg.Logger.With("source", cfg.Source, "stream", cfg.Stream, "group", cfg.Group)
	return &Runner{cfg: cfg, tracer: cfg.TracerProvider.Tracer("github.com/tjsia/chapterhouse/platform/eventstream")}, nil
}

// DeadLetterKey is where entries that failed MaxDeliveries times go. It
// shares the stream's slot.
func DeadLetterKey(stream, group string) string { return stream + ":dead:" + group }

func (r *Runner) deliveriesKey() string { return r.cfg.Stream + ":tries:" + r.cfg.Group }

// Run consumes until ctx is done. It creates the group at the start of the
// stream, so a new consumer also sees history. While the source cannot be
// reached it keeps trying, with backoff, and logs why; it never gives up,
// because a source coming back must find its consumers waiting.
func (r *Runner) Run(ctx context.Context) error {
	retry := backoff.NewExponentialBackOff()
	retry.InitialInterval, retry.MaxInterval = 200*time.Millisecond, 5*time.Second
	grouped := false
	lastClaim := time.Time{}
	for ctx.Err() == nil {
		if !grouped {
			if err := r.ensureGroup(ctx); err != nil {
				if ctx.Err() == nil {
					r.cfg.Logger.WarnContext(ctx, "events: source unreachable; will retry", "err", err)
				}
				sleep(ctx, retry.NextBackOff())
				continue
			}
			grouped = true
		}
		if time.Since(lastClaim) >= r.cfg.ClaimIdle/2 {
			lastClaim = time.Now()
			if err := r.reclaim(ctx); err != nil && ctx.Err() == nil {
				r.cfg.Logger.WarnContext(ctx, "events: reclaim failed", "err", err)
			}
		}
		streams, err := r.cfg.Client.XReadGroup(ctx, &redis.XReadGroupArgs{
			Group: r.cfg.Group, Consumer: r.cfg.Consumer,
			Streams: []string{r.cfg.Stream, ">"}, Count: 32, Block: r.cfg.Block,
		}).Result()
		if errors.Is(err, redis.Nil) {
			retry.Reset()
			continue
		}
		if err != nil {
			if ctx.Err() != nil {
				break
			}
			// A source that lost its data (restarted without persistence)
			// has no group any more: create it again.
			grouped = !strings.Contains(err.Error(), "NOGROUP")
			r.cfg.Logger.WarnContext(ctx, "events: read failed; will retry", "err", err)
			sleep(ctx, retry.NextBackOff())
			continue
		}
		retry.Reset()
		for _, s := range streams {
			for _, msg := range s.Messages {
				r.process(ctx, msg)
			}
		}
	}
	return nil
}

func (r *Runner) ensureGroup(ctx context.Context) error {
	err := r.cfg.Client.XGroupCreateMkStream(ctx, r.cfg.Stream, r.cfg.Group, "0").Err()
	if err != nil && !strings.Contains(err.Error(), "BUSYGROUP") {
		return fmt.Errorf("events: create group: %w", err)
	}
	return nil
}

// Check is a readiness probe: it fails while the source's Redis cannot be
// reached.
func (r *Runner) Check(ctx context.Context) error {
	if err := r.cfg.Client.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("events source %s (stream %s) unreachable: %w", r.cfg.Source, r.cfg.Stream, err)
	}
	return nil
}

// RunOnce handles what is available now, including reclaimed entries;
// tests use it to step the consumer deterministically.
func (r *Runner) RunOnce(ctx context.Context) error {
	if err := r.ensureGroup(ctx); err != nil {
		return err
	}
	if err := r.reclaim(ctx); err != nil {
		return err
	}
	streams, err := r.cfg.Client.XReadGroup(ctx, &redis.XReadGroupArgs{
		Group: r.cfg.Group, Consumer: r.cfg.Consumer,
		Streams: []string{r.cfg.Stream, ">"}, Count: 1000, Block: -1,
	}).Result()
	if errors.Is(err, redis.Nil) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("events: read: %w", err)
	}
	for _, s := range streams {
		for _, msg := range s.Messages {
			r.process(ctx, msg)
		}
	}
	return nil
}

func (r *Runner) reclaim(ctx context.Context) error {
	start := "0-0"
	for {
		msgs, next, err := r.cfg.Client.XAutoClaim(ctx, &redis.XAutoClaimArgs{
			Stream: r.cfg.Stream, Group: r.cfg.Group, Consumer: r.cfg.Consumer,
			MinIdle: r.cfg.ClaimIdle, Start: start, Count: 32,
		}).Result()
		if err != nil {
			return fmt.Errorf("events: xautoclaim: %w", err)
		}
		for _, msg := range msgs {
			r.process(ctx, msg)
		}
		if next == "0-0" || len(msgs) == 0 {
			return nil
		}
		start = next
	}
}

func (r *Runner) process(ctx context.Context, msg redis.XMessage) {
	log := r.cfg.Logger.With("entry", msg.ID)
	tries, err := r.cfg.Client.HIncrBy(ctx, r.deliveriesKey(), msg.ID, 1).Result()
	if err != nil {
		r.warn(ctx, log, "events: count delivery", "err", err)
		return
	}
	raw, _ := msg.Values[fieldEnvelope].(string)
	env := &eventsv1.Envelope{}
	if raw == "" {
		// A malformed entry never gets better: dead-letter it at once.
		r.deadLetter(ctx, msg, "malformed envelope: no "+fieldEnvelope+" field")
		return
	}
	if err := proto.Unmarshal([]byte(raw), env); err != nil {
		r.deadLetter(ctx, msg, fmt.Sprintf("malformed envelope: %v", err))
		return
	}
	if int(tries) > r.cfg.MaxDeliveries {
		r.deadLetter(ctx, msg, fmt.Sprintf("failed %d deliveries", tries-1))
		return
	}
	hctx := ctx
	if env.GetTraceparent() != "" {
		hctx = propagation.TraceContext{}.Extract(ctx, propagation.MapCarrier{"traceparent": env.GetTraceparent()})
	}
	hctx, span := r.tracer.Start(hctx, "consume "+r.cfg.Group, trace.WithSpanKind(trace.SpanKindConsumer),
		trace.WithAttributes(attribute.String("messaging.system", "redis"), attribute.String("messaging.destination.name", r.cfg.Stream),
			attribute.String("messaging.message.id", env.GetId())))
	err = r.cfg.Handler(hctx, env)
	if err != nil {
		span.RecordError(err)
		span.SetStatus(codes.Error, err.Error())
		span.End()
		r.warn(ctx, log, "events: handler failed; will retry", "event", env.GetId(), "try", tries, "err", err)
		return
	}
	span.End()
	r.ack(ctx, msg.ID)
}

func (r *Runner) ack(ctx context.Context, id string) {
	pipe := r.cfg.Client.TxPipeline()
	pipe.XAck(ctx, r.cfg.Stream, r.cfg.Group, id)
	pipe.HDel(ctx, r.deliveriesKey(), id)
	if _, err := pipe.Exec(ctx); err != nil {
		r.warn(ctx, r.cfg.Logger, "events: ack", "entry", id, "err", err)
	}
}

// warn logs a failure that leaves the entry pending for another try, at
// warn level; while the runner is stopping (its context is done, which is
// what failed the call), at info: the entry waits for the next consumer,
// as it is meant to, and nothing is wrong.
func (r *Runner) warn(ctx context.Context, log *slog.Logger, msg string, args ...any) {
	level := slog.LevelWarn
	if ctx.Err() != nil {
		level = slog.LevelInfo
	}
	log.Log(context.WithoutCancel(ctx), level, msg, args...)
}

func (r *Runner) deadLetter(ctx context.Context, msg redis.XMessage, why string) {
	values := map[string]any{"source_id": msg.ID, "why": why}
	for k, v := range msg.Values {
		values[k] = v
	}
	if err := r.cfg.Client.XAdd(ctx, &redis.XAddArgs{Stream: DeadLetterKey(r.cfg.Stream, r.cfg.Group), Values: values}).Err(); err != nil {
		r.cfg.Logger.WarnContext(ctx, "events: dead-letter", "entry", msg.ID, "err", err)
		return
	}
	r.cfg.Logger.ErrorContext(ctx, "events: dead-lettered", "entry", msg.ID, "why", why)
	r.ack(ctx, msg.ID)
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
