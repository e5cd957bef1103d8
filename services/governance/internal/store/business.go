package store

import (
	"context"
	"errors"
	"fmt"
	"path"
	"strings"

	"github.com/redis/go-redis/v9"

	"github.com/tjsia/chapterhouse/platform/eventstream"
	"github.com/tjsia/chapterhouse/platform/ids"
	"github.com/tjsia/chapterhouse/platform/page"
	"github.com/tjsia/chapterhouse/platform/redistx"
	eventsv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/events/v1"
	governancev1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/governance/v1"

	"github.com/tjsia/chapterhouse/contracts/governance/streams"
	"github.com/tjsia/chapterhouse/services/governance/internal/domain"
)

func meetingKey(b, id string) string      { return k(b, "mtg", id) }
func meetingIndexKey(b string) string     { return k(b, "mtgs") }
func resolutionKey(b, id string) string   { return k(b, "res", id) }
func resolutionIndexKey(b string) string  { return k(b, "ress") }
func gateKey(b, id string) string         { return k(b, "resgate", id) }
func voteKey(b, res, voter string) string { return k(b, "vote", res, voter) }
func voteIndexKey(b, res string) string   { return k(b, "votes", res) }
func planKey(b, id string) string         { return k(b, "wp", id) }
func planIndexKey(b string) string        { return k(b, "wps") }
func planYearKey(b string, y int32) string {
	return k(b, "wpyear", fmt.Sprintf("%04d", y))
}
func itemKey(b, plan, id string) string  { return k(b, "wi", plan, id) }
func itemIndexKey(b, plan string) string { return k(b, "wis", plan) }

// timeMember is "<SortableTime>:<id>"; lastPart reads the id back.
func lastPart(member string) string { return member[strings.LastIndex(member, ":")+1:] }

// --- meetings ---

func meetingMember(m *governancev1.Meeting) string {
	return redistx.SortableTime(m.GetStartTime().AsTime()) + ":" + path.Base(m.GetName())
}

// CreateMeeting stores a new meeting.
func (s *Store) CreateMeeting(ctx context.Context, branch string, m *governancev1.Meeting) error {
	id := path.Base(m.GetName())
	tx := branchTx(branch).ExpectEtag(labelID, meetingKey(branch, id), "")
	if err := tx.PutMessage(meetingKey(branch, id), m, m.GetEtag()); err != nil {
		return err
	}
	tx.ZAdd(meetingIndexKey(branch), 0, meetingMember(m))
	return s.commit(ctx, tx)
}

// GetMeeting reads one meeting.
func (s *Store) GetMeeting(ctx context.Context, branch, id string) (*governancev1.Meeting, error) {
	return get(ctx, s.client, meetingKey(branch, id), &governancev1.Meeting{})
}

// ListMeetings pages by start time.
func (s *Store) ListMeetings(ctx context.Context, branch, after string, size int, keep func(*governancev1.Meeting) bool) (page.Page[*governancev1.Meeting], error) {
	return redistx.ScanPage(ctx, s.client, meetingIndexKey(branch), after, size,
		func(member string) string { return meetingKey(branch, lastPart(member)) },
		func() *governancev1.Meeting { return &governancev1.Meeting{} }, keep)
}

// SaveMeeting replaces prev by m, moving its index entry with its start.
func (s *Store) SaveMeeting(ctx context.Context, branch string, m, prev *governancev1.Meeting) error {
	id := path.Base(m.GetName())
	tx := branchTx(branch).ExpectEtag("etag", meetingKey(branch, id), prev.GetEtag())
	if err := tx.PutMessage(meetingKey(branch, id), m, m.GetEtag()); err != nil {
		return err
	}
	if meetingMember(m) != meetingMember(prev) {
		tx.ZRem(meetingIndexKey(branch), meetingMember(prev)).ZAdd(meetingIndexKey(branch), 0, meetingMember(m))
	}
	return s.commit(ctx, tx)
}

// --- resolutions and ballots ---

func resolutionMember(r *governancev1.Resolution) string {
	return redistx.SortableTime(r.GetCreateTime().AsTime()) + ":" + path.Base(r.GetName())
}

