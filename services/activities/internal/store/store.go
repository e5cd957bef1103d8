// Package store keeps activities in Redis. A branch's activities and their
// registrations share one hash tag, {act:br:<branch>}: registering,
// cancelling with promotion from the waitlist, and cancelling or completing
// an activity with all its registrations are each one atomic script on one
// slot. A Redis Cluster therefore spreads branches, not one branch's
// calendar, which at a branch's scale (hundreds of activities, thousands of
// registrations a year) is the right trade for exact capacity. Certificates
// are global resources under {act:certs}.
//
// Per activity:
//
//	act:<id>         record (protobuf + etag)
//	gate:<id>        what the register script decides on: state, cap (0 =
//	                 unlimited), conf (CONFIRMED+ATTENDED), open/close (ms),
//	                 seq (arrival counter), ver (bumped by every
//	                 registration change, for snapshot-based bulk writes)
//	wl:<id>          waitlist, score = arrival seq
//	regs:<id>        every registration, score = arrival seq
//	reg:<id>:<p>     registration: d (static protobuf) and mutable fields
//	                 st, pt, ct, cr, ci, ut (times in ms), e (etag),
//	                 cib (who checked the person in)
package store

import (
	"context"
	"errors"
	"fmt"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/tjsia/chapterhouse/platform/eventstream"
	"github.com/tjsia/chapterhouse/platform/ids"
	"github.com/tjsia/chapterhouse/platform/page"
	"github.com/tjsia/chapterhouse/platform/redistx"
	"github.com/tjsia/chapterhouse/platform/retry"
	activitiesv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/activities/v1"
	eventsv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/events/v1"

	"github.com/tjsia/chapterhouse/contracts/activities/streams"
	"github.com/tjsia/chapterhouse/services/activities/internal/domain"
)

// CertsTag is the hash tag of certificates (the published stream contract).
const CertsTag = streams.CertificatesTag

// BranchTag is the hash tag of a branch's activities.
func BranchTag(branch string) string { return streams.BranchTag(branch) }

// Store implements domain.Repository.
type Store struct {
	client redis.UniversalClient
	now    func() time.Time
}

var _ domain.Repository = (*Store)(nil)

// New returns a store over client; now is the clock registration windows
// are checked against.
func New(client redis.UniversalClient, now func() time.Time) *Store {
	if now == nil {
		now = time.Now
	}
	return &Store{client: client, now: now}
}

func k(branch string, parts ...string) string { return redistx.Key(BranchTag(branch), parts...) }

func actKey(b, id string) string     { return k(b, "act", id) }
func gateKey(b, id string) string    { return k(b, "gate", id) }
func waitKey(b, id string) string    { return k(b, "wl", id) }
func regsKey(b, id string) string    { return k(b, "regs", id) }
func regKey(b, id, p string) string  { return k(b, "reg", id, p) }
func indexKey(b string) string       { return k(b, "idx") }
func certKey(id string) string       { return redistx.Key(CertsTag, "cert", id) }
func codeKey(code string) string     { return redistx.Key(CertsTag, "code", code) }
func certByRegKey(reg string) string { return redistx.Key(CertsTag, "byreg", reg) }
func certIndexKey() string           { return redistx.Key(CertsTag, "idx") }

// indexMember orders a branch's activities by start time, then id
// (redistx.SortableTime: every time a timestamp can hold sorts right; a
// decimal "%013d" once made times before 1970 and after 2286 unreadable,
// so they vanished from every list, quota and cascade).
func indexMember(a *activitiesv1.Activity) string {
	return redistx.SortableTime(a.GetStartTime().AsTime()) + ":" + path.Base(a.GetName())
}

// indexedID is the activity id of an index member: what follows the first
// colon (ids have none). It also reads members written before startKey.
func indexedID(member string) string {
	_, id, _ := strings.Cut(member, ":")
	return id
}

func ms(t time.Time) string { return strconv.FormatInt(t.UnixMilli(), 10) }

func newTx(tag string) *redistx.Tx { return redistx.New(tag, ids.Random()) }

// marshal is m's protobuf bytes as an argument of a script.
func marshal(m proto.Message) (string, error) {
	b, err := proto.Marshal(m)
	if err != nil {
		return "", fmt.Errorf("store: marshal: %w", err)
	}
	return string(b), nil
}

func envBytes(env *eventsv1.Envelope) (string, error) { return marshal(env) }

// commit commits tx, a failed condition answered as its label says
// (failure).
func (s *Store) commit(ctx context.Context, tx *redistx.Tx) error {
	return tx.CommitAs(ctx, s.client, failure)
}

// failure: a failed condition labelled "id" is a taken id, any other a
// record that changed since it was read.
func failure(failed *redistx.ConditionFailedError) error {
	if failed.Label == "id" {
		return domain.ErrExists
	}
	return domain.ErrStale
}

