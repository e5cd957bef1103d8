package directory_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	eventsv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/events/v1"
	governancev1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/governance/v1"

	"github.com/tjsia/chapterhouse/services/governance/branches/directory"
)

// officersSource is governance answering who serves, counting its calls.
type officersSource struct {
	officers []*governancev1.Officer
	err      error
	calls    int
}

func (s *officersSource) Serving(_ context.Context, _, person string) ([]*governancev1.Officer, error) {
	s.calls++
	var out []*governancev1.Officer
	for _, o := range s.officers {
		if o.GetPerson() == person {
			out = append(out, o)
		}
	}
	return out, s.err
}

// TestConfirmedAsksGovernanceBeforeSayingNo: a chair the read model has not
// heard of yet leads and sits on the council once governance says so; what
// the read model knows is not asked again; governance being down is an
// error, not a no.
func TestConfirmedAsksGovernanceBeforeSayingNo(t *testing.T) {
	ctx := context.Background()
	mr := miniredis.RunT(t)
	c := redis.NewClient(&redis.Options{Addr: mr.Addr()})
	now := func() time.Time { return time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC) }
	d := directory.New(c, "std:branches", now)
	director := officer("li", governancev1.Position_POSITION_DIRECTOR, governancev1.OfficerState_OFFICER_STATE_SERVING)
	if err := d.HandleEvent(ctx, &eventsv1.Envelope{Payload: &eventsv1.Envelope_OfficerAppointed{OfficerAppointed: &eventsv1.OfficerAppointed{Officer: director}}}); err != nil {
		t.Fatal(err)
	}
	chair := officer("zhang", governancev1.Position_POSITION_CHAIR, governancev1.OfficerState_OFFICER_STATE_SERVING)
	source := &officersSource{officers: []*governancev1.Officer{chair, director}}
	confirmed := directory.Confirm(d, source)

	if ok, err := d.Leads(ctx, "ai", "people/zhang"); ok || err != nil {
		t.Fatalf("the read model alone: leads %v %v, want not yet", ok, err)
	}
	if ok, err := confirmed.Leads(ctx, "ai", "people/zhang"); !ok || err != nil {
		t.Fatalf("confirmed: the new chair leads %v %v", ok, err)
	}
	if ok, err := confirmed.OnCouncil(ctx, "ai", "people/zhang"); !ok || err != nil {
		t.Fatalf("confirmed: the new chair on the council %v %v", ok, err)
	}
	calls := source.calls
	if ok, err := confirmed.OnCouncil(ctx, "ai", "people/li"); !ok || err != nil || source.calls != calls {
		t.Fatalf("a director the read model knows: %v %v, %d calls to governance, want none", ok, err, source.calls-calls)
	}
	if ok, err := confirmed.Leads(ctx, "ai", "people/li"); ok || err != nil {
		t.Fatalf("a director does not lead: %v %v", ok, err)
	}
	if ok, err := confirmed.OnCouncil(ctx, "ai", "people/nobody"); ok || err != nil {
		t.Fatalf("a stranger: %v %v", ok, err)
	}
	source.err = errors.New("governance unavailable")
	if _, err := confirmed.Leads(ctx, "ai", "people/nobody"); err == nil {
		t.Fatal("governance down: want an error, not a refusal")
	}
}
