package domain

import (
	"context"
	"strconv"

	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/tjsia/chapterhouse/platform/apierr"
	"github.com/tjsia/chapterhouse/platform/auth"
	apiv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/api/v1"
	eventsv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/events/v1"
	membershipv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/membership/v1"
)

// GetMember reads one member. Any authenticated caller; the application
// that created it is named only to those who may see it (membersAsSeen).
func (s *Service) GetMember(ctx context.Context, p auth.Principal, name string) (*membershipv1.Member, error) {
	branch, id, err := s.parseInBranch(ctx, name, "members")
	if err != nil {
		return nil, err
	}
	m, err := s.repo.GetMember(ctx, branch, id)
	if err != nil {
		return nil, notFound(err, name)
	}
	return s.memberAsSeen(ctx, p, m)
}

// ListMembers pages through a branch's members with exact-match filters,
// as p may see them (membersAsSeen).
func (s *Service) ListMembers(ctx context.Context, p auth.Principal, req *membershipv1.ListMembersRequest) ([]*membershipv1.Member, string, error) {
	branch, err := s.parseBranch(ctx, req.GetParent())
	if err != nil {
		return nil, "", err
	}
	var bad []apierr.FieldViolation
	if _, ok := membershipv1.MemberState_name[int32(req.GetState())]; !ok {
		bad = append(bad, apierr.Field("state", "membership.undefined_state", "state", strconv.Itoa(int(req.GetState()))))
	}
	if req.GetPerson() != "" {
		if _, err := ParsePersonName(req.GetPerson()); err != nil {
			bad = append(bad, nameForm("person", req.GetPerson(), personPattern))
		}
	}
	if req.GetOrganization() != "" {
		if _, err := ParseOrganizationName(req.GetOrganization()); err != nil {
			bad = append(bad, nameForm("organization", req.GetOrganization(), organizationPattern))
		}
	}
	if len(bad) > 0 {
		return nil, "", apierr.InvalidArgument(bad...)
	}
	pg, err := s.pages.Parse(req.GetPageSize(), req.GetPageToken(), "members", branch, req.GetState().String(), req.GetPerson(), req.GetOrganization())
	if err != nil {
		return nil, "", err
	}
	page, err := s.repo.ListMembers(ctx, branch, MemberFilter{State: req.GetState(), Person: req.GetPerson(), Organization: req.GetOrganization()}, pg.After, pg.Size)
	if err != nil {
		return nil, "", err
	}
	items, err := s.membersAsSeen(ctx, p, page.Items)
	if err != nil {
		return nil, "", err
	}
	return items, pg.Next(page.Next), nil
}

// MemberSubject is the one-membership claim of m: its organisation for a
// unit, its person for an individual.
func MemberSubject(m *membershipv1.Member) string {
	if m.GetKind() == membershipv1.ApplicationKind_APPLICATION_KIND_UNIT {
		return m.GetOrganization()
	}
	return m.GetPerson()
}

// changeMember runs one member change with optimistic retries.
// authorize, when set, runs before the etag check.
func (s *Service) changeMember(ctx context.Context, name, clientEtag string, authorize func(cur *membershipv1.Member) error, change func(cur *membershipv1.Member, branch string) (*membershipv1.Member, error)) (*membershipv1.Member, error) {
	branch, id, err := s.parseInBranch(ctx, name, "members")
	if err != nil {
		return nil, err
	}
	load := func() (*membershipv1.Member, error) { return s.repo.GetMember(ctx, branch, id) }
	return mutate(ctx, name, clientEtag, load, authorize, func(cur *membershipv1.Member) (*membershipv1.Member, error) {
		return change(cur, branch)
	})
}

