package server_test

import (
	"context"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/fieldmaskpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/tjsia/chapterhouse/platform/apierr"
	"github.com/tjsia/chapterhouse/platform/i18n"
	"github.com/tjsia/chapterhouse/platform/servicetest"
	apiv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/api/v1"
	governancev1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/governance/v1"

	"github.com/tjsia/chapterhouse/services/governance/internal/govtest"
)

// TestBallotsRecordedAtAMeeting: the secretariat records a show of hands
// taken at the resolution's held meeting for the council members who
// cast it, over the real gRPC path. Each ballot names its recorder,
// meeting and method; the tally counts them and reaches the quorum; a
// refused record names every refused ballot with its reason, in the
// caller's language, and changes nothing; the voter's own later ballot
// replaces a recorded one, and is never replaced by one.
func TestBallotsRecordedAtAMeeting(t *testing.T) {
	g := serve(t)
	svc, people, srv, c := g.svc, g.people, g.srv, g.c
	as := func(r servicetest.Role) context.Context { return srv.AsRole(t, r) }
	ctx := context.Background()
	// zhang chairs, li is secretary-general, wang and chen are directors:
	// the council is zhang, wang and chen.
	govtest.Branch(t, svc, people)
	govtest.ElectChair(t, svc)
	govtest.AppointSecretary(t, svc, people)
	govtest.Director(t, svc, people, "wang")
	govtest.Director(t, svc, people, "chen")
	meeting, err := svc.CreateMeeting(ctx, govtest.As("li"), "branches/ai", &governancev1.Meeting{Title: "Council", Kind: governancev1.MeetingKind_MEETING_KIND_COUNCIL,
		StartTime: timestamppb.New(govtest.Today), Attendees: []string{"people/zhang", "people/wang", "people/li"}}, "council")
	if err != nil {
		t.Fatal(err)
	}
	working, err := svc.CreateMeeting(ctx, govtest.As("li"), "branches/ai", &governancev1.Meeting{Title: "Working group", Kind: governancev1.MeetingKind_MEETING_KIND_WORKING,
		StartTime: timestamppb.New(govtest.Today.Add(-time.Hour)), Attendees: []string{"people/zhang", "people/wang"}}, "working")
	if err != nil {
		t.Fatal(err)
	}
	r, err := svc.CreateResolution(ctx, govtest.As("zhang"), "branches/ai", &governancev1.Resolution{Title: "Budget", Text: "The council adopts the budget.",
		Kind: governancev1.ResolutionKind_RESOLUTION_KIND_ORDINARY, Meeting: meeting.GetName()}, "budget")
	if err != nil {
		t.Fatal(err)
	}
	if r, err = svc.OpenResolutionVoting(ctx, govtest.As("zhang"), &governancev1.OpenResolutionVotingRequest{Name: r.GetName()}); err != nil {
		t.Fatal(err)
	}
	if len(r.GetEligibleVoters()) != 3 {
		t.Fatalf("eligible voters %v", r.GetEligibleVoters())
	}
	yes, no := governancev1.VoteChoice_VOTE_CHOICE_YES, governancev1.VoteChoice_VOTE_CHOICE_NO
	record := func(ctx context.Context, at string, ballots ...*governancev1.RecordedBallot) (*governancev1.RecordResolutionBallotsResponse, error) {
		return c.RecordResolutionBallots(ctx, &governancev1.RecordResolutionBallotsRequest{Name: r.GetName(), Meeting: at,
			Method: governancev1.BallotMethod_BALLOT_METHOD_SHOW_OF_HANDS, Ballots: ballots})
	}
	ballot := func(voter string, choice governancev1.VoteChoice) *governancev1.RecordedBallot {
		return &governancev1.RecordedBallot{Voter: voter, Choice: choice}
	}
	votes := func() []*governancev1.Vote {
		t.Helper()
		out, err := c.ListVotes(as(admin), &governancev1.ListVotesRequest{Parent: r.GetName()})
		if err != nil {
			t.Fatal(err)
		}
		return out.GetVotes()
	}
	// unchanged holds a refusal to its promise: nothing was recorded.
	unchanged := func(what string, before []*governancev1.Vote) {
		t.Helper()
		after := votes()
		if len(after) != len(before) {
			t.Fatalf("%s: %d ballots, %d before", what, len(after), len(before))
		}
		for i := range after {
			if !proto.Equal(after[i], before[i]) {
				t.Fatalf("%s changed %v to %v", what, before[i], after[i])
			}
		}
	}

	// Before the meeting is recorded as held, and at a meeting other than
	// the resolution's own: BALLOT_MEETING_INVALID.
	for _, at := range []*governancev1.Meeting{meeting, working} {
		_, err := record(as(secretary), at.GetName(), ballot("people/wang", yes))
		if status.Code(err) != codes.FailedPrecondition || apierr.ReasonOf(err) != apiv1.ErrorReason_BALLOT_MEETING_INVALID {
			t.Fatalf("recorded at %s: %v, want BALLOT_MEETING_INVALID", at.GetName(), err)
		}
		unchanged("a record at "+at.GetName(), nil)
	}
	held := &fieldmaskpb.FieldMask{Paths: []string{"state"}}
	for _, m := range []*governancev1.Meeting{meeting, working} {
		if _, err := svc.UpdateMeeting(ctx, govtest.As("li"), &governancev1.Meeting{Name: m.GetName(), State: governancev1.MeetingState_MEETING_STATE_HELD}, held); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := record(as(secretary), working.GetName(), ballot("people/wang", yes)); apierr.ReasonOf(err) != apiv1.ErrorReason_BALLOT_MEETING_INVALID {
		t.Fatalf("recorded at another meeting than the resolution's: %v", err)
	}
	// A voter named twice is a bad request.
	if _, err := record(as(secretary), meeting.GetName(), ballot("people/wang", yes), ballot("people/wang", no)); status.Code(err) != codes.InvalidArgument {
		t.Fatalf("a voter twice: %v", err)
	}

	// zhang votes himself; then a record naming him, chen (absent) and li
	// (not on the council) is refused whole, naming each, in the caller's
	// language; wang's ballot in it is not recorded either.
	if _, err := c.CastResolutionVote(as(chair), &governancev1.CastResolutionVoteRequest{Name: r.GetName(), Choice: yes}); err != nil {
		t.Fatal(err)
	}
	before := votes()
	for _, lang := range i18n.Languages() {
		_, err := record(inLanguage(as(secretary), lang), meeting.GetName(),
			ballot("people/wang", yes), ballot("people/zhang", no), ballot("people/chen", yes), ballot("people/li", yes))
		if status.Code(err) != codes.FailedPrecondition || apierr.ReasonOf(err) != apiv1.ErrorReason_BALLOTS_REFUSED {
			t.Fatalf("in %s: %v, want BALLOTS_REFUSED", lang, err)
		}
		want := []struct {
			field  string
			reason apiv1.ErrorReason
			facts  []fact
		}{
			{"ballots[1].voter", apiv1.ErrorReason_OWN_BALLOT_CAST, []fact{is("people/zhang"), is(r.GetName())}},
			{"ballots[2].voter", apiv1.ErrorReason_VOTER_NOT_PRESENT, []fact{is("people/chen")}},
			{"ballots[3].voter", apiv1.ErrorReason_NOT_AN_ELIGIBLE_VOTER, []fact{is(r.GetName()), is(govtest.Term1)}},
		}
		got := apierr.Violations(err)
		if len(got) != len(want) {
			t.Fatalf("in %s: violations %v, want %d", lang, got, len(want))
		}
		for i, w := range want {
			if got[i].GetType() != w.field || got[i].GetSubject() != w.reason.String() {
				t.Errorf("in %s: violation %d is %s %s, want %s %s", lang, i, got[i].GetType(), got[i].GetSubject(), w.field, w.reason)
			}
			checkText(t, w.field, lang, got[i].GetDescription(), w.facts)
		}
		if m := localized(err); m == nil || m.GetLocale() != lang {
			t.Errorf("in %s: localized message %v", lang, m)
		} else {
			checkText(t, "the refusal", lang, m.GetMessage(), []fact{is(r.GetName()), is("3")})
		}
		unchanged("a refused record in "+lang, before)
	}

	// Only those who run the branch record ballots; a council member
	// recording for another is refused and changes nothing.
	if _, err := record(as(councilMember), meeting.GetName(), ballot("people/wang", yes)); status.Code(err) != codes.PermissionDenied {
		t.Fatalf("a council member recording: %v", err)
	}
	unchanged("a denied record", before)

	// The show of hands for wang: recorded in the secretary-general's name
	// and wang's, at the meeting, by show of hands; it counts.
	out, err := record(as(secretary), meeting.GetName(), ballot("people/wang", yes))
	if err != nil {
		t.Fatal(err)
	}
	want := &governancev1.Vote{Name: r.GetName() + "/votes/wang", Voter: "people/wang", Choice: yes, Recorder: secretary.Subject,
		Meeting: meeting.GetName(), Method: governancev1.BallotMethod_BALLOT_METHOD_SHOW_OF_HANDS}
	got, err := c.GetVote(as(other), &governancev1.GetVoteRequest{Name: want.GetName()})
	if err != nil {
		t.Fatal(err)
	}
	got.VoteTime = nil
	if len(out.GetVotes()) != 1 || !proto.Equal(got, want) {
		t.Fatalf("recorded %v; stored %v, want %v", out.GetVotes(), got, want)
	}
	tallied, err := c.GetResolution(as(other), &governancev1.GetResolutionRequest{Name: r.GetName()})
	if err != nil {
		t.Fatal(err)
	}
	if tl := tallied.GetTally(); tl.GetYesCount() != 2 || tl.GetPresentCount() != 2 || !tl.GetQuorumMet() {
		t.Fatalf("tally %v: want zhang's own and wang's recorded YES, quorum met", tl)
	}
	// A correction of the record replaces it.
	if _, err := record(as(admin), meeting.GetName(), ballot("people/wang", no)); err != nil {
		t.Fatalf("a corrected record: %v", err)
	}
	// wang's own later ballot replaces the recorded one; a record does not
	// replace it back.
	if _, err := c.CastResolutionVote(as(councilMember), &governancev1.CastResolutionVoteRequest{Name: r.GetName(), Choice: yes}); err != nil {
		t.Fatal(err)
	}
	if got, err := c.GetVote(as(other), &governancev1.GetVoteRequest{Name: want.GetName()}); err != nil || got.GetRecorder() != "" || got.GetMeeting() != "" || got.GetChoice() != yes {
		t.Fatalf("wang's own ballot: %v %v", got, err)
	}
	before = votes()
	if _, err := record(as(chair), meeting.GetName(), ballot("people/wang", no)); apierr.ReasonOf(err) != apiv1.ErrorReason_BALLOTS_REFUSED {
		t.Fatalf("a record over wang's own ballot: %v", err)
	}
	unchanged("a record over an own ballot", before)

	// Closed, the resolution passes on them; no ballot is recorded after.
	closed, err := c.CloseResolutionVoting(as(chair), &governancev1.CloseResolutionVotingRequest{Name: r.GetName()})
	if err != nil || closed.GetState() != governancev1.ResolutionState_RESOLUTION_STATE_PASSED {
		t.Fatalf("closed %v: %v", closed, err)
	}
	if _, err := record(as(secretary), meeting.GetName(), ballot("people/wang", no)); apierr.ReasonOf(err) != apiv1.ErrorReason_INVALID_STATE_TRANSITION {
		t.Fatalf("a record after the close: %v", err)
	}
}
