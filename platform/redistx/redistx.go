// Package redistx commits a guarded set of writes to Redis in one atomic
// step. A Tx lists conditions (an etag still matches, a uniqueness claim is
// free, ...) and mutations (records, indexes, outbox events); one Lua script
// checks every condition and, only when all hold, applies every mutation. So
// invariants are enforced inside Redis, never by read-then-write in Go, and
// an event is on its stream exactly when its state change is stored.
//
// Every key of a Tx shares one hash tag, so the script touches one slot and
// runs unchanged on a standalone Redis and on a Redis Cluster.
//
// go-redis retries a command whose reply was lost. A Tx therefore carries an
// id; the script records it, and a replay of an applied Tx reports success
// instead of applying twice or failing its conditions against its own
// writes.
package redistx

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// Records are hashes with two fields: the protobuf bytes and the etag.
const (
	FieldData = "d"
	FieldEtag = "e"
)

// How long a Tx id is remembered; a replay later than this would apply again.
const appliedTTL = 24 * time.Hour

// ConditionFailedError reports which condition did not hold.
type ConditionFailedError struct {
	// Index of the condition in the order they were added.
	Index int
	// Label given when the condition was added.
	Label string
	// Current is the value found (etag or claim owner), "" if none.
	Current string
}

func (e *ConditionFailedError) Error() string {
	return fmt.Sprintf("redistx: condition %d (%s) failed; current %q", e.Index, e.Label, e.Current)
}

type condition struct {
	kind, key, want, label string
}

type mutation struct {
	kind string
	key  string
	args []string
}

// Tx is one atomic commit. Build it with the methods, then Commit.
type Tx struct {
	tag   string
	id    string
	conds []condition
	muts  []mutation
	// result is the record that answers the request this Tx serves: the
	// first one put, unless Result says otherwise.
	result string
}

// New starts a Tx whose keys all carry hash tag tag ("{tag}" must appear in
// every key). id identifies the logical operation for replay protection; use
// a fresh random id per operation, or an event id in a consumer.
func New(tag, id string) *Tx { return &Tx{tag: tag, id: id} }

// Key builds a key in the Tx's slot: "{tag}:" + parts joined by ":".
func Key(tag string, parts ...string) string {
	return "{" + tag + "}:" + strings.Join(parts, ":")
}

// ExpectEtag requires record key to have etag; etag "" requires that the
// record does not exist.
func (t *Tx) ExpectEtag(label, key, etag string) *Tx {
	t.conds = append(t.conds, condition{"etag", key, etag, label})
	return t
}

// ExpectAbsent requires that key does not exist (a free uniqueness claim).
func (t *Tx) ExpectAbsent(label, key string) *Tx {
	t.conds = append(t.conds, condition{"absent", key, "", label})
	return t
}

// ExpectValue requires that string key holds value.
func (t *Tx) ExpectValue(label, key, value string) *Tx {
	t.conds = append(t.conds, condition{"value", key, value, label})
	return t
}

// ExpectHashField requires hash key's field to hold value ("" matches a
// missing field or key). field must not contain "=".
func (t *Tx) ExpectHashField(label, key, field, value string) *Tx {
	t.conds = append(t.conds, condition{"hfield", key, field + "=" + value, label})
	return t
}

// ExpectHashFieldBelow requires the integer in hash key's field (a
// missing field or key is 0) to be below limit: a place of limit is still
// free. Writers taking places (HIncrBy) then never conflict with each
// other while places are left, and the one that finds none is refused in
// the same step, with the count it found.
func (t *Tx) ExpectHashFieldBelow(label, key, field string, limit int) *Tx {
	t.conds = append(t.conds, condition{"hbelow", key, field + "=" + strconv.Itoa(limit), label})
	return t
}

// HSet sets field/value pairs of hash key.
func (t *Tx) HSet(key string, fields ...string) *Tx {
	if len(fields) == 0 || len(fields)%2 != 0 {
		panic("redistx: HSet needs field/value pairs")
	}
	t.muts = append(t.muts, mutation{"hset", key, append([]string{strconv.Itoa(len(fields) / 2)}, fields...)})
	return t
}

// HIncrBy adds n to the integer in hash key's field (a missing field is
// 0). A counter many writers bump without a condition on it never makes
// them conflict, while a writer that must see it unchanged can condition
// on it with ExpectHashField.
func (t *Tx) HIncrBy(key, field string, n int64) *Tx {
	t.muts = append(t.muts, mutation{"hincrby", key, []string{field, strconv.FormatInt(n, 10)}})
	return t
}

// Result names the record that answers the request (its response): the
// one a retry of the same request, after the first was applied, is
// answered with. By default it is the first record Put.
func (t *Tx) Result(key string) *Tx {
	t.result = key
	return t
}

// Put stores a record (data and etag).
func (t *Tx) Put(key string, data []byte, etag string) *Tx {
	if t.result == "" {
		t.result = key
	}
	t.muts = append(t.muts, mutation{"put", key, []string{string(data), etag}})
	return t
}

