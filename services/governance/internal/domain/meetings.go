package domain

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/fieldmaskpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/tjsia/chapterhouse/platform/apierr"
	"github.com/tjsia/chapterhouse/platform/auth"
	"github.com/tjsia/chapterhouse/platform/fieldmask"
	"github.com/tjsia/chapterhouse/platform/ids"
	"github.com/tjsia/chapterhouse/platform/resourcename"
	"github.com/tjsia/chapterhouse/platform/retry"
	apiv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/api/v1"
	governancev1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/governance/v1"
)

// termOrCurrent resolves a term field: the named term of the branch, or the
// current term when empty.
func termOrCurrent(c *council, branch, name, field string) (*governancev1.Term, error) {
	if name == "" {
		if c.current == nil {
			return nil, refusal(codes.FailedPrecondition, apiv1.ErrorReason_NO_CURRENT_TERM, "no_current_term_name_one",
				map[string]string{"field": field, "branch": "branches/" + branch})
		}
		return c.current, nil
	}
	return referenced(field, name, branch, "terms", "term", func(id string) (*governancev1.Term, error) {
		n, ok := termNumber(id)
		if t := c.term(n); ok && t != nil {
			return t, nil
		}
		return nil, ErrNotFound
	})
}

// checkPeople checks a list of person names.
func checkPeople(field string, people []string) []apierr.FieldViolation {
	var v []apierr.FieldViolation
	for i, p := range people {
		if _, err := resourcename.Parse(p, "people"); err != nil {
			v = append(v, nameForm(fmt.Sprintf("%s[%d]", field, i), p, "people/{person}"))
		}
	}
	return v
}

func checkMeeting(m *governancev1.Meeting) []apierr.FieldViolation {
	v := required("meeting.title", strings.TrimSpace(m.GetTitle()) == "")
	v = append(v, required("meeting.kind", m.GetKind() == governancev1.MeetingKind_MEETING_KIND_UNSPECIFIED)...)
	v = append(v, required("meeting.start_time", m.GetStartTime() == nil)...)
	if m.GetEndTime() != nil && m.GetStartTime() != nil && !m.GetEndTime().AsTime().After(m.GetStartTime().AsTime()) {
		v = append(v, apierr.Field("meeting.end_time", "governance.after", "other", "start_time"))
	}
	return append(v, checkPeople("meeting.attendees", m.GetAttendees())...)
}

// CreateMeeting schedules a meeting of the branch.
func (s *Service) CreateMeeting(ctx context.Context, p auth.Principal, parent string, in *governancev1.Meeting, id string) (*governancev1.Meeting, error) {
	_, branch, err := s.branchOf(ctx, parent)
	if err != nil {
		return nil, err
	}
	c, err := s.authorise(ctx, p, branch, runsMeetings)
	if err != nil {
		return nil, err
	}
	if v := checkMeeting(in); len(v) > 0 {
		return nil, apierr.InvalidArgument(v...)
	}
	if st := in.GetState(); st != governancev1.MeetingState_MEETING_STATE_UNSPECIFIED && st != governancev1.MeetingState_MEETING_STATE_SCHEDULED {
		return nil, apierr.InvalidArgument(apierr.Field("meeting.state", "governance.new_state", "state", governancev1.MeetingState_MEETING_STATE_SCHEDULED.String()))
	}
	t, err := termOrCurrent(c, branch, in.GetTerm(), "meeting.term")
	if err != nil {
		return nil, err
	}
	if id == "" {
		id = ids.Random()
	}
	now := s.now()
	m := clone(in)
	m.Name, m.Term, m.State = fmt.Sprintf("branches/%s/meetings/%s", branch, id), t.GetName(), governancev1.MeetingState_MEETING_STATE_SCHEDULED
	m.CreateTime, m.UpdateTime, m.Etag = timestamppb.New(now), timestamppb.New(now), newEtag()
	err = s.repo.CreateMeeting(ctx, branch, m)
	if errors.Is(err, ErrExists) {
		existing, gerr := s.repo.GetMeeting(ctx, branch, id)
		if gerr == nil && existing.GetTitle() == m.GetTitle() && proto.Equal(existing.GetStartTime(), m.GetStartTime()) {
			return existing, nil
		}
		return nil, apierr.AlreadyExists(m.GetName())
	}
	if err != nil {
		return nil, err
	}
	return m, nil
}

