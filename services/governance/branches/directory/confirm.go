package directory

import (
	"context"
	"slices"

	governancev1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/governance/v1"

	"github.com/tjsia/chapterhouse/services/governance/branches"
)

// Officers asks governance itself for the offices person serves in branch.
type Officers interface {
	Serving(ctx context.Context, branch, person string) ([]*governancev1.Officer, error)
}

// Confirmed answers who leads a branch and who sits on its council from the
// read model, and asks governance before it says no. The read model follows
// governance's events a moment behind: a chair appointed a second ago who
// acts at once must not be refused for the lag. A yes is the read model's
// alone, so an office ended that moment ago still counts for as long as the
// events take to arrive (milliseconds when the consumer is caught up).
type Confirmed struct {
	*Directory
	source Officers
}

// Confirm returns d, checking its refusals with source.
func Confirm(d *Directory, source Officers) *Confirmed {
	return &Confirmed{Directory: d, source: source}
}

// Leads reports whether person serves today as branch's chair or
// secretary-general.
func (c *Confirmed) Leads(ctx context.Context, branch, person string) (bool, error) {
	if ok, err := c.Directory.Leads(ctx, branch, person); ok || err != nil {
		return ok, err
	}
	officers, err := c.source.Serving(ctx, branch, person)
	if err != nil {
		return false, err
	}
	today := branches.Today(c.now())
	return slices.ContainsFunc(officers, func(o *governancev1.Officer) bool { return leads(o) && branches.ServingOn(o, today) }), nil
}

// OnCouncil reports whether person sits on branch's council today.
func (c *Confirmed) OnCouncil(ctx context.Context, branch, person string) (bool, error) {
	if ok, err := c.Directory.OnCouncil(ctx, branch, person); ok || err != nil {
		return ok, err
	}
	officers, err := c.source.Serving(ctx, branch, person)
	if err != nil {
		return false, err
	}
	return slices.Contains(branches.Council(officers, branches.Today(c.now())), person), nil
}
