package events

import (
	"context"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"
)

func TestNewEnvelope(t *testing.T) {
	now := time.Date(2026, 5, 6, 7, 8, 9, 0, time.UTC)
	a := NewEnvelope(context.Background(), "membership", "organizations/o1", "people/alice", now)
	b := NewEnvelope(context.Background(), "membership", "organizations/o1", "people/alice", now)
	if a.GetId() == "" || a.GetId() == b.GetId() {
		t.Errorf("ids %q and %q, want distinct non-empty", a.GetId(), b.GetId())
	}
	if a.GetSource() != "membership" || a.GetSubject() != "organizations/o1" || a.GetActor() != "people/alice" {
		t.Errorf("envelope = %v", a)
	}
	if !proto.Equal(a.GetOccurTime(), timestamppb.New(now)) {
		t.Errorf("occur time = %v", a.GetOccurTime())
	}
	if a.GetTraceparent() != "" {
		t.Errorf("traceparent = %q without a span in ctx", a.GetTraceparent())
	}
}
