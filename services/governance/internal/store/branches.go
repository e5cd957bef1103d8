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
)

func branchKey(id string) string { return redistx.Key(streams.BranchesTag, "branch", id) }
func branchIndexKey() string     { return redistx.Key(streams.BranchesTag, "idx") }
func branchMember(b *governancev1.Branch) string {
	return redistx.SortableTime(b.GetCreateTime().AsTime()) + ":" + path.Base(b.GetName())
}

// CreateBranch stores a new branch and its BranchCreated event.
func (s *Store) CreateBranch(ctx context.Context, b *governancev1.Branch, ev *eventsv1.Envelope) error {
	id := path.Base(b.GetName())
	tx := newTx(streams.BranchesTag).ExpectEtag(labelID, branchKey(id), "")
	if err := tx.PutMessage(branchKey(id), b, b.GetEtag()); err != nil {
		return err
	}
	tx.ZAdd(branchIndexKey(), 0, branchMember(b))
	if err := eventstream.Append(tx, streams.BranchesTag, ev); err != nil {
		return err
	}
	return s.commit(ctx, tx)
}

// GetBranch reads one branch.
func (s *Store) GetBranch(ctx context.Context, id string) (*governancev1.Branch, error) {
	return get(ctx, s.client, branchKey(id), &governancev1.Branch{})
}

// ListBranches pages in creation order.
func (s *Store) ListBranches(ctx context.Context, after string, size int) (page.Page[*governancev1.Branch], error) {
	return redistx.ScanPage(ctx, s.client, branchIndexKey(), after, size,
		func(member string) string { return branchKey(cut(member, 2)[1]) },
		func() *governancev1.Branch { return &governancev1.Branch{} }, nil)
}

// SaveBranch writes a change with its BranchUpdated event.
func (s *Store) SaveBranch(ctx context.Context, b *governancev1.Branch, prevEtag string, ev *eventsv1.Envelope) error {
	id := path.Base(b.GetName())
	tx := newTx(streams.BranchesTag).ExpectEtag("etag", branchKey(id), prevEtag)
	if err := tx.PutMessage(branchKey(id), b, b.GetEtag()); err != nil {
		return err
	}
	if err := eventstream.Append(tx, streams.BranchesTag, ev); err != nil {
		return err
	}
	return s.commit(ctx, tx)
}
