// Package store keeps membership data in Redis. Records are protobuf bytes
// in hashes (data + etag). Keys are hash-tagged by aggregate scope, so each
// write is one redistx.Tx on one slot:
//
//	{mbr:orgs}     organisations, the credit-code claims, their index
//	{mbr:people}   people, their index, the per-organisation and e-mail
//	               indexes
//	{mbr:br:<b>}   a branch's applications and members, the
//	               one-open-application and one-membership claims
//
// Each slot has its own outbox stream ({tag}:outbox).
package store

import (
	"context"

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

// commit commits tx, a failed condition answered as its label says
// (failure).
func (s *Store) commit(ctx context.Context, tx *redistx.Tx) error {
	return tx.CommitAs(ctx, s.client, failure)
}

// failure: a failed condition labelled "etag" is a stale record, any other
// label a uniqueness claim.
func failure(failed *redistx.ConditionFailedError) error {
	if failed.Label == "etag" {
		return domain.ErrStale
	}
	return &domain.ConflictError{Claim: failed.Label, Owner: failed.Current}
}

// get reads a record; a missing one is domain.ErrNotFound.
func get[T proto.Message](ctx context.Context, client redis.Cmdable, key string, msg T) (T, error) {
	return redistx.GetMessage(ctx, client, key, msg, domain.ErrNotFound)
}