func gateState(r *governancev1.Resolution) string {
	return strings.TrimPrefix(r.GetState().String(), "RESOLUTION_STATE_")
}

// CreateResolution stores a new DRAFT.
func (s *Store) CreateResolution(ctx context.Context, branch string, r *governancev1.Resolution, evs ...*eventsv1.Envelope) error {
	id := path.Base(r.GetName())
	tx := branchTx(branch).ExpectEtag(labelID, resolutionKey(branch, id), "")
	if err := tx.PutMessage(resolutionKey(branch, id), r, r.GetEtag()); err != nil {
		return err
	}
	tx.ZAdd(resolutionIndexKey(branch), 0, resolutionMember(r)).HSet(gateKey(branch, id), "state", gateState(r), "ballots", "0")
	if err := eventstream.Append(tx, streams.BranchTag(branch), evs...); err != nil {
		return err
	}
	return s.commit(ctx, tx)
}

// GetResolution reads one resolution.
func (s *Store) GetResolution(ctx context.Context, branch, id string) (*governancev1.Resolution, error) {
	return get(ctx, s.client, resolutionKey(branch, id), &governancev1.Resolution{})
}

// ListResolutions pages by creation.
func (s *Store) ListResolutions(ctx context.Context, branch, after string, size int, keep func(*governancev1.Resolution) bool) (page.Page[*governancev1.Resolution], error) {
	return redistx.ScanPage(ctx, s.client, resolutionIndexKey(branch), after, size,
		func(member string) string { return resolutionKey(branch, lastPart(member)) },
		func() *governancev1.Resolution { return &governancev1.Resolution{} }, keep)
}

// SaveResolution writes a change; the gate follows the state, so opening
// admits ballots and withdrawing stops them in the same step.
func (s *Store) SaveResolution(ctx context.Context, branch string, r *governancev1.Resolution, prevEtag string, evs ...*eventsv1.Envelope) error {
	id := path.Base(r.GetName())
	tx := branchTx(branch).ExpectEtag("etag", resolutionKey(branch, id), prevEtag)
	if err := tx.PutMessage(resolutionKey(branch, id), r, r.GetEtag()); err != nil {
		return err
	}
	tx.HSet(gateKey(branch, id), "state", gateState(r))
	if err := eventstream.Append(tx, streams.BranchTag(branch), evs...); err != nil {
		return err
	}
	return s.commit(ctx, tx)
}

// Ballots reads a resolution's ballots with the ballot count a close is
// conditioned on (read first, so a ballot after it fails the close).
func (s *Store) Ballots(ctx context.Context, branch, resolution string) (domain.Versioned[*governancev1.Vote], error) {
	var out domain.Versioned[*governancev1.Vote]
	v, err := s.version(ctx, gateKey(branch, resolution), "ballots")
	if err != nil {
		return out, err
	}
	voters, err := s.members(ctx, voteIndexKey(branch, resolution), "-", "+")
	if err != nil {
		return out, err
	}
	keys := make([]string, len(voters))
	for i, voter := range voters {
		keys[i] = voteKey(branch, resolution, voter)
	}
	items, err := redistx.LoadAll(ctx, s.client, keys, func() *governancev1.Vote { return &governancev1.Vote{} })
	return domain.Versioned[*governancev1.Vote]{Items: items, Version: v}, err
}

// CastVote stores a ballot, replacing the voter's earlier one, while the
// resolution is VOTING. It touches the voter's own record and bumps a
// counter, with no condition on either, so ballots never contend.
func (s *Store) CastVote(ctx context.Context, branch, resolution string, v *governancev1.Vote) error {
	voter := path.Base(v.GetName())
	tx := branchTx(branch).ExpectHashField("voting", gateKey(branch, resolution), "state", "VOTING")
	if err := tx.PutMessage(voteKey(branch, resolution, voter), v, ids.Random()[:8]); err != nil {
		return err
	}
	tx.ZAdd(voteIndexKey(branch, resolution), 0, voter).HIncrBy(gateKey(branch, resolution), "ballots", 1)
	return s.commit(ctx, tx)
}

