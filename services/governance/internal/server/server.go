// Package server adapts the governance use cases to gRPC: it moves data
// between requests and the domain, where every rule and permission lives.
package server

import (
	"context"

	"github.com/tjsia/chapterhouse/platform/auth"
	"github.com/tjsia/chapterhouse/platform/call"
	governancev1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/governance/v1"

	"github.com/tjsia/chapterhouse/services/governance/internal/domain"
)

// Server implements governancev1.GovernanceServiceServer.
type Server struct {
	governancev1.UnimplementedGovernanceServiceServer
	svc *domain.Service
}

// New returns the gRPC adapter for svc.
func New(svc *domain.Service) *Server { return &Server{svc: svc} }

// asSeen passes a use case's answer through see, the domain's rule for
// what its caller may read one level down: a response names no
// nomination its caller may not see. Every method answering with an
// officer or a resolution passes through it.
func asSeen[T any](ctx context.Context, p auth.Principal, v T, err error, see func(context.Context, auth.Principal, T) (T, error)) (T, error) {
	if err != nil {
		var zero T
		return zero, err
	}
	return see(ctx, p, v)
}

// listed builds a List response from the use case's page.
func listed[T, R any](items []T, next string, err error, build func([]T, string) R) (R, error) {
	if err != nil {
		var zero R
		return zero, err
	}
	return build(items, next), nil
}

// --- branches ---

func (s *Server) CreateBranch(ctx context.Context, req *governancev1.CreateBranchRequest) (*governancev1.Branch, error) {
	return call.As(ctx, func(p auth.Principal) (*governancev1.Branch, error) {
		return call.With("branch", req.GetBranch() != nil, func() (*governancev1.Branch, error) {
			return s.svc.CreateBranch(ctx, p, req.GetBranch(), req.GetBranchId())
		})
	})
}

func (s *Server) GetBranch(ctx context.Context, req *governancev1.GetBranchRequest) (*governancev1.Branch, error) {
	return s.svc.GetBranch(ctx, req.GetName())
}

func (s *Server) ListBranches(ctx context.Context, req *governancev1.ListBranchesRequest) (*governancev1.ListBranchesResponse, error) {
	items, next, err := s.svc.ListBranches(ctx, req.GetPageSize(), req.GetPageToken())
	return listed(items, next, err, func(i []*governancev1.Branch, n string) *governancev1.ListBranchesResponse {
		return &governancev1.ListBranchesResponse{Branches: i, NextPageToken: n}
	})
}

func (s *Server) UpdateBranch(ctx context.Context, req *governancev1.UpdateBranchRequest) (*governancev1.Branch, error) {
	return call.As(ctx, func(p auth.Principal) (*governancev1.Branch, error) {
		return call.With("branch", req.GetBranch() != nil, func() (*governancev1.Branch, error) {
			return s.svc.UpdateBranch(ctx, p, req.GetBranch(), req.GetUpdateMask())
		})
	})
}

// --- terms ---

func (s *Server) CreateTerm(ctx context.Context, req *governancev1.CreateTermRequest) (*governancev1.Term, error) {
	return call.As(ctx, func(p auth.Principal) (*governancev1.Term, error) {
		return call.With("term", req.GetTerm() != nil, func() (*governancev1.Term, error) {
			return s.svc.CreateTerm(ctx, p, req.GetParent(), req.GetTerm())
		})
	})
}

func (s *Server) GetTerm(ctx context.Context, req *governancev1.GetTermRequest) (*governancev1.Term, error) {
	return call.As(ctx, func(auth.Principal) (*governancev1.Term, error) { return s.svc.GetTerm(ctx, req.GetName()) })
}

func (s *Server) ListTerms(ctx context.Context, req *governancev1.ListTermsRequest) (*governancev1.ListTermsResponse, error) {
	return call.As(ctx, func(auth.Principal) (*governancev1.ListTermsResponse, error) {
		items, next, err := s.svc.ListTerms(ctx, req.GetParent(), req.GetPageSize(), req.GetPageToken())
		return listed(items, next, err, func(i []*governancev1.Term, n string) *governancev1.ListTermsResponse {
			return &governancev1.ListTermsResponse{Terms: i, NextPageToken: n}
		})
	})
}

