package domain

import (
	"context"
	"errors"
	"slices"
	"strings"

	"github.com/tjsia/chapterhouse/platform/apierr"
	"github.com/tjsia/chapterhouse/platform/auth"
	"github.com/tjsia/chapterhouse/platform/resourcename"
	governancev1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/governance/v1"
)

// Who sees what: nominations are the one thing governance hides (the rest
// of who may do what is access.go's). A nomination is seen by
//   - the overseers (council.oversees);
//   - the chair of its term, who confirms and appoints for it (G6, G7);
//   - its nominee and its proposer;
//   - the person of its represented member (the representative).
//
// Anyone else is told nothing about it: not on the nomination's own
// methods (seenNomination), not when its id is chosen for another
// (hiddenIDTaken), and not one level down, where another resource names
// it (an officer's nomination, a resolution's nominations: those names
// are left out of the answer, ResolutionsAsSeen and OfficersAsSeen).

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
	return &viewer{p: p, council: c, all: c.oversees(p), people: s.people, branch: branch}, nil
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
	if v.council.chairs(v.p, TermNumberOf(n.GetName())) {
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

// seenNomination reads a nomination as p may see it. Anyone else is
// answered about it, and about every action on it, exactly as about a
// missing nomination: NOT_FOUND naming name, before any refusal of the
// action (a PERMISSION_DENIED, a charter or state error) that would tell
// the two apart. The council is returned when the rule read it (nil when
// the nominee or proposer asked).
func (s *Service) seenNomination(ctx context.Context, p auth.Principal, name string) (*governancev1.Branch, string, int32, *governancev1.Nomination, *council, error) {
	b, branch, term, n, err := s.nominationOf(ctx, name)
	if err != nil {
		return nil, "", 0, nil, nil, err
	}
	if p.Subject != "" && (p.Subject == n.GetNominee() || p.Subject == n.GetProposer()) {
		return b, branch, term, n, nil, nil
	}
	v, err := s.viewerOf(ctx, p, branch, nil)
	if err != nil {
		return nil, "", 0, nil, nil, err
	}
	ok, err := v.sees(ctx, n)
	if err != nil {
		return nil, "", 0, nil, nil, err
	}
	if !ok {
		return nil, "", 0, nil, nil, apierr.NotFound(name)
	}
	return b, branch, term, n, v.council, nil
}

// hiddenIDTaken refuses a new nomination the id id, held by one the
// caller may not see, as AIP-133 has it: PERMISSION_DENIED, which tells
// the caller no more than that this id is not theirs to use.
func hiddenIDTaken(id string) error {
	return refuse("nomination_id_taken", "id", id)
}

// --- answers naming nominations ---

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
	return one(s.ResolutionsAsSeen(ctx, p, []*governancev1.Resolution{r}))
}

// ResolutionsAsSeen is ResolutionAsSeen for a page of one branch's
// resolutions.
func (s *Service) ResolutionsAsSeen(ctx context.Context, p auth.Principal, rs []*governancev1.Resolution) ([]*governancev1.Resolution, error) {
	return asSeen(ctx, s, p, rs, (*governancev1.Resolution).GetNominations, func(r *governancev1.Resolution, kept []string) *governancev1.Resolution {
		c := clone(r)
		c.Nominations = kept
		return c
	})
}

// OfficerAsSeen is o as p may see it: its nomination is left out unless p
// may see it.
func (s *Service) OfficerAsSeen(ctx context.Context, p auth.Principal, o *governancev1.Officer) (*governancev1.Officer, error) {
	return one(s.OfficersAsSeen(ctx, p, []*governancev1.Officer{o}))
}

// OfficersAsSeen is OfficerAsSeen for a page of one branch's officers.
func (s *Service) OfficersAsSeen(ctx context.Context, p auth.Principal, officers []*governancev1.Officer) ([]*governancev1.Officer, error) {
	nomination := func(o *governancev1.Officer) []string {
		if o.GetNomination() == "" {
			return nil
		}
		return []string{o.GetNomination()}
	}
	return asSeen(ctx, s, p, officers, nomination, func(o *governancev1.Officer, _ []string) *governancev1.Officer {
		c := cloneOfficer(o)
		c.Nomination = ""
		return c
	})
}

// asSeen is a page of one branch's records as p may see them: of the
// nominations a record names (names), those p may not see are left out
// (without is the record naming only those kept), all judged with one
// read of who p is.
func asSeen[T interface{ GetName() string }](ctx context.Context, s *Service, p auth.Principal, records []T,
	names func(T) []string, without func(T, []string) T) ([]T, error) {
	out := make([]T, len(records))
	var v *viewer
	for i, r := range records {
		out[i] = r
		named := names(r)
		if len(named) == 0 {
			continue
		}
		if v == nil {
			var err error
			if v, err = s.viewerOf(ctx, p, branchOfName(r.GetName()), nil); err != nil {
				return nil, err
			}
		}
		kept := make([]string, 0, len(named))
		for _, name := range named {
			ok, err := s.seesName(ctx, v, name)
			if err != nil {
				return nil, err
			}
			if ok {
				kept = append(kept, name)
			}
		}
		if len(kept) < len(named) {
			out[i] = without(r, kept)
		}
	}
	return out, nil
}

// one is the record of a page of one.
func one[T any](page []T, err error) (T, error) {
	if err != nil {
		var none T
		return none, err
	}
	return page[0], nil
}
