package domain

import (
	"context"
	"strings"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/tjsia/chapterhouse/platform/apierr"
	"github.com/tjsia/chapterhouse/platform/auth"
	"github.com/tjsia/chapterhouse/platform/retry"
	activitiesv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/activities/v1"
	eventsv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/events/v1"
)

// PublishActivity: DRAFT → PUBLISHED. Organisers.
func (s *Service) PublishActivity(ctx context.Context, p auth.Principal, req *activitiesv1.PublishActivityRequest) (*activitiesv1.Activity, error) {
	return s.transition(ctx, p, req.GetName(), req.GetEtag(), "publish", func(cur *activitiesv1.Activity, now time.Time) error {
		if cur.GetState() != activitiesv1.ActivityState_ACTIVITY_STATE_DRAFT {
			return ActivityTransition(cur, "publish")
		}
		if v := CheckPublishable(cur, now); len(v) > 0 {
			return apierr.InvalidArgument(v...)
		}
		cur.State, cur.PublishTime = activitiesv1.ActivityState_ACTIVITY_STATE_PUBLISHED, timestamppb.New(now)
		return nil
	}, func(ev *eventsv1.Envelope, a *activitiesv1.Activity) {
		ev.Payload = &eventsv1.Envelope_ActivityPublished{ActivityPublished: &eventsv1.ActivityPublished{Activity: a}}
	})
}

// transition runs a state change that leaves registrations alone.
func (s *Service) transition(ctx context.Context, p auth.Principal, name, etag, action string,
	apply func(cur *activitiesv1.Activity, now time.Time) error, payload func(*eventsv1.Envelope, *activitiesv1.Activity)) (*activitiesv1.Activity, error) {
	branch, id, organises, err := s.managing(ctx, p, name)
	if err != nil {
		return nil, err
	}
	return retry.Write(ctx, name, etag, IsStale, func() (*activitiesv1.Activity, error) {
		cur, err := s.repo.GetActivity(ctx, branch, id)
		if err != nil {
			return nil, notFound(err, name)
		}
		if err := requireOrganiser(cur, organises(cur), name, action); err != nil {
			return nil, err
		}
		if etag != "" && etag != cur.GetEtag() {
			return nil, apierr.EtagMismatch(name)
		}
		next := proto.Clone(cur).(*activitiesv1.Activity)
		now := s.now()
		if err := apply(next, now); err != nil {
			return nil, err
		}
		next.UpdateTime, next.Etag = timestamppb.New(now), newEtag()
		ev := s.envelope(ctx, p, next.GetName())
		payload(ev, next)
		err = s.repo.SaveActivity(ctx, branch, next, cur, ev)
		if err != nil {
			return nil, err
		}
		return next, nil
	})
}

// CancelActivity: DRAFT or PUBLISHED → CANCELLED, cancelling every open
// registration in the same step. Organisers.
func (s *Service) CancelActivity(ctx context.Context, p auth.Principal, req *activitiesv1.CancelActivityRequest) (*activitiesv1.Activity, error) {
	if strings.TrimSpace(req.GetReason()) == "" {
		return nil, apierr.InvalidArgument(apierr.Field("reason", "required"))
	}
	return s.closeActivity(ctx, p, req.GetName(), req.GetEtag(), "cancel", func(cur *activitiesv1.Activity) error {
		if cur.GetState() != activitiesv1.ActivityState_ACTIVITY_STATE_DRAFT && cur.GetState() != activitiesv1.ActivityState_ACTIVITY_STATE_PUBLISHED {
			return ActivityTransition(cur, "cancel")
		}
		return nil
	}, activitiesv1.ActivityState_ACTIVITY_STATE_CANCELLED, req.GetReason())
}

// CompleteActivity: PUBLISHED → COMPLETED once started; the CONFIRMED who
// did not check in become NO_SHOW and the waitlist is cancelled.
func (s *Service) CompleteActivity(ctx context.Context, p auth.Principal, req *activitiesv1.CompleteActivityRequest) (*activitiesv1.Activity, error) {
	return s.closeActivity(ctx, p, req.GetName(), req.GetEtag(), "complete", func(cur *activitiesv1.Activity) error {
		return CheckCompletable(cur, s.now())
	}, activitiesv1.ActivityState_ACTIVITY_STATE_COMPLETED, "")
}

