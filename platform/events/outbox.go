// Package events carries domain events on Redis Streams: the outbox side
// puts an event into the same redistx.Tx as the state change that causes it,
// and the Runner consumes a stream through a consumer group.
package events

import (
	"context"
	"fmt"
	"time"

	eventsv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/events/v1"
	"go.opentelemetry.io/otel/propagation"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/tjsia/chapterhouse/platform/ids"
	"github.com/tjsia/chapterhouse/platform/redistx"
)

// Stream entry fields.
const (
	fieldID       = "id"
	fieldEnvelope = "env"
)

// OutboxKey is the outbox stream of the slot tagged tag. Each slot has its
// own stream, because a stream written in a transaction must share the
// transaction's slot.
func OutboxKey(tag string) string { return redistx.Key(tag, "outbox") }

// SystemActor is the actor of changes no caller asked for (consumers,
// follow-up work).
const SystemActor = "system"

// NewEnvelope starts an event with id, time, actor (SystemActor when
// empty) and the caller's trace context; the caller sets the payload.
func NewEnvelope(ctx context.Context, source, subject, actor string, now time.Time) *eventsv1.Envelope {
	if actor == "" {
		actor = SystemActor
	}
	carrier := propagation.MapCarrier{}
	propagation.TraceContext{}.Inject(ctx, carrier)
	return &eventsv1.Envelope{
		Id:          ids.Random(),
		Source:      source,
		Subject:     subject,
		Actor:       actor,
		OccurTime:   timestamppb.New(now),
		Traceparent: carrier.Get("traceparent"),
	}
}

// Append adds env to tx's outbox stream, so it is written exactly when the
// rest of tx is.
func Append(tx *redistx.Tx, tag string, env *eventsv1.Envelope) error {
	data, err := proto.Marshal(env)
	if err != nil {
		return fmt.Errorf("events: marshal envelope: %w", err)
	}
	tx.XAdd(OutboxKey(tag), fieldID, env.GetId(), fieldEnvelope, string(data))
	return nil
}
