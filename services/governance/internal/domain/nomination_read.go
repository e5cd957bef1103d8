package domain

import (
	"context"
	"fmt"

	"github.com/tjsia/chapterhouse/platform/auth"
	governancev1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/governance/v1"
)

// GetNomination: those who may see it (seenNomination). Others learn
// nothing, not even that it exists.
func (s *Service) GetNomination(ctx context.Context, p auth.Principal, name string) (*governancev1.Nomination, error) {
	_, _, _, n, _, err := s.seenNomination(ctx, p, name)
	if err != nil {
		return nil, err
	}
	return n, nil
}

// ListNominations lists the nominations p sees (access.go): the overseers
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
	return listed(pg, page, err)
}
