package domain

import (
	"context"
	"errors"
	"slices"
	"strings"

	"github.com/tjsia/chapterhouse/platform/auth"
	"github.com/tjsia/chapterhouse/platform/resourcename"
	governancev1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/governance/v1"
)

// Nominations are the one thing governance hides: every signed-in caller
// reads the branch, its terms, officers, meetings, resolutions, votes and
// work plans. A nomination is seen by
//   - the overseers (overseesNominations: admins, the general
//     association's secretary-general and council, the current chair,
//     council members);
//   - the chair of its term, who confirms and appoints for it (G6, G7);
//   - its nominee and its proposer;
//   - the person of its represented member (the representative).
//
// Anyone else is told nothing about it: not on the nomination's own
// methods (seenNomination), not when its id is chosen for another
// (CreateNomination), and not one level down, where another resource
// names it (an officer's nomination, a resolution's nominations: those
// names are left out of the answer, see ResolutionAsSeen and
// OfficerAsSeen).

// viewer is who asks, with what the rule needs to know about them, read
// once for an answer.
type viewer struct {
	p       auth.Principal
	council *council
	all     bool
	// mine are the members whose person the caller is, read when first
	// needed (nil: not yet).
	mine   []string
	people People
	branch string
}

// viewerOf reads what the rule needs about p in branch; c is the council
// when the caller has read it already (nil: read it).
func (s *Service) viewerOf(ctx context.Context, p auth.Principal, branch string, c *council) (*viewer, error) {
	if c == nil {
		var err error
		if c, err = s.council(ctx, branch); err != nil {
			return nil, err
		}
	}
	return &viewer{p: p, council: c, all: c.overseesNominations(p), people: s.people, branch: branch}, nil
}

// sees reports whether the viewer may see n.
func (v *viewer) sees(ctx context.Context, n *governancev1.Nomination) (bool, error) {
	switch {
	case v.all:
		return true, nil
	case v.p.Subject == "":
		return false, nil
	case v.p.Subject == n.GetNominee() || v.p.Subject == n.GetProposer():
		return true, nil
	}
	if chair := v.council.chairOf(TermNumberOf(n.GetName())); chair != nil && chair.GetPerson() == v.p.Subject {
		return true, nil
	}
	if n.GetRepresentedMember() == "" {
		return false, nil
	}
	if v.mine == nil {
		mine, err := v.people.Represented(ctx, v.branch, v.p.Subject)
		if err != nil {
			return false, err
		}
		v.mine = append([]string{}, mine...)
	}
	return slices.Contains(v.mine, n.GetRepresentedMember()), nil
}

// seesName reports whether the viewer may see the nomination called name:
// one that does not exist is not seen either.
func (s *Service) seesName(ctx context.Context, v *viewer, name string) (bool, error) {
	if v.all {
		return true, nil
	}
	ids, err := resourcename.Parse(name, "branches", "terms", "nominations")
	if err != nil || ids[0] != v.branch {
		return false, nil
	}
	term, ok := termNumber(ids[1])
	if !ok {
		return false, nil
	}
	n, err := s.repo.GetNomination(ctx, v.branch, term, ids[2])
	if errors.Is(err, ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return v.sees(ctx, n)
}

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
