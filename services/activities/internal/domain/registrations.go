package domain

import (
	"context"
	"errors"
	"fmt"
	"path"
	"strconv"
	"strings"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/tjsia/chapterhouse/contracts/governance/branches"
	"github.com/tjsia/chapterhouse/contracts/membership/termination"
	"github.com/tjsia/chapterhouse/platform/apierr"
	"github.com/tjsia/chapterhouse/platform/auth"
	"github.com/tjsia/chapterhouse/platform/events"
	"github.com/tjsia/chapterhouse/platform/pagetoken"
	"github.com/tjsia/chapterhouse/platform/retry"
	activitiesv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/activities/v1"
	apiv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/api/v1"
	eventsv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/events/v1"
)

// Reasons for refused registrations.
const (
	ReasonNotAMember          = apiv1.ErrorReason_NOT_A_MEMBER
	ReasonRegistrationClosed  = apiv1.ErrorReason_REGISTRATION_CLOSED
	ReasonRegistrationNotOpen = apiv1.ErrorReason_REGISTRATION_NOT_OPEN
	ReasonActivityNotOpen     = apiv1.ErrorReason_ACTIVITY_NOT_OPEN_FOR_REGISTRATION
)

// registerRefusal is the error for a registration for a that the store
// refused (a RegisterRefusal), or err as it is.
func registerRefusal(a *activitiesv1.Activity, err error) error {
	var r *RegisterRefusal
	if !errors.As(err, &r) {
		return err
	}
	switch r.Reason {
	case "CLOSED":
		return refuse(codes.FailedPrecondition, ReasonRegistrationClosed, "registration_closed", "activity", a.GetName(), "closeTime", storedTime(a, r.Detail))
	case "NOT_OPEN":
		return refuse(codes.FailedPrecondition, ReasonRegistrationNotOpen, "registration_not_open", "activity", a.GetName(), "openTime", storedTime(a, r.Detail))
	}
	return notOpen(a.GetName(), "ACTIVITY_STATE_"+r.Detail)
}

// notOpen refuses a registration because the activity is in state (its
// enum value name), not PUBLISHED.
func notOpen(activity, state string) error {
	return refuse(codes.FailedPrecondition, ReasonActivityNotOpen, "not_open_for_registration", "activity", activity, "state", state)
}

// storedTime reads a time the store keeps in Unix milliseconds, as a's
// people read it (LocalTime); a value that is not one is shown as it is.
func storedTime(a *activitiesv1.Activity, ms string) string {
	n, err := strconv.ParseInt(ms, 10, 64)
	if err != nil {
		return ms
	}
	return LocalTime(a, time.UnixMilli(n))
}

// cancelRefusal is the error for the cancellation of the registration
// name that the store refused: the registration's state allows no cancel
// ("STATE"), or its activity is not PUBLISHED ("ACTSTATE"); or err as it
// is.
func cancelRefusal(name string, err error) error {
	var r *RegisterRefusal
	if !errors.As(err, &r) {
		return err
	}
	if r.Reason == "ACTSTATE" {
		return notOpen(path.Dir(path.Dir(name)), "ACTIVITY_STATE_"+r.Detail)
	}
	state := activitiesv1.RegistrationState(activitiesv1.RegistrationState_value["REGISTRATION_STATE_"+r.Detail])
	return RegistrationTransition(name, state, "cancel")
}

