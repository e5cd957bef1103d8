package domain

import (
	"context"
	"strings"

	"github.com/tjsia/chapterhouse/platform/auth"
	governancev1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/governance/v1"
)

// Answers that name a nomination, as their caller may see them: a name
// the caller may not see (access.go, who sees a nomination) is left out.

// branchOfName is the branch id of a name under branches/{b}/..., or "".
func branchOfName(name string) string {
	if parts := strings.SplitN(name, "/", 3); len(parts) >= 2 && parts[0] == "branches" {
		return parts[1]
	}
	return ""
}

// ResolutionAsSeen is r as p may see it: the nominations it lists that p
// may not see are left out (a vice-chair appointment lists them).
func (s *Service) ResolutionAsSeen(ctx context.Context, p auth.Principal, r *governancev1.Resolution) (*governancev1.Resolution, error) {
	out, err := s.ResolutionsAsSeen(ctx, p, []*governancev1.Resolution{r})
	if err != nil {
		return nil, err
	}
	return out[0], nil
}

// ResolutionsAsSeen is ResolutionAsSeen for a page of one branch's
// resolutions, judged with one read of who p is.
func (s *Service) ResolutionsAsSeen(ctx context.Context, p auth.Principal, rs []*governancev1.Resolution) ([]*governancev1.Resolution, error) {
	out := make([]*governancev1.Resolution, len(rs))
	var v *viewer
	for i, r := range rs {
		out[i] = r
		if len(r.GetNominations()) == 0 {
			continue
		}
		if v == nil {
			var err error
			if v, err = s.viewerOf(ctx, p, branchOfName(r.GetName()), nil); err != nil {
				return nil, err
			}
		}
		kept := make([]string, 0, len(r.GetNominations()))
		for _, name := range r.GetNominations() {
			ok, err := s.seesName(ctx, v, name)
			if err != nil {
				return nil, err
			}
			if ok {
				kept = append(kept, name)
			}
		}
		if len(kept) < len(r.GetNominations()) {
			c := clone(r)
			c.Nominations = kept
			out[i] = c
		}
	}
	return out, nil
}

// OfficerAsSeen is o as p may see it: its nomination is left out unless p
// may see it.
func (s *Service) OfficerAsSeen(ctx context.Context, p auth.Principal, o *governancev1.Officer) (*governancev1.Officer, error) {
	out, err := s.OfficersAsSeen(ctx, p, []*governancev1.Officer{o})
	if err != nil {
		return nil, err
	}
	return out[0], nil
}

// OfficersAsSeen is OfficerAsSeen for a page of one branch's officers.
func (s *Service) OfficersAsSeen(ctx context.Context, p auth.Principal, officers []*governancev1.Officer) ([]*governancev1.Officer, error) {
	out := make([]*governancev1.Officer, len(officers))
	var v *viewer
	for i, o := range officers {
		out[i] = o
		if o.GetNomination() == "" {
			continue
		}
		if v == nil {
			var err error
			if v, err = s.viewerOf(ctx, p, branchOfName(o.GetName()), nil); err != nil {
				return nil, err
			}
		}
		ok, err := s.seesName(ctx, v, o.GetNomination())
		if err != nil {
			return nil, err
		}
		if !ok {
			c := cloneOfficer(o)
			c.Nomination = ""
			out[i] = c
		}
	}
	return out, nil
}
