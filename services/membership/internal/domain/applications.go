package domain

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/tjsia/chapterhouse/platform/apierr"
	"github.com/tjsia/chapterhouse/platform/auth"
	"github.com/tjsia/chapterhouse/platform/events"
	"github.com/tjsia/chapterhouse/platform/ids"
	"github.com/tjsia/chapterhouse/platform/retry"
	apiv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/api/v1"
	eventsv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/events/v1"
	membershipv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/membership/v1"
)

// CreateApplication submits an application (M1–M3). UNIT: admins or the
// named representative; INDIVIDUAL: admins or the applicant.
func (s *Service) CreateApplication(ctx context.Context, p auth.Principal, parent string, in *membershipv1.Application, appID string) (*membershipv1.Application, error) {
	branch, err := s.parseBranch(ctx, parent)
	if err != nil {
		return nil, err
	}
	if v := ApplicationShape(in); len(v) > 0 {
		return nil, apierr.InvalidArgument(v...)
	}
	if !p.IsAdmin() && p.Subject != ApplicantPerson(in) {
		return nil, apierr.PermissionDenied("membership.apply_for_others")
	}
	now := s.now()
	app := &membershipv1.Application{Applicant: proto.Clone(in).(*membershipv1.Application).GetApplicant(), Statement: in.GetStatement()}
	switch a := app.GetApplicant().(type) {
	case *membershipv1.Application_Unit:
		app.Kind = membershipv1.ApplicationKind_APPLICATION_KIND_UNIT
		org, err := s.referenced(ctx, a.Unit.GetOrganization(), "application.unit.organization")
		if err != nil {
			return nil, err
		}
		rep, err := s.referencedPerson(ctx, a.Unit.GetRepresentative(), "application.unit.representative")
		if err != nil {
			return nil, err
		}
		if rep.GetOrganization() != org.GetName() {
			return nil, refusal(codes.FailedPrecondition, apiv1.ErrorReason_REPRESENTATIVE_NOT_IN_ORGANIZATION, "representative_not_in_organization",
				map[string]string{"representative": rep.GetName(), "organization": org.GetName()})
		}
		app.State = InitialUnitState(org.GetGeneralMembershipState())
	case *membershipv1.Application_Individual:
		app.Kind = membershipv1.ApplicationKind_APPLICATION_KIND_INDIVIDUAL
		if _, err := s.referencedPerson(ctx, a.Individual.GetPerson(), "application.individual.person"); err != nil {
			return nil, err
		}
		if v := IndividualStanding(a.Individual); len(v) > 0 {
			return nil, apierr.Charter(v)
		}
		app.State = membershipv1.ApplicationState_APPLICATION_STATE_SUBMITTED
	}
	if appID == "" {
		appID = ids.New(now)
	}
	app.Name = applicationName(branch, appID)
	app.Submitter = p.Subject
	app.CreateTime, app.UpdateTime = timestamppb.New(now), timestamppb.New(now)
	app.Etag = newEtag()
	ev := s.envelope(ctx, p, app.GetName())
	ev.Payload = &eventsv1.Envelope_ApplicationSubmitted{ApplicationSubmitted: &eventsv1.ApplicationSubmitted{Application: app}}
	applicant := Applicant(app)
	err = s.repo.CreateApplication(ctx, branch, app, applicant, ev)
	var conflict *ConflictError
	if errors.As(err, &conflict) {
		return nil, s.applicationConflict(ctx, p, branch, appID, applicant, conflict)
	}
	if err != nil {
		return nil, err
	}
	if app.GetState() == membershipv1.ApplicationState_APPLICATION_STATE_AWAITING_GENERAL_MEMBERSHIP {
		// The organisation may have become ACTIVE between our read and the
		// write, and its event may have been handled before the
		// application existed. Re-check so the application cannot be left
		// waiting for an event that already passed.
		if released, err := s.syncWithGeneralMembership(ctx, branch, applicant, auth.Principal{Subject: events.SystemActor}); err == nil && released != nil {
			app = released
		}
	}
	return app, nil
}

