package directory_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	governancev1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/governance/v1"

	"github.com/tjsia/chapterhouse/contracts/governance/branches"
	"github.com/tjsia/chapterhouse/contracts/governance/branches/directory"
)

// officersSource is governance answering who serves.
type officersSource struct {
	officers []*governancev1.Officer
	err      error
}

func (s *officersSource) Serving(_ context.Context, _, person string) ([]*governancev1.Officer, error) {
	var out []*governancev1.Officer
	for _, o := range s.officers {
		if o.GetPerson() == person {
			out = append(out, o)
		}
	}
	return out, s.err
}

// TestStandingIsGovernancesOwn: a chair the directory has not heard of yet
// leads and sits on the council by governance's answer; a director sits
// but does not lead; a secretary-general alone leads but does not sit; a
// stranger is neither; governance down is an error, not a refusal.
func TestStandingIsGovernancesOwn(t *testing.T) {
	ctx := context.Background()
	mr := miniredis.RunT(t)
	c := redis.NewClient(&redis.Options{Addr: mr.Addr()})
	now := func() time.Time { return time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC) }
	serving := governancev1.OfficerState_OFFICER_STATE_SERVING
	source := &officersSource{officers: []*governancev1.Officer{
		officer("zhang", governancev1.Position_POSITION_CHAIR, serving),
		officer("li", governancev1.Position_POSITION_DIRECTOR, serving),
		officer("sun", governancev1.Position_POSITION_SECRETARY_GENERAL, serving),
	}}
	confirmed := directory.Confirm(directory.New(c, "std:branches", now), source)
	if leaders, err := confirmed.Leaders(ctx, "ai"); err != nil || len(leaders) != 0 {
		t.Fatalf("the directory has heard of nobody yet: %v %v", leaders, err)
	}
	for person, want := range map[string]branches.Standing{
		"people/zhang":    {Leads: true, OnCouncil: true},
		"people/li":       {OnCouncil: true},
		"people/sun":      {Leads: true},
		"people/stranger": {},
	} {
		if got, err := confirmed.Standing(ctx, "ai", person); err != nil || got != want {
			t.Errorf("%s: %+v %v, want %+v", person, got, err, want)
		}
	}
	source.err = errors.New("governance unavailable")
	if _, err := confirmed.Standing(ctx, "ai", "people/zhang"); err == nil {
		t.Fatal("governance down: want an error, not a refusal")
	}
}
