// Package directory keeps governance's branches as a read model in the
// consumer's own Redis, under the consumer's own hash tag: the branches from
// BranchCreated and BranchUpdated (governance's branches stream), and each
// branch's officers from its OfficerAppointed and OfficeEnded (the branch's
// stream): who leads it (chair and secretary-general) and who sits on its
// council.
package directory

import (
	"context"
	"errors"
	"fmt"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
	"google.golang.org/protobuf/proto"

	"github.com/tjsia/chapterhouse/platform/follow"
	eventsv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/events/v1"
	governancev1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/governance/v1"

	"github.com/tjsia/chapterhouse/contracts/governance/branches"
	"github.com/tjsia/chapterhouse/contracts/governance/streams"
)

// Directory is a branches.Lookup kept from governance's events in the consumer's
// own Redis, under the consumer's own hash tag.
type Directory struct {
	client redis.UniversalClient
	tag    string
	now    func() time.Time
}

var _ branches.Lookup = (*Directory)(nil)

// New returns a directory in client under hash tag tag (the consumer's,
// such as "act:branches"); now nil means time.Now.
func New(client redis.UniversalClient, tag string, now func() time.Time) *Directory {
	if now == nil {
		now = time.Now
	}
	return &Directory{client: client, tag: tag, now: now}
}

func (d *Directory) key(parts ...string) string {
	k := "{" + d.tag + "}"
	for _, p := range parts {
		k += ":" + p
	}
	return k
}

func (d *Directory) branchKey(id string) string      { return d.key("branch", id) }
func (d *Directory) idsKey() string                  { return d.key("ids") }
func (d *Directory) leadersKey(branch string) string { return d.key("leaders", branch) }

// officersKey holds every officer of the branch (leadersKey, kept first,
// only its chair and secretary-general).
func (d *Directory) officersKey(branch string) string { return d.key("officers", branch) }

// HandleEvent applies governance's events: a branch created or updated,
// and the appointment and end of a chair or secretary-general. It is
// idempotent, and an event older than what is stored changes nothing.
func (d *Directory) HandleEvent(ctx context.Context, env *eventsv1.Envelope) error {
	switch {
	case env.GetBranchCreated() != nil:
		return d.putBranch(ctx, env.GetBranchCreated().GetBranch())
	case env.GetBranchUpdated() != nil:
		return d.putBranch(ctx, env.GetBranchUpdated().GetBranch())
	case env.GetOfficerAppointed() != nil:
		return d.putLeader(ctx, env.GetOfficerAppointed().GetOfficer())
	case env.GetOfficeEnded() != nil:
		return d.putLeader(ctx, env.GetOfficeEnded().GetOfficer())
	}
	return nil
}

// putBranch stores b unless a newer version is stored: the write is a
// compare on update_time inside Redis, so a replayed or reordered event
// never rolls a branch back.
var putIfNewer = redis.NewScript(`
local cur = redis.call('HGET', KEYS[1], 'ut')
if cur and tonumber(cur) > tonumber(ARGV[2]) then return 0 end
redis.call('HSET', KEYS[1], 'd', ARGV[1], 'ut', ARGV[2])
redis.call('SADD', KEYS[2], ARGV[3])
return 1`)

func (d *Directory) putBranch(ctx context.Context, b *governancev1.Branch) error {
	data, err := proto.Marshal(b)
	if err != nil {
		return fmt.Errorf("branches: marshal: %w", err)
	}
	id := path.Base(b.GetName())
	ut := b.GetUpdateTime().AsTime().UnixNano()
	if err := putIfNewer.Run(ctx, d.client, []string{d.branchKey(id), d.idsKey()}, string(data), ut, id).Err(); err != nil {
		return fmt.Errorf("branches: store %s: %w", b.GetName(), err)
	}
	return nil
}

// Branch returns a known branch.
func (d *Directory) Branch(ctx context.Context, id string) (*governancev1.Branch, error) {
	data, err := d.client.HGet(ctx, d.branchKey(id), "d").Result()
	if errors.Is(err, redis.Nil) {
		return nil, branches.ErrUnknown
	}
	if err != nil {
		return nil, fmt.Errorf("branches: read %s: %w", id, err)
	}
	b := &governancev1.Branch{}
	if err := proto.Unmarshal([]byte(data), b); err != nil {
		return nil, fmt.Errorf("branches: decode %s: %w", id, err)
	}
	return b, nil
}

