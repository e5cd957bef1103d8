package domain

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"

	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/fieldmaskpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/tjsia/chapterhouse/platform/apierr"
	"github.com/tjsia/chapterhouse/platform/auth"
	"github.com/tjsia/chapterhouse/platform/fieldmask"
	"github.com/tjsia/chapterhouse/platform/ids"
	"github.com/tjsia/chapterhouse/platform/retry"
	activitiesv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/activities/v1"
	apiv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/api/v1"
	eventsv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/events/v1"
)

// CreateActivity creates a DRAFT. Admins, and the branch's serving chair
// and secretary-general: the chair's unit organises the branch's
// activities (CHARTER.md, "Organisation").
func (s *Service) CreateActivity(ctx context.Context, p auth.Principal, parent string, in *activitiesv1.Activity, activityID string) (*activitiesv1.Activity, error) {
	branch, err := s.branch(ctx, parent)
	if err != nil {
		return nil, err
	}
	if !p.IsAdmin() {
		leaders, err := s.branches.Leaders(ctx, branch)
		if err != nil {
			return nil, err
		}
		leads := p.Subject != "" && slices.Contains(leaders, p.Subject)
		if !leads && p.Subject != "" {
			// Before refusing, governance itself: the directory follows it
			// a moment behind, and a chair appointed a second ago may act.
			st, err := s.branches.Standing(ctx, branch, p.Subject)
			if err != nil {
				return nil, err
			}
			leads = st.Leads
		}
		if !leads {
			return nil, apierr.PermissionDenied("activities.create", "branch", parent)
		}
	}
	a := proto.Clone(in).(*activitiesv1.Activity)
	if a.GetTimeZone() == "" {
		a.TimeZone = DefaultTimeZone
	}
	if a.GetOrganizer() == "" {
		a.Organizer = p.Subject
	}
	fields, charter := ValidateActivity(a)
	if len(fields) > 0 {
		return nil, apierr.InvalidArgument(fields...)
	}
	if len(charter) > 0 {
		return nil, apierr.Charter(charter)
	}
	now := s.now()
	if activityID == "" {
		activityID = ids.New(now)
	}
	a.Name = fmt.Sprintf("branches/%s/activities/%s", branch, activityID)
	a.State = activitiesv1.ActivityState_ACTIVITY_STATE_DRAFT
	a.Creator, a.CancelReason = p.Subject, ""
	a.CreateTime, a.UpdateTime, a.PublishTime, a.CloseTime = timestamppb.New(now), timestamppb.New(now), nil, nil
	a.ConfirmedCount, a.WaitlistCount, a.Etag = 0, 0, newEtag()
	// The created event is the publish: a draft is not news.
	err = s.repo.CreateActivity(ctx, branch, a, s.envelope(ctx, p, a.GetName()))
	if errors.Is(err, ErrExists) {
		existing, gerr := s.repo.GetActivity(ctx, branch, activityID)
		if gerr == nil && sameDraft(existing, a) {
			return existing, nil
		}
		return nil, apierr.AlreadyExists(a.GetName())
	}
	if err != nil {
		return nil, err
	}
	return a, nil
}

// sameDraft: a repeated create with the same id and content is idempotent.
func sameDraft(existing, a *activitiesv1.Activity) bool {
	x, y := proto.Clone(existing).(*activitiesv1.Activity), proto.Clone(a).(*activitiesv1.Activity)
	for _, m := range []*activitiesv1.Activity{x, y} {
		m.Etag, m.CreateTime, m.UpdateTime, m.ConfirmedCount, m.WaitlistCount = "", nil, nil, 0, 0
	}
	return proto.Equal(x, y)
}

// GetActivity: public for PUBLISHED and COMPLETED, organisers otherwise.
func (s *Service) GetActivity(ctx context.Context, p auth.Principal, name string) (*activitiesv1.Activity, error) {
	_, _, a, _, err := s.loadActivity(ctx, p, name)
	return a, err
}

// ListActivities pages in start-time order with exact filters.
func (s *Service) ListActivities(ctx context.Context, p auth.Principal, req *activitiesv1.ListActivitiesRequest) ([]*activitiesv1.Activity, string, error) {
	branch, err := s.branch(ctx, req.GetParent())
	if err != nil {
		return nil, "", err
	}
	organises, err := s.organisers(ctx, p, branch)
	if err != nil {
		return nil, "", err
	}
	pg, err := s.pages.Parse(req.GetPageSize(), req.GetPageToken(),
		"activities", branch, req.GetKind().String(), req.GetState().String(), fmt.Sprint(req.GetYear()), req.GetRelatedStandard(), p.Subject)
	if err != nil {
		return nil, "", err
	}
	keep := func(a *activitiesv1.Activity) bool {
		if !mayView(a, organises(a)) {
			return false
		}
		if req.GetKind() != 0 && a.GetKind() != req.GetKind() || req.GetState() != 0 && a.GetState() != req.GetState() {
			return false
		}
		if req.GetRelatedStandard() != "" && a.GetRelatedStandard() != req.GetRelatedStandard() {
			return false
		}
		if req.GetYear() != 0 {
			loc, err := Location(a)
			if err != nil || int32(a.GetStartTime().AsTime().In(loc).Year()) != req.GetYear() {
				return false
			}
		}
		return true
	}
	page, err := s.repo.ListActivities(ctx, branch, pg.After, pg.Size, keep)
	if err != nil {
		return nil, "", err
	}
	return page.Items, pg.Next(page.Next), nil
}

var updatable = []string{"kind", "title", "description", "start_time", "end_time", "time_zone", "location", "online_url",
	"capacity", "audience", "registration_open_time", "registration_close_time", "organizer", "related_standard"}

