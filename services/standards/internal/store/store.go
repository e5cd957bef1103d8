// Package store keeps standards data in Redis. Records are protobuf bytes
// in hashes (data + etag), and every write is one redistx.Tx on the
// branch's slot, {std:br:<b>}, so a publication and the code it claims, or
// a comment and the period it falls in, are one atomic step:
//
//	std:<id>, stds          standards; index by creation
//	gate:<id>               hash: "comments" (the draft whose comment period
//	                        is open, or ""), "period" (the draft of the
//	                        current or last period), "count" and "undisposed" (the
//	                        period's comments, bumped with each), "inforce"
//	                        ("1" while a published version is in force)
//	seq                     hash: kind → the last number its sequence gave
//	codes                   hash: hex(domain.CodeKey(code)) → the standard
//	                        holding a code of that key ("keyed": see
//	                        keyCodes)
//	drf:<std>:<id>, drfs:<std>   drafts; index by sequence
//	drfver:<std>            hash: hex(version) → draft id
//	cmt:<std>:<id>, cmts:<std>   comments; index by creation
//	sig:<std>:<member>, sigs:<std>   signatories; index by member
//	prm:<std>:<id>, prms:<std>   promotions; index by creation
//	ended                   hash: the members whose branch membership ended
//	                        (a signature is conditioned on its member's
//	                        absence, so none lands after the lapse)
//
// The slot's outbox stream ({tag}:outbox) is standards' published stream
// contract (services/standards/streams).
package store

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"path"
	"strconv"
	"strings"

	"github.com/redis/go-redis/v9"
	"google.golang.org/protobuf/proto"

	"github.com/tjsia/chapterhouse/platform/eventstream"
	"github.com/tjsia/chapterhouse/platform/ids"
	"github.com/tjsia/chapterhouse/platform/page"
	"github.com/tjsia/chapterhouse/platform/redistx"
	eventsv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/events/v1"
	standardsv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/standards/v1"

	"github.com/tjsia/chapterhouse/contracts/standards/streams"
	"github.com/tjsia/chapterhouse/services/standards/internal/domain"
)

// Store implements domain.Repository.
type Store struct {
	client redis.UniversalClient
}

var _ domain.Repository = (*Store)(nil)

// New returns a store over client.
func New(client redis.UniversalClient) *Store { return &Store{client: client} }

func k(branch string, parts ...string) string {
	return redistx.Key(streams.BranchTag(branch), parts...)
}

func standardKey(b, id string) string    { return k(b, "std", id) }
func standardIndexKey(b string) string   { return k(b, "stds") }
func gateKey(b, id string) string        { return k(b, "gate", id) }
func seqKey(b string) string             { return k(b, "seq") }
func codesKey(b string) string           { return k(b, "codes") }
func draftKey(b, std, id string) string  { return k(b, "drf", std, id) }
func draftIndexKey(b, std string) string { return k(b, "drfs", std) }
func versionsKey(b, std string) string   { return k(b, "drfver", std) }
func commentKey(b, std, id string) string {
	return k(b, "cmt", std, id)
}
func commentIndexKey(b, std string) string      { return k(b, "cmts", std) }
func signatoryKey(b, std, member string) string { return k(b, "sig", std, member) }
func signatoryIndexKey(b, std string) string    { return k(b, "sigs", std) }
func promotionKey(b, std, id string) string     { return k(b, "prm", std, id) }
func promotionIndexKey(b, std string) string    { return k(b, "prms", std) }
func endedKey(b string) string                  { return k(b, "ended") }

// Hash fields are hex, so any code or version label is a safe field.
func field(s string) string { return hex.EncodeToString([]byte(s)) }

// Condition labels name what a failed condition means to the domain.
const (
	labelID         = "id"
	labelCode       = "code"
	labelVersion    = "version"
	labelGate       = "gate"
	labelEnded      = "ended"
	labelUndisposed = "undisposed"
)

// commit commits tx, a failed condition answered as its label says
// (failure).
func (s *Store) commit(ctx context.Context, tx *redistx.Tx) error {
	return tx.CommitAs(ctx, s.client, failure)
}