func (s *Server) UpdateTerm(ctx context.Context, req *governancev1.UpdateTermRequest) (*governancev1.Term, error) {
	return call.As(ctx, func(p auth.Principal) (*governancev1.Term, error) {
		return call.With("term", req.GetTerm() != nil, func() (*governancev1.Term, error) {
			return s.svc.UpdateTerm(ctx, p, req.GetTerm(), req.GetUpdateMask())
		})
	})
}

// --- nominations ---

func (s *Server) CheckEligibility(ctx context.Context, req *governancev1.CheckEligibilityRequest) (*governancev1.CheckEligibilityResponse, error) {
	return call.As(ctx, func(p auth.Principal) (*governancev1.CheckEligibilityResponse, error) {
		return call.With("nomination", req.GetNomination() != nil, func() (*governancev1.CheckEligibilityResponse, error) {
			return s.svc.CheckEligibility(ctx, p, req)
		})
	})
}

func (s *Server) CreateNomination(ctx context.Context, req *governancev1.CreateNominationRequest) (*governancev1.Nomination, error) {
	return call.As(ctx, func(p auth.Principal) (*governancev1.Nomination, error) {
		return call.With("nomination", req.GetNomination() != nil, func() (*governancev1.Nomination, error) {
			return s.svc.CreateNomination(ctx, p, req.GetParent(), req.GetNomination(), req.GetNominationId())
		})
	})
}

func (s *Server) GetNomination(ctx context.Context, req *governancev1.GetNominationRequest) (*governancev1.Nomination, error) {
	return call.As(ctx, func(p auth.Principal) (*governancev1.Nomination, error) {
		return s.svc.GetNomination(ctx, p, req.GetName())
	})
}

func (s *Server) ListNominations(ctx context.Context, req *governancev1.ListNominationsRequest) (*governancev1.ListNominationsResponse, error) {
	return call.As(ctx, func(p auth.Principal) (*governancev1.ListNominationsResponse, error) {
		items, next, err := s.svc.ListNominations(ctx, p, req)
		return listed(items, next, err, func(i []*governancev1.Nomination, n string) *governancev1.ListNominationsResponse {
			return &governancev1.ListNominationsResponse{Nominations: i, NextPageToken: n}
		})
	})
}

func (s *Server) UpdateNomination(ctx context.Context, req *governancev1.UpdateNominationRequest) (*governancev1.Nomination, error) {
	return call.As(ctx, func(p auth.Principal) (*governancev1.Nomination, error) {
		return call.With("nomination", req.GetNomination() != nil, func() (*governancev1.Nomination, error) {
			return s.svc.UpdateNomination(ctx, p, req.GetNomination(), req.GetUpdateMask())
		})
	})
}

func (s *Server) ConfirmNominationQualification(ctx context.Context, req *governancev1.ConfirmNominationQualificationRequest) (*governancev1.Nomination, error) {
	return call.As(ctx, func(p auth.Principal) (*governancev1.Nomination, error) {
		return s.svc.ConfirmNominationQualification(ctx, p, req)
	})
}

func (s *Server) DecideNomination(ctx context.Context, req *governancev1.DecideNominationRequest) (*governancev1.Nomination, error) {
	return call.As(ctx, func(p auth.Principal) (*governancev1.Nomination, error) { return s.svc.DecideNomination(ctx, p, req) })
}

func (s *Server) AppointNomination(ctx context.Context, req *governancev1.AppointNominationRequest) (*governancev1.Nomination, error) {
	return call.As(ctx, func(p auth.Principal) (*governancev1.Nomination, error) { return s.svc.AppointNomination(ctx, p, req) })
}

func (s *Server) WithdrawNomination(ctx context.Context, req *governancev1.WithdrawNominationRequest) (*governancev1.Nomination, error) {
	return call.As(ctx, func(p auth.Principal) (*governancev1.Nomination, error) { return s.svc.WithdrawNomination(ctx, p, req) })
}

// --- officers ---