// IDs lists the known branches.
func (d *Directory) IDs(ctx context.Context) ([]string, error) {
	ids, err := d.client.SMembers(ctx, d.idsKey()).Result()
	if err != nil {
		return nil, fmt.Errorf("branches: list: %w", err)
	}
	slices.Sort(ids)
	return ids, nil
}

// putLeader records an office as it now stands (appointed or ended):
// every office among the officers, a chair's or secretary-general's among
// the leaders too.
func (d *Directory) putLeader(ctx context.Context, o *governancev1.Officer) error {
	data, err := proto.Marshal(o)
	if err != nil {
		return fmt.Errorf("branches: marshal: %w", err)
	}
	// An officer is appointed once and ended at most once, so the ENDED
	// record wins whatever order the two arrive in.
	branch := branchOf(o.GetName())
	keys := []string{d.officersKey(branch)}
	if branches.Leads(o) {
		keys = append(keys, d.leadersKey(branch))
	}
	for _, key := range keys {
		if o.GetState() != governancev1.OfficerState_OFFICER_STATE_ENDED {
			err = d.client.HSetNX(ctx, key, o.GetName(), data).Err()
		} else {
			err = d.client.HSet(ctx, key, o.GetName(), data).Err()
		}
		if err != nil {
			return fmt.Errorf("branches: officer %s: %w", o.GetName(), err)
		}
	}
	return nil
}

func branchOf(name string) string {
	// branches/{b}/terms/{n}/officers/{id}
	parts := strings.Split(name, "/")
	if len(parts) < 2 {
		return ""
	}
	return parts[1]
}

// Leaders are the people serving today as the branch's chair or
// secretary-general: the branch's business is theirs to run.
func (d *Directory) Leaders(ctx context.Context, branch string) ([]string, error) {
	all, err := d.client.HGetAll(ctx, d.leadersKey(branch)).Result()
	if err != nil {
		return nil, fmt.Errorf("branches: leaders of %s: %w", branch, err)
	}
	today := branches.Today(d.now())
	var out []string
	for _, data := range all {
		o := &governancev1.Officer{}
		if err := proto.Unmarshal([]byte(data), o); err != nil {
			return nil, fmt.Errorf("branches: decode officer: %w", err)
		}
		if branches.ServingOn(o, today) && !slices.Contains(out, o.GetPerson()) {
			out = append(out, o.GetPerson())
		}
	}
	slices.Sort(out)
	return out, nil
}

// Council are the people sitting on the branch's council today
// (branches.Council).
func (d *Directory) Council(ctx context.Context, branch string) ([]string, error) {
	all, err := d.client.HGetAll(ctx, d.officersKey(branch)).Result()
	if err != nil {
		return nil, fmt.Errorf("branches: officers of %s: %w", branch, err)
	}
	officers := make([]*governancev1.Officer, 0, len(all))
	for _, data := range all {
		o := &governancev1.Officer{}
		if err := proto.Unmarshal([]byte(data), o); err != nil {
			return nil, fmt.Errorf("branches: decode officer: %w", err)
		}
		officers = append(officers, o)
	}
	return branches.Council(officers, branches.Today(d.now())), nil
}

// FollowBranches declares the stream that keeps the directory's branches:
// governance's branch register (BranchCreated, BranchUpdated).
func (d *Directory) FollowBranches() follow.Stream {
	return follow.One(streams.Producer, streams.Branches(), d.HandleEvent)
}

// FollowOfficers declares the streams that keep each known branch's
// officers: one per branch the directory holds, from governance's Redis.
func (d *Directory) FollowOfficers() follow.Stream {
	known := func(ctx context.Context, _ redis.UniversalClient) ([]string, error) { return d.IDs(ctx) }
	return follow.PerKey(streams.Producer, known, streams.Branch, d.HandleEvent)
}