// failure is what a failed condition means to the domain, by its label.
func failure(failed *redistx.ConditionFailedError) error {
	switch failed.Label {
	case labelID:
		return domain.ErrExists
	case labelCode:
		return domain.ErrCodeTaken
	case labelVersion:
		return domain.ErrVersionTaken
	case labelGate:
		return domain.ErrClosed
	case labelEnded:
		return domain.ErrMemberEnded
	case labelUndisposed:
		return domain.ErrUndisposed
	}
	return domain.ErrStale
}

func branchTx(branch string) *redistx.Tx { return redistx.New(streams.BranchTag(branch), ids.Random()) }

func events(tx *redistx.Tx, branch string, evs ...*eventsv1.Envelope) error {
	return eventstream.Append(tx, streams.BranchTag(branch), evs...)
}

// get reads a record; a missing one is domain.ErrNotFound.
func get[T proto.Message](ctx context.Context, client redis.Cmdable, key string, msg T) (T, error) {
	return redistx.GetMessage(ctx, client, key, msg, domain.ErrNotFound)
}

// timeMember is "<SortableTime>:<id>"; lastPart reads the id back.
func lastPart(member string) string { return member[strings.LastIndex(member, ":")+1:] }

func inForce(st *standardsv1.Standard) string {
	if domain.IsInForce(st.GetState()) {
		return "1"
	}
	return ""
}

// putStandard adds a standard's write (created when prevEtag is "") and
// its gate's "inforce", which signatures and promotions are conditioned
// on.
func putStandard(tx *redistx.Tx, branch string, st *standardsv1.Standard, prevEtag string) error {
	id := path.Base(st.GetName())
	label := "etag"
	if prevEtag == "" {
		label = labelID
	}
	tx.ExpectEtag(label, standardKey(branch, id), prevEtag)
	if err := tx.PutMessage(standardKey(branch, id), st, st.GetEtag()); err != nil {
		return err
	}
	if prevEtag == "" {
		tx.ZAdd(standardIndexKey(branch), 0, redistx.SortableTime(st.GetCreateTime().AsTime())+":"+id)
	}
	tx.HSet(gateKey(branch, id), "inforce", inForce(st))
	if st.GetState() != domain.PublicComment {
		// Whatever took it out of PUBLIC_COMMENT (a close, a withdrawal)
		// closes the period in the same step, so no comment or
		// disposition can land after it.
		tx.HSet(gateKey(branch, id), "comments", "")
	}
	return nil
}

// SaveStandard commits one standard's change and everything that moves
// with it (see domain.Write).
func (s *Store) SaveStandard(ctx context.Context, branch string, w domain.Write) error {
	tx := branchTx(branch)
	if err := putStandard(tx, branch, w.Standard, w.PrevEtag); err != nil {
		return err
	}
	id := path.Base(w.Standard.GetName())
	gate := gateKey(branch, id)
	if w.OpenComments != "" {
		tx.HSet(gate, "comments", w.OpenComments, "period", w.OpenComments, "count", "0", "undisposed", "0")
	}
	if w.CloseComments {
		// The rule itself, not a race: a comment that came in after the
		// domain read them is counted here.
		tx.ExpectHashField(labelUndisposed, gate, "undisposed", "0")
	}
	if w.Related != nil {
		if err := putStandard(tx, branch, w.Related, w.RelatedEtag); err != nil {
			return err
		}
	}
	if c := w.Code; c != nil {
		if c.Number > 0 {
			prev := ""
			if c.Number > 1 {
				prev = strconv.FormatInt(c.Number-1, 10)
			}
			tx.ExpectHashField("sequence", seqKey(branch), c.Kind, prev).HSet(seqKey(branch), c.Kind, strconv.FormatInt(c.Number, 10))
		}
		if err := s.keyCodes(ctx, branch); err != nil {
			return err
		}
		tx.ExpectHashField(labelCode, codesKey(branch), field(c.Key), c.Holder).HSet(codesKey(branch), field(c.Key), w.Standard.GetName())
	}
	if err := events(tx, branch, w.Events...); err != nil {
		return err
	}
	return s.commit(ctx, tx)
}

