package domain

import (
	"context"
	"errors"

	"github.com/tjsia/chapterhouse/platform/auth"
	"github.com/tjsia/chapterhouse/platform/page"
	activitiesv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/activities/v1"
	eventsv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/events/v1"
	governancev1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/governance/v1"
	membershipv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/membership/v1"
	standardsv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/standards/v1"

	"github.com/tjsia/chapterhouse/contracts/governance/branches"
)

// Errors a Repository (or a lookup) reports.
var (
	ErrNotFound = errors.New("not found")
	// ErrStale: what the write was conditioned on changed since it was
	// read (an etag, a sequence, the comment count).
	ErrStale = errors.New("stale")
	// ErrExists: the id is taken.
	ErrExists = errors.New("exists")
	// ErrCodeTaken: another standard of the branch holds the code.
	ErrCodeTaken = errors.New("code taken")
	// ErrVersionTaken: the standard has a draft with the version.
	ErrVersionTaken = errors.New("draft version taken")
	// ErrClosed: the standard is not open for what the write needs (its
	// comment period for a comment, its being in force for a signature).
	ErrClosed = errors.New("closed")
	// ErrMemberEnded: the member's branch membership ended.
	ErrMemberEnded = errors.New("member ended")
	// ErrUndisposed: a comment period's close was refused because a
	// comment of it has no disposition (one that came in after the
	// comments were read).
	ErrUndisposed = errors.New("comments undisposed")
)

// IsStale reports a write that lost its race.
func IsStale(err error) bool { return errors.Is(err, ErrStale) }

// CodeClaim is the code a publication assigns, claimed in the same step.
type CodeClaim struct {
	Code string
	// Key is the code's key (CodeKey): the claim is on the key, so two
	// codes that read alike cannot both be held.
	Key string
	// Holder is the standard that holds Key now: "" for a new code, the
	// revised standard when a revision takes its code in the same year.
	Holder string
	// Kind and Number advance the kind's sequence from Number-1 to Number
	// (the write holds only while the sequence is still at Number-1);
	// Number 0 leaves the sequence alone (a given code, a revision's).
	Kind   string
	Number int64
}

// Write is one atomic change of a standard and what moves with it.
type Write struct {
	Standard *standardsv1.Standard
	// PrevEtag is the stored standard's etag the write holds on; "" creates
	// it (ErrExists when the id is taken).
	PrevEtag string
	// OpenComments opens a comment period on this draft.
	OpenComments string
	// CloseComments closes the period, holding only while no comment of
	// it is without a disposition (ErrUndisposed otherwise).
	CloseComments bool
	// Related is another standard changed in the same step (a revision
	// created, the standard a revision supersedes or reinstates), with its
	// stored etag ("" creates it).
	Related     *standardsv1.Standard
	RelatedEtag string
	// Code is claimed with the write (publication).
	Code   *CodeClaim
	Events []*eventsv1.Envelope
}

// CommentCounts are a period's comments, as the gate counts them.
type CommentCounts struct {
	// Draft is the draft of the current or last period ("" before any).
	Draft      string
	Total      int64
	Undisposed int64
}