func (s *Server) GetOfficer(ctx context.Context, req *governancev1.GetOfficerRequest) (*governancev1.Officer, error) {
	return call.As(ctx, func(p auth.Principal) (*governancev1.Officer, error) {
		o, err := s.svc.GetOfficer(ctx, req.GetName())
		return asSeen(ctx, p, o, err, s.svc.OfficerAsSeen)
	})
}

func (s *Server) ListOfficers(ctx context.Context, req *governancev1.ListOfficersRequest) (*governancev1.ListOfficersResponse, error) {
	return call.As(ctx, func(p auth.Principal) (*governancev1.ListOfficersResponse, error) {
		items, next, err := s.svc.ListOfficers(ctx, req)
		items, err = asSeen(ctx, p, items, err, s.svc.OfficersAsSeen)
		return listed(items, next, err, func(i []*governancev1.Officer, n string) *governancev1.ListOfficersResponse {
			return &governancev1.ListOfficersResponse{Officers: i, NextPageToken: n}
		})
	})
}

func (s *Server) EndOffice(ctx context.Context, req *governancev1.EndOfficeRequest) (*governancev1.Officer, error) {
	return call.As(ctx, func(p auth.Principal) (*governancev1.Officer, error) {
		o, err := s.svc.EndOffice(ctx, p, req)
		return asSeen(ctx, p, o, err, s.svc.OfficerAsSeen)
	})
}

// --- meetings ---

func (s *Server) CreateMeeting(ctx context.Context, req *governancev1.CreateMeetingRequest) (*governancev1.Meeting, error) {
	return call.As(ctx, func(p auth.Principal) (*governancev1.Meeting, error) {
		return call.With("meeting", req.GetMeeting() != nil, func() (*governancev1.Meeting, error) {
			return s.svc.CreateMeeting(ctx, p, req.GetParent(), req.GetMeeting(), req.GetMeetingId())
		})
	})
}

func (s *Server) GetMeeting(ctx context.Context, req *governancev1.GetMeetingRequest) (*governancev1.Meeting, error) {
	return call.As(ctx, func(auth.Principal) (*governancev1.Meeting, error) { return s.svc.GetMeeting(ctx, req.GetName()) })
}

func (s *Server) ListMeetings(ctx context.Context, req *governancev1.ListMeetingsRequest) (*governancev1.ListMeetingsResponse, error) {
	return call.As(ctx, func(auth.Principal) (*governancev1.ListMeetingsResponse, error) {
		items, next, err := s.svc.ListMeetings(ctx, req)
		return listed(items, next, err, func(i []*governancev1.Meeting, n string) *governancev1.ListMeetingsResponse {
			return &governancev1.ListMeetingsResponse{Meetings: i, NextPageToken: n}
		})
	})
}

func (s *Server) UpdateMeeting(ctx context.Context, req *governancev1.UpdateMeetingRequest) (*governancev1.Meeting, error) {
	return call.As(ctx, func(p auth.Principal) (*governancev1.Meeting, error) {
		return call.With("meeting", req.GetMeeting() != nil, func() (*governancev1.Meeting, error) {
			return s.svc.UpdateMeeting(ctx, p, req.GetMeeting(), req.GetUpdateMask())
		})
	})
}

// --- resolutions and votes ---

func (s *Server) CreateResolution(ctx context.Context, req *governancev1.CreateResolutionRequest) (*governancev1.Resolution, error) {
	return call.As(ctx, func(p auth.Principal) (*governancev1.Resolution, error) {
		return call.With("resolution", req.GetResolution() != nil, func() (*governancev1.Resolution, error) {
			r, err := s.svc.CreateResolution(ctx, p, req.GetParent(), req.GetResolution(), req.GetResolutionId())
			return asSeen(ctx, p, r, err, s.svc.ResolutionAsSeen)
		})
	})
}

func (s *Server) GetResolution(ctx context.Context, req *governancev1.GetResolutionRequest) (*governancev1.Resolution, error) {
	return call.As(ctx, func(p auth.Principal) (*governancev1.Resolution, error) {
		r, err := s.svc.GetResolution(ctx, req.GetName())
		return asSeen(ctx, p, r, err, s.svc.ResolutionAsSeen)
	})
}