// GetStandard reads one standard.
func (s *Store) GetStandard(ctx context.Context, branch, id string) (*standardsv1.Standard, error) {
	return get(ctx, s.client, standardKey(branch, id), &standardsv1.Standard{})
}

// ListStandards pages by creation.
func (s *Store) ListStandards(ctx context.Context, branch, after string, size int, keep func(*standardsv1.Standard) bool) (page.Page[*standardsv1.Standard], error) {
	return redistx.ScanPage(ctx, s.client, standardIndexKey(branch), after, size,
		func(member string) string { return standardKey(branch, lastPart(member)) },
		func() *standardsv1.Standard { return &standardsv1.Standard{} }, keep)
}

// Sequence is the last number kind's sequence gave out.
func (s *Store) Sequence(ctx context.Context, branch, kind string) (int64, error) {
	v, err := s.client.HGet(ctx, seqKey(branch), kind).Result()
	if errors.Is(err, redis.Nil) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("store: sequence: %w", err)
	}
	return strconv.ParseInt(v, 10, 64)
}

// CodeHolder is the standard holding a code keyed key, or "".
func (s *Store) CodeHolder(ctx context.Context, branch, key string) (string, error) {
	if err := s.keyCodes(ctx, branch); err != nil {
		return "", err
	}
	v, err := s.client.HGet(ctx, codesKey(branch), field(key)).Result()
	if errors.Is(err, redis.Nil) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("store: code: %w", err)
	}
	return v, nil
}

// codesKeyed marks a branch's codes hash as keyed by domain.CodeKey. A
// claim written before codes were keyed is under the code itself; the
// first use of the hash copies each such claim under its key (HSETNX: a
// claim under a key stays), so a code given now meets the codes given
// then that read alike. The field is not hex, so no code's.
const codesKeyed = "keyed"

func (s *Store) keyCodes(ctx context.Context, branch string) error {
	h := codesKey(branch)
	done, err := s.client.HExists(ctx, h, codesKeyed).Result()
	if err != nil {
		return fmt.Errorf("store: codes: %w", err)
	}
	if done {
		return nil
	}
	claims, err := s.client.HGetAll(ctx, h).Result()
	if err != nil {
		return fmt.Errorf("store: codes: %w", err)
	}
	pipe := s.client.TxPipeline()
	for f, holder := range claims {
		code, err := hex.DecodeString(f)
		if err != nil {
			continue
		}
		pipe.HSetNX(ctx, h, field(domain.CodeKey(string(code))), holder)
	}
	pipe.HSet(ctx, h, codesKeyed, "1")
	if _, err := pipe.Exec(ctx); err != nil {
		return fmt.Errorf("store: key codes: %w", err)
	}
	return nil
}

// --- drafts ---

// CreateDraft stores d with s, its standard, claiming d's version.
func (s *Store) CreateDraft(ctx context.Context, branch string, d *standardsv1.Draft, st *standardsv1.Standard, prevEtag string, ev *eventsv1.Envelope) error {
	std, id := path.Base(st.GetName()), path.Base(d.GetName())
	tx := branchTx(branch).ExpectEtag(labelID, draftKey(branch, std, id), "").
		ExpectHashField(labelVersion, versionsKey(branch, std), field(d.GetVersion()), "")
	if err := putStandard(tx, branch, st, prevEtag); err != nil {
		return err
	}
	if err := tx.PutMessage(draftKey(branch, std, id), d, ids.Random()[:16]); err != nil {
		return err
	}
	tx.HSet(versionsKey(branch, std), field(d.GetVersion()), id).
		ZAdd(draftIndexKey(branch, std), 0, fmt.Sprintf("%010d:%s", d.GetSequence(), id))
	if err := events(tx, branch, ev); err != nil {
		return err
	}
	return s.commit(ctx, tx)
}

// GetDraft reads one draft.
func (s *Store) GetDraft(ctx context.Context, branch, std, id string) (*standardsv1.Draft, error) {
	return get(ctx, s.client, draftKey(branch, std, id), &standardsv1.Draft{})
}

