package store

import (
	"context"
	"errors"
	"fmt"
	"path"

	"github.com/redis/go-redis/v9"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/tjsia/chapterhouse/platform/eventstream"
	"github.com/tjsia/chapterhouse/platform/ids"
	"github.com/tjsia/chapterhouse/platform/redistx"
	"github.com/tjsia/chapterhouse/platform/retry"
	activitiesv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/activities/v1"
	eventsv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/events/v1"

	"github.com/tjsia/chapterhouse/services/activities/internal/domain"
)

// registerScript decides CONFIRMED or WAITLISTED inside Redis, so that under
// any concurrency confirmed ≤ capacity and the waitlist keeps arrival
// order. A registration that already holds a place is returned unchanged,
// which also makes a go-redis retry of this script harmless.
//
// KEYS: gate, waitlist, regs, reg, outbox.
// ARGV: person, now ms, static registration, etag, confirmed envelope,
// waitlisted envelope, confirmed event id, waitlisted event id.
var registerScript = redis.NewScript(`
local g = redis.call('HMGET', KEYS[1], 'state', 'cap', 'conf', 'open', 'close')
if not g[1] then return {'NOACT', ''} end
if g[1] ~= 'PUBLISHED' then return {'STATE', g[1]} end
local now = tonumber(ARGV[2])
if now < tonumber(g[4]) then return {'NOT_OPEN', g[4]} end
if now > tonumber(g[5]) then return {'CLOSED', g[5]} end
local st = redis.call('HGET', KEYS[4], 'st')
if st and st ~= 'CANCELLED' then return {'EXISTS', st} end
local seq = redis.call('HINCRBY', KEYS[1], 'seq', 1)
redis.call('HINCRBY', KEYS[1], 'ver', 1)
local cap, conf = tonumber(g[2]), tonumber(g[3])
local state, env, id
if (cap == 0 or conf < cap) and redis.call('ZCARD', KEYS[2]) == 0 then
  state, env, id = 'CONFIRMED', ARGV[5], ARGV[7]
  redis.call('HINCRBY', KEYS[1], 'conf', 1)
else
  state, env, id = 'WAITLISTED', ARGV[6], ARGV[8]
  redis.call('ZADD', KEYS[2], seq, ARGV[1])
end
redis.call('DEL', KEYS[4])
redis.call('HSET', KEYS[4], 'd', ARGV[3], 'st', state, 'ut', ARGV[2], 'e', ARGV[4])
redis.call('ZADD', KEYS[3], seq, ARGV[1])
redis.call('XADD', KEYS[5], '*', 'id', id, 'env', env)
return {'OK', state}
`)

// Register decides the registration's state atomically.
func (s *Store) Register(ctx context.Context, branch, activityID string, reg *activitiesv1.Registration,
	mkEvents func(confirmed, waitlisted *activitiesv1.Registration) (*eventsv1.Envelope, *eventsv1.Envelope)) (*activitiesv1.Registration, bool, error) {
	person := path.Base(reg.GetName())
	now := s.now()
	static := proto.Clone(reg).(*activitiesv1.Registration)
	static.State, static.Etag, static.WaitlistPosition = 0, "", 0
	static.RegisterTime = timestamppb.New(now)
	data, err := marshal(static)
	if err != nil {
		return nil, false, err
	}
	etag := ids.Random()[:16]
	confirmed := proto.Clone(static).(*activitiesv1.Registration)
	confirmed.State, confirmed.Etag, confirmed.UpdateTime = activitiesv1.RegistrationState_REGISTRATION_STATE_CONFIRMED, etag, timestamppb.New(now)
	waitlisted := proto.Clone(confirmed).(*activitiesv1.Registration)
	waitlisted.State = activitiesv1.RegistrationState_REGISTRATION_STATE_WAITLISTED
	confEnv, waitEnv := mkEvents(confirmed, waitlisted)
	confBytes, err := envBytes(confEnv)
	if err != nil {
		return nil, false, err
	}
	waitBytes, err := envBytes(waitEnv)
	if err != nil {
		return nil, false, err
	}
	keys := []string{gateKey(branch, activityID), waitKey(branch, activityID), regsKey(branch, activityID),
		regKey(branch, activityID, person), eventstream.StreamKey(BranchTag(branch))}
	res, err := registerScript.Run(ctx, s.client, keys, person, now.UnixMilli(), data, etag,
		confBytes, waitBytes, confEnv.GetId(), waitEnv.GetId()).StringSlice()
	if err != nil {
		return nil, false, fmt.Errorf("store: register: %w", err)
	}
	switch res[0] {
	case "OK":
		stored, err := s.GetRegistration(ctx, branch, activityID, person)
		return stored, false, err
	case "EXISTS":
		stored, err := s.GetRegistration(ctx, branch, activityID, person)
		return stored, true, err
	case "NOACT":
		return nil, false, domain.ErrNotFound
	default:
		return nil, false, &domain.RegisterRefusal{Reason: res[0], Detail: res[1]}
	}
}

// cancelScript cancels a CONFIRMED or WAITLISTED registration and, when a
// confirmed place frees, promotes the waitlist's head in the same step.
// The caller names the head it expects (its events were built for that
// person); if the queue moved, the script changes nothing and says RETRY.
//
// KEYS: gate, waitlist, reg, head reg, outbox, applied marker.
// ARGV: person, now ms, reason, client etag, new etag, expected head,
// head's new etag, cancel envelope, its id, promote envelope, its id.
var cancelScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[6]) == 1 then return {'DUP', ''} end
local r = redis.call('HMGET', KEYS[3], 'st', 'e')
if not r[1] then return {'NOREG', ''} end
if r[1] ~= 'CONFIRMED' and r[1] ~= 'WAITLISTED' then return {'STATE', r[1]} end
local gs = redis.call('HGET', KEYS[1], 'state')
if gs ~= 'PUBLISHED' then return {'ACTSTATE', gs or ''} end
if ARGV[4] ~= '' and ARGV[4] ~= r[2] then return {'ETAG', r[2]} end
local head = ''
if r[1] == 'CONFIRMED' then
  local h = redis.call('ZRANGE', KEYS[2], 0, 0)
  if h[1] then head = h[1] end
