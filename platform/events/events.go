// Package events builds domain events: the protobuf envelope every
// Chapterhouse event travels in. It does no I/O, so a domain package can
// build the events of its use cases without linking Redis; writing them to
// an outbox and consuming them is platform/eventstream's job.
package events

import (
	"context"
	"time"

	"go.opentelemetry.io/otel/propagation"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/tjsia/chapterhouse/platform/ids"
	eventsv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/events/v1"
)

// SystemActor is the actor of changes no caller asked for (consumers,
// follow-up work).
const SystemActor = "system"

// Handler handles one event. It must be idempotent: an event can be
// delivered again after a crash between handling and acknowledging. A
// handler that writes should use the event id as its write's operation id,
// which makes the write apply once however often the event arrives.
type Handler func(ctx context.Context, env *eventsv1.Envelope) error

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