// notUpdatable says why the Activity's other fields are not in an
// update_mask (fieldmask.Paths: the text "field.mask.<why>").
var notUpdatable = map[string]string{
	"name": "immutable", "state": "output_only", "cancel_reason": "output_only", "confirmed_count": "output_only",
	"waitlist_count": "output_only", "creator": "output_only", "create_time": "output_only", "update_time": "output_only",
	"publish_time": "output_only", "close_time": "output_only",
}

// Fields that may still change once published, and why the others may
// not (fieldmask.Paths: the text "field.mask.<why>").
var (
	updatableWhenPublished = []string{"title", "description", "location", "online_url", "start_time", "end_time",
		"time_zone", "capacity", "registration_close_time"}
	fixedOncePublished = map[string]string{
		"kind": "activities.fixed_once_published", "audience": "activities.fixed_once_published",
		"registration_open_time": "activities.fixed_once_published", "organizer": "activities.fixed_once_published",
		"related_standard": "activities.fixed_once_published",
	}
)

// UpdateActivity changes the masked fields. Organisers. Raising capacity
// promotes from the waitlist in the same step.
func (s *Service) UpdateActivity(ctx context.Context, p auth.Principal, patch *activitiesv1.Activity, mask *fieldmaskpb.FieldMask) (*activitiesv1.Activity, error) {
	branch, id, organises, err := s.managing(ctx, p, patch.GetName())
	if err != nil {
		return nil, err
	}
	paths, err := fieldmask.Paths(mask, updatable, notUpdatable)
	if err != nil {
		return nil, err
	}
	// Once published, the same paths are read against the fields that may
	// still change: "*" means those, any other a refusal.
	published := &fieldmaskpb.FieldMask{Paths: paths}
	if slices.Contains(mask.GetPaths(), "*") {
		published.Paths = []string{"*"}
	}
	return retry.Write(ctx, patch.GetName(), patch.GetEtag(), IsStale, func() (*activitiesv1.Activity, error) {
		snap, err := s.repo.Snapshot(ctx, branch, id)
		if err != nil {
			return nil, notFound(err, patch.GetName())
		}
		cur := snap.Activity
		if err := requireOrganiser(cur, organises(cur), patch.GetName(), "update"); err != nil {
			return nil, err
		}
		if patch.GetEtag() != "" && patch.GetEtag() != cur.GetEtag() {
			return nil, apierr.EtagMismatch(cur.GetName())
		}
		changed := paths
		switch cur.GetState() {
		case activitiesv1.ActivityState_ACTIVITY_STATE_DRAFT:
		case activitiesv1.ActivityState_ACTIVITY_STATE_PUBLISHED:
			if changed, err = fieldmask.Paths(published, updatableWhenPublished, fixedOncePublished); err != nil {
				return nil, err
			}
		default:
			return nil, ActivityTransition(cur, "update")
		}
		next := proto.Clone(cur).(*activitiesv1.Activity)
		fieldmask.Apply(next, patch, changed)
		if next.GetTimeZone() == "" {
			next.TimeZone = DefaultTimeZone
		}
		fields, charter := ValidateActivity(next)
		if len(fields) > 0 {
			return nil, apierr.InvalidArgument(fields...)
		}
		if len(charter) > 0 {
			return nil, apierr.Charter(charter)
		}
		now := s.now()
		next.UpdateTime, next.Etag = timestamppb.New(now), newEtag()
		capacity, confirmed := int(next.GetCapacity()), int(cur.GetConfirmedCount())
		if capacity != 0 && capacity < confirmed {
			return nil, refuse(codes.FailedPrecondition, apiv1.ErrorReason_CAPACITY_BELOW_CONFIRMED, "capacity_below_confirmed",
				"capacity", strconv.Itoa(capacity), "confirmed", strconv.Itoa(confirmed))
		}
		var changes []*activitiesv1.Registration
		var evs []*eventsv1.Envelope
		if cur.GetState() == activitiesv1.ActivityState_ACTIVITY_STATE_PUBLISHED {
			ev := s.envelope(ctx, p, next.GetName())
			ev.Payload = &eventsv1.Envelope_ActivityUpdated{ActivityUpdated: &eventsv1.ActivityUpdated{Activity: next, ChangedFields: changed}}
			evs = append(evs, ev)
		}
		// Raising capacity (or making it unlimited) promotes the head of
		// the waitlist, in arrival order.
		free := len(snap.Waitlist)
		if capacity != 0 {
			free = min(free, capacity-confirmed)
		}
		byPerson := map[string]*activitiesv1.Registration{}
		for _, r := range snap.Registrations {
			byPerson[r.GetPerson()] = r
		}
		for _, person := range snap.Waitlist[:max(free, 0)] {
			r := proto.Clone(byPerson["people/"+person]).(*activitiesv1.Registration)
			r.State, r.WaitlistPosition = activitiesv1.RegistrationState_REGISTRATION_STATE_CONFIRMED, 0
			r.PromoteTime, r.UpdateTime, r.Etag = timestamppb.New(now), timestamppb.New(now), newEtag()
			changes = append(changes, r)
			ev := s.envelope(ctx, p, r.GetName())
			ev.Payload = &eventsv1.Envelope_RegistrationPromoted{RegistrationPromoted: &eventsv1.RegistrationPromoted{Registration: r}}
			evs = append(evs, ev)
		}
		err = s.repo.ApplySnapshot(ctx, branch, snap, next, changes, evs...)
		if err != nil {
			return nil, err
		}
		next.ConfirmedCount, next.WaitlistCount = int32(confirmed+len(changes)), int32(len(snap.Waitlist)-len(changes))
		return next, nil
	})
}
