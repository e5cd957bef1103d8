package domain

import (
	"context"
	"errors"

	"github.com/tjsia/chapterhouse/platform/page"
	activitiesv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/activities/v1"
	eventsv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/events/v1"
	governancev1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/governance/v1"
	membershipv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/membership/v1"
)

// Errors a Repository (or a lookup) reports.
var (
	ErrNotFound = errors.New("not found")
	// ErrStale: what the write was conditioned on changed since it was
	// read (an etag, a version, a claim count).
	ErrStale = errors.New("stale")
	// ErrExists: the id is taken.
	ErrExists = errors.New("exists")
	// ErrPlaceTaken: every place of the claim a nomination would take is
	// held (the one chair, the one secretary-general, a unit's director
	// nominees): the store's own refusal by the rule, whatever the domain
	// read before.
	ErrPlaceTaken = errors.New("place taken")
)

// IsStale reports a write that lost its race.
func IsStale(err error) bool { return errors.Is(err, ErrStale) }

// Versioned is a list read together with the version a write may be
// conditioned on: any change to the list changes the version.
type Versioned[T any] struct {
	Items   []T
	Version string
}

// Repository stores governance data. Every write is atomic with its events;
// every write conditioned on what it read reports ErrStale when that
// changed.
type Repository interface {
	CreateBranch(ctx context.Context, b *governancev1.Branch, ev *eventsv1.Envelope) error
	GetBranch(ctx context.Context, id string) (*governancev1.Branch, error)
	ListBranches(ctx context.Context, after string, size int) (page.Page[*governancev1.Branch], error)
	SaveBranch(ctx context.Context, b *governancev1.Branch, prevEtag string, ev *eventsv1.Envelope) error

	// Terms are every term of the branch, ordered by number.
	Terms(ctx context.Context, branch string) (Versioned[*governancev1.Term], error)
	// CreateTerm holds while the terms are still at version.
	CreateTerm(ctx context.Context, branch string, t *governancev1.Term, version string, ev *eventsv1.Envelope) error
	// SaveTerm holds while the terms and the officers are still at their
	// versions (no overlap, no officer appointed meanwhile).
	SaveTerm(ctx context.Context, branch string, t *governancev1.Term, prevEtag, termsVersion, officersVersion string, ev *eventsv1.Envelope) error

	GetNomination(ctx context.Context, branch string, term int32, id string) (*governancev1.Nomination, error)
	// Nominations are every nomination of a term.
	Nominations(ctx context.Context, branch string, term int32) ([]*governancev1.Nomination, error)
	// ListNominations pages through the branch's nominations, ordered by
	// term then creation.
	ListNominations(ctx context.Context, branch, after string, size int, keep func(*governancev1.Nomination) bool) (page.Page[*governancev1.Nomination], error)
	// CreateNomination stores n, taking one of the max places of claim in
	// its term when claim is not empty (the one chair, the unit's director
	// nominees); ErrPlaceTaken when they are all held.
	CreateNomination(ctx context.Context, branch string, n *governancev1.Nomination, claim string, max int, ev *eventsv1.Envelope) error
	// SaveNomination writes a change; release gives back the claim's place
	// (rejected, withdrawn).
	SaveNomination(ctx context.Context, branch string, n *governancev1.Nomination, prevEtag, release string, evs ...*eventsv1.Envelope) error
	// Appoint writes the APPOINTED nomination and its officer, while the
	// officers are still at officersVersion (the G1 and G8 history they
	// judged) and the term at termEtag (the dates the office was judged
	// and dated by).
	Appoint(ctx context.Context, branch string, n *governancev1.Nomination, prevEtag string, o *governancev1.Officer, officersVersion, termEtag string, evs ...*eventsv1.Envelope) error

	// Officers are every officer of the branch, every term.
	Officers(ctx context.Context, branch string) (Versioned[*governancev1.Officer], error)
	GetOfficer(ctx context.Context, branch string, term int32, id string) (*governancev1.Officer, error)
	// SaveOfficer writes an officer whose office ended early; release gives
	// back its nomination's claim, so the office can be filled again.
	SaveOfficer(ctx context.Context, branch string, o *governancev1.Officer, prevEtag, release string, ev *eventsv1.Envelope) error

	CreateMeeting(ctx context.Context, branch string, m *governancev1.Meeting) error
	GetMeeting(ctx context.Context, branch, id string) (*governancev1.Meeting, error)
	ListMeetings(ctx context.Context, branch, after string, size int, keep func(*governancev1.Meeting) bool) (page.Page[*governancev1.Meeting], error)
	SaveMeeting(ctx context.Context, branch string, m, prev *governancev1.Meeting) error

	CreateResolution(ctx context.Context, branch string, r *governancev1.Resolution, evs ...*eventsv1.Envelope) error
	GetResolution(ctx context.Context, branch, id string) (*governancev1.Resolution, error)
	ListResolutions(ctx context.Context, branch, after string, size int, keep func(*governancev1.Resolution) bool) (page.Page[*governancev1.Resolution], error)
	// SaveResolution writes a change of a resolution that is not VOTING,
	// or opens its voting.
	SaveResolution(ctx context.Context, branch string, r *governancev1.Resolution, prevEtag string, evs ...*eventsv1.Envelope) error
	// Ballots are a resolution's votes with the count a close is
	// conditioned on.
	Ballots(ctx context.Context, branch, resolution string) (Versioned[*governancev1.Vote], error)
	// CastVote stores a ballot while the resolution is VOTING; many voters'
	// ballots never conflict. ErrStale when voting is not open.
	CastVote(ctx context.Context, branch, resolution string, v *governancev1.Vote) error
	// RecordBallots stores ballots recorded for their voters, with their
	// event, while the resolution is VOTING and no ballot came in since
	// ballots (the version of Ballots) were read; ErrStale otherwise.
	RecordBallots(ctx context.Context, branch, resolution string, votes []*governancev1.Vote, ballots string, ev *eventsv1.Envelope) error
	GetVote(ctx context.Context, branch, resolution, voter string) (*governancev1.Vote, error)
	ListVotes(ctx context.Context, branch, resolution, after string, size int) (page.Page[*governancev1.Vote], error)
	// CloseResolution writes the closed resolution while no ballot came in
	// since ballots (the version of Ballots) were counted.
	CloseResolution(ctx context.Context, branch string, r *governancev1.Resolution, prevEtag, ballots string, ev *eventsv1.Envelope) error

	// CreateWorkPlan claims the plan's year.
	CreateWorkPlan(ctx context.Context, branch string, w *governancev1.WorkPlan, ev *eventsv1.Envelope) error
	GetWorkPlan(ctx context.Context, branch, id string) (*governancev1.WorkPlan, error)
	// WorkPlanOfYear returns the id of the year's plan, or "".
	WorkPlanOfYear(ctx context.Context, branch string, year int32) (string, error)
	ListWorkPlans(ctx context.Context, branch, after string, size int, keep func(*governancev1.WorkPlan) bool) (page.Page[*governancev1.WorkPlan], error)
	SaveWorkPlan(ctx context.Context, branch string, w *governancev1.WorkPlan, prevEtag string, ev *eventsv1.Envelope) error
	CreateWorkItem(ctx context.Context, branch string, i *governancev1.WorkItem, evs ...*eventsv1.Envelope) error
	GetWorkItem(ctx context.Context, branch, plan, id string) (*governancev1.WorkItem, error)
	// WorkItems are every item of a plan, in creation order.
	WorkItems(ctx context.Context, branch, plan string) ([]*governancev1.WorkItem, error)
	ListWorkItems(ctx context.Context, branch, plan, after string, size int, keep func(*governancev1.WorkItem) bool) (page.Page[*governancev1.WorkItem], error)
	SaveWorkItem(ctx context.Context, branch string, i *governancev1.WorkItem, prevEtag string, evs ...*eventsv1.Envelope) error
}

// People answers from membership who a person is and what a member is.
// Lookups report ErrNotFound for an unknown person or member, and
// UNAVAILABLE when membership cannot be reached.
type People interface {
	Person(ctx context.Context, name string) (*membershipv1.Person, error)
	Member(ctx context.Context, name string) (*membershipv1.Member, error)
	// Represented are the members of branch whose person is person (the
	// individual member, the units they represent).
	Represented(ctx context.Context, branch, person string) ([]string, error)
}

// Activities answers A1 for the compliance report.
type Activities interface {
	AnnualQuota(ctx context.Context, branch string, year int32) (*activitiesv1.AnnualQuota, error)
}
