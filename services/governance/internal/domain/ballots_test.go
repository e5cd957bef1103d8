package domain

import (
	"slices"
	"testing"

	"github.com/tjsia/chapterhouse/platform/apierr"
	"github.com/tjsia/chapterhouse/platform/i18n"
	apiv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/api/v1"
	governancev1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/governance/v1"
)

// TestBallotMeetingRefusal: ballots are recorded at a HELD meeting of the
// resolution's term, the resolution's own meeting when it names one.
func TestBallotMeetingRefusal(t *testing.T) {
	held, scheduled := governancev1.MeetingState_MEETING_STATE_HELD, governancev1.MeetingState_MEETING_STATE_SCHEDULED
	meeting := func(name, term string, state governancev1.MeetingState) *governancev1.Meeting {
		return &governancev1.Meeting{Name: name, Term: term, State: state}
	}
	const t1, t2, m1, m2 = "branches/ai/terms/1", "branches/ai/terms/2", "branches/ai/meetings/m1", "branches/ai/meetings/m2"
	for _, c := range []struct {
		name    string
		r       *governancev1.Resolution
		m       *governancev1.Meeting
		refusal string
	}{
		{"its own held meeting", &governancev1.Resolution{Term: t1, Meeting: m1}, meeting(m1, t1, held), ""},
		{"a held meeting of its term, naming none", &governancev1.Resolution{Term: t1}, meeting(m2, t1, held), ""},
		{"another meeting than its own", &governancev1.Resolution{Term: t1, Meeting: m1}, meeting(m2, t1, held), "ballot_meeting_not_resolutions"},
		{"a meeting of another term", &governancev1.Resolution{Term: t1}, meeting(m2, t2, held), "ballot_meeting_other_term"},
		{"a meeting not yet held", &governancev1.Resolution{Term: t1, Meeting: m1}, meeting(m1, t1, scheduled), "ballot_meeting_not_held"},
		{"a cancelled meeting", &governancev1.Resolution{Term: t1}, meeting(m2, t1, governancev1.MeetingState_MEETING_STATE_CANCELLED), "ballot_meeting_not_held"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := BallotMeetingRefusal(c.r, c.m); got != c.refusal {
				t.Fatalf("refusal %q, want %q", got, c.refusal)
			}
			if c.refusal != "" {
				for _, lang := range i18n.Languages() {
					if !i18n.Default().Has(lang, "error.governance."+c.refusal) {
						t.Errorf("%s has no text error.governance.%s", lang, c.refusal)
					}
				}
			}
		})
	}
}

// TestBallotRefusals: a ballot recorded for a voter is judged as their
// own (NOT_AN_ELIGIBLE_VOTER, with the same texts), the voter was present
// (VOTER_NOT_PRESENT), and it never replaces the voter's own ballot
// (OWN_BALLOT_CAST), though it replaces an earlier recorded one. Every
// refused ballot is named, by its field.
func TestBallotRefusals(t *testing.T) {
	r := &governancev1.Resolution{Name: "branches/ai/resolutions/r1", Term: "branches/ai/terms/1",
		EligibleVoters: []string{"people/zhang", "people/wang", "people/chen", "people/gone"}}
	sitting := []string{"people/zhang", "people/wang", "people/chen"}
	attendees := []string{"people/zhang", "people/wang", "people/gone", "people/other", "people/li"}
	stored := map[string]*governancev1.Vote{
		"people/zhang": {Voter: "people/zhang"},
		"people/wang":  {Voter: "people/wang", Recorder: "people/li", Meeting: "branches/ai/meetings/m1"},
	}
	yes := governancev1.VoteChoice_VOTE_CHOICE_YES
	type refused struct {
		field  string
		reason apiv1.ErrorReason
		key    string
	}
	for _, c := range []struct {
		name   string
		voters []string
		want   []refused
	}{
		{"a recorded ballot replaces a recorded one", []string{"people/wang"}, nil},
		{"not a voter of the council snapshotted at opening", []string{"people/other"},
			[]refused{{"ballots[0].voter", apiv1.ErrorReason_NOT_AN_ELIGIBLE_VOTER, "error.governance.not_eligible_voter"}}},
		{"a voter who has left the council", []string{"people/gone"},
			[]refused{{"ballots[0].voter", apiv1.ErrorReason_NOT_AN_ELIGIBLE_VOTER, "error.governance.voter_left_council"}}},
		{"a voter not at the meeting", []string{"people/chen"},
			[]refused{{"ballots[0].voter", apiv1.ErrorReason_VOTER_NOT_PRESENT, "error.governance.voter_not_present"}}},
		{"a voter who cast their own ballot", []string{"people/zhang"},
			[]refused{{"ballots[0].voter", apiv1.ErrorReason_OWN_BALLOT_CAST, "error.governance.own_ballot_cast"}}},
		{"every refused ballot, in order", []string{"people/wang", "people/zhang", "people/li", "people/chen"},
			[]refused{
				{"ballots[1].voter", apiv1.ErrorReason_OWN_BALLOT_CAST, "error.governance.own_ballot_cast"},
				{"ballots[2].voter", apiv1.ErrorReason_NOT_AN_ELIGIBLE_VOTER, "error.governance.not_eligible_voter"},
				{"ballots[3].voter", apiv1.ErrorReason_VOTER_NOT_PRESENT, "error.governance.voter_not_present"},
			}},
	} {
		t.Run(c.name, func(t *testing.T) {
			var ballots []*governancev1.RecordedBallot
			for _, v := range c.voters {
				ballots = append(ballots, &governancev1.RecordedBallot{Voter: v, Choice: yes})
			}
			var got []refused
			for _, v := range BallotRefusals(r, sitting, attendees, stored, ballots) {
				got = append(got, refused{v.Rule, v.Reason, v.Key})
			}
			if !slices.Equal(got, c.want) {
				t.Fatalf("refusals %v, want %v", got, c.want)
			}
		})
	}
	// The voter's own ballot is judged by the same rule with the same
	// texts: what voterRefusal says of a voter is what their own ballot
	// meets.
	if v := voterRefusal(r, sitting, "people/gone"); v == nil || v.Key != "error.governance.voter_left_council" {
		t.Fatalf("voterRefusal(gone) = %v", v)
	}
	// One answer for all of them, nothing recorded: BALLOTS_REFUSED with
	// every refusal, readable in each language.
	err := ballotsRefused(r, BallotRefusals(r, sitting, attendees, stored, []*governancev1.RecordedBallot{{Voter: "people/other", Choice: yes}, {Voter: "people/chen", Choice: yes}}))
	if apierr.ReasonOf(err) != apiv1.ErrorReason_BALLOTS_REFUSED || len(apierr.Violations(err)) != 2 {
		t.Fatalf("refusal %v", err)
	}
	if err := apierr.CheckReason(err); err != nil {
		t.Fatal(err)
	}
}