func (s *Service) referenced(ctx context.Context, name, field string) (*membershipv1.Organization, error) {
	id, err := ParseOrganizationName(name)
	if err != nil {
		return nil, apierr.InvalidArgument(nameForm(field, name, organizationPattern))
	}
	org, err := s.repo.GetOrganization(ctx, id)
	if errors.Is(err, ErrNotFound) {
		return nil, apierr.ReferenceNotFound(field, name)
	}
	return org, err
}

func (s *Service) referencedPerson(ctx context.Context, name, field string) (*membershipv1.Person, error) {
	id, err := ParsePersonName(name)
	if err != nil {
		return nil, apierr.InvalidArgument(nameForm(field, name, personPattern))
	}
	person, err := s.repo.GetPerson(ctx, id)
	if errors.Is(err, ErrNotFound) {
		return nil, apierr.ReferenceNotFound(field, name)
	}
	return person, err
}

// seesApplication is the one rule for who sees an application, and so
// may be told anything about it: admins, the applicant and whoever
// submitted it.
func seesApplication(p auth.Principal, app *membershipv1.Application) bool {
	return p.IsAdmin() || (p.Subject != "" && (p.Subject == ApplicantPerson(app) || p.Subject == app.GetSubmitter()))
}

// requireSeesApplication answers a caller who may not see app
// (seesApplication) exactly as a missing application is answered:
// NOT_FOUND naming name. Whether someone applied is private, so every
// method on an application asks before any refusal of its own that
// depends on the application (a state error, an etag mismatch). A
// refusal that does not (admins only) may come first: it is the same for
// a missing one.
func requireSeesApplication(p auth.Principal, app *membershipv1.Application, name string) error {
	if seesApplication(p, app) {
		return nil
	}
	return apierr.NotFound(name)
}

// applicationConflict is the refusal of a new application whose claim
// another holds: its id (ALREADY_EXISTS, or PERMISSION_DENIED when the
// caller may not see the application holding it, AIP-133), the
// applicant's membership (ALREADY_A_MEMBER) or the applicant's open
// application (OPEN_APPLICATION_EXISTS). No refusal names an application
// its caller may not see (seesApplication).
func (s *Service) applicationConflict(ctx context.Context, p auth.Principal, branch, appID, applicant string, conflict *ConflictError) error {
	switch conflict.Claim {
	case "application_id":
		seen, err := s.seesApplicationID(ctx, p, branch, appID)
		if err != nil {
			return err
		}
		if !seen {
			return apierr.PermissionDenied("membership.application_id_taken", "id", appID)
		}
		return apierr.AlreadyExists(applicationName(branch, appID))
	case "membership":
		return alreadyAMember(applicant, branch, conflict.Owner)
	}
	md := map[string]string{"applicant": applicant}
	seen, err := s.seesApplicationID(ctx, p, branch, conflict.Owner)
	if err != nil {
		return err
	}
	if seen {
		md["application"] = applicationName(branch, conflict.Owner)
	}
	return refusal(codes.AlreadyExists, apiv1.ErrorReason_OPEN_APPLICATION_EXISTS, "open_application_exists", md)
}

// alreadyAMember refuses applicant, who is the member memberID of branch.
func alreadyAMember(applicant, branch, memberID string) error {
	return refusal(codes.AlreadyExists, apiv1.ErrorReason_ALREADY_A_MEMBER, "already_a_member",
		map[string]string{"applicant": applicant, "member": fmt.Sprintf("branches/%s/members/%s", branch, memberID)})
}

func applicationName(branch, id string) string {
	return fmt.Sprintf("branches/%s/applications/%s", branch, id)
}