func (s *Service) closeActivity(ctx context.Context, p auth.Principal, name, etag, action string, check func(*activitiesv1.Activity) error,
	to activitiesv1.ActivityState, reason string) (*activitiesv1.Activity, error) {
	branch, id, organises, err := s.managing(ctx, p, name)
	if err != nil {
		return nil, err
	}
	return retry.Write(ctx, name, etag, IsStale, func() (*activitiesv1.Activity, error) {
		snap, err := s.repo.Snapshot(ctx, branch, id)
		if err != nil {
			return nil, notFound(err, name)
		}
		cur := snap.Activity
		if err := requireOrganiser(cur, organises(cur), name, action); err != nil {
			return nil, err
		}
		if etag != "" && etag != cur.GetEtag() {
			return nil, apierr.EtagMismatch(name)
		}
		if err := check(cur); err != nil {
			return nil, err
		}
		now := s.now()
		next := proto.Clone(cur).(*activitiesv1.Activity)
		next.State, next.CancelReason = to, reason
		next.UpdateTime, next.CloseTime, next.Etag = timestamppb.New(now), timestamppb.New(now), newEtag()
		var changes []*activitiesv1.Registration
		var evs []*eventsv1.Envelope
		attended, noShow := 0, 0
		for _, r := range snap.Registrations {
			n := proto.Clone(r).(*activitiesv1.Registration)
			switch {
			case r.GetState() == activitiesv1.RegistrationState_REGISTRATION_STATE_ATTENDED:
				attended++
				continue
			case to == activitiesv1.ActivityState_ACTIVITY_STATE_COMPLETED && r.GetState() == activitiesv1.RegistrationState_REGISTRATION_STATE_CONFIRMED:
				n.State = activitiesv1.RegistrationState_REGISTRATION_STATE_NO_SHOW
				noShow++
			case r.GetState() == activitiesv1.RegistrationState_REGISTRATION_STATE_CONFIRMED || r.GetState() == activitiesv1.RegistrationState_REGISTRATION_STATE_WAITLISTED:
				n.State, n.CancelTime = activitiesv1.RegistrationState_REGISTRATION_STATE_CANCELLED, timestamppb.New(now)
				// The organiser's words as they wrote them (none when the
				// waitlist goes at completion): what the system did is
				// the activity's own state, not prose that no reader's
				// language could change.
				n.CancelReason = reason
				ev := s.envelope(ctx, p, n.GetName())
				ev.Payload = &eventsv1.Envelope_RegistrationCancelled{RegistrationCancelled: &eventsv1.RegistrationCancelled{Registration: n, PreviousState: r.GetState(), Reason: n.GetCancelReason()}}
				evs = append(evs, ev)
			default:
				continue
			}
			n.WaitlistPosition, n.UpdateTime, n.Etag = 0, timestamppb.New(now), newEtag()
			changes = append(changes, n)
		}
		ev := s.envelope(ctx, p, next.GetName())
		if to == activitiesv1.ActivityState_ACTIVITY_STATE_CANCELLED {
			ev.Payload = &eventsv1.Envelope_ActivityCancelled{ActivityCancelled: &eventsv1.ActivityCancelled{Activity: next, Reason: reason}}
		} else {
			ev.Payload = &eventsv1.Envelope_ActivityCompleted{ActivityCompleted: &eventsv1.ActivityCompleted{Activity: next, AttendedCount: int32(attended), NoShowCount: int32(noShow)}}
		}
		evs = append([]*eventsv1.Envelope{ev}, evs...)
		err = s.repo.ApplySnapshot(ctx, branch, snap, next, changes, evs...)
		if err != nil {
			return nil, err
		}
		next.ConfirmedCount, next.WaitlistCount = int32(attended+noShow), 0
		return next, nil
	})
}