// Register registers a person (the caller by default) for a PUBLISHED
// activity. Organisers may register anyone. Members-only activities ask
// the membership service first; if it is down, nothing is written.
func (s *Service) Register(ctx context.Context, p auth.Principal, req *activitiesv1.RegisterForActivityRequest) (*activitiesv1.Registration, error) {
	branch, id, a, organiser, err := s.loadActivity(ctx, p, req.GetName())
	if err != nil {
		return nil, err
	}
	person := req.GetPerson()
	if person == "" {
		person = p.Subject
	}
	if _, err := parseName(person, "people"); err != nil || person == "people/-" {
		return nil, apierr.InvalidArgument(apierr.Field("person", "name_form", "name", person, "pattern", "people/{person}"))
	}
	if person != p.Subject && !organiser {
		return nil, apierr.PermissionDenied("activities.register_others", "activity", a.GetName())
	}
	if a.GetState() != activitiesv1.ActivityState_ACTIVITY_STATE_PUBLISHED {
		return nil, notOpen(a.GetName(), a.GetState().String())
	}
	personID := strings.TrimPrefix(person, "people/")
	if existing, err := s.repo.GetRegistration(ctx, branch, id, personID); err == nil && isHolding(existing) {
		return existing, nil
	}
	member := ""
	if a.GetAudience() == activitiesv1.Audience_AUDIENCE_MEMBERS {
		member, err = s.members.MemberFor(ctx, branch, person)
		if err != nil {
			return nil, err
		}
		if member == "" {
			return nil, refuse(codes.PermissionDenied, ReasonNotAMember, "not_a_member", "activity", a.GetName(), "person", person)
		}
	}
	reg := &activitiesv1.Registration{
		Name:       fmt.Sprintf("%s/registrations/%s", a.GetName(), personID),
		Person:     person,
		Member:     member,
		Registrant: p.Subject,
	}
	stored, _, err := s.repo.Register(ctx, branch, id, reg, func(confirmed, waitlisted *activitiesv1.Registration) (*eventsv1.Envelope, *eventsv1.Envelope) {
		c := s.envelope(ctx, p, reg.GetName())
		c.Payload = &eventsv1.Envelope_RegistrationConfirmed{RegistrationConfirmed: &eventsv1.RegistrationConfirmed{Registration: confirmed}}
		w := s.envelope(ctx, p, reg.GetName())
		w.Payload = &eventsv1.Envelope_RegistrationWaitlisted{RegistrationWaitlisted: &eventsv1.RegistrationWaitlisted{Registration: waitlisted}}
		return c, w
	})
	if err != nil {
		return nil, registerRefusal(a, notFound(err, a.GetName()))
	}
	return stored, nil
}

func isHolding(r *activitiesv1.Registration) bool {
	return r.GetState() == activitiesv1.RegistrationState_REGISTRATION_STATE_CONFIRMED || r.GetState() == activitiesv1.RegistrationState_REGISTRATION_STATE_WAITLISTED
}

// GetRegistration: organisers or the person.
func (s *Service) GetRegistration(ctx context.Context, p auth.Principal, name string) (*activitiesv1.Registration, error) {
	branch, actID, person, err := s.registrationName(ctx, name)
	if err != nil {
		return nil, err
	}
	if err := s.ownOrOrganised(ctx, p, branch, actID, person, name); err != nil {
		return nil, err
	}
	r, err := s.repo.GetRegistration(ctx, branch, actID, person)
	return r, notFound(err, name)
}

// ownOrOrganised lets through to a registration the activity's organisers
// and its person, when they may see the activity (requireVisible): a
// registration of a hidden activity is NOT_FOUND, naming name, even for
// its own person, as for a missing activity.
func (s *Service) ownOrOrganised(ctx context.Context, p auth.Principal, branch, actID, person, name string) error {
	_, organiser, err := s.seenActivity(ctx, p, branch, actID, name)
	if err != nil {
		return err
	}
	if !organiser && p.Subject != "people/"+person {
		return apierr.NotFound(name)
	}
	return nil
}

// ListRegistrations: organisers see all; others only their own, of the
// activities they may see (an activity hidden from the caller is
// NOT_FOUND, as a missing one). The activity "-" lists across the branch.
func (s *Service) ListRegistrations(ctx context.Context, p auth.Principal, req *activitiesv1.ListRegistrationsRequest) ([]*activitiesv1.Registration, string, error) {
	ids, err := parseName(req.GetParent(), "branches", "activities")
	if err != nil {
		return nil, "", err
	}
	branch, actID := ids[0], ids[1]
	if ok, err := branches.Known(ctx, s.branches, branch); err != nil || !ok {
		return nil, "", unknownOr(err, req.GetParent())
	}
	organises, err := s.organisers(ctx, p, branch)
	if err != nil {
		return nil, "", err
	}
	pg, err := s.pages.Parse(req.GetPageSize(), req.GetPageToken(), "registrations", req.GetParent(), req.GetState().String(), req.GetPerson(), p.Subject)
	if err != nil {
		return nil, "", err
	}
	var acts []*activitiesv1.Activity
	if actID == "-" {
		acts, err = s.allActivities(ctx, branch)
		if err != nil {
			return nil, "", err
		}
	} else {
		a, _, err := s.visibleActivity(ctx, organises, branch, actID, req.GetParent())
		if err != nil {
			return nil, "", err
		}
		acts = []*activitiesv1.Activity{a}
	}
	var all []*activitiesv1.Registration
	for _, a := range acts {
		organiser := organises(a)
		if !mayView(a, organiser) {
			continue
		}
		regs, err := s.repo.ListRegistrations(ctx, branch, strings.TrimPrefix(a.GetName(), "branches/"+branch+"/activities/"))
		if err != nil {
			return nil, "", err
		}
		for _, r := range regs {
			if !organiser && r.GetPerson() != p.Subject {
				continue
			}
			if req.GetState() != 0 && r.GetState() != req.GetState() || req.GetPerson() != "" && r.GetPerson() != req.GetPerson() {
				continue
			}
			all = append(all, r)
		}
	}
	// Registrations are few per activity: page in memory by position.
	start := 0
	if pg.After != "" {
		start = -1
		for i, r := range all {
			if r.GetName() == pg.After {
				start = i + 1
			}
		}
		if start < 0 {
			return nil, "", apierr.InvalidPageToken()
		}
	}
	end := min(start+pg.Size, len(all))
	next := ""
	if end < len(all) {
		next = all[end-1].GetName()
	}
	return all[start:end], pg.Next(next), nil
}

