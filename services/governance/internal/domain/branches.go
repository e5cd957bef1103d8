package domain

import (
	"context"
	"errors"
	"path"
	"strings"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/fieldmaskpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/tjsia/chapterhouse/platform/apierr"
	"github.com/tjsia/chapterhouse/platform/auth"
	"github.com/tjsia/chapterhouse/platform/events"
	"github.com/tjsia/chapterhouse/platform/fieldmask"
	"github.com/tjsia/chapterhouse/platform/retry"
	apiv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/api/v1"
	eventsv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/events/v1"
	governancev1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/governance/v1"

	"github.com/tjsia/chapterhouse/contracts/governance/branches"
)

func clone[T proto.Message](m T) T { return proto.Clone(m).(T) }

func cloneOfficer(o *governancev1.Officer) *governancev1.Officer { return clone(o) }
func cloneTerm(t *governancev1.Term) *governancev1.Term          { return clone(t) }

// CreateBranch creates a branch with its charter parameters, the unset
// ones taken from CHARTER.md. Admins. Repeating the same request returns
// the branch.
func (s *Service) CreateBranch(ctx context.Context, p auth.Principal, in *governancev1.Branch, id string) (*governancev1.Branch, error) {
	if err := managesBranches(p); err != nil {
		return nil, err
	}
	v := required("branch.display_name", strings.TrimSpace(in.GetDisplayName()) == "")
	v = append(v, ValidateParameters(in.GetParameters(), "branch.parameters")...)
	if len(v) > 0 {
		return nil, apierr.InvalidArgument(v...)
	}
	now := s.now()
	b := &governancev1.Branch{
		Name: "branches/" + id, DisplayName: in.GetDisplayName(), Parameters: WithDefaults(in.GetParameters()),
		StandardCodeFormats: branches.CodeFormats(in),
		CreateTime:          timestamppb.New(now), UpdateTime: timestamppb.New(now), Etag: newEtag(),
	}
	ev := s.envelope(ctx, p, b.GetName())
	ev.Payload = &eventsv1.Envelope_BranchCreated{BranchCreated: &eventsv1.BranchCreated{Branch: b}}
	err := s.repo.CreateBranch(ctx, b, ev)
	if errors.Is(err, ErrExists) {
		existing, gerr := s.repo.GetBranch(ctx, id)
		if gerr == nil && existing.GetDisplayName() == b.GetDisplayName() && proto.Equal(existing.GetParameters(), b.GetParameters()) &&
			proto.Equal(branches.CodeFormats(existing), b.GetStandardCodeFormats()) {
			return existing, nil
		}
		return nil, apierr.AlreadyExists(b.GetName())
	}
	if err != nil {
		return nil, err
	}
	return b, nil
}

// GetBranch is public.
func (s *Service) GetBranch(ctx context.Context, name string) (*governancev1.Branch, error) {
	b, _, err := s.branchOf(ctx, name)
	return b, err
}

// ListBranches is public; ordered by creation.
func (s *Service) ListBranches(ctx context.Context, size int32, token string) ([]*governancev1.Branch, string, error) {
	pg, err := s.pages.Parse(size, token, "branches")
	if err != nil {
		return nil, "", err
	}
	page, err := s.repo.ListBranches(ctx, pg.After, pg.Size)
	return listed(pg, page, err)
}

var branchPaths = []string{"display_name", "parameters",
	"parameters.min_exchange_activities_per_year", "parameters.max_consecutive_terms", "parameters.min_representative_rank",
	"parameters.chair_max_age", "parameters.director_max_age", "parameters.quorum", "parameters.majority",
	"parameters.max_director_nominees_per_member",
	"standard_code_formats", "standard_code_formats.group_standard", "standard_code_formats.local_industry_standard",
	"standard_code_formats.self_discipline_convention", "standard_code_formats.agreement"}