// SetMemberState suspends, reinstates or terminates a member. Admins only.
//
// The reason is kept as its author wrote it, on the member and, on
// termination, on the representative period it closes: a stored record is
// read by people in their own languages, so no prose of the service's is
// composed into it. That the period ended with the membership is a fact
// of the record: the member is TERMINATED, and the period closed is its
// last (a change of representative always opens a new one, and a
// terminated member's representative cannot change).
func (s *Service) SetMemberState(ctx context.Context, p auth.Principal, name, action, reason, etag string) (*membershipv1.Member, error) {
	if err := requireAdmin(p, "member_state", "action", action); err != nil {
		return nil, err
	}
	if v := RequireReason(reason); len(v) > 0 {
		return nil, apierr.InvalidArgument(v...)
	}
	return s.seenMember(ctx, p)(s.changeMember(ctx, name, etag, nil, func(cur *membershipv1.Member, branch string) (*membershipv1.Member, error) {
		to, err := MemberTransition(cur, action)
		if err != nil {
			return nil, err
		}
		now := s.now()
		next := proto.Clone(cur).(*membershipv1.Member)
		next.State, next.StateReason = to, reason
		next.UpdateTime, next.Etag = timestamppb.New(now), newEtag()
		ev := s.envelope(ctx, p, next.GetName())
		var change MemberIndexChange
		switch action {
		case "suspend":
			ev.Payload = &eventsv1.Envelope_MemberSuspended{MemberSuspended: &eventsv1.MemberSuspended{Member: next}}
		case "reinstate":
			ev.Payload = &eventsv1.Envelope_MemberReinstated{MemberReinstated: &eventsv1.MemberReinstated{Member: next}}
		case "terminate":
			people := []string{next.GetPerson()}
			for i := len(next.GetRepresentativeHistory()) - 1; i >= 0; i-- {
				period := next.GetRepresentativeHistory()[i]
				if period.GetEndTime() == nil {
					period.EndTime, period.EndReason = timestamppb.New(now), reason
				}
				if period.GetPerson() != next.GetPerson() {
					people = append(people, period.GetPerson())
				}
			}
			ev.Payload = &eventsv1.Envelope_MemberTerminated{MemberTerminated: &eventsv1.MemberTerminated{Member: next, People: people, Reason: reason}}
			// The claim is released so the organisation or person may apply
			// again later; the person index keeps pointing here so "was X a
			// member" still answers.
			change.ReleaseSubject = MemberSubject(cur)
		}
		return next, s.repo.SaveMember(ctx, branch, next, cur.GetEtag(), change, ev)
	}))
}

// seenMember passes a use case's answer through memberAsSeen for p.
func (s *Service) seenMember(ctx context.Context, p auth.Principal) func(*membershipv1.Member, error) (*membershipv1.Member, error) {
	return func(m *membershipv1.Member, err error) (*membershipv1.Member, error) {
		if err != nil {
			return nil, err
		}
		return s.memberAsSeen(ctx, p, m)
	}
}

// ChangeRepresentative replaces a unit member's representative, keeping the
// history. Admins, or the current representative.
func (s *Service) ChangeRepresentative(ctx context.Context, p auth.Principal, req *membershipv1.ChangeRepresentativeRequest) (*membershipv1.Member, error) {
	if v := RequireReason(req.GetReason()); len(v) > 0 {
		return nil, apierr.InvalidArgument(v...)
	}
	newRep, err := s.referencedPerson(ctx, req.GetRepresentative(), "representative")
	if err != nil {
		return nil, err
	}
	authorize := func(cur *membershipv1.Member) error {
		if p.IsAdmin() || p.Subject == cur.GetPerson() {
			return nil
		}
		return apierr.PermissionDenied("membership.change_representative", "member", cur.GetName())
	}
	return s.seenMember(ctx, p)(s.changeMember(ctx, req.GetName(), req.GetEtag(), authorize, func(cur *membershipv1.Member, branch string) (*membershipv1.Member, error) {
		if err := CheckChangeRepresentative(cur); err != nil {
			return nil, err
		}
		if newRep.GetName() == cur.GetPerson() {
			return nil, refusal(codes.FailedPrecondition, apiv1.ErrorReason_SAME_REPRESENTATIVE, "same_representative",
				map[string]string{"representative": newRep.GetName(), "member": cur.GetName()})
		}
		if newRep.GetOrganization() != cur.GetOrganization() {
			return nil, refusal(codes.FailedPrecondition, apiv1.ErrorReason_REPRESENTATIVE_NOT_IN_ORGANIZATION, "representative_not_in_organization",
				map[string]string{"representative": newRep.GetName(), "organization": cur.GetOrganization(), "member": cur.GetName()})
		}
		now := s.now()
		next := proto.Clone(cur).(*membershipv1.Member)
		for _, period := range next.GetRepresentativeHistory() {
			if period.GetEndTime() == nil {
				period.EndTime, period.EndReason = timestamppb.New(now), req.GetReason()
			}
		}
		next.RepresentativeHistory = append(next.RepresentativeHistory, &membershipv1.RepresentativePeriod{Person: newRep.GetName(), StartTime: timestamppb.New(now)})
		next.Person = newRep.GetName()
		next.UpdateTime, next.Etag = timestamppb.New(now), newEtag()
		ev := s.envelope(ctx, p, next.GetName())
		ev.Payload = &eventsv1.Envelope_RepresentativeChanged{RepresentativeChanged: &eventsv1.RepresentativeChanged{
			Member: next, PreviousRepresentative: cur.GetPerson(), NewRepresentative: newRep.GetName()}}
		return next, s.repo.SaveMember(ctx, branch, next, cur.GetEtag(), MemberIndexChange{RemovePerson: cur.GetPerson(), AddPerson: newRep.GetName()}, ev)
	}))
}