// Set stores a string (an index or claim).
func (t *Tx) Set(key, value string) *Tx {
	t.muts = append(t.muts, mutation{"set", key, []string{value}})
	return t
}

// Del deletes key.
func (t *Tx) Del(key string) *Tx {
	t.muts = append(t.muts, mutation{"del", key, nil})
	return t
}

// ZAdd adds member to sorted set key with score.
func (t *Tx) ZAdd(key string, score float64, member string) *Tx {
	t.muts = append(t.muts, mutation{"zadd", key, []string{strconv.FormatFloat(score, 'g', -1, 64), member}})
	return t
}

// ZRem removes member from sorted set key.
func (t *Tx) ZRem(key, member string) *Tx {
	t.muts = append(t.muts, mutation{"zrem", key, []string{member}})
	return t
}

// XAdd appends an entry with the given field/value pairs to stream key.
func (t *Tx) XAdd(key string, fields ...string) *Tx {
	if len(fields)%2 != 0 {
		panic("redistx: XAdd needs field/value pairs")
	}
	t.muts = append(t.muts, mutation{"xadd", key, append([]string{strconv.Itoa(len(fields) / 2)}, fields...)})
	return t
}

// Empty reports whether the Tx has nothing to write.
func (t *Tx) Empty() bool { return len(t.muts) == 0 }

// commitScript: KEYS[1] is the applied-marker key, KEYS[2] the
// operation's marker (KEYS[1] again when the Tx serves no operation),
// KEYS[3] the result record (KEYS[1] when none), then one key per
// condition, then one per mutation. ARGV[1] is the markers' TTL in
// seconds, then per condition (kind, want), then per mutation (kind,
// args...).
var commitScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 1 then return {'DUP'} end
if KEYS[2] ~= KEYS[1] then
  local result = redis.call('GET', KEYS[2])
  if result then
    local data = ''
    if result ~= '' then data = redis.call('HGET', result, 'd') or '' end
    return {'APPLIED', data}
  end
end
local a = 2
local k = 4
local ncond = tonumber(ARGV[a]); a = a + 1
for i = 1, ncond do
  local kind, want, key = ARGV[a], ARGV[a+1], KEYS[k]
  a = a + 2; k = k + 1
  if kind == 'etag' then
    local cur = redis.call('HGET', key, 'e')
    if want == '' then
      if cur then return {'FAIL', tostring(i), cur} end
    elseif cur ~= want then
      return {'FAIL', tostring(i), cur or ''}
    end
  elseif kind == 'absent' then
    if redis.call('EXISTS', key) == 1 then
      local t = redis.call('TYPE', key)['ok']
      local cur = ''
      if t == 'string' then cur = redis.call('GET', key) end
      return {'FAIL', tostring(i), cur}
    end
  elseif kind == 'value' then
    local cur = redis.call('GET', key)
    if cur ~= want then return {'FAIL', tostring(i), cur or ''} end
  elseif kind == 'hfield' then
    local field, value = string.match(want, '^([^=]*)=(.*)$')
    local cur = redis.call('HGET', key, field)
    if (cur or '') ~= value then return {'FAIL', tostring(i), cur or ''} end
  elseif kind == 'hbelow' then
    local field, limit = string.match(want, '^([^=]*)=(.*)$')
    local cur = redis.call('HGET', key, field)
    if (tonumber(cur) or 0) >= tonumber(limit) then return {'FAIL', tostring(i), cur or '0'} end
  else
    return redis.error_reply('redistx: unknown condition ' .. kind)
  end