// Repository stores standards data. Every write is atomic with its events
// and holds only on what it was conditioned on.
type Repository interface {
	SaveStandard(ctx context.Context, branch string, w Write) error
	GetStandard(ctx context.Context, branch, id string) (*standardsv1.Standard, error)
	ListStandards(ctx context.Context, branch, after string, size int, keep func(*standardsv1.Standard) bool) (page.Page[*standardsv1.Standard], error)
	// Sequence is the last number the kind's sequence gave out (0 before
	// the first).
	Sequence(ctx context.Context, branch, kind string) (int64, error)
	// CodeHolder is the standard holding a code whose key (CodeKey) is
	// key, or "".
	CodeHolder(ctx context.Context, branch, key string) (string, error)

	// CreateDraft stores d and s (its latest_draft set), while s is still
	// at prevEtag; ErrVersionTaken when the version is taken.
	CreateDraft(ctx context.Context, branch string, d *standardsv1.Draft, s *standardsv1.Standard, prevEtag string, ev *eventsv1.Envelope) error
	GetDraft(ctx context.Context, branch, standard, id string) (*standardsv1.Draft, error)
	ListDrafts(ctx context.Context, branch, standard, after string, size int) (page.Page[*standardsv1.Draft], error)

	// CreateComment stores c while the period on c's draft is open
	// (ErrClosed otherwise); many commenters never conflict.
	CreateComment(ctx context.Context, branch string, c *standardsv1.Comment, ev *eventsv1.Envelope) error
	GetComment(ctx context.Context, branch, standard, id string) (*standardsv1.Comment, error)
	ListComments(ctx context.Context, branch, standard, after string, size int, keep func(*standardsv1.Comment) bool) (page.Page[*standardsv1.Comment], error)
	// Comments are every comment of the standard, in creation order, with
	// the period's counts read in the same step.
	Comments(ctx context.Context, branch, standard string) ([]*standardsv1.Comment, CommentCounts, error)
	// DisposeComment writes c's disposition while c is at prevEtag and its
	// period is open (ErrClosed otherwise); first says it had none before.
	DisposeComment(ctx context.Context, branch string, c *standardsv1.Comment, prevEtag string, first bool, ev *eventsv1.Envelope) error

	// SaveSignatory writes sig (prevEtag "" when new); inForce (a signing)
	// conditions it on the standard being in force (ErrClosed otherwise)
	// and its member's membership not having ended (ErrMemberEnded).
	SaveSignatory(ctx context.Context, branch string, sig *standardsv1.Signatory, prevEtag string, inForce bool, ev *eventsv1.Envelope) error
	GetSignatory(ctx context.Context, branch, standard, member string) (*standardsv1.Signatory, error)
	ListSignatories(ctx context.Context, branch, standard, after string, size int, keep func(*standardsv1.Signatory) bool) (page.Page[*standardsv1.Signatory], error)

	// EndMember records that member's branch membership ended.
	EndMember(ctx context.Context, branch, member string) error
	// CreatePromotion stores p; ErrExists when its id is taken.
	CreatePromotion(ctx context.Context, branch string, p *standardsv1.Promotion, ev *eventsv1.Envelope) error
	GetPromotion(ctx context.Context, branch, standard, id string) (*standardsv1.Promotion, error)
	ListPromotions(ctx context.Context, branch, standard, after string, size int) (page.Page[*standardsv1.Promotion], error)
}

// Members answers from membership what a member is and whom a person
// represents. Member reports ErrNotFound for an unknown member; both are
// UNAVAILABLE when membership cannot be reached.
type Members interface {
	Member(ctx context.Context, name string) (*membershipv1.Member, error)
	// Represented are the ACTIVE members of branch whose person is
	// person.
	Represented(ctx context.Context, branch, person string) ([]string, error)
}

// Resolutions answers from governance what a council resolution is
// (ErrNotFound for an unknown one; UNAVAILABLE when governance cannot be
// reached).
type Resolutions interface {
	Resolution(ctx context.Context, name string) (*governancev1.Resolution, error)
}

// Activities creates the promotion activities (S2), with the caller's
// token; a repeat with the same id returns the same activity.
type Activities interface {
	CreateActivity(ctx context.Context, parent string, a *activitiesv1.Activity, id string) (*activitiesv1.Activity, error)
	// Activity reads an activity as p reads it through activities (p's
	// token, the one ctx carries, goes along): ErrNotFound when it is
	// missing or hidden from p (a DRAFT or CANCELLED activity p does not
	// organise); UNAVAILABLE when activities cannot be reached.
	Activity(ctx context.Context, p auth.Principal, name string) (*activitiesv1.Activity, error)
}

// Branches are governance's branches as standards knows them, who leads
// each (its serving chair and secretary-general) and who sits on its
// council.
type Branches interface {
	branches.Lookup
	// Leaders and Council answer from the directory, a moment behind
	// governance.
	Leaders(ctx context.Context, branch string) ([]string, error)
	Council(ctx context.Context, branch string) ([]string, error)
	// Standing is governance's own answer, asked only before a refusal.
	Standing(ctx context.Context, branch, person string) (branches.Standing, error)
}