func (s *Service) meetingOf(ctx context.Context, name string) (string, *governancev1.Meeting, error) {
	_, branch, m, err := lookup(ctx, s, name, func(ids []string) (*governancev1.Meeting, error) {
		return s.repo.GetMeeting(ctx, ids[0], ids[1])
	}, "meetings")
	return branch, m, err
}

// GetMeeting returns a meeting.
func (s *Service) GetMeeting(ctx context.Context, name string) (*governancev1.Meeting, error) {
	_, m, err := s.meetingOf(ctx, name)
	return m, err
}

// ListMeetings pages through a branch's meetings by start time.
func (s *Service) ListMeetings(ctx context.Context, req *governancev1.ListMeetingsRequest) ([]*governancev1.Meeting, string, error) {
	_, branch, err := s.branchOf(ctx, req.GetParent())
	if err != nil {
		return nil, "", err
	}
	pg, err := s.pages.Parse(req.GetPageSize(), req.GetPageToken(), "meetings", req.GetParent(), req.GetKind().String(), req.GetState().String())
	if err != nil {
		return nil, "", err
	}
	page, err := s.repo.ListMeetings(ctx, branch, pg.After, pg.Size, func(m *governancev1.Meeting) bool {
		return (req.GetKind() == 0 || m.GetKind() == req.GetKind()) && (req.GetState() == 0 || m.GetState() == req.GetState())
	})
	return listed(pg, page, err)
}

var meetingPaths = []string{"title", "kind", "start_time", "end_time", "location", "agenda", "attendees", "minutes", "state"}

// UpdateMeeting records a meeting: its details, attendance and minutes, and
// SCHEDULED → HELD or CANCELLED. A cancelled meeting is not changed again;
// a held one keeps its state while its record is completed.
func (s *Service) UpdateMeeting(ctx context.Context, p auth.Principal, patch *governancev1.Meeting, mask *fieldmaskpb.FieldMask) (*governancev1.Meeting, error) {
	paths, err := fieldmask.Paths(mask, meetingPaths, map[string]string{"name": "immutable", "term": "immutable"})
	if err != nil {
		return nil, err
	}
	return retry.Write(ctx, patch.GetName(), patch.GetEtag(), IsStale, func() (*governancev1.Meeting, error) {
		branch, cur, err := s.meetingOf(ctx, patch.GetName())
		if err != nil {
			return nil, err
		}
		if _, err := s.authorise(ctx, p, branch, runsMeetings); err != nil {
			return nil, err
		}
		if patch.GetEtag() != "" && patch.GetEtag() != cur.GetEtag() {
			return nil, apierr.EtagMismatch(cur.GetName())
		}
		if cur.GetState() == governancev1.MeetingState_MEETING_STATE_CANCELLED {
			return nil, apierr.InvalidTransition(cur.GetName(), "update", cur.GetState().String())
		}
		next := clone(cur)
		fieldmask.Apply(next, patch, paths)
		if next.GetState() == governancev1.MeetingState_MEETING_STATE_UNSPECIFIED {
			return nil, apierr.InvalidArgument(apierr.Field("meeting.state", "required"))
		}
		if next.GetState() != cur.GetState() && cur.GetState() != governancev1.MeetingState_MEETING_STATE_SCHEDULED {
			// A held meeting's record is still completed (update), but its
			// state stays.
			return nil, refusal(codes.FailedPrecondition, apiv1.ErrorReason_INVALID_STATE_TRANSITION, "meeting_state_change",
				map[string]string{"resource": cur.GetName(), "action": "update", "state": cur.GetState().String(),
					"allowed": "update", "target": next.GetState().String()})
		}
		if v := checkMeeting(next); len(v) > 0 {
			return nil, apierr.InvalidArgument(v...)
		}
		next.UpdateTime, next.Etag = timestamppb.New(s.now()), newEtag()
		if err := s.repo.SaveMeeting(ctx, branch, next, cur); err != nil {
			return nil, err
		}
		return next, nil
	})
}
