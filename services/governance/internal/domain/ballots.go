package domain

import (
	"context"
	"fmt"
	"path"
	"strconv"

	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/tjsia/chapterhouse/platform/apierr"
	"github.com/tjsia/chapterhouse/platform/auth"
	"github.com/tjsia/chapterhouse/platform/resourcename"
	"github.com/tjsia/chapterhouse/platform/retry"
	apiv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/api/v1"
	eventsv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/events/v1"
	governancev1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/governance/v1"
)

// Ballots cast at a meeting (a show of hands, paper ballots) are recorded
// by the secretariat for the council members who cast them: what happened
// off-line, in the recorder's name and the voter's. The voter is judged
// exactly as for their own ballot (voterRefusal), was present at the
// meeting, and keeps the last word: a recorded ballot never replaces the
// voter's own, and the voter's own later ballot replaces a recorded one.

// checkRecordedBallots checks the request's form: voters named as people,
// each once.
func checkRecordedBallots(req *governancev1.RecordResolutionBallotsRequest) []apierr.FieldViolation {
	v := required("meeting", req.GetMeeting() == "")
	v = append(v, required("method", req.GetMethod() == governancev1.BallotMethod_BALLOT_METHOD_UNSPECIFIED)...)
	v = append(v, required("ballots", len(req.GetBallots()) == 0)...)
	seen := map[string]bool{}
	for i, b := range req.GetBallots() {
		field := fmt.Sprintf("ballots[%d].voter", i)
		switch _, err := resourcename.Parse(b.GetVoter(), "people"); {
		case err != nil:
			v = append(v, nameForm(field, b.GetVoter(), "people/{person}"))
		case seen[b.GetVoter()]:
			v = append(v, apierr.Field(field, "governance.voter_twice", "voter", b.GetVoter()))
		}
		seen[b.GetVoter()] = true
		v = append(v, required(fmt.Sprintf("ballots[%d].choice", i), b.GetChoice() == governancev1.VoteChoice_VOTE_CHOICE_UNSPECIFIED)...)
	}
	return v
}

// BallotMeetingRefusal is why ballots on r cannot have been taken at m
// ("" when they can), as the text "error.governance.<why>": m must be a
// HELD meeting of r's term, and r's own meeting when r names one.
func BallotMeetingRefusal(r *governancev1.Resolution, m *governancev1.Meeting) string {
	switch {
	case r.GetMeeting() != "" && r.GetMeeting() != m.GetName():
		return "ballot_meeting_not_resolutions"
	case m.GetTerm() != r.GetTerm():
		return "ballot_meeting_other_term"
	case m.GetState() != governancev1.MeetingState_MEETING_STATE_HELD:
		return "ballot_meeting_not_held"
	}
	return ""
}

// BallotRefusals judges ballots recorded for r at a meeting attended by
// attendees, before any is stored: each voter may vote (voterRefusal, with
// sitting the current council), was present, and has not cast their own
// ballot (stored, the ballots as they stand, by voter). One violation per
// refused ballot, in the request's order; its Rule is the ballot's field.
func BallotRefusals(r *governancev1.Resolution, sitting, attendees []string, stored map[string]*governancev1.Vote, ballots []*governancev1.RecordedBallot) []apierr.Violation {
	var out []apierr.Violation
	present := map[string]bool{}
	for _, a := range attendees {
		present[a] = true
	}
	for i, b := range ballots {
		field := fmt.Sprintf("ballots[%d].voter", i)
		voter := b.GetVoter()
		v := voterRefusal(r, sitting, voter)
		switch prev := stored[voter]; {
		case v != nil:
		case !present[voter]:
			v = &apierr.Violation{Reason: apiv1.ErrorReason_VOTER_NOT_PRESENT, Key: "error.governance.voter_not_present",
				Args: map[string]string{"voter": voter}}
		case prev != nil && prev.GetRecorder() == "":
			v = &apierr.Violation{Reason: apiv1.ErrorReason_OWN_BALLOT_CAST, Key: "error.governance.own_ballot_cast",
				Args: map[string]string{"voter": voter, "resource": r.GetName()}}
		}
		if v != nil {
			v.Rule = field
			out = append(out, *v)
		}
	}
	return out
}

