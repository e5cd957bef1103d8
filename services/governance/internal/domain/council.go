package domain

import (
	"context"
	"slices"
	"time"

	"github.com/tjsia/chapterhouse/platform/auth"
	"github.com/tjsia/chapterhouse/platform/i18n"
	governancev1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/governance/v1"

	"github.com/tjsia/chapterhouse/contracts/governance/branches"
)

// council is the branch as it stands on a day: its terms, the current one,
// and the officers.
type council struct {
	terms    Versioned[*governancev1.Term]
	officers Versioned[*governancev1.Officer]
	day      Day
	current  *governancev1.Term
}

func (s *Service) council(ctx context.Context, branch string) (*council, error) {
	terms, err := s.repo.Terms(ctx, branch)
	if err != nil {
		return nil, err
	}
	officers, err := s.repo.Officers(ctx, branch)
	if err != nil {
		return nil, err
	}
	c := &council{terms: terms, officers: officers, day: s.today()}
	for _, t := range terms.Items {
		if TermState(t, c.day) == governancev1.TermState_TERM_STATE_CURRENT {
			c.current = t
		}
	}
	return c, nil
}

func (c *council) term(n int32) *governancev1.Term {
	for _, t := range c.terms.Items {
		if t.GetNumber() == n {
			return t
		}
	}
	return nil
}

// dayFor is the day a term's council is judged on: the council's day, or
// for a term not yet begun, its first day.
func (c *council) dayFor(term int32) Day {
	if t := c.term(term); t != nil && TermState(t, c.day) == governancev1.TermState_TERM_STATE_UPCOMING {
		first, _ := TermDays(t)
		return first
	}
	return c.day
}

// serving are the term's officers in office on the council's day (or, for
// a term not yet begun, appointed for it), in position.
func (c *council) serving(term int32, position governancev1.Position) []*governancev1.Officer {
	var out []*governancev1.Officer
	day := c.dayFor(term)
	for _, o := range c.officers.Items {
		if TermNumberOf(o.GetName()) == term && o.GetPosition() == position && branches.ServingOn(o, day) {
			out = append(out, o)
		}
	}
	return out
}

// chairOf is the term's serving chair, or nil.
func (c *council) chairOf(term int32) *governancev1.Officer {
	if cs := c.serving(term, governancev1.Position_POSITION_CHAIR); len(cs) > 0 {
		return cs[0]
	}
	return nil
}

// isCurrentChair: p is the serving chair of the current term.
func (c *council) isCurrentChair(p auth.Principal) bool {
	if c.current == nil || p.Subject == "" {
		return false
	}
	chair := c.chairOf(c.current.GetNumber())
	return chair != nil && chair.GetPerson() == p.Subject
}

// isCurrentSecretary: p is the serving secretary-general of the current
// term.
func (c *council) isCurrentSecretary(p auth.Principal) bool {
	if c.current == nil || p.Subject == "" {
		return false
	}
	for _, o := range c.serving(c.current.GetNumber(), governancev1.Position_POSITION_SECRETARY_GENERAL) {
		if o.GetPerson() == p.Subject {
			return true
		}
	}
	return false
}

// councilOf is who sits on term's council on the council's day.
func (c *council) councilOf(term int32) []string {
	var officers []*governancev1.Officer
	for _, o := range c.officers.Items {
		if TermNumberOf(o.GetName()) == term {
			officers = append(officers, o)
		}
	}
	return branches.Council(officers, c.dayFor(term))
}

// isCouncilMember: p sits on the current term's council.
func (c *council) isCouncilMember(p auth.Principal) bool {
	return p.Subject != "" && slices.Contains(c.sitting(), p.Subject)
}

// sitting is who sits on the current term's council (none without a
// current term).
func (c *council) sitting() []string {
	if c.current == nil {
		return nil
	}
	return c.councilOf(c.current.GetNumber())
}

// Officer as a reader sees it: SERVING until its last day, ENDED after,
// because the term ended. Nothing happens on that day, so nothing is
// written: every reader (the directory included) judges serving by the
// dates, and the reason is the reader's text, in their language (ctx).
func present(ctx context.Context, o *governancev1.Officer, today Day) *governancev1.Officer {
	if o.GetState() != governancev1.OfficerState_OFFICER_STATE_SERVING {
		return o
	}
	if last, ok := branches.DayOf(o.GetEndDate()); ok && today.After(last) {
		c := cloneOfficer(o)
		c.State, c.EndKind = governancev1.OfficerState_OFFICER_STATE_ENDED, governancev1.OfficeEndKind_OFFICE_END_KIND_TERM_ENDED
		c.EndReason = i18n.In(ctx, i18n.Message{Key: "text.governance.term_ended", Args: map[string]string{"date": last.Format(time.DateOnly)}})
		return c
	}
	return o
}

// Term as a reader sees it: its state derived from today.
func presentTerm(t *governancev1.Term, today Day) *governancev1.Term {
	c := cloneTerm(t)
	c.State = TermState(t, today)
	return c
}