// ListDrafts pages by sequence.
func (s *Store) ListDrafts(ctx context.Context, branch, std, after string, size int) (page.Page[*standardsv1.Draft], error) {
	return redistx.ScanPage(ctx, s.client, draftIndexKey(branch, std), after, size,
		func(member string) string { return draftKey(branch, std, lastPart(member)) },
		func() *standardsv1.Draft { return &standardsv1.Draft{} }, nil)
}

// --- comments ---

// CreateComment stores c while its draft's period is open, counting it
// in the gate.
func (s *Store) CreateComment(ctx context.Context, branch string, c *standardsv1.Comment, ev *eventsv1.Envelope) error {
	std, id := standardOf(c.GetName()), path.Base(c.GetName())
	gate := gateKey(branch, std)
	tx := branchTx(branch).ExpectEtag(labelID, commentKey(branch, std, id), "").
		ExpectHashField(labelGate, gate, "comments", c.GetDraft())
	if err := tx.PutMessage(commentKey(branch, std, id), c, c.GetEtag()); err != nil {
		return err
	}
	tx.ZAdd(commentIndexKey(branch, std), 0, redistx.SortableTime(c.GetCreateTime().AsTime())+":"+id).
		HIncrBy(gate, "count", 1).HIncrBy(gate, "undisposed", 1)
	if err := events(tx, branch, ev); err != nil {
		return err
	}
	return s.commit(ctx, tx)
}

// GetComment reads one comment.
func (s *Store) GetComment(ctx context.Context, branch, std, id string) (*standardsv1.Comment, error) {
	return get(ctx, s.client, commentKey(branch, std, id), &standardsv1.Comment{})
}

// ListComments pages by creation.
func (s *Store) ListComments(ctx context.Context, branch, std, after string, size int, keep func(*standardsv1.Comment) bool) (page.Page[*standardsv1.Comment], error) {
	return redistx.ScanPage(ctx, s.client, commentIndexKey(branch, std), after, size,
		func(member string) string { return commentKey(branch, std, lastPart(member)) },
		func() *standardsv1.Comment { return &standardsv1.Comment{} }, keep)
}

// Comments reads every comment of a standard and its period's counts. The
// counts are read first: a comment that lands in between is in the list
// but not the counts.
func (s *Store) Comments(ctx context.Context, branch, std string) ([]*standardsv1.Comment, domain.CommentCounts, error) {
	var counts domain.CommentCounts
	gate, err := s.client.HGetAll(ctx, gateKey(branch, std)).Result()
	if err != nil {
		return nil, counts, fmt.Errorf("store: comment gate: %w", err)
	}
	counts.Draft = gate["period"]
	counts.Total, _ = strconv.ParseInt(gate["count"], 10, 64)
	counts.Undisposed, _ = strconv.ParseInt(gate["undisposed"], 10, 64)
	members, err := s.client.ZRange(ctx, commentIndexKey(branch, std), 0, -1).Result()
	if err != nil {
		return nil, counts, fmt.Errorf("store: comments: %w", err)
	}
	keys := make([]string, len(members))
	for i, m := range members {
		keys[i] = commentKey(branch, std, lastPart(m))
	}
	comments, err := redistx.LoadAll(ctx, s.client, keys, func() *standardsv1.Comment { return &standardsv1.Comment{} })
	return comments, counts, err
}

// DisposeComment writes c's disposition while its period is open; the
// first one takes it off the period's undisposed count.
func (s *Store) DisposeComment(ctx context.Context, branch string, c *standardsv1.Comment, prevEtag string, first bool, ev *eventsv1.Envelope) error {
	std, id := standardOf(c.GetName()), path.Base(c.GetName())
	gate := gateKey(branch, std)
	tx := branchTx(branch).ExpectEtag("etag", commentKey(branch, std, id), prevEtag).
		ExpectHashField(labelGate, gate, "comments", c.GetDraft())
	if err := tx.PutMessage(commentKey(branch, std, id), c, c.GetEtag()); err != nil {
		return err
	}
	if first {
		tx.HIncrBy(gate, "undisposed", -1)
	}
	if err := events(tx, branch, ev); err != nil {
		return err
	}
	return s.commit(ctx, tx)
}