// gateFields are the activity fields the register script decides on.
func gateFields(a *activitiesv1.Activity) []string {
	open, closeAt := domain.RegistrationWindow(a)
	state := a.GetState().String()
	return []string{
		"state", strings.TrimPrefix(state, "ACTIVITY_STATE_"),
		"cap", strconv.Itoa(int(a.GetCapacity())),
		"open", ms(open), "close", ms(closeAt),
	}
}

// CreateActivity stores a new activity.
func (s *Store) CreateActivity(ctx context.Context, branch string, a *activitiesv1.Activity, ev *eventsv1.Envelope) error {
	id := path.Base(a.GetName())
	tx := newTx(BranchTag(branch)).ExpectEtag("id", actKey(branch, id), "")
	if err := tx.PutMessage(actKey(branch, id), a, a.GetEtag()); err != nil {
		return err
	}
	tx.HSet(gateKey(branch, id), append(gateFields(a), "conf", "0", "seq", "0", "ver", "0")...).
		ZAdd(indexKey(branch), 0, indexMember(a))
	if err := eventstream.Append(tx, BranchTag(branch), ev); err != nil {
		return err
	}
	return s.commit(ctx, tx)
}

// GetActivity reads an activity with its live counts.
func (s *Store) GetActivity(ctx context.Context, branch, id string) (*activitiesv1.Activity, error) {
	a, err := redistx.GetMessage(ctx, s.client, actKey(branch, id), &activitiesv1.Activity{}, domain.ErrNotFound)
	if err != nil {
		return nil, err
	}
	if err := s.fillCounts(ctx, branch, []*activitiesv1.Activity{a}); err != nil {
		return nil, err
	}
	return a, nil
}

func (s *Store) fillCounts(ctx context.Context, branch string, acts []*activitiesv1.Activity) error {
	if len(acts) == 0 {
		return nil
	}
	pipe := s.client.Pipeline()
	confs := make([]*redis.StringCmd, len(acts))
	waits := make([]*redis.IntCmd, len(acts))
	for i, a := range acts {
		id := path.Base(a.GetName())
		confs[i] = pipe.HGet(ctx, gateKey(branch, id), "conf")
		waits[i] = pipe.ZCard(ctx, waitKey(branch, id))
	}
	if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
		return fmt.Errorf("store: counts: %w", err)
	}
	for i, a := range acts {
		conf, _ := strconv.Atoi(confs[i].Val())
		a.ConfirmedCount, a.WaitlistCount = int32(conf), int32(waits[i].Val())
	}
	return nil
}

// ListActivities pages in start-time order.
func (s *Store) ListActivities(ctx context.Context, branch, after string, size int, keep func(*activitiesv1.Activity) bool) (page.Page[*activitiesv1.Activity], error) {
	page, err := redistx.ScanPage(ctx, s.client, indexKey(branch), after, size,
		func(member string) string { return actKey(branch, indexedID(member)) },
		func() *activitiesv1.Activity { return &activitiesv1.Activity{} },
		keep)
	if err != nil {
		return page, err
	}
	return page, s.fillCounts(ctx, branch, page.Items)
}

// SaveActivity writes a change that leaves registrations alone.
func (s *Store) SaveActivity(ctx context.Context, branch string, a, prev *activitiesv1.Activity, evs ...*eventsv1.Envelope) error {
	tx, err := activityTx(branch, a, prev)
	if err != nil {
		return err
	}
	if err := eventstream.Append(tx, BranchTag(branch), evs...); err != nil {
		return err
	}
	return s.commit(ctx, tx)
}

// activityTx starts a Tx replacing prev by a (record, gate, index) on
// condition that the stored record is still prev (its etag), so prev's
// index entry is the one to move.
func activityTx(branch string, a, prev *activitiesv1.Activity) (*redistx.Tx, error) {
	id := path.Base(a.GetName())
	tx := newTx(BranchTag(branch)).ExpectEtag("etag", actKey(branch, id), prev.GetEtag())
	if err := tx.PutMessage(actKey(branch, id), withoutCounts(a), a.GetEtag()); err != nil {
		return nil, err
	}
	tx.HSet(gateKey(branch, id), gateFields(a)...)
	if indexMember(prev) != indexMember(a) {
		tx.ZRem(indexKey(branch), indexMember(prev)).ZAdd(indexKey(branch), 0, indexMember(a))
	}
	return tx, nil
}

func withoutCounts(a *activitiesv1.Activity) *activitiesv1.Activity {
	c := proto.Clone(a).(*activitiesv1.Activity)
	c.ConfirmedCount, c.WaitlistCount = 0, 0
	return c
}

// --- registrations ---

