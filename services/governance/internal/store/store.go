// Package store keeps governance data in Redis. Records are protobuf bytes
// in hashes (data + etag), and every write is one redistx.Tx on one slot:
//
//	{gov:branches}   branches, their index and the branch event stream
//	{gov:br:<b>}     everything of one branch
//
// so every charter check (one chair per term, one director nominee per
// unit, no overlapping terms, the officers G1 and G8 judge) and the write
// it guards are atomic. Within a branch's slot:
//
//	ver                 hash: "terms", "officers" counters, bumped by every
//	                    change of those lists; writes judged on a list are
//	                    conditioned on its counter
//	term:<n>, terms     terms; index by number
//	nom:<n>:<id>, noms  nominations; index by term, creation, id
//	claims:<n>          hash of a term's held places: office:CHAIR,
//	                    office:SECRETARY_GENERAL, director:<member> (or
//	                    director:<person>, standing in their own name),
//	                    each a count a nomination takes only below its limit
//	off:<n>:<id>, offs  officers; index by term, id
//	mtg:<id>, mtgs      meetings; index by start time
//	res:<id>, ress      resolutions; index by creation
//	resgate:<id>        hash: "state" (ballots are taken only while it is
//	                    VOTING) and "ballots" (bumped by every ballot; the
//	                    close is conditioned on it)
//	vote:<res>:<voter>, votes:<res>   ballots; index by voter
//	wp:<id>, wps        work plans; index by year, creation
//	wpyear:<year>       the year's one plan
//	wi:<plan>:<id>, wis:<plan>        work items; index by creation
//
// Each slot has its own outbox stream ({tag}:outbox); the tags are
// governance's published stream contract (services/governance/streams).
package store

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/redis/go-redis/v9"
	"google.golang.org/protobuf/proto"

	"github.com/tjsia/chapterhouse/platform/ids"
	"github.com/tjsia/chapterhouse/platform/redistx"

	"github.com/tjsia/chapterhouse/contracts/governance/streams"
	"github.com/tjsia/chapterhouse/services/governance/internal/domain"
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

func newTx(tag string) *redistx.Tx { return redistx.New(tag, ids.Random()) }

func branchTx(branch string) *redistx.Tx { return newTx(streams.BranchTag(branch)) }

// Condition labels: a taken id (or year) is ErrExists; a term's place
// with none left is ErrPlaceTaken; anything else is a record or list that
// changed since it was read, ErrStale.
const (
	labelID    = "id"
	labelYear  = "year"
	labelClaim = "claim"
)

// commit commits tx, a failed condition answered as its label says
// (failure).
func (s *Store) commit(ctx context.Context, tx *redistx.Tx) error {
	return tx.CommitAs(ctx, s.client, failure)
}

// failure is what a failed condition means to the domain, by its label.
func failure(failed *redistx.ConditionFailedError) error {
	switch failed.Label {
	case labelID, labelYear:
		return domain.ErrExists
	case labelClaim:
		return domain.ErrPlaceTaken
	}
	return domain.ErrStale
}

// get reads a record; a missing one is domain.ErrNotFound.
func get[T proto.Message](ctx context.Context, client redis.Cmdable, key string, msg T) (T, error) {
	return redistx.GetMessage(ctx, client, key, msg, domain.ErrNotFound)
}

// members lists an index's members between min and max (lexicographic).
func (s *Store) members(ctx context.Context, index, min, max string) ([]string, error) {
	m, err := s.client.ZRangeArgs(ctx, redis.ZRangeArgs{Key: index, Start: min, Stop: max, ByLex: true}).Result()
	if err != nil {
		return nil, fmt.Errorf("store: index %s: %w", index, err)
	}
	return m, nil
}

// version reads a list's change counter ("" before its first change).
func (s *Store) version(ctx context.Context, key, field string) (string, error) {
	v, err := s.client.HGet(ctx, key, field).Result()
	if errors.Is(err, redis.Nil) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("store: version %s: %w", key, err)
	}
	return v, nil
}

// expectVersion conditions tx on a list's counter and bumps it.
func expectVersion(tx *redistx.Tx, key, field, version string) *redistx.Tx {
	return tx.ExpectHashField(field, key, field, version).HIncrBy(key, field, 1)
}

// termPad orders term numbers in indexes.
func termPad(n int32) string { return fmt.Sprintf("%010d", n) }

// cut splits an index member into its colon-separated parts.
func cut(member string, n int) []string { return strings.SplitN(member, ":", n) }

func atoi32(s string) int32 {
	n, _ := strconv.ParseInt(s, 10, 32)
	return int32(n)
}
