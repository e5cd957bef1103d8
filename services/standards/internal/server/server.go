// Package server adapts the standards use cases to gRPC: it moves data
// between requests and the domain, where every rule and permission lives.
package server

import (
	"context"

	"github.com/tjsia/chapterhouse/platform/auth"
	"github.com/tjsia/chapterhouse/platform/call"
	standardsv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/standards/v1"

	"github.com/tjsia/chapterhouse/services/standards/internal/domain"
)

// Server implements standardsv1.StandardsServiceServer.
type Server struct {
	standardsv1.UnimplementedStandardsServiceServer
	svc *domain.Service
}

// New returns the gRPC adapter for svc.
func New(svc *domain.Service) *Server { return &Server{svc: svc} }

// --- standards ---

func (s *Server) CreateStandard(ctx context.Context, req *standardsv1.CreateStandardRequest) (*standardsv1.Standard, error) {
	return call.As(ctx, func(p auth.Principal) (*standardsv1.Standard, error) {
		return call.With("standard", req.GetStandard() != nil, func() (*standardsv1.Standard, error) {
			return s.svc.CreateStandard(ctx, p, req.GetParent(), req.GetStandard(), req.GetStandardId())
		})
	})
}

func (s *Server) GetStandard(ctx context.Context, req *standardsv1.GetStandardRequest) (*standardsv1.Standard, error) {
	return s.svc.GetStandard(ctx, call.Anyone(ctx), req.GetName())
}

func (s *Server) ListStandards(ctx context.Context, req *standardsv1.ListStandardsRequest) (*standardsv1.ListStandardsResponse, error) {
	items, next, err := s.svc.ListStandards(ctx, call.Anyone(ctx), req)
	if err != nil {
		return nil, err
	}
	return &standardsv1.ListStandardsResponse{Standards: items, NextPageToken: next}, nil
}

func (s *Server) UpdateStandard(ctx context.Context, req *standardsv1.UpdateStandardRequest) (*standardsv1.Standard, error) {
	return call.As(ctx, func(p auth.Principal) (*standardsv1.Standard, error) {
		return call.With("standard", req.GetStandard() != nil, func() (*standardsv1.Standard, error) {
			return s.svc.UpdateStandard(ctx, p, req.GetStandard(), req.GetUpdateMask())
		})
	})
}

func (s *Server) ApproveStandardProposal(ctx context.Context, req *standardsv1.ApproveStandardProposalRequest) (*standardsv1.Standard, error) {
	return call.As(ctx, func(p auth.Principal) (*standardsv1.Standard, error) {
		return s.svc.ApproveStandardProposal(ctx, p, req)
	})
}

func (s *Server) RejectStandard(ctx context.Context, req *standardsv1.RejectStandardRequest) (*standardsv1.Standard, error) {
	return call.As(ctx, func(p auth.Principal) (*standardsv1.Standard, error) { return s.svc.RejectStandard(ctx, p, req) })
}

func (s *Server) OpenStandardComment(ctx context.Context, req *standardsv1.OpenStandardCommentRequest) (*standardsv1.Standard, error) {
	return call.As(ctx, func(p auth.Principal) (*standardsv1.Standard, error) { return s.svc.OpenStandardComment(ctx, p, req) })
}

func (s *Server) CloseStandardComment(ctx context.Context, req *standardsv1.CloseStandardCommentRequest) (*standardsv1.Standard, error) {
	return call.As(ctx, func(p auth.Principal) (*standardsv1.Standard, error) { return s.svc.CloseStandardComment(ctx, p, req) })
}

func (s *Server) SubmitStandardForReview(ctx context.Context, req *standardsv1.SubmitStandardForReviewRequest) (*standardsv1.Standard, error) {
	return call.As(ctx, func(p auth.Principal) (*standardsv1.Standard, error) {
		return s.svc.SubmitStandardForReview(ctx, p, req)
	})
}

func (s *Server) ConcludeStandardReview(ctx context.Context, req *standardsv1.ConcludeStandardReviewRequest) (*standardsv1.Standard, error) {
	return call.As(ctx, func(p auth.Principal) (*standardsv1.Standard, error) {
		return s.svc.ConcludeStandardReview(ctx, p, req)
	})
}

func (s *Server) ApproveStandard(ctx context.Context, req *standardsv1.ApproveStandardRequest) (*standardsv1.Standard, error) {
	return call.As(ctx, func(p auth.Principal) (*standardsv1.Standard, error) { return s.svc.ApproveStandard(ctx, p, req) })
}

func (s *Server) PublishStandard(ctx context.Context, req *standardsv1.PublishStandardRequest) (*standardsv1.Standard, error) {
	return call.As(ctx, func(p auth.Principal) (*standardsv1.Standard, error) { return s.svc.PublishStandard(ctx, p, req) })
}

func (s *Server) ReviseStandard(ctx context.Context, req *standardsv1.ReviseStandardRequest) (*standardsv1.Standard, error) {
	return call.As(ctx, func(p auth.Principal) (*standardsv1.Standard, error) { return s.svc.ReviseStandard(ctx, p, req) })
}

func (s *Server) WithdrawStandard(ctx context.Context, req *standardsv1.WithdrawStandardRequest) (*standardsv1.Standard, error) {
	return call.As(ctx, func(p auth.Principal) (*standardsv1.Standard, error) { return s.svc.WithdrawStandard(ctx, p, req) })
}

