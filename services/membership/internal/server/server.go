// Package server adapts the membership use cases to gRPC. It only moves
// data between requests and the domain; who may call what, and every rule,
// lives in the domain.
package server

import (
	"context"

	"github.com/tjsia/chapterhouse/platform/auth"
	"github.com/tjsia/chapterhouse/platform/call"
	membershipv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/membership/v1"

	"github.com/tjsia/chapterhouse/services/membership/internal/domain"
)

// Server implements membershipv1.MembershipServiceServer.
type Server struct {
	membershipv1.UnimplementedMembershipServiceServer
	svc *domain.Service
}

// New returns the gRPC adapter for svc.
func New(svc *domain.Service) *Server { return &Server{svc: svc} }

func (s *Server) CreateOrganization(ctx context.Context, req *membershipv1.CreateOrganizationRequest) (*membershipv1.Organization, error) {
	return call.As(ctx, func(p auth.Principal) (*membershipv1.Organization, error) {
		return call.With("organization", req.GetOrganization() != nil, func() (*membershipv1.Organization, error) {
			return s.svc.CreateOrganization(ctx, p, req.GetOrganization(), req.GetOrganizationId())
		})
	})
}

func (s *Server) GetOrganization(ctx context.Context, req *membershipv1.GetOrganizationRequest) (*membershipv1.Organization, error) {
	return call.As(ctx, func(auth.Principal) (*membershipv1.Organization, error) {
		return s.svc.GetOrganization(ctx, req.GetName())
	})
}

func (s *Server) ListOrganizations(ctx context.Context, req *membershipv1.ListOrganizationsRequest) (*membershipv1.ListOrganizationsResponse, error) {
	return call.As(ctx, func(auth.Principal) (*membershipv1.ListOrganizationsResponse, error) {
		items, next, err := s.svc.ListOrganizations(ctx, req.GetPageSize(), req.GetPageToken())
		if err != nil {
			return nil, err
		}
		return &membershipv1.ListOrganizationsResponse{Organizations: items, NextPageToken: next}, nil
	})
}

func (s *Server) UpdateOrganization(ctx context.Context, req *membershipv1.UpdateOrganizationRequest) (*membershipv1.Organization, error) {
	return call.As(ctx, func(p auth.Principal) (*membershipv1.Organization, error) {
		return call.With("organization", req.GetOrganization() != nil, func() (*membershipv1.Organization, error) {
			return s.svc.UpdateOrganization(ctx, p, req.GetOrganization(), req.GetUpdateMask())
		})
	})
}

func (s *Server) SetGeneralMembership(ctx context.Context, req *membershipv1.SetGeneralMembershipRequest) (*membershipv1.Organization, error) {
	return call.As(ctx, func(p auth.Principal) (*membershipv1.Organization, error) {
		return s.svc.SetGeneralMembership(ctx, p, req)
	})
}

// CreatePerson is open to an identity linked to no person (the proto's
// unlinked_identities): such a caller registers its own person and is
// linked to it.
func (s *Server) CreatePerson(ctx context.Context, req *membershipv1.CreatePersonRequest) (*membershipv1.Person, error) {
	if _, signedIn := auth.FromContext(ctx); !signedIn {
		if id, ok := auth.IdentityFromContext(ctx); ok && id.Issuer != "" {
			return call.With("person", req.GetPerson() != nil, func() (*membershipv1.Person, error) {
				return s.svc.RegisterSelf(ctx, id, req.GetPerson(), req.GetPersonId())
			})
		}
	}
	return call.As(ctx, func(p auth.Principal) (*membershipv1.Person, error) {
		return call.With("person", req.GetPerson() != nil, func() (*membershipv1.Person, error) {
			return s.svc.CreatePerson(ctx, p, req.GetPerson(), req.GetPersonId())
		})
	})
}

// GetPerson and ListPeople answer any signed-in caller with whole records;
// the server masks each response for its caller (platform/grpcserver), by
// Person's readers.
func (s *Server) GetPerson(ctx context.Context, req *membershipv1.GetPersonRequest) (*membershipv1.Person, error) {
	return call.As(ctx, func(auth.Principal) (*membershipv1.Person, error) { return s.svc.GetPerson(ctx, req.GetName()) })
}

func (s *Server) ListPeople(ctx context.Context, req *membershipv1.ListPeopleRequest) (*membershipv1.ListPeopleResponse, error) {
	return call.As(ctx, func(auth.Principal) (*membershipv1.ListPeopleResponse, error) {
		items, next, err := s.svc.ListPeople(ctx, req.GetOrganization(), req.GetPageSize(), req.GetPageToken())
		if err != nil {
			return nil, err
		}
		return &membershipv1.ListPeopleResponse{People: items, NextPageToken: next}, nil
	})
}

