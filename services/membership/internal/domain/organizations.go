package domain

import (
	"context"
	"errors"
	"strings"

	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/fieldmaskpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/tjsia/chapterhouse/platform/apierr"
	"github.com/tjsia/chapterhouse/platform/auth"
	"github.com/tjsia/chapterhouse/platform/events"
	"github.com/tjsia/chapterhouse/platform/fieldmask"
	"github.com/tjsia/chapterhouse/platform/ids"
	apiv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/api/v1"
	eventsv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/events/v1"
	membershipv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/membership/v1"
	"github.com/tjsia/chapterhouse/services/membership/creditcode"
)

// CreateOrganization registers an organisation. Admins only.
func (s *Service) CreateOrganization(ctx context.Context, p auth.Principal, org *membershipv1.Organization, orgID string) (*membershipv1.Organization, error) {
	if err := requireAdmin(p, "create_organization"); err != nil {
		return nil, err
	}
	org = proto.Clone(org).(*membershipv1.Organization)
	org.CreditCode = creditcode.Normalize(org.GetCreditCode())
	if v := ValidateOrganization(org); len(v) > 0 {
		return nil, apierr.InvalidArgument(v...)
	}
	now := s.now()
	if orgID == "" {
		orgID = ids.New(now)
	}
	org.Name = "organizations/" + orgID
	org.GeneralMembershipState = membershipv1.GeneralMembershipState_GENERAL_MEMBERSHIP_STATE_NONE
	org.CreateTime, org.UpdateTime = timestamppb.New(now), timestamppb.New(now)
	org.Etag = newEtag()
	ev := s.envelope(ctx, p, org.GetName())
	ev.Payload = &eventsv1.Envelope_OrganizationCreated{OrganizationCreated: &eventsv1.OrganizationCreated{Organization: org}}
	err := s.repo.CreateOrganization(ctx, org, ev)
	var conflict *ConflictError
	if errors.As(err, &conflict) && conflict.Claim == "organization_id" {
		return nil, apierr.AlreadyExists(org.GetName())
	}
	if errors.As(err, &conflict) {
		return nil, refusal(codes.AlreadyExists, apiv1.ErrorReason_CREDIT_CODE_TAKEN, "credit_code_taken",
			map[string]string{"existing": conflict.Owner, "creditCode": org.GetCreditCode()})
	}
	if err != nil {
		return nil, err
	}
	return org, nil
}

// GetOrganization reads one organisation.
func (s *Service) GetOrganization(ctx context.Context, name string) (*membershipv1.Organization, error) {
	id, err := ParseOrganizationName(name)
	if err != nil {
		return nil, err
	}
	org, err := s.repo.GetOrganization(ctx, id)
	return org, notFound(err, name)
}

// ListOrganizations pages through organisations in creation order.
func (s *Service) ListOrganizations(ctx context.Context, size int32, token string) ([]*membershipv1.Organization, string, error) {
	pg, err := s.pages.Parse(size, token, "organizations")
	if err != nil {
		return nil, "", err
	}
	page, err := s.repo.ListOrganizations(ctx, pg.After, pg.Size)
	if err != nil {
		return nil, "", err
	}
	return page.Items, pg.Next(page.Next), nil
}

// organizationPaths are what UpdateOrganization changes; organizationFixed
// says why the other fields are not in an update_mask (fieldmask.Paths:
// the text "field.mask.<why>").
var (
	organizationPaths = []string{"display_name", "address", "ai_business_summary"}
	organizationFixed = map[string]string{"name": "immutable", "credit_code": "immutable",
		"general_membership_state": "membership.set_general_membership", "create_time": "output_only", "update_time": "output_only"}
)