// ballotsRefused is the one answer to ballots that break rules: every
// refused ballot, and nothing recorded.
func ballotsRefused(r *governancev1.Resolution, v []apierr.Violation) error {
	return &apierr.Error{Code: codes.FailedPrecondition, Reason: apiv1.ErrorReason_BALLOTS_REFUSED,
		Metadata: map[string]string{"resolution": r.GetName(), "refused": strconv.Itoa(len(v))}, Violations: v}
}

// RecordResolutionBallots records the ballots of req, taken at its
// meeting, for their voters, all or none. The write is conditioned on the
// resolution's ballots as they were read (the count every ballot bumps),
// so a voter's own ballot cast meanwhile is judged again, never
// overwritten.
func (s *Service) RecordResolutionBallots(ctx context.Context, p auth.Principal, req *governancev1.RecordResolutionBallotsRequest) ([]*governancev1.Vote, error) {
	return retry.Write(ctx, req.GetName(), "", IsStale, func() ([]*governancev1.Vote, error) {
		_, branch, r, err := s.resolutionOf(ctx, req.GetName())
		if err != nil {
			return nil, err
		}
		c, err := s.authorise(ctx, p, branch, recordsBallots)
		if err != nil {
			return nil, err
		}
		if v := checkRecordedBallots(req); len(v) > 0 {
			return nil, apierr.InvalidArgument(v...)
		}
		if r.GetState() != governancev1.ResolutionState_RESOLUTION_STATE_VOTING {
			return nil, resolutionTransition(r, "recordBallots", r.GetState())
		}
		m, err := referenced("meeting", req.GetMeeting(), branch, "meetings", "meeting", func(id string) (*governancev1.Meeting, error) {
			return s.repo.GetMeeting(ctx, branch, id)
		})
		if err != nil {
			return nil, err
		}
		if why := BallotMeetingRefusal(r, m); why != "" {
			return nil, refusal(codes.FailedPrecondition, apiv1.ErrorReason_BALLOT_MEETING_INVALID, why,
				map[string]string{"resolution": r.GetName(), "meeting": m.GetName(), "term": r.GetTerm()})
		}
		id := path.Base(r.GetName())
		ballots, err := s.repo.Ballots(ctx, branch, id)
		if err != nil {
			return nil, err
		}
		stored := map[string]*governancev1.Vote{}
		for _, v := range ballots.Items {
			stored[v.GetVoter()] = v
		}
		if v := BallotRefusals(r, c.sitting(), m.GetAttendees(), stored, req.GetBallots()); len(v) > 0 {
			return nil, ballotsRefused(r, v)
		}
		now := timestamppb.New(s.now())
		votes := make([]*governancev1.Vote, len(req.GetBallots()))
		for i, b := range req.GetBallots() {
			votes[i] = &governancev1.Vote{
				Name: r.GetName() + "/votes/" + path.Base(b.GetVoter()), Voter: b.GetVoter(), Choice: b.GetChoice(), VoteTime: now,
				Recorder: p.Subject, Meeting: m.GetName(), Method: req.GetMethod(),
			}
		}
		ev := s.envelope(ctx, p, r.GetName())
		ev.Payload = &eventsv1.Envelope_ResolutionBallotsRecorded{ResolutionBallotsRecorded: &eventsv1.ResolutionBallotsRecorded{
			Resolution: r.GetName(), Recorder: p.Subject, Meeting: m.GetName(), Method: req.GetMethod(), Votes: votes,
		}}
		if err := s.repo.RecordBallots(ctx, branch, id, votes, ballots.Version, ev); err != nil {
			return nil, err
		}
		return votes, nil
	})
}