// RecordBallots stores ballots recorded for their voters, all in one
// step with their event, while the resolution is VOTING and its ballot
// count is still ballots: a ballot cast since (a voter's own, which a
// recorded one must not replace) makes it stale, to be judged again.
func (s *Store) RecordBallots(ctx context.Context, branch, resolution string, votes []*governancev1.Vote, ballots string, ev *eventsv1.Envelope) error {
	gate := gateKey(branch, resolution)
	tx := branchTx(branch).ExpectHashField("voting", gate, "state", "VOTING").ExpectHashField("ballots", gate, "ballots", ballots)
	for _, v := range votes {
		voter := path.Base(v.GetName())
		if err := tx.PutMessage(voteKey(branch, resolution, voter), v, ids.Random()[:8]); err != nil {
			return err
		}
		tx.ZAdd(voteIndexKey(branch, resolution), 0, voter)
	}
	tx.HIncrBy(gate, "ballots", int64(len(votes)))
	if err := eventstream.Append(tx, streams.BranchTag(branch), ev); err != nil {
		return err
	}
	return s.commit(ctx, tx)
}

// GetVote reads one ballot.
func (s *Store) GetVote(ctx context.Context, branch, resolution, voter string) (*governancev1.Vote, error) {
	return get(ctx, s.client, voteKey(branch, resolution, voter), &governancev1.Vote{})
}

// ListVotes pages by voter.
func (s *Store) ListVotes(ctx context.Context, branch, resolution, after string, size int) (page.Page[*governancev1.Vote], error) {
	return redistx.ScanPage(ctx, s.client, voteIndexKey(branch, resolution), after, size,
		func(member string) string { return voteKey(branch, resolution, member) },
		func() *governancev1.Vote { return &governancev1.Vote{} }, nil)
}

// CloseResolution writes the closed resolution while no ballot arrived
// since ballots were counted.
func (s *Store) CloseResolution(ctx context.Context, branch string, r *governancev1.Resolution, prevEtag, ballots string, ev *eventsv1.Envelope) error {
	id := path.Base(r.GetName())
	tx := branchTx(branch).ExpectEtag("etag", resolutionKey(branch, id), prevEtag).
		ExpectHashField("ballots", gateKey(branch, id), "ballots", ballots)
	if err := tx.PutMessage(resolutionKey(branch, id), r, r.GetEtag()); err != nil {
		return err
	}
	tx.HSet(gateKey(branch, id), "state", gateState(r))
	if err := eventstream.Append(tx, streams.BranchTag(branch), ev); err != nil {
		return err
	}
	return s.commit(ctx, tx)
}

// --- work plans and items ---

func planMember(w *governancev1.WorkPlan) string {
	return fmt.Sprintf("%04d:%s:%s", w.GetYear(), redistx.SortableTime(w.GetCreateTime().AsTime()), path.Base(w.GetName()))
}

// CreateWorkPlan stores a plan, claiming its year.
func (s *Store) CreateWorkPlan(ctx context.Context, branch string, w *governancev1.WorkPlan, ev *eventsv1.Envelope) error {
	id := path.Base(w.GetName())
	tx := branchTx(branch).ExpectEtag(labelID, planKey(branch, id), "").ExpectAbsent(labelYear, planYearKey(branch, w.GetYear()))
	if err := tx.PutMessage(planKey(branch, id), w, w.GetEtag()); err != nil {
		return err
	}
	tx.Set(planYearKey(branch, w.GetYear()), id).ZAdd(planIndexKey(branch), 0, planMember(w))
	if err := eventstream.Append(tx, streams.BranchTag(branch), ev); err != nil {
		return err
	}
	return s.commit(ctx, tx)
}

// GetWorkPlan reads one plan.
func (s *Store) GetWorkPlan(ctx context.Context, branch, id string) (*governancev1.WorkPlan, error) {
	return get(ctx, s.client, planKey(branch, id), &governancev1.WorkPlan{})
}

// WorkPlanOfYear is the year's plan id, or "".
func (s *Store) WorkPlanOfYear(ctx context.Context, branch string, year int32) (string, error) {
	id, err := s.client.Get(ctx, planYearKey(branch, year)).Result()
	if errors.Is(err, redis.Nil) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("store: work plan of %d: %w", year, err)
	}
	return id, nil
}