// --- signatories ---

// EndMember records that member's branch membership ended; signatures of
// it are refused from then on.
func (s *Store) EndMember(ctx context.Context, branch, member string) error {
	if err := s.client.HSet(ctx, endedKey(branch), member, "1").Err(); err != nil {
		return fmt.Errorf("store: end member: %w", err)
	}
	return nil
}

// SaveSignatory writes a signatory; inForce holds it on the standard
// being in force.
func (s *Store) SaveSignatory(ctx context.Context, branch string, sig *standardsv1.Signatory, prevEtag string, inForce bool, ev *eventsv1.Envelope) error {
	std, member := standardOf(sig.GetName()), path.Base(sig.GetName())
	tx := branchTx(branch).ExpectEtag("etag", signatoryKey(branch, std, member), prevEtag)
	if inForce {
		tx.ExpectHashField(labelGate, gateKey(branch, std), "inforce", "1").
			ExpectHashField(labelEnded, endedKey(branch), member, "")
	}
	if err := tx.PutMessage(signatoryKey(branch, std, member), sig, sig.GetEtag()); err != nil {
		return err
	}
	tx.ZAdd(signatoryIndexKey(branch, std), 0, member)
	if err := events(tx, branch, ev); err != nil {
		return err
	}
	return s.commit(ctx, tx)
}

// GetSignatory reads one signatory.
func (s *Store) GetSignatory(ctx context.Context, branch, std, member string) (*standardsv1.Signatory, error) {
	return get(ctx, s.client, signatoryKey(branch, std, member), &standardsv1.Signatory{})
}

// ListSignatories pages by member.
func (s *Store) ListSignatories(ctx context.Context, branch, std, after string, size int, keep func(*standardsv1.Signatory) bool) (page.Page[*standardsv1.Signatory], error) {
	return redistx.ScanPage(ctx, s.client, signatoryIndexKey(branch, std), after, size,
		func(member string) string { return signatoryKey(branch, std, member) },
		func() *standardsv1.Signatory { return &standardsv1.Signatory{} }, keep)
}

// --- promotions ---

// CreatePromotion records p. It is not conditioned on the standard still
// being in force: the activity exists by then, and a record of it is
// better than an activity no standard knows of.
func (s *Store) CreatePromotion(ctx context.Context, branch string, p *standardsv1.Promotion, ev *eventsv1.Envelope) error {
	std, id := standardOf(p.GetName()), path.Base(p.GetName())
	tx := branchTx(branch).ExpectEtag(labelID, promotionKey(branch, std, id), "")
	if err := tx.PutMessage(promotionKey(branch, std, id), p, p.GetEtag()); err != nil {
		return err
	}
	tx.ZAdd(promotionIndexKey(branch, std), 0, redistx.SortableTime(p.GetCreateTime().AsTime())+":"+id)
	if err := events(tx, branch, ev); err != nil {
		return err
	}
	return s.commit(ctx, tx)
}

// GetPromotion reads one promotion.
func (s *Store) GetPromotion(ctx context.Context, branch, std, id string) (*standardsv1.Promotion, error) {
	return get(ctx, s.client, promotionKey(branch, std, id), &standardsv1.Promotion{})
}

// ListPromotions pages by creation.
func (s *Store) ListPromotions(ctx context.Context, branch, std, after string, size int) (page.Page[*standardsv1.Promotion], error) {
	return redistx.ScanPage(ctx, s.client, promotionIndexKey(branch, std), after, size,
		func(member string) string { return promotionKey(branch, std, lastPart(member)) },
		func() *standardsv1.Promotion { return &standardsv1.Promotion{} }, nil)
}

// standardOf is the standard id of a name under branches/{b}/standards/{s}/.
func standardOf(name string) string {
	parts := strings.Split(name, "/")
	if len(parts) < 4 {
		return ""
	}
	return parts[3]
}
