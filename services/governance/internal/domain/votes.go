package domain

import (
	"context"
	"errors"
	"path"

	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/tjsia/chapterhouse/platform/apierr"
	"github.com/tjsia/chapterhouse/platform/auth"
	"github.com/tjsia/chapterhouse/platform/retry"
	apiv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/api/v1"
	eventsv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/events/v1"
	governancev1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/governance/v1"
)

// attendeesOf are the people present at the resolution's meeting, if any.
func (s *Service) attendeesOf(ctx context.Context, branch string, r *governancev1.Resolution) ([]string, error) {
	if r.GetMeeting() == "" {
		return nil, nil
	}
	m, err := s.repo.GetMeeting(ctx, branch, path.Base(r.GetMeeting()))
	if errors.Is(err, ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return m.GetAttendees(), nil
}

// count tallies a resolution's ballots as they stand.
func (s *Service) count(ctx context.Context, branch string, r *governancev1.Resolution) (*governancev1.Tally, string, error) {
	ballots, err := s.repo.Ballots(ctx, branch, path.Base(r.GetName()))
	if err != nil {
		return nil, "", err
	}
	attendees, err := s.attendeesOf(ctx, branch, r)
	if err != nil {
		return nil, "", err
	}
	choices := map[string]governancev1.VoteChoice{}
	for _, v := range ballots.Items {
		choices[v.GetVoter()] = v.GetChoice()
	}
	return Tally(r.GetEligibleVoters(), attendees, choices, r.GetQuorum(), r.GetMajority()), ballots.Version, nil
}

// withTally fills a VOTING resolution's running tally; a closed one carries
// its final tally already.
func (s *Service) withTally(ctx context.Context, branch string, r *governancev1.Resolution) (*governancev1.Resolution, error) {
	if r.GetState() != governancev1.ResolutionState_RESOLUTION_STATE_VOTING {
		return r, nil
	}
	t, _, err := s.count(ctx, branch, r)
	if err != nil {
		return nil, err
	}
	out := clone(r)
	out.Tally = t
	return out, nil
}

// OpenResolutionVoting moves a DRAFT to VOTING, snapshotting who may vote
// (the council of its term, which must be the current term) and the
// branch's quorum and majority.
func (s *Service) OpenResolutionVoting(ctx context.Context, p auth.Principal, req *governancev1.OpenResolutionVotingRequest) (*governancev1.Resolution, error) {
	return s.changeResolution(ctx, p, req.GetName(), req.GetEtag(), opensVoting, func(b *governancev1.Branch, branch string, c *council, cur, next *governancev1.Resolution) (*eventsv1.Envelope, error) {
		if cur.GetState() != governancev1.ResolutionState_RESOLUTION_STATE_DRAFT {
			return nil, resolutionTransition(cur, "openVoting", cur.GetState())
		}
		if c.current == nil || c.current.GetName() != cur.GetTerm() {
			return nil, refusal(codes.FailedPrecondition, apiv1.ErrorReason_NO_CURRENT_TERM, "term_not_current",
				map[string]string{"resource": cur.GetName(), "term": cur.GetTerm()})
		}
		// Nominations it appoints must still be open to appointment.
		if err := s.checkResolution(ctx, branch, cur); err != nil {
			return nil, err
		}
		voters := c.councilOf(c.current.GetNumber())
		if len(voters) == 0 {
			return nil, refusal(codes.FailedPrecondition, apiv1.ErrorReason_INVALID_STATE_TRANSITION, "empty_council",
				map[string]string{"resource": cur.GetName(), "action": "openVoting", "state": cur.GetState().String(),
					"allowed": "update,withdraw", "term": cur.GetTerm()})
		}
		next.State, next.EligibleVoters = governancev1.ResolutionState_RESOLUTION_STATE_VOTING, voters
		next.Quorum, next.Majority = clone(b.GetParameters().GetQuorum()), clone(b.GetParameters().GetMajority())
		next.OpenTime = next.GetUpdateTime()
		ev := s.envelope(ctx, p, next.GetName())
		ev.Payload = &eventsv1.Envelope_ResolutionVotingOpened{ResolutionVotingOpened: &eventsv1.ResolutionVotingOpened{Resolution: next}}
		return ev, nil
	})
}

// CastResolutionVote records the caller's ballot. Each ballot is its own
// record, stored only while voting is open, so ballots by different voters
// never contend, and a ballot cast as voting closes is either counted or
// refused, never lost.
func (s *Service) CastResolutionVote(ctx context.Context, p auth.Principal, req *governancev1.CastResolutionVoteRequest) (*governancev1.Vote, error) {
	_, branch, r, err := s.resolutionOf(ctx, req.GetName())
	if err != nil {
		return nil, err
	}
	if r.GetState() != governancev1.ResolutionState_RESOLUTION_STATE_VOTING {
		return nil, resolutionTransition(r, "vote", r.GetState())
	}
	if err := s.mayVote(ctx, p, branch, r); err != nil {
		return nil, err
	}
	v := &governancev1.Vote{
		Name:  r.GetName() + "/votes/" + p.PersonID(),
		Voter: p.Subject, Choice: req.GetChoice(), VoteTime: timestamppb.New(s.now()),
	}
	err = s.repo.CastVote(ctx, branch, path.Base(r.GetName()), v)
	if IsStale(err) {
		// Voting closed between the read and the ballot.
		_, _, now, gerr := s.resolutionOf(ctx, req.GetName())
		if gerr != nil {
			return nil, gerr
		}
		return nil, resolutionTransition(r, "vote", now.GetState())
	}
	if err != nil {
		return nil, err
	}
	return v, nil
}

// GetVote returns one ballot.
func (s *Service) GetVote(ctx context.Context, name string) (*governancev1.Vote, error) {
	_, _, v, err := lookup(ctx, s, name, func(ids []string) (*governancev1.Vote, error) {
		return s.repo.GetVote(ctx, ids[0], ids[1], ids[2])
	}, "resolutions", "votes")
	return v, err
}

// ListVotes pages through a resolution's ballots by voter.
func (s *Service) ListVotes(ctx context.Context, parent string, size int32, token string) ([]*governancev1.Vote, string, error) {
	_, branch, r, err := s.resolutionOf(ctx, parent)
	if err != nil {
		return nil, "", err
	}
	pg, err := s.pages.Parse(size, token, "votes", parent)
	if err != nil {
		return nil, "", err
	}
	page, err := s.repo.ListVotes(ctx, branch, path.Base(r.GetName()), pg.After, pg.Size)
	return listed(pg, page, err)
}

// CloseResolutionVoting counts the ballots and decides: FAILED without a
// quorum, PASSED when YES reaches the majority. The write holds only if no
// ballot arrived since the count, so the recorded tally is the final one.
func (s *Service) CloseResolutionVoting(ctx context.Context, p auth.Principal, req *governancev1.CloseResolutionVotingRequest) (*governancev1.Resolution, error) {
	return retry.Write(ctx, req.GetName(), req.GetEtag(), IsStale, func() (*governancev1.Resolution, error) {
		_, branch, cur, err := s.resolutionOf(ctx, req.GetName())
		if err != nil {
			return nil, err
		}
		if _, err := s.authorise(ctx, p, branch, closesVoting); err != nil {
			return nil, err
		}
		if req.GetEtag() != "" && req.GetEtag() != cur.GetEtag() {
			return nil, apierr.EtagMismatch(cur.GetName())
		}
		if cur.GetState() != governancev1.ResolutionState_RESOLUTION_STATE_VOTING {
			return nil, resolutionTransition(cur, "closeVoting", cur.GetState())
		}
		tally, version, err := s.count(ctx, branch, cur)
		if err != nil {
			return nil, err
		}
		now := s.now()
		next := clone(cur)
		next.Tally, next.CloseTime, next.UpdateTime, next.Etag = tally, timestamppb.New(now), timestamppb.New(now), newEtag()
		ev := s.envelope(ctx, p, next.GetName())
		if Passed(tally) {
			next.State = governancev1.ResolutionState_RESOLUTION_STATE_PASSED
			ev.Payload = &eventsv1.Envelope_ResolutionPassed{ResolutionPassed: &eventsv1.ResolutionPassed{Resolution: next}}
		} else {
			next.State = governancev1.ResolutionState_RESOLUTION_STATE_FAILED
			ev.Payload = &eventsv1.Envelope_ResolutionFailed{ResolutionFailed: &eventsv1.ResolutionFailed{Resolution: next}}
		}
		if err := s.repo.CloseResolution(ctx, branch, next, cur.GetEtag(), version, ev); err != nil {
			return nil, err
		}
		return next, nil
	})
}
