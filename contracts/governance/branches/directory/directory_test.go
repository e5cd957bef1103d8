package directory_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"google.golang.org/genproto/googleapis/type/date"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/tjsia/chapterhouse/platform/redistest"
	eventsv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/events/v1"
	governancev1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/governance/v1"

	"github.com/tjsia/chapterhouse/contracts/governance/branches"
	"github.com/tjsia/chapterhouse/contracts/governance/branches/directory"
)

func branch(minExchange int32, updated time.Time) *governancev1.Branch {
	return &governancev1.Branch{Name: "branches/ai", DisplayName: "人工智能分会", UpdateTime: timestamppb.New(updated),
		Parameters: &governancev1.CharterParameters{MinExchangeActivitiesPerYear: minExchange}}
}

func officer(id string, pos governancev1.Position, st governancev1.OfficerState) *governancev1.Officer {
	return &governancev1.Officer{Name: "branches/ai/terms/1/officers/" + id, Person: "people/" + id, Position: pos, State: st,
		StartDate: &date.Date{Year: 2025, Month: 1, Day: 1}, EndDate: &date.Date{Year: 2029, Month: 12, Day: 31}}
}

// TestDirectoryFollowsGovernance: branches appear with their parameters,
// a replayed older update never rolls one back, the leaders are the
// serving chair and secretary-general and the council every serving
// officer but a secretary-general holding no other office, whatever order
// appointment and end arrive in.
func TestDirectoryFollowsGovernance(t *testing.T) {
	redistest.ForEachBackend(t, func(t *testing.T, c *redis.Client) {
		ctx := context.Background()
		now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
		d := directory.New(c, "test:branches", func() time.Time { return now })
		if _, err := d.Branch(ctx, "ai"); !errors.Is(err, branches.ErrUnknown) {
			t.Fatalf("before any event: %v", err)
		}
		t0 := now.Add(-time.Hour)
		apply := func(env *eventsv1.Envelope) {
			t.Helper()
			if err := d.HandleEvent(ctx, env); err != nil {
				t.Fatal(err)
			}
		}
		apply(&eventsv1.Envelope{Payload: &eventsv1.Envelope_BranchCreated{BranchCreated: &eventsv1.BranchCreated{Branch: branch(2, t0)}}})
		apply(&eventsv1.Envelope{Payload: &eventsv1.Envelope_BranchUpdated{BranchUpdated: &eventsv1.BranchUpdated{Branch: branch(4, t0.Add(time.Minute))}}})
		apply(&eventsv1.Envelope{Payload: &eventsv1.Envelope_BranchCreated{BranchCreated: &eventsv1.BranchCreated{Branch: branch(2, t0)}}})
		b, err := d.Branch(ctx, "ai")
		if err != nil || b.GetParameters().GetMinExchangeActivitiesPerYear() != 4 {
			t.Fatalf("branch %v %v: want the later update's minimum, 4", b, err)
		}
		if ids, err := d.IDs(ctx); err != nil || !slices.Equal(ids, []string{"ai"}) {
			t.Fatalf("ids %v %v", ids, err)
		}

		serving, ended := governancev1.OfficerState_OFFICER_STATE_SERVING, governancev1.OfficerState_OFFICER_STATE_ENDED
		chair := governancev1.Position_POSITION_CHAIR
		apply(&eventsv1.Envelope{Payload: &eventsv1.Envelope_OfficerAppointed{OfficerAppointed: &eventsv1.OfficerAppointed{Officer: officer("zhang", chair, serving)}}})
		apply(&eventsv1.Envelope{Payload: &eventsv1.Envelope_OfficerAppointed{OfficerAppointed: &eventsv1.OfficerAppointed{
			Officer: officer("li", governancev1.Position_POSITION_SECRETARY_GENERAL, serving)}}})
		apply(&eventsv1.Envelope{Payload: &eventsv1.Envelope_OfficerAppointed{OfficerAppointed: &eventsv1.OfficerAppointed{
			Officer: officer("wang", governancev1.Position_POSITION_DIRECTOR, serving)}}})
		// The end of an earlier chair's office arrives before its
		// appointment (a redelivery): it stays ended.
		apply(&eventsv1.Envelope{Payload: &eventsv1.Envelope_OfficeEnded{OfficeEnded: &eventsv1.OfficeEnded{Officer: officer("old", chair, ended)}}})
		apply(&eventsv1.Envelope{Payload: &eventsv1.Envelope_OfficerAppointed{OfficerAppointed: &eventsv1.OfficerAppointed{Officer: officer("old", chair, serving)}}})
		leaders, err := d.Leaders(ctx, "ai")
		if err != nil || !slices.Equal(leaders, []string{"people/li", "people/zhang"}) {
			t.Fatalf("leaders %v %v: want the serving chair and secretary-general only", leaders, err)
		}
		council, err := d.Council(ctx, "ai")
		if err != nil || !slices.Equal(council, []string{"people/wang", "people/zhang"}) {
			t.Fatalf("council %v %v: want the serving chair and director", council, err)
		}
	})
}