end
local nmut = tonumber(ARGV[a]); a = a + 1
for i = 1, nmut do
  local kind, key = ARGV[a], KEYS[k]
  a = a + 1; k = k + 1
  if kind == 'put' then
    redis.call('HSET', key, 'd', ARGV[a], 'e', ARGV[a+1]); a = a + 2
  elseif kind == 'set' then
    redis.call('SET', key, ARGV[a]); a = a + 1
  elseif kind == 'hset' then
    local n = tonumber(ARGV[a]); a = a + 1
    local args = {'HSET', key}
    for j = 1, 2 * n do args[#args + 1] = ARGV[a]; a = a + 1 end
    redis.call(unpack(args))
  elseif kind == 'hincrby' then
    redis.call('HINCRBY', key, ARGV[a], ARGV[a+1]); a = a + 2
  elseif kind == 'del' then
    redis.call('DEL', key)
  elseif kind == 'zadd' then
    redis.call('ZADD', key, ARGV[a], ARGV[a+1]); a = a + 2
  elseif kind == 'zrem' then
    redis.call('ZREM', key, ARGV[a]); a = a + 1
  elseif kind == 'xadd' then
    local n = tonumber(ARGV[a]); a = a + 1
    local args = {'XADD', key, '*'}
    for j = 1, 2 * n do args[#args + 1] = ARGV[a]; a = a + 1 end
    redis.call(unpack(args))
  else
    return redis.error_reply('redistx: unknown mutation ' .. kind)
  end
end
redis.call('SET', KEYS[1], '1', 'EX', ARGV[1])
if KEYS[2] ~= KEYS[1] then
  local result = ''
  if KEYS[3] ~= KEYS[1] then result = KEYS[3] end
  redis.call('SET', KEYS[2], result, 'EX', ARGV[1])
end
return {'OK'}
`)

// Commit runs the Tx. It returns a *ConditionFailedError when a condition
// does not hold (and then nothing was written). A replay of a Tx id that was
// already applied returns nil without writing again. When ctx carries an
// operation (WithOperation) whose commit in this place was applied before,
// it writes nothing and returns an *AppliedError with the result.
func (t *Tx) Commit(ctx context.Context, client redis.Scripter) error {
	if t.id == "" {
		return errors.New("redistx: Tx has no id")
	}
	tagged := "{" + t.tag + "}"
	txKey := Key(t.tag, "tx", t.id)
	op, _ := ctx.Value(operationKey{}).(*operation)
	opKey, resultKey := txKey, txKey
	if op != nil {
		opKey = Key(t.tag, "op", op.id, strconv.Itoa(int(op.commits.Load())))
		if t.result != "" {
			resultKey = t.result
		}
	}
	keys := []string{txKey, opKey, resultKey}
	args := []any{int(appliedTTL / time.Second), len(t.conds)}
	for _, c := range t.conds {
		keys = append(keys, c.key)
		args = append(args, c.kind, c.want)
	}
	args = append(args, len(t.muts))
	for _, m := range t.muts {
		keys = append(keys, m.key)
		args = append(args, m.kind)
		for _, a := range m.args {
			args = append(args, a)
		}
	}
	// Compare the part Redis Cluster hashes (the first {...}), not mere
	// containment: "{other}:{tag}:k" contains the tag but lives in other's
	// slot.
	slot := hashTag(tagged)
	for _, k := range keys {
		if hashTag(k) != slot {
			return fmt.Errorf("redistx: key %q is outside slot %s", k, tagged)
		}
	}
	res, err := commitScript.Run(ctx, client, keys, args...).StringSlice()
	if err != nil {
		return fmt.Errorf("redistx: commit: %w", err)
	}
	switch res[0] {
	case "OK":
		if op != nil {
			op.commits.Add(1)
		}
		return nil
	case "DUP":
		return nil
	case "APPLIED":
		return &AppliedError{Result: []byte(res[1])}
	case "FAIL":
		i, _ := strconv.Atoi(res[1])
		c := t.conds[i-1]
		return &ConditionFailedError{Index: i - 1, Label: c.label, Current: res[2]}
	}
	return fmt.Errorf("redistx: unexpected reply %q", res)
}

// operation is one client request's writes, numbered in the order they
// commit, so the same request retried meets its own earlier commits.
type operation struct {
	id      string
	commits atomic.Int32
}

type operationKey struct{}

// WithOperation makes every Commit under ctx part of the operation id (an
// Idempotency-Key scoped to its caller and method): each successful
// commit records, in its own slot and in the same step, that it was applied
// and which record answers it. When the same operation is run again (a
// retry after a crash lost the first answer), its first commit finds that
// record and returns an *AppliedError instead of writing twice.
func WithOperation(ctx context.Context, id string) context.Context {
	h := sha256.Sum256([]byte(id))
	return context.WithValue(ctx, operationKey{}, &operation{id: hex.EncodeToString(h[:16])})
}

// AppliedError reports that the operation's commit had been applied
// before: nothing was written now. Result is the stored data of the record
// that answered it (as it is now), empty when the Tx named none.
type AppliedError struct {
	Result []byte
}

func (e *AppliedError) Error() string { return "redistx: this operation was applied before" }

// hashTag is the part of key that Redis Cluster hashes: the text between
// the first "{" and the first "}" after it when that is not empty, else the
// whole key.
func hashTag(key string) string {
	if i := strings.IndexByte(key, '{'); i >= 0 {
		if j := strings.IndexByte(key[i+1:], '}'); j > 0 {
			return key[i+1 : i+1+j]
		}
	}
	return key
}

// Record is a stored record.
type Record struct {
	Data []byte
	Etag string
}

// ErrNotFound is returned by Get for a missing record.
var ErrNotFound = errors.New("redistx: record not found")

// Get reads the record at key.
func Get(ctx context.Context, client redis.Cmdable, key string) (Record, error) {
	vals, err := client.HMGet(ctx, key, FieldData, FieldEtag).Result()
	if err != nil {
		return Record{}, fmt.Errorf("redistx: get %s: %w", key, err)
	}
	data, ok1 := vals[0].(string)
	etag, ok2 := vals[1].(string)
	if !ok1 || !ok2 {
		return Record{}, ErrNotFound
	}
	return Record{Data: []byte(data), Etag: etag}, nil
}
