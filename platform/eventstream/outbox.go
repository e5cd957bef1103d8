// Package eventstream carries domain events on Redis Streams: the outbox
// side puts an event into the same redistx.Tx as the state change that
// causes it, and the Runner consumes a stream through a consumer group.
// Envelopes themselves are built by platform/events, which does no I/O.
package eventstream

import (
	"fmt"

	"google.golang.org/protobuf/proto"

	"github.com/tjsia/chapterhouse/platform/redistx"
	eventsv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/events/v1"
)

// Stream entry fields.
const (
	fieldID       = "id"
	fieldEnvelope = "env"
)

// StreamKey is the outbox stream of the slot tagged tag. Each slot has its
// own stream, because a stream written in a transaction must share the
// transaction's slot. Producers publish their streams through this
// function (services/<producer>/streams); consumers never call it with
// another service's tags.
func StreamKey(tag string) string { return redistx.Key(tag, "outbox") }

// Append adds envs to tx's outbox stream, in order, so they are written
// exactly when the rest of tx is. A nil envelope is no event and is
// skipped.
func Append(tx *redistx.Tx, tag string, envs ...*eventsv1.Envelope) error {
	for _, env := range envs {
		if env == nil {
			continue
		}
		data, err := proto.Marshal(env)
		if err != nil {
			return fmt.Errorf("eventstream: marshal envelope: %w", err)
		}
		tx.XAdd(StreamKey(tag), fieldID, env.GetId(), fieldEnvelope, string(data))
	}
	return nil
}