// UpdateBranch changes the display name, charter parameters or standard
// code formats. Admins.
// Every change is recorded as a BranchUpdated event naming the fields.
func (s *Service) UpdateBranch(ctx context.Context, p auth.Principal, patch *governancev1.Branch, mask *fieldmaskpb.FieldMask) (*governancev1.Branch, error) {
	if err := managesBranches(p); err != nil {
		return nil, err
	}
	_, id, err := s.branchOf(ctx, patch.GetName())
	if err != nil {
		return nil, err
	}
	paths, err := fieldmask.Paths(mask, branchPaths, map[string]string{"name": "immutable"})
	if err != nil {
		return nil, err
	}
	return retry.Write(ctx, patch.GetName(), patch.GetEtag(), IsStale, func() (*governancev1.Branch, error) {
		cur, err := s.repo.GetBranch(ctx, id)
		if err != nil {
			return nil, notFound(err, patch.GetName())
		}
		if patch.GetEtag() != "" && patch.GetEtag() != cur.GetEtag() {
			return nil, apierr.EtagMismatch(cur.GetName())
		}
		next := clone(cur)
		params := clone(next.GetParameters())
		formats := clone(branches.CodeFormats(next))
		for _, path := range paths {
			switch {
			case path == "display_name":
				next.DisplayName = patch.GetDisplayName()
			case path == "parameters":
				params = clone(patch.GetParameters())
			case path == "standard_code_formats":
				formats = clone(patch.GetStandardCodeFormats())
				if formats == nil {
					formats = &governancev1.StandardCodeFormats{}
				}
			case strings.HasPrefix(path, "standard_code_formats."):
				fieldmask.Apply(formats, patch.GetStandardCodeFormats(), []string{strings.TrimPrefix(path, "standard_code_formats.")})
			default:
				fieldmask.Apply(params, patch.GetParameters(), []string{strings.TrimPrefix(path, "parameters.")})
			}
		}
		v := required("branch.display_name", strings.TrimSpace(next.GetDisplayName()) == "")
		v = append(v, ValidateParameters(params, "branch.parameters")...)
		if len(v) > 0 {
			return nil, apierr.InvalidArgument(v...)
		}
		next.Parameters = WithDefaults(params)
		next.StandardCodeFormats = formats
		next.UpdateTime, next.Etag = timestamppb.New(s.now()), newEtag()
		ev := s.envelope(ctx, p, next.GetName())
		ev.Payload = &eventsv1.Envelope_BranchUpdated{BranchUpdated: &eventsv1.BranchUpdated{Branch: next, ChangedFields: paths}}
		if err := s.repo.SaveBranch(ctx, next, cur.GetEtag(), ev); err != nil {
			return nil, err
		}
		return next, nil
	})
}

// EnsureBranch creates the branch when it does not exist yet, as the
// system; an existing branch is left exactly as it is, so the settings a
// deployment starts from never overwrite what admins changed since. It is
// how the devstack and the chart create the initial branch through
// governance, the one owner of branches.
func (s *Service) EnsureBranch(ctx context.Context, id string, in *governancev1.Branch) (*governancev1.Branch, error) {
	if b, err := s.repo.GetBranch(ctx, id); err == nil {
		return b, nil
	} else if !errors.Is(err, ErrNotFound) {
		return nil, err
	}
	b, err := s.CreateBranch(ctx, auth.Principal{Subject: events.SystemActor, Roles: []string{auth.RoleAdmin}}, in, id)
	if apierr.Is(err, apiv1.ErrorReason_ALREADY_EXISTS) {
		// Another instance created it meanwhile, perhaps from other
		// settings: the first one stands.
		return s.repo.GetBranch(ctx, id)
	}
	return b, err
}

// BranchIDs lists every branch's id, for following each branch's streams.
func (s *Service) BranchIDs(ctx context.Context) ([]string, error) {
	var out []string
	after := ""
	for {
		pg, err := s.repo.ListBranches(ctx, after, 100)
		if err != nil {
			return nil, err
		}
		for _, b := range pg.Items {
			out = append(out, path.Base(b.GetName()))
		}
		if pg.Next == "" {
			return out, nil
		}
		after = pg.Next
	}
}