end
if head ~= ARGV[6] then return {'RETRY', head} end
redis.call('HINCRBY', KEYS[1], 'ver', 1)
redis.call('HSET', KEYS[3], 'st', 'CANCELLED', 'cr', ARGV[3], 'ct', ARGV[2], 'ut', ARGV[2], 'e', ARGV[5])
redis.call('XADD', KEYS[5], '*', 'id', ARGV[9], 'env', ARGV[8])
if r[1] == 'WAITLISTED' then
  redis.call('ZREM', KEYS[2], ARGV[1])
elseif head ~= '' then
  redis.call('ZREM', KEYS[2], head)
  redis.call('HSET', KEYS[4], 'st', 'CONFIRMED', 'pt', ARGV[2], 'ut', ARGV[2], 'e', ARGV[7])
  redis.call('XADD', KEYS[5], '*', 'id', ARGV[11], 'env', ARGV[10])
else
  redis.call('HINCRBY', KEYS[1], 'conf', -1)
end
redis.call('SET', KEYS[6], '1', 'EX', 86400)
return {'OK', head}
`)

// errHeadMoved: the waitlist's head changed between reading it and the
// cancel script.
var errHeadMoved = errors.New("store: waitlist head moved")

// CancelRegistration cancels and promotes atomically.
func (s *Store) CancelRegistration(ctx context.Context, branch, activityID, person, reason, clientEtag string,
	mkEvents func(cancelled, promoted *activitiesv1.Registration) []*eventsv1.Envelope) (*activitiesv1.Registration, *activitiesv1.Registration, error) {
	marker := redistx.Key(BranchTag(branch), "tx", ids.Random())
	// The events were built for the waitlist head that was read; when the
	// queue moved before the script ran, read it again.
	type outcome struct{ cancelled, promoted *activitiesv1.Registration }
	out, err := retry.Conflicts(ctx, func(err error) bool { return errors.Is(err, errHeadMoved) }, func() (outcome, error) {
		cur, err := s.GetRegistration(ctx, branch, activityID, person)
		if err != nil {
			return outcome{}, err
		}
		now := s.now()
		cancelled := proto.Clone(cur).(*activitiesv1.Registration)
		cancelled.State, cancelled.CancelReason = activitiesv1.RegistrationState_REGISTRATION_STATE_CANCELLED, reason
		cancelled.CancelTime, cancelled.UpdateTime, cancelled.Etag = timestamppb.New(now), timestamppb.New(now), ids.Random()[:16]
		cancelled.WaitlistPosition = 0
		var promoted *activitiesv1.Registration
		head := ""
		if cur.GetState() == activitiesv1.RegistrationState_REGISTRATION_STATE_CONFIRMED {
			h, err := s.client.ZRange(ctx, waitKey(branch, activityID), 0, 0).Result()
			if err != nil {
				return outcome{}, fmt.Errorf("store: waitlist head: %w", err)
			}
			if len(h) > 0 {
				head = h[0]
				hr, err := s.GetRegistration(ctx, branch, activityID, head)
				if err != nil {
					return outcome{}, err
				}
				promoted = proto.Clone(hr).(*activitiesv1.Registration)
				promoted.State, promoted.WaitlistPosition = activitiesv1.RegistrationState_REGISTRATION_STATE_CONFIRMED, 0
				promoted.PromoteTime, promoted.UpdateTime, promoted.Etag = timestamppb.New(now), timestamppb.New(now), ids.Random()[:16]
			}
		}
		evs := mkEvents(cancelled, promoted)
		cancelBytes, err := envBytes(evs[0])
		if err != nil {
			return outcome{}, err
		}
		promoteBytes, promoteID := "", ""
		if promoted != nil {
			if promoteBytes, err = envBytes(evs[1]); err != nil {
				return outcome{}, err
			}
			promoteID = evs[1].GetId()
		}
		headKey := regKey(branch, activityID, head)
		keys := []string{gateKey(branch, activityID), waitKey(branch, activityID), regKey(branch, activityID, person),
			headKey, eventstream.StreamKey(BranchTag(branch)), marker}
		res, err := cancelScript.Run(ctx, s.client, keys, person, now.UnixMilli(), reason, clientEtag, cancelled.GetEtag(),
			head, promoted.GetEtag(), cancelBytes, evs[0].GetId(), promoteBytes, promoteID).StringSlice()
		if err != nil {
			return outcome{}, fmt.Errorf("store: cancel registration: %w", err)
		}
		switch res[0] {
		case "OK", "DUP":
			return outcome{cancelled, promoted}, nil
		case "RETRY":
			return outcome{}, errHeadMoved
		case "ETAG":
			return outcome{}, domain.ErrStale
		case "NOREG":
			return outcome{}, domain.ErrNotFound
		default:
			return outcome{cancelled: cur}, &domain.RegisterRefusal{Reason: res[0], Detail: res[1]}
		}
	})
	if errors.Is(err, retry.ErrExhausted) {
		return nil, nil, domain.ErrStale
	}
	return out.cancelled, out.promoted, err
}