func (s *Server) UpdatePerson(ctx context.Context, req *membershipv1.UpdatePersonRequest) (*membershipv1.Person, error) {
	return call.As(ctx, func(p auth.Principal) (*membershipv1.Person, error) {
		return call.With("person", req.GetPerson() != nil, func() (*membershipv1.Person, error) {
			return s.svc.UpdatePerson(ctx, p, req.GetPerson(), req.GetUpdateMask())
		})
	})
}

func (s *Server) CreateApplication(ctx context.Context, req *membershipv1.CreateApplicationRequest) (*membershipv1.Application, error) {
	return call.As(ctx, func(p auth.Principal) (*membershipv1.Application, error) {
		return call.With("application", req.GetApplication() != nil, func() (*membershipv1.Application, error) {
			return s.svc.CreateApplication(ctx, p, req.GetParent(), req.GetApplication(), req.GetApplicationId())
		})
	})
}

func (s *Server) GetApplication(ctx context.Context, req *membershipv1.GetApplicationRequest) (*membershipv1.Application, error) {
	return call.As(ctx, func(p auth.Principal) (*membershipv1.Application, error) {
		return s.svc.GetApplication(ctx, p, req.GetName())
	})
}

func (s *Server) ListApplications(ctx context.Context, req *membershipv1.ListApplicationsRequest) (*membershipv1.ListApplicationsResponse, error) {
	return call.As(ctx, func(p auth.Principal) (*membershipv1.ListApplicationsResponse, error) {
		items, next, err := s.svc.ListApplications(ctx, p, req)
		if err != nil {
			return nil, err
		}
		return &membershipv1.ListApplicationsResponse{Applications: items, NextPageToken: next}, nil
	})
}

func (s *Server) ApproveApplication(ctx context.Context, req *membershipv1.ApproveApplicationRequest) (*membershipv1.Application, error) {
	return call.As(ctx, func(p auth.Principal) (*membershipv1.Application, error) {
		return s.svc.ApproveApplication(ctx, p, req)
	})
}

func (s *Server) RejectApplication(ctx context.Context, req *membershipv1.RejectApplicationRequest) (*membershipv1.Application, error) {
	return call.As(ctx, func(p auth.Principal) (*membershipv1.Application, error) { return s.svc.RejectApplication(ctx, p, req) })
}

func (s *Server) WithdrawApplication(ctx context.Context, req *membershipv1.WithdrawApplicationRequest) (*membershipv1.Application, error) {
	return call.As(ctx, func(p auth.Principal) (*membershipv1.Application, error) {
		return s.svc.WithdrawApplication(ctx, p, req)
	})
}

func (s *Server) GetMember(ctx context.Context, req *membershipv1.GetMemberRequest) (*membershipv1.Member, error) {
	return call.As(ctx, func(p auth.Principal) (*membershipv1.Member, error) { return s.svc.GetMember(ctx, p, req.GetName()) })
}

func (s *Server) ListMembers(ctx context.Context, req *membershipv1.ListMembersRequest) (*membershipv1.ListMembersResponse, error) {
	return call.As(ctx, func(p auth.Principal) (*membershipv1.ListMembersResponse, error) {
		items, next, err := s.svc.ListMembers(ctx, p, req)
		if err != nil {
			return nil, err
		}
		return &membershipv1.ListMembersResponse{Members: items, NextPageToken: next}, nil
	})
}

func (s *Server) SuspendMember(ctx context.Context, req *membershipv1.SuspendMemberRequest) (*membershipv1.Member, error) {
	return call.As(ctx, func(p auth.Principal) (*membershipv1.Member, error) {
		return s.svc.SetMemberState(ctx, p, req.GetName(), "suspend", req.GetReason(), req.GetEtag())
	})
}

func (s *Server) ReinstateMember(ctx context.Context, req *membershipv1.ReinstateMemberRequest) (*membershipv1.Member, error) {
	return call.As(ctx, func(p auth.Principal) (*membershipv1.Member, error) {
		return s.svc.SetMemberState(ctx, p, req.GetName(), "reinstate", req.GetReason(), req.GetEtag())
	})
}

func (s *Server) TerminateMember(ctx context.Context, req *membershipv1.TerminateMemberRequest) (*membershipv1.Member, error) {
	return call.As(ctx, func(p auth.Principal) (*membershipv1.Member, error) {
		return s.svc.SetMemberState(ctx, p, req.GetName(), "terminate", req.GetReason(), req.GetEtag())
	})
}

func (s *Server) ChangeRepresentative(ctx context.Context, req *membershipv1.ChangeRepresentativeRequest) (*membershipv1.Member, error) {
	return call.As(ctx, func(p auth.Principal) (*membershipv1.Member, error) { return s.svc.ChangeRepresentative(ctx, p, req) })
}