// UpdateOrganization changes the updatable fields named in mask. Admins.
func (s *Service) UpdateOrganization(ctx context.Context, p auth.Principal, patch *membershipv1.Organization, mask *fieldmaskpb.FieldMask) (*membershipv1.Organization, error) {
	if err := requireAdmin(p, "update_organization"); err != nil {
		return nil, err
	}
	id, err := ParseOrganizationName(patch.GetName())
	if err != nil {
		return nil, err
	}
	paths, err := fieldmask.Paths(mask, organizationPaths, organizationFixed)
	if err != nil {
		return nil, err
	}
	load := func() (*membershipv1.Organization, error) { return s.repo.GetOrganization(ctx, id) }
	out, err := mutate(ctx, patch.GetName(), patch.GetEtag(), load, nil, func(cur *membershipv1.Organization) (*membershipv1.Organization, error) {
		next := proto.Clone(cur).(*membershipv1.Organization)
		fieldmask.Apply(next, patch, paths)
		if v := ValidateOrganization(next); len(v) > 0 {
			return nil, apierr.InvalidArgument(v...)
		}
		next.UpdateTime, next.Etag = timestamppb.New(s.now()), newEtag()
		ev := s.envelope(ctx, p, next.GetName())
		ev.Payload = &eventsv1.Envelope_OrganizationUpdated{OrganizationUpdated: &eventsv1.OrganizationUpdated{Organization: next}}
		if err := s.repo.UpdateOrganization(ctx, next, cur.GetEtag(), ev); err != nil {
			return nil, err
		}
		return next, nil
	})
	return out, err
}

// SetGeneralMembership records the organisation's standing in the general
// association. Admins and the general association's secretary-general.
func (s *Service) SetGeneralMembership(ctx context.Context, p auth.Principal, req *membershipv1.SetGeneralMembershipRequest) (*membershipv1.Organization, error) {
	if !p.HasRole(auth.RoleAdmin, auth.RoleGeneralSecretary) {
		return nil, apierr.PermissionDenied("membership.general_membership")
	}
	id, err := ParseOrganizationName(req.GetName())
	if err != nil {
		return nil, err
	}
	if _, ok := membershipv1.GeneralMembershipState_name[int32(req.GetState())]; !ok || req.GetState() == 0 {
		return nil, apierr.InvalidArgument(apierr.Field("state", "membership.one_of", "values", strings.Join(generalMembershipStates(), ",")))
	}
	load := func() (*membershipv1.Organization, error) { return s.repo.GetOrganization(ctx, id) }
	out, err := mutate(ctx, req.GetName(), req.GetEtag(), load, nil, func(cur *membershipv1.Organization) (*membershipv1.Organization, error) {
		if cur.GetGeneralMembershipState() == req.GetState() {
			return cur, nil
		}
		next := proto.Clone(cur).(*membershipv1.Organization)
		next.GeneralMembershipState = req.GetState()
		next.UpdateTime, next.Etag = timestamppb.New(s.now()), newEtag()
		ev := s.envelope(ctx, p, next.GetName())
		ev.Payload = &eventsv1.Envelope_GeneralMembershipChanged{GeneralMembershipChanged: &eventsv1.GeneralMembershipChanged{
			Organization: next, PreviousState: cur.GetGeneralMembershipState(), Reason: req.GetReason()}}
		if err := s.repo.UpdateOrganization(ctx, next, cur.GetEtag(), ev); err != nil {
			return nil, err
		}
		return next, nil
	})
	if err != nil {
		return nil, err
	}
	// Release or hold the organisation's waiting applications now, so the
	// caller sees the effect at once. The GeneralMembershipChanged consumer
	// does the same and covers a failure here; both are idempotent.
	known, _ := s.branches.IDs(ctx) // on failure, the consumer does it
	for _, branch := range known {
		_, _ = s.syncWithGeneralMembership(ctx, branch, out.GetName(), auth.Principal{Subject: events.SystemActor})
	}
	return out, nil
}

// generalMembershipStates are the values a general membership may be set
// to: every GeneralMembershipState but the unspecified one, from the
// enum's descriptor, so a new state is listed without a change here.
func generalMembershipStates() []string {
	values := membershipv1.GeneralMembershipState(0).Descriptor().Values()
	out := make([]string, 0, values.Len())
	for i := range values.Len() {
		if v := values.Get(i); v.Number() != 0 {
			out = append(out, string(v.Name()))
		}
	}
	return out
}
