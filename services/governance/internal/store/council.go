package store

import (
	"context"
	"path"

	"github.com/tjsia/chapterhouse/platform/eventstream"
	"github.com/tjsia/chapterhouse/platform/page"
	"github.com/tjsia/chapterhouse/platform/redistx"
	eventsv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/events/v1"
	governancev1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/governance/v1"

	"github.com/tjsia/chapterhouse/contracts/governance/streams"
	"github.com/tjsia/chapterhouse/services/governance/internal/domain"
)

// Version fields of a branch's ver hash.
const (
	verTerms    = "terms"
	verOfficers = "officers"
)

func verKey(b string) string                     { return k(b, "ver") }
func termKey(b string, n int32) string           { return k(b, "term", termPad(n)) }
func termIndexKey(b string) string               { return k(b, "terms") }
func nomKey(b string, n int32, id string) string { return k(b, "nom", termPad(n), id) }
func nomIndexKey(b string) string                { return k(b, "noms") }
func claimsKey(b string, n int32) string         { return k(b, "claims", termPad(n)) }
func officerKey(b string, n int32, id string) string {
	return k(b, "off", termPad(n), id)
}
func officerIndexKey(b string) string { return k(b, "offs") }

// nomMember orders nominations by term, then creation.
func nomMember(n *governancev1.Nomination) string {
	return termPad(domain.TermNumberOf(n.GetName())) + ":" + redistx.SortableTime(n.GetCreateTime().AsTime()) + ":" + path.Base(n.GetName())
}

func nomKeyOf(b string) func(member string) string {
	return func(member string) string {
		p := cut(member, 3)
		return nomKey(b, atoi32(p[0]), p[2])
	}
}

func officerMember(o *governancev1.Officer) string {
	return termPad(domain.TermNumberOf(o.GetName())) + ":" + path.Base(o.GetName())
}

// --- terms ---

// Terms reads every term with the version writes judged on them hold to.
// The version is read first: a change after it only makes the write fail
// and retry, never pass on a stale list.
func (s *Store) Terms(ctx context.Context, branch string) (domain.Versioned[*governancev1.Term], error) {
	var out domain.Versioned[*governancev1.Term]
	v, err := s.version(ctx, verKey(branch), verTerms)
	if err != nil {
		return out, err
	}
	members, err := s.members(ctx, termIndexKey(branch), "-", "+")
	if err != nil {
		return out, err
	}
	keys := make([]string, len(members))
	for i, m := range members {
		keys[i] = termKey(branch, atoi32(m))
	}
	items, err := redistx.LoadAll(ctx, s.client, keys, func() *governancev1.Term { return &governancev1.Term{} })
	return domain.Versioned[*governancev1.Term]{Items: items, Version: v}, err
}

// CreateTerm stores a term while the terms are at version.
func (s *Store) CreateTerm(ctx context.Context, branch string, t *governancev1.Term, version string, ev *eventsv1.Envelope) error {
	tx := expectVersion(branchTx(branch), verKey(branch), verTerms, version).
		ExpectEtag(labelID, termKey(branch, t.GetNumber()), "")
	if err := tx.PutMessage(termKey(branch, t.GetNumber()), t, t.GetEtag()); err != nil {
		return err
	}
	tx.ZAdd(termIndexKey(branch), 0, termPad(t.GetNumber()))
	if err := eventstream.Append(tx, streams.BranchTag(branch), ev); err != nil {
		return err
	}
	return s.commit(ctx, tx)
}

// SaveTerm writes a term's new dates while the terms and the officers are
// as they were judged.
func (s *Store) SaveTerm(ctx context.Context, branch string, t *governancev1.Term, prevEtag, termsVersion, officersVersion string, ev *eventsv1.Envelope) error {
	tx := expectVersion(branchTx(branch), verKey(branch), verTerms, termsVersion).
		ExpectHashField(verOfficers, verKey(branch), verOfficers, officersVersion).
		ExpectEtag("etag", termKey(branch, t.GetNumber()), prevEtag)
	if err := tx.PutMessage(termKey(branch, t.GetNumber()), t, t.GetEtag()); err != nil {
		return err
	}
	if err := eventstream.Append(tx, streams.BranchTag(branch), ev); err != nil {
		return err
	}
	return s.commit(ctx, tx)
}

// --- nominations ---

// GetNomination reads one nomination.
func (s *Store) GetNomination(ctx context.Context, branch string, term int32, id string) (*governancev1.Nomination, error) {
	return get(ctx, s.client, nomKey(branch, term, id), &governancev1.Nomination{})
}

// Nominations reads every nomination of a term.
func (s *Store) Nominations(ctx context.Context, branch string, term int32) ([]*governancev1.Nomination, error) {
	prefix := termPad(term) + ":"
	members, err := s.members(ctx, nomIndexKey(branch), "["+prefix, "("+termPad(term)+";")
	if err != nil {
		return nil, err
	}
	keys := make([]string, len(members))
	for i, m := range members {
		keys[i] = nomKeyOf(branch)(m)
	}
	return redistx.LoadAll(ctx, s.client, keys, func() *governancev1.Nomination { return &governancev1.Nomination{} })
}

// ListNominations pages through the branch's nominations by term, then
// creation.
func (s *Store) ListNominations(ctx context.Context, branch, after string, size int, keep func(*governancev1.Nomination) bool) (page.Page[*governancev1.Nomination], error) {
	return redistx.ScanPage(ctx, s.client, nomIndexKey(branch), after, size, nomKeyOf(branch),
		func() *governancev1.Nomination { return &governancev1.Nomination{} }, keep)
}