func (s *Service) allActivities(ctx context.Context, branch string) ([]*activitiesv1.Activity, error) {
	var out []*activitiesv1.Activity
	after := ""
	for {
		page, err := s.repo.ListActivities(ctx, branch, after, pagetoken.MaxSize, nil)
		if err != nil {
			return nil, err
		}
		out = append(out, page.Items...)
		if page.Next == "" {
			return out, nil
		}
		after = page.Next
	}
}

// CancelRegistration: the person or organisers. A freed place goes to the
// head of the waitlist in the same atomic step.
func (s *Service) CancelRegistration(ctx context.Context, p auth.Principal, req *activitiesv1.CancelRegistrationRequest) (*activitiesv1.Registration, error) {
	branch, actID, person, err := s.registrationName(ctx, req.GetName())
	if err != nil {
		return nil, err
	}
	if err := s.ownOrOrganised(ctx, p, branch, actID, person, req.GetName()); err != nil {
		return nil, err
	}
	// The reason is the caller's words, or none: who cancelled is the
	// event's actor, not prose in the record.
	return s.cancelRegistration(ctx, p, branch, actID, person, req.GetReason(), req.GetEtag(), req.GetName())
}

func (s *Service) cancelRegistration(ctx context.Context, p auth.Principal, branch, actID, person, reason, etag, name string) (*activitiesv1.Registration, error) {
	cancelled, _, err := s.repo.CancelRegistration(ctx, branch, actID, person, reason, etag,
		func(c, promoted *activitiesv1.Registration) []*eventsv1.Envelope {
			ev := s.envelope(ctx, p, c.GetName())
			prev := activitiesv1.RegistrationState_REGISTRATION_STATE_WAITLISTED
			if promoted != nil {
				prev = activitiesv1.RegistrationState_REGISTRATION_STATE_CONFIRMED
			}
			ev.Payload = &eventsv1.Envelope_RegistrationCancelled{RegistrationCancelled: &eventsv1.RegistrationCancelled{Registration: c, PreviousState: prev, Reason: reason}}
			out := []*eventsv1.Envelope{ev}
			if promoted != nil {
				pe := s.envelope(ctx, p, promoted.GetName())
				pe.Payload = &eventsv1.Envelope_RegistrationPromoted{RegistrationPromoted: &eventsv1.RegistrationPromoted{Registration: promoted, FreedBy: c.GetName()}}
				out = append(out, pe)
			}
			return out
		})
	switch {
	case errors.Is(err, ErrStale):
		return nil, apierr.EtagMismatch(name)
	case err != nil:
		return nil, cancelRefusal(name, notFound(err, name))
	}
	return cancelled, nil
}

// CheckIn: CONFIRMED → ATTENDED from a day before the start until
// completion. Organisers.
func (s *Service) CheckIn(ctx context.Context, p auth.Principal, req *activitiesv1.CheckInRegistrationRequest) (*activitiesv1.Registration, error) {
	branch, actID, _, err := s.registrationName(ctx, req.GetName())
	if err != nil {
		return nil, err
	}
	organises, err := s.organisers(ctx, p, branch)
	if err != nil {
		return nil, err
	}
	return retry.Write(ctx, req.GetName(), "", IsStale, func() (*activitiesv1.Registration, error) {
		snap, err := s.repo.Snapshot(ctx, branch, actID)
		if err != nil {
			return nil, notFound(err, req.GetName())
		}
		if err := requireOrganiser(snap.Activity, organises(snap.Activity), req.GetName(), "checkIn"); err != nil {
			return nil, err
		}
		var cur *activitiesv1.Registration
		for _, r := range snap.Registrations {
			if r.GetName() == req.GetName() {
				cur = r
			}
		}
		if cur == nil {
			return nil, apierr.NotFound(req.GetName())
		}
		if req.GetEtag() != "" && req.GetEtag() != cur.GetEtag() {
			return nil, apierr.EtagMismatch(req.GetName())
		}
		now := s.now()
		if err := CheckInOpen(snap.Activity, now); err != nil {
			return nil, err
		}
		if cur.GetState() != activitiesv1.RegistrationState_REGISTRATION_STATE_CONFIRMED {
			return nil, RegistrationTransition(cur.GetName(), cur.GetState(), "checkIn")
		}
		next := proto.Clone(cur).(*activitiesv1.Registration)
		// Checked in at the door by an organiser, in their name and the
		// person's.
		next.State, next.CheckInTime, next.CheckInRecorder = activitiesv1.RegistrationState_REGISTRATION_STATE_ATTENDED, timestamppb.New(now), p.Subject
		next.UpdateTime, next.Etag = timestamppb.New(now), newEtag()
		ev := s.envelope(ctx, p, next.GetName())
		ev.Payload = &eventsv1.Envelope_RegistrationCheckedIn{RegistrationCheckedIn: &eventsv1.RegistrationCheckedIn{Registration: next}}
		err = s.repo.ApplySnapshot(ctx, branch, snap, nil, []*activitiesv1.Registration{next}, ev)
		if err != nil {
			return nil, err
		}
		return next, nil
	})
}