var regStates = map[string]activitiesv1.RegistrationState{
	"CONFIRMED":  activitiesv1.RegistrationState_REGISTRATION_STATE_CONFIRMED,
	"WAITLISTED": activitiesv1.RegistrationState_REGISTRATION_STATE_WAITLISTED,
	"CANCELLED":  activitiesv1.RegistrationState_REGISTRATION_STATE_CANCELLED,
	"ATTENDED":   activitiesv1.RegistrationState_REGISTRATION_STATE_ATTENDED,
	"NO_SHOW":    activitiesv1.RegistrationState_REGISTRATION_STATE_NO_SHOW,
}

func stateName(st activitiesv1.RegistrationState) string {
	return strings.TrimPrefix(st.String(), "REGISTRATION_STATE_")
}

func msTime(v string) *timestamppb.Timestamp {
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n == 0 {
		return nil
	}
	return timestamppb.New(time.UnixMilli(n))
}

// decodeRegistration merges a registration hash into its protobuf.
func decodeRegistration(h map[string]string) (*activitiesv1.Registration, error) {
	r := &activitiesv1.Registration{}
	if err := proto.Unmarshal([]byte(h["d"]), r); err != nil {
		return nil, fmt.Errorf("store: decode registration: %w", err)
	}
	r.State = regStates[h["st"]]
	r.PromoteTime, r.CancelTime, r.CheckInTime, r.UpdateTime = msTime(h["pt"]), msTime(h["ct"]), msTime(h["ci"]), msTime(h["ut"])
	r.CancelReason, r.Etag, r.CheckInRecorder = h["cr"], h["e"], h["cib"]
	return r, nil
}

// GetRegistration reads one registration with its waitlist position.
func (s *Store) GetRegistration(ctx context.Context, branch, activityID, person string) (*activitiesv1.Registration, error) {
	h, err := s.client.HGetAll(ctx, regKey(branch, activityID, person)).Result()
	if err != nil {
		return nil, fmt.Errorf("store: get registration: %w", err)
	}
	if len(h) == 0 {
		return nil, domain.ErrNotFound
	}
	r, err := decodeRegistration(h)
	if err != nil {
		return nil, err
	}
	if r.GetState() == activitiesv1.RegistrationState_REGISTRATION_STATE_WAITLISTED {
		rank, err := s.client.ZRank(ctx, waitKey(branch, activityID), person).Result()
		if err == nil {
			r.WaitlistPosition = int32(rank) + 1
		}
	}
	return r, nil
}

// ListRegistrations returns every registration of an activity in arrival
// order, with waitlist positions.
func (s *Store) ListRegistrations(ctx context.Context, branch, activityID string) ([]*activitiesv1.Registration, error) {
	snap, err := s.Snapshot(ctx, branch, activityID)
	if err != nil {
		return nil, err
	}
	return snap.Registrations, nil
}

// Snapshot reads an activity, its registrations and its waitlist at one
// version: the reads are one MULTI, so they see one moment.
func (s *Store) Snapshot(ctx context.Context, branch, id string) (*domain.Snapshot, error) {
	a, err := s.GetActivity(ctx, branch, id)
	if err != nil {
		return nil, err
	}
	out, err := retry.Conflicts(ctx, domain.IsStale, func() (*domain.Snapshot, error) {
		pipe := s.client.TxPipeline()
		ver := pipe.HGet(ctx, gateKey(branch, id), "ver")
		conf := pipe.HGet(ctx, gateKey(branch, id), "conf")
		people := pipe.ZRange(ctx, regsKey(branch, id), 0, -1)
		wait := pipe.ZRange(ctx, waitKey(branch, id), 0, -1)
		if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
			return nil, fmt.Errorf("store: snapshot: %w", err)
		}
		regPipe := s.client.TxPipeline()
		verAgain := regPipe.HGet(ctx, gateKey(branch, id), "ver")
		hashes := make([]*redis.MapStringStringCmd, len(people.Val()))
		for i, p := range people.Val() {
			hashes[i] = regPipe.HGetAll(ctx, regKey(branch, id, p))
		}
		if _, err := regPipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
			return nil, fmt.Errorf("store: snapshot: %w", err)
		}
		if verAgain.Val() != ver.Val() {
			return nil, domain.ErrStale // registrations moved between the two reads
		}
		positions := map[string]int32{}
		for i, p := range wait.Val() {
			positions[p] = int32(i) + 1
		}
		// The counts must be those of this version, not of the earlier
		// read of the activity.
		confirmed, _ := strconv.Atoi(conf.Val())
		a.ConfirmedCount, a.WaitlistCount = int32(confirmed), int32(len(wait.Val()))
		snap := &domain.Snapshot{Activity: a, Waitlist: wait.Val(), Ver: ver.Val()}
		for _, h := range hashes {
			r, err := decodeRegistration(h.Val())
			if err != nil {
				return nil, err
			}
			r.WaitlistPosition = positions[path.Base(r.GetName())]
			snap.Registrations = append(snap.Registrations, r)
		}
		return snap, nil
	})
	if errors.Is(err, retry.ErrExhausted) {
		return nil, domain.ErrStale
	}
	return out, err
}

