package directory

import (
	"context"

	governancev1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/governance/v1"

	"github.com/tjsia/chapterhouse/contracts/governance/branches"
)

// Officers asks governance itself for the offices person serves in branch.
type Officers interface {
	Serving(ctx context.Context, branch, person string) ([]*governancev1.Officer, error)
}

// Confirmed is the read model, which answers every check, with governance
// behind it for the moment before a refusal. The read model follows
// governance's events a moment behind: a chair appointed a second ago who
// acts at once must not be refused for the lag. So a caller asks Standing,
// governance's own answer, only when the read model's answer would refuse
// someone; a yes, and every check that is not a refusal, costs no call.
type Confirmed struct {
	*Directory
	source Officers
}

// Confirm returns d with source behind it.
func Confirm(d *Directory, source Officers) *Confirmed {
	return &Confirmed{Directory: d, source: source}
}

// Standing is person's standing in branch today, as governance itself has
// it.
func (c *Confirmed) Standing(ctx context.Context, branch, person string) (branches.Standing, error) {
	officers, err := c.source.Serving(ctx, branch, person)
	if err != nil {
		return branches.Standing{}, err
	}
	return branches.StandingOf(officers, person, branches.Today(c.now())), nil
}