// seesApplicationID reports whether p sees the application id of branch
// (seesApplication); one that does not exist is not seen.
func (s *Service) seesApplicationID(ctx context.Context, p auth.Principal, branch, id string) (bool, error) {
	app, err := s.repo.GetApplication(ctx, branch, id)
	if errors.Is(err, ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return seesApplication(p, app), nil
}

// membersAsSeen are ms as p may see them: a member names the application
// that created it only to a caller who may see that application
// (seesApplication); for anyone else it is left out, so an answer names
// nothing its caller would be told does not exist.
func (s *Service) membersAsSeen(ctx context.Context, p auth.Principal, ms []*membershipv1.Member) ([]*membershipv1.Member, error) {
	ids := map[string][]string{} // branch -> application ids
	for _, m := range ms {
		if parts, err := parseName(m.GetApplication(), "branches", "applications"); err == nil {
			ids[parts[0]] = append(ids[parts[0]], parts[1])
		}
	}
	seen := map[string]bool{}
	for branch, list := range ids {
		apps, err := s.repo.GetApplications(ctx, branch, list)
		if err != nil {
			return nil, err
		}
		for _, app := range apps {
			seen[app.GetName()] = seesApplication(p, app)
		}
	}
	out := make([]*membershipv1.Member, len(ms))
	for i, m := range ms {
		out[i] = m
		if m.GetApplication() != "" && !seen[m.GetApplication()] {
			c := proto.Clone(m).(*membershipv1.Member)
			c.Application = ""
			out[i] = c
		}
	}
	return out, nil
}

// memberAsSeen is membersAsSeen for one member.
func (s *Service) memberAsSeen(ctx context.Context, p auth.Principal, m *membershipv1.Member) (*membershipv1.Member, error) {
	out, err := s.membersAsSeen(ctx, p, []*membershipv1.Member{m})
	if err != nil {
		return nil, err
	}
	return out[0], nil
}

// GetApplication: those who may see it (seesApplication).
func (s *Service) GetApplication(ctx context.Context, p auth.Principal, name string) (*membershipv1.Application, error) {
	branch, id, err := s.parseInBranch(ctx, name, "applications")
	if err != nil {
		return nil, err
	}
	app, err := s.repo.GetApplication(ctx, branch, id)
	if err != nil {
		return nil, notFound(err, name)
	}
	if err := requireSeesApplication(p, app, name); err != nil {
		return nil, err
	}
	return app, nil
}

// ListApplications: admins only.
func (s *Service) ListApplications(ctx context.Context, p auth.Principal, req *membershipv1.ListApplicationsRequest) ([]*membershipv1.Application, string, error) {
	if err := requireAdmin(p, "list_applications"); err != nil {
		return nil, "", err
	}
	branch, err := s.parseBranch(ctx, req.GetParent())
	if err != nil {
		return nil, "", err
	}
	if _, ok := membershipv1.ApplicationState_name[int32(req.GetState())]; !ok {
		return nil, "", apierr.InvalidArgument(apierr.Field("state", "membership.undefined_state", "state", strconv.Itoa(int(req.GetState()))))
	}
	pg, err := s.pages.Parse(req.GetPageSize(), req.GetPageToken(), "applications", branch, req.GetState().String())
	if err != nil {
		return nil, "", err
	}
	page, err := s.repo.ListApplications(ctx, branch, req.GetState(), pg.After, pg.Size)
	if err != nil {
		return nil, "", err
	}
	return page.Items, pg.Next(page.Next), nil
}

// decideApplication runs one decision on an application with optimistic
// retries; decide returns the new application and extra work to commit.
// authorize, when set, runs before the etag check (see mutate).
func (s *Service) decideApplication(ctx context.Context, name, clientEtag string, authorize func(cur *membershipv1.Application) error, decide func(cur *membershipv1.Application, branch string) (*membershipv1.Application, error)) (*membershipv1.Application, error) {
	branch, id, err := s.parseInBranch(ctx, name, "applications")
	if err != nil {
		return nil, err
	}
	load := func() (*membershipv1.Application, error) { return s.repo.GetApplication(ctx, branch, id) }
	return mutate(ctx, name, clientEtag, load, authorize, func(cur *membershipv1.Application) (*membershipv1.Application, error) {
		return decide(cur, branch)
	})
}

// ApproveApplication approves a SUBMITTED application and admits the
// member. Admins only. M2 refuses applications still waiting.
func (s *Service) ApproveApplication(ctx context.Context, p auth.Principal, req *membershipv1.ApproveApplicationRequest) (*membershipv1.Application, error) {
	if err := requireAdmin(p, "decide_application", "action", "approve"); err != nil {
		return nil, err
	}
	sees := func(cur *membershipv1.Application) error { return requireSeesApplication(p, cur, req.GetName()) }
	return s.decideApplication(ctx, req.GetName(), req.GetEtag(), sees, func(cur *membershipv1.Application, branch string) (*membershipv1.Application, error) {
		if err := CheckApprove(cur); err != nil {
			return nil, err
		}
		now := s.now()
		member := &membershipv1.Member{
			Name:        fmt.Sprintf("branches/%s/members/%s", branch, ids.New(now)),
			Kind:        cur.GetKind(),
			Person:      ApplicantPerson(cur),
			State:       membershipv1.MemberState_MEMBER_STATE_ACTIVE,
			Application: cur.GetName(),
			JoinTime:    timestamppb.New(now),
			UpdateTime:  timestamppb.New(now),
			Etag:        newEtag(),
		}
		if u := cur.GetUnit(); u != nil {
			member.Organization = u.GetOrganization()
			member.RepresentativeHistory = []*membershipv1.RepresentativePeriod{{Person: u.GetRepresentative(), StartTime: timestamppb.New(now)}}
		}
		next := proto.Clone(cur).(*membershipv1.Application)
		next.State = membershipv1.ApplicationState_APPLICATION_STATE_APPROVED
		next.Reviewer, next.DecisionReason, next.Member = p.Subject, req.GetReason(), member.GetName()
		next.UpdateTime, next.DecideTime, next.Etag = timestamppb.New(now), timestamppb.New(now), newEtag()
		approved := s.envelope(ctx, p, next.GetName())
		approved.Payload = &eventsv1.Envelope_ApplicationApproved{ApplicationApproved: &eventsv1.ApplicationApproved{Application: next}}
		admitted := s.envelope(ctx, p, member.GetName())
		admitted.Payload = &eventsv1.Envelope_MemberAdmitted{MemberAdmitted: &eventsv1.MemberAdmitted{Member: member}}
		err := s.repo.ApproveApplication(ctx, branch, next, cur.GetEtag(), Applicant(cur), member, approved, admitted)
		var conflict *ConflictError
		if errors.As(err, &conflict) {
			return nil, alreadyAMember(Applicant(cur), branch, conflict.Owner)
		}
		return next, err
	})
}

// RejectApplication closes an open application with a reason. Admins only.
func (s *Service) RejectApplication(ctx context.Context, p auth.Principal, req *membershipv1.RejectApplicationRequest) (*membershipv1.Application, error) {
	if err := requireAdmin(p, "decide_application", "action", "reject"); err != nil {
		return nil, err
	}
	if v := RequireReason(req.GetReason()); len(v) > 0 {
		return nil, apierr.InvalidArgument(v...)
	}
	return s.closeApplication(ctx, p, req.GetName(), req.GetEtag(), req.GetReason(), "reject",
		membershipv1.ApplicationState_APPLICATION_STATE_REJECTED, false)
}

// WithdrawApplication closes an open application: the applicant or admins.
func (s *Service) WithdrawApplication(ctx context.Context, p auth.Principal, req *membershipv1.WithdrawApplicationRequest) (*membershipv1.Application, error) {
	return s.closeApplication(ctx, p, req.GetName(), req.GetEtag(), req.GetReason(), "withdraw",
		membershipv1.ApplicationState_APPLICATION_STATE_WITHDRAWN, true)
}

func (s *Service) closeApplication(ctx context.Context, p auth.Principal, name, etag, reason, action string, to membershipv1.ApplicationState, applicantMay bool) (*membershipv1.Application, error) {
	authorize := func(cur *membershipv1.Application) error {
		if err := requireSeesApplication(p, cur, name); err != nil {
			return err
		}
		if p.IsAdmin() || applicantMay {
			return nil
		}
		return apierr.PermissionDenied("membership.decide_application", "action", action)
	}
	return s.decideApplication(ctx, name, etag, authorize, func(cur *membershipv1.Application, branch string) (*membershipv1.Application, error) {
		if err := CheckClose(cur, action); err != nil {
			return nil, err
		}
		now := s.now()
		next := proto.Clone(cur).(*membershipv1.Application)
		next.State, next.DecisionReason = to, reason
		if to == membershipv1.ApplicationState_APPLICATION_STATE_REJECTED {
			next.Reviewer = p.Subject
		}
		next.UpdateTime, next.DecideTime, next.Etag = timestamppb.New(now), timestamppb.New(now), newEtag()
		ev := s.envelope(ctx, p, next.GetName())
		if to == membershipv1.ApplicationState_APPLICATION_STATE_REJECTED {
			ev.Payload = &eventsv1.Envelope_ApplicationRejected{ApplicationRejected: &eventsv1.ApplicationRejected{Application: next}}
		} else {
			ev.Payload = &eventsv1.Envelope_ApplicationWithdrawn{ApplicationWithdrawn: &eventsv1.ApplicationWithdrawn{Application: next}}
		}
		return next, s.repo.SaveApplication(ctx, branch, next, cur.GetEtag(), Applicant(cur), true, ev)
	})
}

// HandleEvent reacts to membership's own events: a change of an
// organisation's general membership releases or holds its waiting branch
// applications (M2). It is idempotent: it moves an application only when
// its state differs from what the organisation's current standing implies.
func (s *Service) HandleEvent(ctx context.Context, env *eventsv1.Envelope) error {
	changed := env.GetGeneralMembershipChanged()
	if changed == nil {
		return nil
	}
	known, err := s.branches.IDs(ctx)
	if err != nil {
		return err
	}
	for _, branch := range known {
		if _, err := s.syncWithGeneralMembership(ctx, branch, changed.GetOrganization().GetName(), auth.Principal{Subject: events.SystemActor}); err != nil {
			return err
		}
	}
	return nil
}

// syncWithGeneralMembership moves the organisation's open application in
// branch between SUBMITTED and AWAITING_GENERAL_MEMBERSHIP to match its
// current general membership. It returns the application if it changed.
func (s *Service) syncWithGeneralMembership(ctx context.Context, branch, orgName string, p auth.Principal) (*membershipv1.Application, error) {
	appID, err := s.repo.OpenApplication(ctx, branch, orgName)
	if err != nil || appID == "" {
		return nil, err
	}
	orgID, err := ParseOrganizationName(orgName)
	if err != nil {
		return nil, err
	}
	return retry.Write(ctx, orgName, "", isStale, func() (*membershipv1.Application, error) {
		org, err := s.repo.GetOrganization(ctx, orgID)
		if err != nil {
			return nil, err
		}
		cur, err := s.repo.GetApplication(ctx, branch, appID)
		if errors.Is(err, ErrNotFound) {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		want := InitialUnitState(org.GetGeneralMembershipState())
		if !IsOpen(cur.GetState()) || cur.GetState() == want {
			return nil, nil
		}
		next := proto.Clone(cur).(*membershipv1.Application)
		next.State = want
		next.UpdateTime, next.Etag = timestamppb.New(s.now()), newEtag()
		ev := s.envelope(ctx, p, next.GetName())
		if want == membershipv1.ApplicationState_APPLICATION_STATE_SUBMITTED {
			ev.Payload = &eventsv1.Envelope_ApplicationReleased{ApplicationReleased: &eventsv1.ApplicationReleased{Application: next}}
		} else {
			ev.Payload = &eventsv1.Envelope_ApplicationHeld{ApplicationHeld: &eventsv1.ApplicationHeld{Application: next}}
		}
		if err := s.repo.SaveApplication(ctx, branch, next, cur.GetEtag(), orgName, false, ev); err != nil {
			return nil, err
		}
		return next, nil
	})
}