func (s *Server) GetDispositionSummary(ctx context.Context, req *standardsv1.GetDispositionSummaryRequest) (*standardsv1.DispositionSummary, error) {
	return s.svc.GetDispositionSummary(ctx, call.Anyone(ctx), req.GetName())
}

// --- promotions ---

func (s *Server) SchedulePromotion(ctx context.Context, req *standardsv1.SchedulePromotionRequest) (*standardsv1.Promotion, error) {
	return call.As(ctx, func(p auth.Principal) (*standardsv1.Promotion, error) {
		return call.With("activity", req.GetActivity() != nil, func() (*standardsv1.Promotion, error) {
			return s.svc.SchedulePromotion(ctx, p, req)
		})
	})
}

func (s *Server) ListPromotions(ctx context.Context, req *standardsv1.ListPromotionsRequest) (*standardsv1.ListPromotionsResponse, error) {
	items, next, err := s.svc.ListPromotions(ctx, call.Anyone(ctx), req)
	if err != nil {
		return nil, err
	}
	return &standardsv1.ListPromotionsResponse{Promotions: items, NextPageToken: next}, nil
}

// --- drafts ---

func (s *Server) CreateDraft(ctx context.Context, req *standardsv1.CreateDraftRequest) (*standardsv1.Draft, error) {
	return call.As(ctx, func(p auth.Principal) (*standardsv1.Draft, error) {
		return call.With("draft", req.GetDraft() != nil, func() (*standardsv1.Draft, error) {
			return s.svc.CreateDraft(ctx, p, req.GetParent(), req.GetDraft(), req.GetEtag(), req.GetDraftId())
		})
	})
}

func (s *Server) GetDraft(ctx context.Context, req *standardsv1.GetDraftRequest) (*standardsv1.Draft, error) {
	return s.svc.GetDraft(ctx, call.Anyone(ctx), req.GetName())
}

func (s *Server) ListDrafts(ctx context.Context, req *standardsv1.ListDraftsRequest) (*standardsv1.ListDraftsResponse, error) {
	items, next, err := s.svc.ListDrafts(ctx, call.Anyone(ctx), req)
	if err != nil {
		return nil, err
	}
	return &standardsv1.ListDraftsResponse{Drafts: items, NextPageToken: next}, nil
}

// --- comments ---

func (s *Server) CreateComment(ctx context.Context, req *standardsv1.CreateCommentRequest) (*standardsv1.Comment, error) {
	return call.With("comment", req.GetComment() != nil, func() (*standardsv1.Comment, error) {
		return s.svc.CreateComment(ctx, call.Anyone(ctx), req.GetParent(), req.GetComment(), req.GetCommentId())
	})
}

func (s *Server) GetComment(ctx context.Context, req *standardsv1.GetCommentRequest) (*standardsv1.Comment, error) {
	return s.svc.GetComment(ctx, call.Anyone(ctx), req.GetName())
}

func (s *Server) ListComments(ctx context.Context, req *standardsv1.ListCommentsRequest) (*standardsv1.ListCommentsResponse, error) {
	items, next, err := s.svc.ListComments(ctx, call.Anyone(ctx), req)
	if err != nil {
		return nil, err
	}
	return &standardsv1.ListCommentsResponse{Comments: items, NextPageToken: next}, nil
}

func (s *Server) DisposeComment(ctx context.Context, req *standardsv1.DisposeCommentRequest) (*standardsv1.Comment, error) {
	return call.As(ctx, func(p auth.Principal) (*standardsv1.Comment, error) { return s.svc.DisposeComment(ctx, p, req) })
}

func (s *Server) RecordPaperComment(ctx context.Context, req *standardsv1.RecordPaperCommentRequest) (*standardsv1.Comment, error) {
	return call.As(ctx, func(p auth.Principal) (*standardsv1.Comment, error) { return s.svc.RecordPaperComment(ctx, p, req) })
}

// --- signatories ---

func (s *Server) CreateSignatory(ctx context.Context, req *standardsv1.CreateSignatoryRequest) (*standardsv1.Signatory, error) {
	return call.As(ctx, func(p auth.Principal) (*standardsv1.Signatory, error) {
		return call.With("signatory", req.GetSignatory() != nil, func() (*standardsv1.Signatory, error) {
			return s.svc.CreateSignatory(ctx, p, req.GetParent(), req.GetSignatory())
		})
	})
}

func (s *Server) GetSignatory(ctx context.Context, req *standardsv1.GetSignatoryRequest) (*standardsv1.Signatory, error) {
	return s.svc.GetSignatory(ctx, call.Anyone(ctx), req.GetName())
}

func (s *Server) ListSignatories(ctx context.Context, req *standardsv1.ListSignatoriesRequest) (*standardsv1.ListSignatoriesResponse, error) {
	items, next, err := s.svc.ListSignatories(ctx, call.Anyone(ctx), req)
	if err != nil {
		return nil, err
	}
	return &standardsv1.ListSignatoriesResponse{Signatories: items, NextPageToken: next}, nil
}

func (s *Server) WithdrawSignatory(ctx context.Context, req *standardsv1.WithdrawSignatoryRequest) (*standardsv1.Signatory, error) {
	return call.As(ctx, func(p auth.Principal) (*standardsv1.Signatory, error) { return s.svc.WithdrawSignatory(ctx, p, req) })
}