func (s *Server) ListResolutions(ctx context.Context, req *governancev1.ListResolutionsRequest) (*governancev1.ListResolutionsResponse, error) {
	return call.As(ctx, func(p auth.Principal) (*governancev1.ListResolutionsResponse, error) {
		items, next, err := s.svc.ListResolutions(ctx, req)
		items, err = asSeen(ctx, p, items, err, s.svc.ResolutionsAsSeen)
		return listed(items, next, err, func(i []*governancev1.Resolution, n string) *governancev1.ListResolutionsResponse {
			return &governancev1.ListResolutionsResponse{Resolutions: i, NextPageToken: n}
		})
	})
}

func (s *Server) UpdateResolution(ctx context.Context, req *governancev1.UpdateResolutionRequest) (*governancev1.Resolution, error) {
	return call.As(ctx, func(p auth.Principal) (*governancev1.Resolution, error) {
		return call.With("resolution", req.GetResolution() != nil, func() (*governancev1.Resolution, error) {
			r, err := s.svc.UpdateResolution(ctx, p, req.GetResolution(), req.GetUpdateMask())
			return asSeen(ctx, p, r, err, s.svc.ResolutionAsSeen)
		})
	})
}

func (s *Server) OpenResolutionVoting(ctx context.Context, req *governancev1.OpenResolutionVotingRequest) (*governancev1.Resolution, error) {
	return call.As(ctx, func(p auth.Principal) (*governancev1.Resolution, error) {
		r, err := s.svc.OpenResolutionVoting(ctx, p, req)
		return asSeen(ctx, p, r, err, s.svc.ResolutionAsSeen)
	})
}

func (s *Server) CastResolutionVote(ctx context.Context, req *governancev1.CastResolutionVoteRequest) (*governancev1.Vote, error) {
	return call.As(ctx, func(p auth.Principal) (*governancev1.Vote, error) { return s.svc.CastResolutionVote(ctx, p, req) })
}

func (s *Server) RecordResolutionBallots(ctx context.Context, req *governancev1.RecordResolutionBallotsRequest) (*governancev1.RecordResolutionBallotsResponse, error) {
	return call.As(ctx, func(p auth.Principal) (*governancev1.RecordResolutionBallotsResponse, error) {
		votes, err := s.svc.RecordResolutionBallots(ctx, p, req)
		if err != nil {
			return nil, err
		}
		return &governancev1.RecordResolutionBallotsResponse{Votes: votes}, nil
	})
}

func (s *Server) GetVote(ctx context.Context, req *governancev1.GetVoteRequest) (*governancev1.Vote, error) {
	return call.As(ctx, func(auth.Principal) (*governancev1.Vote, error) { return s.svc.GetVote(ctx, req.GetName()) })
}

func (s *Server) ListVotes(ctx context.Context, req *governancev1.ListVotesRequest) (*governancev1.ListVotesResponse, error) {
	return call.As(ctx, func(auth.Principal) (*governancev1.ListVotesResponse, error) {
		items, next, err := s.svc.ListVotes(ctx, req.GetParent(), req.GetPageSize(), req.GetPageToken())
		return listed(items, next, err, func(i []*governancev1.Vote, n string) *governancev1.ListVotesResponse {
			return &governancev1.ListVotesResponse{Votes: i, NextPageToken: n}
		})
	})
}

func (s *Server) CloseResolutionVoting(ctx context.Context, req *governancev1.CloseResolutionVotingRequest) (*governancev1.Resolution, error) {
	return call.As(ctx, func(p auth.Principal) (*governancev1.Resolution, error) {
		r, err := s.svc.CloseResolutionVoting(ctx, p, req)
		return asSeen(ctx, p, r, err, s.svc.ResolutionAsSeen)
	})
}

func (s *Server) WithdrawResolution(ctx context.Context, req *governancev1.WithdrawResolutionRequest) (*governancev1.Resolution, error) {
	return call.As(ctx, func(p auth.Principal) (*governancev1.Resolution, error) {
		r, err := s.svc.WithdrawResolution(ctx, p, req)
		return asSeen(ctx, p, r, err, s.svc.ResolutionAsSeen)
	})
}

// --- work plans ---