// CreateNomination stores n, taking one of the max places of claim in its
// term. The script takes the place only while one is free, whatever the
// count was when the domain judged the nomination: of concurrent
// nominations for the last place one wins, and the others are refused
// with domain.ErrPlaceTaken, the rule itself (one chair, one
// secretary-general, a unit's director nominees), not a conflict to retry.
func (s *Store) CreateNomination(ctx context.Context, branch string, n *governancev1.Nomination, claim string, max int, ev *eventsv1.Envelope) error {
	term := domain.TermNumberOf(n.GetName())
	id := path.Base(n.GetName())
	tx := branchTx(branch)
	if claim != "" {
		tx.ExpectHashFieldBelow(labelClaim, claimsKey(branch, term), claim, max).HIncrBy(claimsKey(branch, term), claim, 1)
	}
	tx.ExpectEtag(labelID, nomKey(branch, term, id), "")
	if err := tx.PutMessage(nomKey(branch, term, id), n, n.GetEtag()); err != nil {
		return err
	}
	tx.ZAdd(nomIndexKey(branch), 0, nomMember(n))
	if err := eventstream.Append(tx, streams.BranchTag(branch), ev); err != nil {
		return err
	}
	return s.commit(ctx, tx)
}

// SaveNomination writes a change; release gives its claim's place back.
func (s *Store) SaveNomination(ctx context.Context, branch string, n *governancev1.Nomination, prevEtag, release string, evs ...*eventsv1.Envelope) error {
	term := domain.TermNumberOf(n.GetName())
	tx := branchTx(branch).ExpectEtag("etag", nomKey(branch, term, path.Base(n.GetName())), prevEtag)
	if err := tx.PutMessage(nomKey(branch, term, path.Base(n.GetName())), n, n.GetEtag()); err != nil {
		return err
	}
	if release != "" {
		tx.HIncrBy(claimsKey(branch, term), release, -1)
	}
	if err := eventstream.Append(tx, streams.BranchTag(branch), evs...); err != nil {
		return err
	}
	return s.commit(ctx, tx)
}

// Appoint writes the appointed nomination and its officer while the
// officers and the term are as they were judged.
func (s *Store) Appoint(ctx context.Context, branch string, n *governancev1.Nomination, prevEtag string, o *governancev1.Officer, officersVersion, termEtag string, evs ...*eventsv1.Envelope) error {
	term := domain.TermNumberOf(n.GetName())
	tx := expectVersion(branchTx(branch), verKey(branch), verOfficers, officersVersion).
		ExpectEtag("term", termKey(branch, term), termEtag).
		ExpectEtag("etag", nomKey(branch, term, path.Base(n.GetName())), prevEtag).
		ExpectEtag(labelID, officerKey(branch, term, path.Base(o.GetName())), "")
	if err := tx.PutMessage(nomKey(branch, term, path.Base(n.GetName())), n, n.GetEtag()); err != nil {
		return err
	}
	if err := tx.PutMessage(officerKey(branch, term, path.Base(o.GetName())), o, o.GetEtag()); err != nil {
		return err
	}
	tx.ZAdd(officerIndexKey(branch), 0, officerMember(o))
	if err := eventstream.Append(tx, streams.BranchTag(branch), evs...); err != nil {
		return err
	}
	return s.commit(ctx, tx)
}

// --- officers ---

// Officers reads every officer of the branch with the version writes
// judged on them hold to (read first, see Terms).
func (s *Store) Officers(ctx context.Context, branch string) (domain.Versioned[*governancev1.Officer], error) {
	var out domain.Versioned[*governancev1.Officer]
	v, err := s.version(ctx, verKey(branch), verOfficers)
	if err != nil {
		return out, err
	}
	members, err := s.members(ctx, officerIndexKey(branch), "-", "+")
	if err != nil {
		return out, err
	}
	keys := make([]string, len(members))
	for i, m := range members {
		p := cut(m, 2)
		keys[i] = officerKey(branch, atoi32(p[0]), p[1])
	}
	items, err := redistx.LoadAll(ctx, s.client, keys, func() *governancev1.Officer { return &governancev1.Officer{} })
	return domain.Versioned[*governancev1.Officer]{Items: items, Version: v}, err
}

// GetOfficer reads one officer.
func (s *Store) GetOfficer(ctx context.Context, branch string, term int32, id string) (*governancev1.Officer, error) {
	return get(ctx, s.client, officerKey(branch, term, id), &governancev1.Officer{})
}

// SaveOfficer writes an officer whose office ended; release gives its
// nomination's place back.
func (s *Store) SaveOfficer(ctx context.Context, branch string, o *governancev1.Officer, prevEtag, release string, ev *eventsv1.Envelope) error {
	term := domain.TermNumberOf(o.GetName())
	key := officerKey(branch, term, path.Base(o.GetName()))
	tx := branchTx(branch).ExpectEtag("etag", key, prevEtag).HIncrBy(verKey(branch), verOfficers, 1)
	if err := tx.PutMessage(key, o, o.GetEtag()); err != nil {
		return err
	}
	if release != "" {
		tx.HIncrBy(claimsKey(branch, term), release, -1)
	}
	if err := eventstream.Append(tx, streams.BranchTag(branch), ev); err != nil {
		return err
	}
	return s.commit(ctx, tx)
}
