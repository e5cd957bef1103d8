package domain

import (
	"context"

	"github.com/tjsia/chapterhouse/platform/apierr"
	"github.com/tjsia/chapterhouse/platform/resourcename"
	governancev1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/governance/v1"
)

// Claims are the places of an office a term has, held by its open and
// appointed nominations: the store counts them so that concurrent
// nominations for the one chair, the one secretary-general or a unit's
// director place cannot both succeed.
const (
	claimChair     = "office:CHAIR"
	claimSecretary = "office:SECRETARY_GENERAL"
	claimDirector  = "director:"
)

// claimOf is the claim a nomination holds and how many the term has; ""
// when its office is not limited (vice-chairs).
func claimOf(n *governancev1.Nomination, params *governancev1.CharterParameters) (string, int) {
	switch n.GetPosition() {
	case governancev1.Position_POSITION_CHAIR:
		return claimChair, 1
	case governancev1.Position_POSITION_SECRETARY_GENERAL:
		return claimSecretary, 1
	case governancev1.Position_POSITION_DIRECTOR:
		if n.GetRepresentedMember() != "" {
			return claimDirector + n.GetRepresentedMember(), int(params.GetMaxDirectorNomineesPerMember())
		}
		// An individual member stands once per term, as a unit puts
		// forward its one nominee.
		return claimDirector + n.GetNominee(), 1
	}
	return "", 0
}

// release is the claim a nomination gives back when it stops holding it.
func release(n *governancev1.Nomination, params *governancev1.CharterParameters) string {
	claim, _ := claimOf(n, params)
	return claim
}

// holding are the nominations that hold their office's place: open ones,
// and appointed ones whose officer has not left office early. except is
// left out (the nomination being judged).
func holding(noms []*governancev1.Nomination, officers []*governancev1.Officer, except string) []*governancev1.Nomination {
	ended := map[string]bool{}
	for _, o := range officers {
		if o.GetState() == governancev1.OfficerState_OFFICER_STATE_ENDED {
			ended[o.GetNomination()] = true
		}
	}
	var out []*governancev1.Nomination
	for _, n := range noms {
		if n.GetName() == except || !isOpen(n.GetState()) {
			continue
		}
		if n.GetState() == governancev1.NominationState_NOMINATION_STATE_APPOINTED && ended[n.GetName()] {
			continue
		}
		out = append(out, n)
	}
	return out
}

// validNomination checks a nomination's own fields.
func validNomination(n *governancev1.Nomination, branch string) []apierr.FieldViolation {
	v := required("nomination.position", n.GetPosition() == governancev1.Position_POSITION_UNSPECIFIED)
	switch _, err := resourcename.Parse(n.GetNominee(), "people"); {
	case n.GetNominee() == "":
		v = append(v, required("nomination.nominee", true)...)
	case err != nil:
		v = append(v, nameForm("nomination.nominee", n.GetNominee(), "people/{person}"))
	}
	if m := n.GetRepresentedMember(); m != "" {
		ids, err := resourcename.Parse(m, "branches", "members")
		if err != nil || ids[0] != branch {
			v = append(v, nameForm("nomination.represented_member", m, "branches/"+branch+"/members/{member}"))
		}
	}
	return v
}

// nominationOf reads branches/{b}/terms/{n}/nominations/{id}.
func (s *Service) nominationOf(ctx context.Context, name string) (*governancev1.Branch, string, int32, *governancev1.Nomination, error) {
	var term int32
	b, branch, n, err := lookup(ctx, s, name, func(ids []string) (*governancev1.Nomination, error) {
		var ok bool
		if term, ok = termNumber(ids[1]); !ok {
			return nil, ErrNotFound
		}
		return s.repo.GetNomination(ctx, ids[0], term, ids[2])
	}, "terms", "nominations")
	if err != nil {
		return nil, "", 0, nil, err
	}
	return b, branch, term, n, nil
}

// nominationAllows are the actions (the methods' verbs) n's state allows:
// a PROPOSED nomination is amended, withdrawn, and moved on by its
// position's next step (the general council decides a chair, the branch
// chair confirms a director, a vice-chair and a secretary-general are
// appointed); a QUALIFIED one is appointed or withdrawn; the rest are final.
func nominationAllows(n *governancev1.Nomination) []string {
	switch n.GetState() {
	case governancev1.NominationState_NOMINATION_STATE_PROPOSED:
		next := "appoint"
		switch n.GetPosition() {
		case governancev1.Position_POSITION_CHAIR:
			next = "decide"
		case governancev1.Position_POSITION_DIRECTOR:
			next = "confirmQualification"
		}
		return []string{"update", next, "withdraw"}
	case governancev1.NominationState_NOMINATION_STATE_QUALIFIED:
		return []string{"appoint", "withdraw"}
	}
	return nil
}

// nominationTransition refuses action on n, whose state does not allow it.
func nominationTransition(n *governancev1.Nomination, action string) error {
	return apierr.InvalidTransition(n.GetName(), action, n.GetState().String(), nominationAllows(n)...)
}