// HandleEvent reacts to membership events. MemberTerminated cancels the
// member's people's registrations for members-only activities that have
// not started, recording the reason and promoting from the waitlists
// (CHARTER.md, "Branch membership ends"). Idempotent: only CONFIRMED or
// WAITLISTED registrations are touched.
func (s *Service) HandleEvent(ctx context.Context, env *eventsv1.Envelope) error {
	t, ok := termination.Of(env)
	if !ok {
		return nil
	}
	if ok, err := branches.Known(ctx, s.branches, t.Branch); err != nil || !ok {
		return err // an unknown branch has no calendar to follow up in
	}
	branch, memberName := t.Branch, t.Member
	acts, err := s.allActivities(ctx, branch)
	if err != nil {
		return err
	}
	now := s.now()
	system := auth.Principal{Subject: events.SystemActor}
	// The secretariat's words, verbatim; that the membership ended is the
	// registration's member, terminated, not prose in the record.
	reason := t.Reason
	for _, a := range acts {
		if a.GetAudience() != activitiesv1.Audience_AUDIENCE_MEMBERS || a.GetState() != activitiesv1.ActivityState_ACTIVITY_STATE_PUBLISHED || !a.GetStartTime().AsTime().After(now) {
			continue
		}
		actID := strings.TrimPrefix(a.GetName(), "branches/"+branch+"/activities/")
		regs, err := s.repo.ListRegistrations(ctx, branch, actID)
		if err != nil {
			return err
		}
		for _, r := range regs {
			if !isHolding(r) || r.GetMember() != memberName {
				continue
			}
			if _, err := s.cancelRegistration(ctx, system, branch, actID, strings.TrimPrefix(r.GetPerson(), "people/"), reason, "", r.GetName()); err != nil && !isGone(err) {
				return err
			}
		}
	}
	return nil
}

func isGone(err error) bool {
	c := codeOf(err)
	return c == codes.FailedPrecondition || c == codes.NotFound
}

// GetAnnualQuota applies A1.
func (s *Service) GetAnnualQuota(ctx context.Context, req *activitiesv1.GetAnnualQuotaRequest) (*activitiesv1.AnnualQuota, error) {
	branch, err := s.branch(ctx, req.GetBranch())
	if err != nil {
		return nil, err
	}
	b, err := s.branches.Branch(ctx, branch)
	if err != nil {
		return nil, err
	}
	year := int(req.GetYear())
	if year == 0 {
		loc, _ := time.LoadLocation(DefaultTimeZone)
		year = s.now().In(loc).Year()
	}
	// Any year an activity can start in has a count (the proto bounds it
	// to 9999); none is too early, as no start time is.
	if year < 1 || year > 9999 {
		return nil, apierr.InvalidArgument(apierr.Field("year", "activities.calendar_year", "year", strconv.Itoa(year)))
	}
	acts, err := s.allActivities(ctx, branch)
	if err != nil {
		return nil, err
	}
	// A1's minimum is the branch's own charter parameter, as governance
	// set it.
	q := CountQuota(acts, year, int(b.GetParameters().GetMinExchangeActivitiesPerYear()))
	return &activitiesv1.AnnualQuota{Branch: req.GetBranch(), Year: int32(year), CompletedCount: int32(q.Completed),
		ScheduledCount: int32(q.Scheduled), RequiredCount: int32(q.Required), OnTrack: q.OnTrack(), Met: q.Met()}, nil
}
