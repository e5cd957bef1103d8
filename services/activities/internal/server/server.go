// Package server adapts the activities use cases to gRPC: it moves data
// between requests and the domain, where every rule and permission lives.
package server

import (
	"context"

	"github.com/tjsia/chapterhouse/platform/auth"
	"github.com/tjsia/chapterhouse/platform/call"
	activitiesv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/activities/v1"

	"github.com/tjsia/chapterhouse/services/activities/internal/domain"
)

// Server implements activitiesv1.ActivitiesServiceServer.
type Server struct {
	activitiesv1.UnimplementedActivitiesServiceServer
	svc *domain.Service
}

// New returns the gRPC adapter for svc.
func New(svc *domain.Service) *Server { return &Server{svc: svc} }

func (s *Server) CreateActivity(ctx context.Context, req *activitiesv1.CreateActivityRequest) (*activitiesv1.Activity, error) {
	return call.As(ctx, func(p auth.Principal) (*activitiesv1.Activity, error) {
		return call.With("activity", req.GetActivity() != nil, func() (*activitiesv1.Activity, error) {
			return s.svc.CreateActivity(ctx, p, req.GetParent(), req.GetActivity(), req.GetActivityId())
		})
	})
}

func (s *Server) GetActivity(ctx context.Context, req *activitiesv1.GetActivityRequest) (*activitiesv1.Activity, error) {
	return s.svc.GetActivity(ctx, call.Anyone(ctx), req.GetName())
}

func (s *Server) ListActivities(ctx context.Context, req *activitiesv1.ListActivitiesRequest) (*activitiesv1.ListActivitiesResponse, error) {
	items, next, err := s.svc.ListActivities(ctx, call.Anyone(ctx), req)
	if err != nil {
		return nil, err
	}
	return &activitiesv1.ListActivitiesResponse{Activities: items, NextPageToken: next}, nil
}

func (s *Server) UpdateActivity(ctx context.Context, req *activitiesv1.UpdateActivityRequest) (*activitiesv1.Activity, error) {
	return call.As(ctx, func(p auth.Principal) (*activitiesv1.Activity, error) {
		return call.With("activity", req.GetActivity() != nil, func() (*activitiesv1.Activity, error) {
			return s.svc.UpdateActivity(ctx, p, req.GetActivity(), req.GetUpdateMask())
		})
	})
}

func (s *Server) PublishActivity(ctx context.Context, req *activitiesv1.PublishActivityRequest) (*activitiesv1.Activity, error) {
	return call.As(ctx, func(p auth.Principal) (*activitiesv1.Activity, error) { return s.svc.PublishActivity(ctx, p, req) })
}

func (s *Server) CancelActivity(ctx context.Context, req *activitiesv1.CancelActivityRequest) (*activitiesv1.Activity, error) {
	return call.As(ctx, func(p auth.Principal) (*activitiesv1.Activity, error) { return s.svc.CancelActivity(ctx, p, req) })
}

func (s *Server) CompleteActivity(ctx context.Context, req *activitiesv1.CompleteActivityRequest) (*activitiesv1.Activity, error) {
	return call.As(ctx, func(p auth.Principal) (*activitiesv1.Activity, error) { return s.svc.CompleteActivity(ctx, p, req) })
}

func (s *Server) RegisterForActivity(ctx context.Context, req *activitiesv1.RegisterForActivityRequest) (*activitiesv1.Registration, error) {
	return call.As(ctx, func(p auth.Principal) (*activitiesv1.Registration, error) { return s.svc.Register(ctx, p, req) })
}

func (s *Server) GetRegistration(ctx context.Context, req *activitiesv1.GetRegistrationRequest) (*activitiesv1.Registration, error) {
	return call.As(ctx, func(p auth.Principal) (*activitiesv1.Registration, error) {
		return s.svc.GetRegistration(ctx, p, req.GetName())
	})
}

func (s *Server) ListRegistrations(ctx context.Context, req *activitiesv1.ListRegistrationsRequest) (*activitiesv1.ListRegistrationsResponse, error) {
	return call.As(ctx, func(p auth.Principal) (*activitiesv1.ListRegistrationsResponse, error) {
		items, next, err := s.svc.ListRegistrations(ctx, p, req)
		if err != nil {
			return nil, err
		}
		return &activitiesv1.ListRegistrationsResponse{Registrations: items, NextPageToken: next}, nil
	})
}

func (s *Server) CancelRegistration(ctx context.Context, req *activitiesv1.CancelRegistrationRequest) (*activitiesv1.Registration, error) {
	return call.As(ctx, func(p auth.Principal) (*activitiesv1.Registration, error) {
		return s.svc.CancelRegistration(ctx, p, req)
	})
}

func (s *Server) CheckInRegistration(ctx context.Context, req *activitiesv1.CheckInRegistrationRequest) (*activitiesv1.Registration, error) {
	return call.As(ctx, func(p auth.Principal) (*activitiesv1.Registration, error) { return s.svc.CheckIn(ctx, p, req) })
}

func (s *Server) IssueCertificate(ctx context.Context, req *activitiesv1.IssueCertificateRequest) (*activitiesv1.Certificate, error) {
	return call.As(ctx, func(p auth.Principal) (*activitiesv1.Certificate, error) { return s.svc.IssueCertificate(ctx, p, req) })
}

func (s *Server) GetCertificate(ctx context.Context, req *activitiesv1.GetCertificateRequest) (*activitiesv1.Certificate, error) {
	return call.As(ctx, func(p auth.Principal) (*activitiesv1.Certificate, error) {
		return s.svc.GetCertificate(ctx, p, req.GetName())
	})
}

func (s *Server) ListCertificates(ctx context.Context, req *activitiesv1.ListCertificatesRequest) (*activitiesv1.ListCertificatesResponse, error) {
	return call.As(ctx, func(p auth.Principal) (*activitiesv1.ListCertificatesResponse, error) {
		items, next, err := s.svc.ListCertificates(ctx, p, req)
		if err != nil {
			return nil, err
		}
		return &activitiesv1.ListCertificatesResponse{Certificates: items, NextPageToken: next}, nil
	})
}

func (s *Server) VerifyCertificate(ctx context.Context, req *activitiesv1.VerifyCertificateRequest) (*activitiesv1.VerifyCertificateResponse, error) {
	return s.svc.VerifyCertificate(ctx, req)
}

func (s *Server) RevokeCertificate(ctx context.Context, req *activitiesv1.RevokeCertificateRequest) (*activitiesv1.Certificate, error) {
	return call.As(ctx, func(p auth.Principal) (*activitiesv1.Certificate, error) { return s.svc.RevokeCertificate(ctx, p, req) })
}

func (s *Server) GetAnnualQuota(ctx context.Context, req *activitiesv1.GetAnnualQuotaRequest) (*activitiesv1.AnnualQuota, error) {
	return call.As(ctx, func(auth.Principal) (*activitiesv1.AnnualQuota, error) { return s.svc.GetAnnualQuota(ctx, req) })
}
