package domain

import (
	"context"
	"fmt"

	"github.com/tjsia/chapterhouse/platform/apierr"
	"github.com/tjsia/chapterhouse/platform/auth"
	governancev1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/governance/v1"
)

// overseesNominations: the roles that see every nomination.
func (c *council) overseesNominations(p auth.Principal) bool {
	return p.HasRole(auth.RoleAdmin, auth.RoleGeneralSecretary, auth.RoleGeneralCouncil) || c.isCurrentChair(p) || c.isCouncilMember(p)
}

// seenNomination reads a nomination as p may see it (seen.go: who sees
// a nomination). Anyone else is answered about it, and about every action
// on it, exactly as about a missing nomination: NOT_FOUND naming name,
// before any refusal of the action (a PERMISSION_DENIED, a charter or
// state error) that would tell the two apart. The council is returned
// when the rule read it (nil when the nominee or proposer asked).
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

// GetNomination: those who may see it (seenNomination). Others learn
// nothing, not even that it exists.
func (s *Service) GetNomination(ctx context.Context, p auth.Principal, name string) (*governancev1.Nomination, error) {
	_, _, _, n, _, err := s.seenNomination(ctx, p, name)
	if err != nil {
		return nil, err
	}
	return n, nil
}

// ListNominations lists the nominations p sees (seen.go): the overseers
// every one; anyone else those of whose term they are the chair, and
// those where they are the nominee, the proposer or the represented
// member's person.
func (s *Service) ListNominations(ctx context.Context, p auth.Principal, req *governancev1.ListNominationsRequest) ([]*governancev1.Nomination, string, error) {
	_, branch, term, err := s.termParent(ctx, req.GetParent(), true)
	if err != nil {
		return nil, "", err
	}
	c, err := s.council(ctx, branch)
	if err != nil {
		return nil, "", err
	}
	v, err := s.viewerOf(ctx, p, branch, c)
	if err != nil {
		return nil, "", err
	}
	pg, err := s.pages.Parse(req.GetPageSize(), req.GetPageToken(), "nominations", req.GetParent(), req.GetPosition().String(),
		req.GetState().String(), req.GetNominee(), req.GetRepresentedMember(), fmt.Sprint(v.all), p.Subject)
	if err != nil {
		return nil, "", err
	}
	var seeErr error
	keep := func(n *governancev1.Nomination) bool {
		switch {
		case term != 0 && TermNumberOf(n.GetName()) != term,
			req.GetPosition() != 0 && n.GetPosition() != req.GetPosition(),
			req.GetState() != 0 && n.GetState() != req.GetState(),
			req.GetNominee() != "" && n.GetNominee() != req.GetNominee(),
			req.GetRepresentedMember() != "" && n.GetRepresentedMember() != req.GetRepresentedMember():
			return false
		}
		ok, err := v.sees(ctx, n)
		if err != nil {
			seeErr = err
		}
		return ok
	}
	page, err := s.repo.ListNominations(ctx, branch, pg.After, pg.Size, keep)
	if err == nil {
		err = seeErr
	}
	if err != nil {
		return nil, "", err
	}
	return page.Items, pg.Next(page.Next), nil
}
