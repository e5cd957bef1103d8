// Package store keeps membership data in Redis. Records are protobuf bytes
// in hashes (data + etag). Keys are hash-tagged by aggregate scope, so each
// write is one redistx.Tx on one slot:
//
//	{mbr:orgs}     organisations, the credit-code claims, their index
//	{mbr:people}   people, their index, the per-organisation index
//	{mbr:br:<b>}   a branch's applications and members, the
//	               one-open-application and one-membership claims
//
// Each slot has its own outbox stream ({tag}:outbox).
package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/redis/go-redis/v9"
	"google.golang.org/protobuf/proto"

	"github.com/tjsia/chapterhouse/platform/ids"
	"github.com/tjsia/chapterhouse/platform/redistx"

	"github.com/tjsia/chapterhouse/contracts/membership/streams"
	"github.com/tjsia/chapterhouse/services/membership/internal/domain"
)

// The hash tags are membership's published stream contract.
const (
	OrgsTag   = streams.OrganizationsTag
	PeopleTag = streams.PeopleTag
)

// BranchTag is the hash tag of a branch's applications and members.
func BranchTag(branch string) string { return streams.BranchTag(branch) }

// Store implements domain.Repository.
type Store struct {
	client redis.UniversalClient
}

var _ domain.Repository = (*Store)(nil)

// New returns a store over client.
func New(client redis.UniversalClient) *Store { return &Store{client: client} }

func newTx(tag string) *redistx.Tx { return redistx.New(tag, ids.Random()) }

func put(tx *redistx.Tx, key string, msg proto.Message, etag string) error {
	data, err := proto.Marshal(msg)
	if err != nil {
		return fmt.Errorf("store: marshal: %w", err)
	}
	tx.Put(key, data, etag)
	return nil
}

// commit maps condition failures: labels "etag" mean a stale record, any
// other label is a uniqueness claim.
func (s *Store) commit(ctx context.Context, tx *redistx.Tx) error {
	err := tx.Commit(ctx, s.client)
	var failed *redistx.ConditionFailedError
	if errors.As(err, &failed) {
		if failed.Label == "etag" {
			return domain.ErrStale
		}
		return &domain.ConflictError{Claim: failed.Label, Owner: failed.Current}
	}
	return err
}

func get[T proto.Message](ctx context.Context, client redis.Cmdable, key string, msg T) (T, error) {
	rec, err := redistx.Get(ctx, client, key)
	if errors.Is(err, redistx.ErrNotFound) {
		return msg, domain.ErrNotFound
	}
	if err != nil {
		return msg, err
	}
	if err := proto.Unmarshal(rec.Data, msg); err != nil {
		return msg, fmt.Errorf("store: decode %s: %w", key, err)
	}
	return msg, nil
}