func (s *Server) CreateWorkPlan(ctx context.Context, req *governancev1.CreateWorkPlanRequest) (*governancev1.WorkPlan, error) {
	return call.As(ctx, func(p auth.Principal) (*governancev1.WorkPlan, error) {
		return call.With("work_plan", req.GetWorkPlan() != nil, func() (*governancev1.WorkPlan, error) {
			return s.svc.CreateWorkPlan(ctx, p, req.GetParent(), req.GetWorkPlan(), req.GetWorkPlanId())
		})
	})
}

func (s *Server) GetWorkPlan(ctx context.Context, req *governancev1.GetWorkPlanRequest) (*governancev1.WorkPlan, error) {
	return call.As(ctx, func(auth.Principal) (*governancev1.WorkPlan, error) { return s.svc.GetWorkPlan(ctx, req.GetName()) })
}

func (s *Server) ListWorkPlans(ctx context.Context, req *governancev1.ListWorkPlansRequest) (*governancev1.ListWorkPlansResponse, error) {
	return call.As(ctx, func(auth.Principal) (*governancev1.ListWorkPlansResponse, error) {
		items, next, err := s.svc.ListWorkPlans(ctx, req)
		return listed(items, next, err, func(i []*governancev1.WorkPlan, n string) *governancev1.ListWorkPlansResponse {
			return &governancev1.ListWorkPlansResponse{WorkPlans: i, NextPageToken: n}
		})
	})
}

func (s *Server) UpdateWorkPlan(ctx context.Context, req *governancev1.UpdateWorkPlanRequest) (*governancev1.WorkPlan, error) {
	return call.As(ctx, func(p auth.Principal) (*governancev1.WorkPlan, error) {
		return call.With("work_plan", req.GetWorkPlan() != nil, func() (*governancev1.WorkPlan, error) {
			return s.svc.UpdateWorkPlan(ctx, p, req.GetWorkPlan(), req.GetUpdateMask())
		})
	})
}

func (s *Server) CreateWorkItem(ctx context.Context, req *governancev1.CreateWorkItemRequest) (*governancev1.WorkItem, error) {
	return call.As(ctx, func(p auth.Principal) (*governancev1.WorkItem, error) {
		return call.With("work_item", req.GetWorkItem() != nil, func() (*governancev1.WorkItem, error) {
			return s.svc.CreateWorkItem(ctx, p, req.GetParent(), req.GetWorkItem(), req.GetWorkItemId())
		})
	})
}

func (s *Server) GetWorkItem(ctx context.Context, req *governancev1.GetWorkItemRequest) (*governancev1.WorkItem, error) {
	return call.As(ctx, func(auth.Principal) (*governancev1.WorkItem, error) { return s.svc.GetWorkItem(ctx, req.GetName()) })
}

func (s *Server) ListWorkItems(ctx context.Context, req *governancev1.ListWorkItemsRequest) (*governancev1.ListWorkItemsResponse, error) {
	return call.As(ctx, func(auth.Principal) (*governancev1.ListWorkItemsResponse, error) {
		items, next, err := s.svc.ListWorkItems(ctx, req)
		return listed(items, next, err, func(i []*governancev1.WorkItem, n string) *governancev1.ListWorkItemsResponse {
			return &governancev1.ListWorkItemsResponse{WorkItems: i, NextPageToken: n}
		})
	})
}

func (s *Server) UpdateWorkItem(ctx context.Context, req *governancev1.UpdateWorkItemRequest) (*governancev1.WorkItem, error) {
	return call.As(ctx, func(p auth.Principal) (*governancev1.WorkItem, error) {
		return call.With("work_item", req.GetWorkItem() != nil, func() (*governancev1.WorkItem, error) {
			return s.svc.UpdateWorkItem(ctx, p, req.GetWorkItem(), req.GetUpdateMask())
		})
	})
}

// --- compliance ---

func (s *Server) GetComplianceReport(ctx context.Context, req *governancev1.GetComplianceReportRequest) (*governancev1.ComplianceReport, error) {
	return call.As(ctx, func(p auth.Principal) (*governancev1.ComplianceReport, error) {
		return s.svc.GetComplianceReport(ctx, p, req.GetName(), req.GetYear())
	})
}
