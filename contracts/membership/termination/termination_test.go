package termination_test

import (
	"testing"

	"github.com/tjsia/chapterhouse/contracts/membership/termination"
	eventsv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/events/v1"
	membershipv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/membership/v1"
)

func terminated(member string) *eventsv1.Envelope {
	return &eventsv1.Envelope{Id: "e1", Payload: &eventsv1.Envelope_MemberTerminated{MemberTerminated: &eventsv1.MemberTerminated{
		Member: &membershipv1.Member{Name: member}, Reason: "dues unpaid"}}}
}

func TestOf(t *testing.T) {
	got, ok := termination.Of(terminated("branches/ai/members/zhiyuan"))
	want := termination.Termination{Branch: "ai", Member: "branches/ai/members/zhiyuan", MemberID: "zhiyuan", Reason: "dues unpaid"}
	if !ok || got != want {
		t.Fatalf("Of = %+v, %v; want %+v", got, ok, want)
	}
	for name, env := range map[string]*eventsv1.Envelope{
		"another event":         {Id: "e2", Payload: &eventsv1.Envelope_MemberSuspended{MemberSuspended: &eventsv1.MemberSuspended{}}},
		"no payload":            {Id: "e3"},
		"not a member's name":   terminated("organizations/zhiyuan"),
		"a member of no branch": terminated("branches//members/zhiyuan"),
	} {
		if got, ok := termination.Of(env); ok {
			t.Errorf("%s: Of = %+v, want skipped", name, got)
		}
	}
}