// ListWorkPlans pages by year, then creation.
func (s *Store) ListWorkPlans(ctx context.Context, branch, after string, size int, keep func(*governancev1.WorkPlan) bool) (page.Page[*governancev1.WorkPlan], error) {
	return redistx.ScanPage(ctx, s.client, planIndexKey(branch), after, size,
		func(member string) string { return planKey(branch, lastPart(member)) },
		func() *governancev1.WorkPlan { return &governancev1.WorkPlan{} }, keep)
}

// SaveWorkPlan writes a change with its event.
func (s *Store) SaveWorkPlan(ctx context.Context, branch string, w *governancev1.WorkPlan, prevEtag string, ev *eventsv1.Envelope) error {
	id := path.Base(w.GetName())
	tx := branchTx(branch).ExpectEtag("etag", planKey(branch, id), prevEtag)
	if err := tx.PutMessage(planKey(branch, id), w, w.GetEtag()); err != nil {
		return err
	}
	if err := eventstream.Append(tx, streams.BranchTag(branch), ev); err != nil {
		return err
	}
	return s.commit(ctx, tx)
}

func planOf(item string) string {
	// branches/{b}/workPlans/{plan}/items/{id}
	parts := strings.Split(item, "/")
	if len(parts) < 4 {
		return ""
	}
	return parts[3]
}

func itemMember(i *governancev1.WorkItem) string {
	return redistx.SortableTime(i.GetCreateTime().AsTime()) + ":" + path.Base(i.GetName())
}

// CreateWorkItem stores a new item of a plan.
func (s *Store) CreateWorkItem(ctx context.Context, branch string, i *governancev1.WorkItem, evs ...*eventsv1.Envelope) error {
	plan, id := planOf(i.GetName()), path.Base(i.GetName())
	tx := branchTx(branch).ExpectEtag(labelID, itemKey(branch, plan, id), "")
	if err := tx.PutMessage(itemKey(branch, plan, id), i, i.GetEtag()); err != nil {
		return err
	}
	tx.ZAdd(itemIndexKey(branch, plan), 0, itemMember(i))
	if err := eventstream.Append(tx, streams.BranchTag(branch), evs...); err != nil {
		return err
	}
	return s.commit(ctx, tx)
}

// GetWorkItem reads one item.
func (s *Store) GetWorkItem(ctx context.Context, branch, plan, id string) (*governancev1.WorkItem, error) {
	return get(ctx, s.client, itemKey(branch, plan, id), &governancev1.WorkItem{})
}

// WorkItems reads every item of a plan in creation order.
func (s *Store) WorkItems(ctx context.Context, branch, plan string) ([]*governancev1.WorkItem, error) {
	members, err := s.members(ctx, itemIndexKey(branch, plan), "-", "+")
	if err != nil {
		return nil, err
	}
	keys := make([]string, len(members))
	for i, m := range members {
		keys[i] = itemKey(branch, plan, lastPart(m))
	}
	return redistx.LoadAll(ctx, s.client, keys, func() *governancev1.WorkItem { return &governancev1.WorkItem{} })
}

// ListWorkItems pages by creation.
func (s *Store) ListWorkItems(ctx context.Context, branch, plan, after string, size int, keep func(*governancev1.WorkItem) bool) (page.Page[*governancev1.WorkItem], error) {
	return redistx.ScanPage(ctx, s.client, itemIndexKey(branch, plan), after, size,
		func(member string) string { return itemKey(branch, plan, lastPart(member)) },
		func() *governancev1.WorkItem { return &governancev1.WorkItem{} }, keep)
}

// SaveWorkItem writes a change of an item.
func (s *Store) SaveWorkItem(ctx context.Context, branch string, i *governancev1.WorkItem, prevEtag string, evs ...*eventsv1.Envelope) error {
	plan, id := planOf(i.GetName()), path.Base(i.GetName())
	tx := branchTx(branch).ExpectEtag("etag", itemKey(branch, plan, id), prevEtag)
	if err := tx.PutMessage(itemKey(branch, plan, id), i, i.GetEtag()); err != nil {
		return err
	}
	if err := eventstream.Append(tx, streams.BranchTag(branch), evs...); err != nil {
		return err
	}
	return s.commit(ctx, tx)
}