// ApplySnapshot writes a bulk change if no registration moved since snap.
func (s *Store) ApplySnapshot(ctx context.Context, branch string, snap *domain.Snapshot, a *activitiesv1.Activity, changes []*activitiesv1.Registration, evs ...*eventsv1.Envelope) error {
	id := path.Base(snap.Activity.GetName())
	var tx *redistx.Tx
	if a != nil {
		var err error
		if tx, err = activityTx(branch, a, snap.Activity); err != nil {
			return err
		}
	} else {
		tx = newTx(BranchTag(branch))
	}
	ver, _ := strconv.Atoi(snap.Ver)
	tx.ExpectHashField("ver", gateKey(branch, id), "ver", snap.Ver)
	conf := int(snap.Activity.GetConfirmedCount())
	waiting := map[string]bool{}
	for _, p := range snap.Waitlist {
		waiting[p] = true
	}
	before := map[string]activitiesv1.RegistrationState{}
	for _, r := range snap.Registrations {
		before[r.GetName()] = r.GetState()
	}
	for _, r := range changes {
		person := path.Base(r.GetName())
		fields := []string{"st", stateName(r.GetState()), "ut", ms(r.GetUpdateTime().AsTime()), "e", r.GetEtag()}
		if r.GetPromoteTime() != nil {
			fields = append(fields, "pt", ms(r.GetPromoteTime().AsTime()))
		}
		if r.GetCancelTime() != nil {
			fields = append(fields, "ct", ms(r.GetCancelTime().AsTime()), "cr", r.GetCancelReason())
		}
		if r.GetCheckInTime() != nil {
			fields = append(fields, "ci", ms(r.GetCheckInTime().AsTime()), "cib", r.GetCheckInRecorder())
		}
		tx.HSet(regKey(branch, id, person), fields...)
		counted := func(st activitiesv1.RegistrationState) bool {
			return st == activitiesv1.RegistrationState_REGISTRATION_STATE_CONFIRMED || st == activitiesv1.RegistrationState_REGISTRATION_STATE_ATTENDED
		}
		if counted(before[r.GetName()]) && !counted(r.GetState()) {
			conf--
		} else if !counted(before[r.GetName()]) && counted(r.GetState()) {
			conf++
		}
		if waiting[person] && r.GetState() != activitiesv1.RegistrationState_REGISTRATION_STATE_WAITLISTED {
			tx.ZRem(waitKey(branch, id), person)
		}
	}
	tx.HSet(gateKey(branch, id), "ver", strconv.Itoa(ver+1), "conf", strconv.Itoa(conf))
	if err := eventstream.Append(tx, BranchTag(branch), evs...); err != nil {
		return err
	}
	return s.commit(ctx, tx)
}

// Reindex rewrites the branch's index members written before startKey
// (decimal milliseconds, which sorted wrongly and lost times before 1970)
// into the current form, so they sort by start time again and later
// updates find them. It is idempotent and cheap when there is nothing to
// do; the service runs it at start. It returns how many it rewrote.
func (s *Store) Reindex(ctx context.Context, branch string) (int, error) {
	members, err := s.client.ZRange(ctx, indexKey(branch), 0, -1).Result()
	if err != nil {
		return 0, fmt.Errorf("store: reindex %s: %w", branch, err)
	}
	done := 0
	for _, m := range members {
		start, id, _ := strings.Cut(m, ":")
		if len(start) == 16 {
			continue
		}
		rewrote, err := retry.Conflicts(ctx, domain.IsStale, func() (bool, error) {
			rec, err := redistx.Get(ctx, s.client, actKey(branch, id))
			if errors.Is(err, redistx.ErrNotFound) {
				return false, nil // the index entry of a record that is gone: leave it, ScanPage skips it
			}
			if err != nil {
				return false, err
			}
			a := &activitiesv1.Activity{}
			if err := proto.Unmarshal(rec.Data, a); err != nil {
				return false, fmt.Errorf("decode: %w", err)
			}
			// Only while the record is as read, so a concurrent update that
			// moved the entry itself is not undone.
			tx := newTx(BranchTag(branch)).ExpectEtag("etag", actKey(branch, id), rec.Etag).
				ZRem(indexKey(branch), m).ZAdd(indexKey(branch), 0, indexMember(a))
			if err := s.commit(ctx, tx); err != nil {
				return false, err
			}
			return true, nil
		})
		if err != nil {
			return done, fmt.Errorf("store: reindex %s: %w", id, err)
		}
		if rewrote {
			done++
		}
	}
	return done, nil
}
