package server

import (
	"context"

	"github.com/tjsia/chapterhouse/platform/apierr"
	"github.com/tjsia/chapterhouse/platform/auth"
	"github.com/tjsia/chapterhouse/platform/call"
	membershipv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/membership/v1"
)

// identity is the caller's signed-in identity, which grpcserver puts in
// the context for every verified token, linked or not. A call without a
// token has none: UNAUTHENTICATED.
func identity(ctx context.Context) (auth.Identity, error) {
	if id, ok := auth.IdentityFromContext(ctx); ok && id.Issuer != "" {
		return id, nil
	}
	return auth.Identity{}, apierr.Unauthenticated("token_required")
}

func (s *Server) CreateInvitation(ctx context.Context, req *membershipv1.CreateInvitationRequest) (*membershipv1.Invitation, error) {
	return call.As(ctx, func(p auth.Principal) (*membershipv1.Invitation, error) {
		return call.With("invitation", req.GetInvitation() != nil, func() (*membershipv1.Invitation, error) {
			return s.svc.CreateInvitation(ctx, p, req.GetInvitation())
		})
	})
}

func (s *Server) GetInvitation(ctx context.Context, req *membershipv1.GetInvitationRequest) (*membershipv1.Invitation, error) {
	return call.As(ctx, func(p auth.Principal) (*membershipv1.Invitation, error) {
		return s.svc.GetInvitation(ctx, p, req.GetName())
	})
}

func (s *Server) RevokeInvitation(ctx context.Context, req *membershipv1.RevokeInvitationRequest) (*membershipv1.Invitation, error) {
	return call.As(ctx, func(p auth.Principal) (*membershipv1.Invitation, error) {
		return s.svc.RevokeInvitation(ctx, p, req)
	})
}

// ClaimInvitation is public so that an identity linked to no person, which
// has no principal, reaches it; it still needs the caller's identity.
func (s *Server) ClaimInvitation(ctx context.Context, req *membershipv1.ClaimInvitationRequest) (*membershipv1.Account, error) {
	id, err := identity(ctx)
	if err != nil {
		return nil, err
	}
	// A token that names its person itself (the static-key issuer) is that
	// person already, and links no account: an identity is one person.
	if p, ok := auth.FromContext(ctx); ok && p.Subject == id.Subject {
		return nil, apierr.PermissionDenied("membership.claim_named_person", "person", p.Subject)
	}
	return s.svc.ClaimInvitation(ctx, id, req.GetCode())
}

func (s *Server) GetAccount(ctx context.Context, req *membershipv1.GetAccountRequest) (*membershipv1.Account, error) {
	return call.As(ctx, func(p auth.Principal) (*membershipv1.Account, error) {
		return s.svc.GetAccount(ctx, p, req.GetName())
	})
}

func (s *Server) ListAccounts(ctx context.Context, req *membershipv1.ListAccountsRequest) (*membershipv1.ListAccountsResponse, error) {
	return call.As(ctx, func(p auth.Principal) (*membershipv1.ListAccountsResponse, error) {
		items, next, err := s.svc.ListAccounts(ctx, p, req)
		if err != nil {
			return nil, err
		}
		return &membershipv1.ListAccountsResponse{Accounts: items, NextPageToken: next}, nil
	})
}

func (s *Server) UnlinkAccount(ctx context.Context, req *membershipv1.UnlinkAccountRequest) (*membershipv1.Account, error) {
	return call.As(ctx, func(p auth.Principal) (*membershipv1.Account, error) {
		return s.svc.UnlinkAccount(ctx, p, req)
	})
}

func (s *Server) CreateRoleBinding(ctx context.Context, req *membershipv1.CreateRoleBindingRequest) (*membershipv1.RoleBinding, error) {
	return call.As(ctx, func(p auth.Principal) (*membershipv1.RoleBinding, error) {
		return call.With("role_binding", req.GetRoleBinding() != nil, func() (*membershipv1.RoleBinding, error) {
			return s.svc.CreateRoleBinding(ctx, p, req.GetRoleBinding())
		})
	})
}

func (s *Server) GetRoleBinding(ctx context.Context, req *membershipv1.GetRoleBindingRequest) (*membershipv1.RoleBinding, error) {
	return call.As(ctx, func(p auth.Principal) (*membershipv1.RoleBinding, error) {
		return s.svc.GetRoleBinding(ctx, p, req.GetName())
	})
}

func (s *Server) ListRoleBindings(ctx context.Context, req *membershipv1.ListRoleBindingsRequest) (*membershipv1.ListRoleBindingsResponse, error) {
	return call.As(ctx, func(p auth.Principal) (*membershipv1.ListRoleBindingsResponse, error) {
		items, next, err := s.svc.ListRoleBindings(ctx, p, req)
		if err != nil {
			return nil, err
		}
		return &membershipv1.ListRoleBindingsResponse{RoleBindings: items, NextPageToken: next}, nil
	})
}

func (s *Server) RevokeRoleBinding(ctx context.Context, req *membershipv1.RevokeRoleBindingRequest) (*membershipv1.RoleBinding, error) {
	return call.As(ctx, func(p auth.Principal) (*membershipv1.RoleBinding, error) {
		return s.svc.RevokeRoleBinding(ctx, p, req)
	})
}

// LookupCaller is public for the same reason as ClaimInvitation.
func (s *Server) LookupCaller(ctx context.Context, _ *membershipv1.LookupCallerRequest) (*membershipv1.LookupCallerResponse, error) {
	id, err := identity(ctx)
	if err != nil {
		return nil, err
	}
	// The caller as authentication resolved it: a person with the roles
	// bound to them, or (no principal) an identity linked to no one.
	p, ok := auth.FromContext(ctx)
	if !ok {
		p = auth.Principal{Identity: id}
	}
	return s.svc.LookupCaller(ctx, p)
}
