// Package idempotency remembers the response to a request sent with an
// Idempotency-Key, so a client that retries a POST after a lost reply gets
// the first response back instead of a second write. A key reused with a
// different request is rejected.
package idempotency

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// Outcomes of Begin.
var (
	// ErrMismatch: the key was used before with a different request.
	ErrMismatch = errors.New("idempotency key reused with a different request")
	// ErrInProgress: the first request with this key has not finished.
	ErrInProgress = errors.New("a request with this idempotency key is still in progress")
	// ErrTooManyKeys: the caller holds as many live keys as a caller may.
	ErrTooManyKeys = errors.New("too many idempotency keys held by this caller")
)

// Store keeps outcomes in Redis. Each key is its own slot: every operation
// touches one key.
type Store struct {
	client redis.UniversalClient
	// ttl is how long a completed response is replayed.
	ttl time.Duration
	// pendingTTL bounds how long a crashed request blocks its key: its
	// retries are refused as in progress until then. It can be short
	// because a retry that runs while the first is still writing (or after
	// it wrote and died) cannot write twice: each commit records its
	// operation in the same step (redistx.WithOperation), so the second
	// finds the first and replays it.
	pendingTTL time.Duration
	// maxKeysPerCaller bounds what one caller can make the store keep:
	// every completed key holds a response for ttl, in the system of
	// record, so a caller may complete at most this many new keys in any
	// ttl. Only completed keys count: a refused request (403, 409, ...)
	// leaves nothing behind, its claim included.
	maxKeysPerCaller int
}

// DefaultMaxKeysPerCaller is enough for a day of a busy importer's
// creates (each key holds one small write response), and small enough
// that one caller cannot fill Redis.
const DefaultMaxKeysPerCaller = 10000

// Option configures a Store.
type Option func(*Store)

// WithMaxKeysPerCaller bounds the live keys one caller may hold.
func WithMaxKeysPerCaller(n int) Option { return func(s *Store) { s.maxKeysPerCaller = n } }

// New returns a store keeping responses for ttl.
func New(client redis.UniversalClient, ttl time.Duration, opts ...Option) *Store {
	s := &Store{client: client, ttl: ttl, pendingTTL: 5 * time.Second, maxKeysPerCaller: DefaultMaxKeysPerCaller}
	for _, o := range opts {
		o(s)
	}
	return s
}

// MaxKeyLength bounds client-supplied keys.
const MaxKeyLength = 255

// Key scopes a client key to the caller and the method, so two callers'
// keys never collide.
func Key(principal, method, clientKey string) string {
	h := sha256.Sum256([]byte(principal + "\x00" + method + "\x00" + clientKey))
	return "{idem:" + hex.EncodeToString(h[:16]) + "}"
}

// callerKey is the set of a caller's live keys, in a slot of its own.
func callerKey(principal string) string {
	h := sha256.Sum256([]byte(principal))
	return "{idem-caller:" + hex.EncodeToString(h[:16]) + "}"
}

// RequestHash fingerprints a serialized request.
func RequestHash(request []byte) string {
	h := sha256.Sum256(request)
	return hex.EncodeToString(h[:])
}

// beginScript claims KEYS[1] for the request hashed ARGV[1] for ARGV[2]
// ms, as the claim ARGV[3] (unique to one Begin call), unless ARGV[4] says
// the caller holds as many keys as it may ('full': nothing is written). The same call run
// again finds its own claim and may go on: go-redis sends a command again
// when its reply was lost (a Redis restart), and the first run's claim
// was already written, so without the owner the request was refused as
// in progress by itself, for the whole pending TTL (the fault tests saw
// up to 2 creates in a run of five Redis kills).
var beginScript = redis.NewScript(`
local state = redis.call('HGET', KEYS[1], 'state')
if not state then
  if ARGV[4] == '1' then return {'full'} end
  redis.call('HSET', KEYS[1], 'state', 'pending', 'hash', ARGV[1], 'owner', ARGV[3])
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return {'new'}
end
if redis.call('HGET', KEYS[1], 'hash') ~= ARGV[1] then return {'mismatch'} end
if state == 'pending' then
  if redis.call('HGET', KEYS[1], 'owner') == ARGV[3] then return {'new'} end
  return {'pending'}
end
return {'done', redis.call('HGET', KEYS[1], 'resp')}
`)

// countScript adds the completed key ARGV[1], live until ARGV[2] (ms), to
// the caller's set KEYS[1], dropping expired members first, so the set is
// as big as what the store really keeps for the caller.
var countScript = redis.NewScript(`
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[3])
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[2]) - tonumber(ARGV[3]) then
  redis.call('PEXPIREAT', KEYS[1], ARGV[2])
end
return 1
`)

// Begin claims key for principal's request with hash. It returns (nil,
// nil) when the caller should execute the request, the stored response
// when it already completed, or ErrMismatch / ErrInProgress /
// ErrTooManyKeys. A replay never counts against the caller's bound; only
// a new key does, once it completes. The bound is read before the claim
// and counted at Complete, so a refused request writes nothing that
// outlives it; callers running requests in parallel can pass the bound
// by at most as many requests as they run at once.
func (s *Store) Begin(ctx context.Context, principal, key, hash string) ([]byte, error) {
	now := time.Now().UnixMilli()
	held, err := s.client.ZCount(ctx, callerKey(principal), "("+strconv.FormatInt(now, 10), "+inf").Result()
	if err != nil {
		return nil, fmt.Errorf("idempotency: count: %w", err)
	}
	res, err := beginScript.Run(ctx, s.client, []string{key}, hash, s.pendingTTL.Milliseconds(), newOwner(), boolArg(held >= int64(s.maxKeysPerCaller))).StringSlice()
	if err != nil {
		return nil, fmt.Errorf("idempotency: begin: %w", err)
	}
	switch res[0] {
	case "new":
		return nil, nil
	case "full":
		return nil, ErrTooManyKeys
	case "mismatch":
		return nil, ErrMismatch
	case "pending":
		return nil, ErrInProgress
	case "done":
		return []byte(res[1]), nil
	}
	return nil, fmt.Errorf("idempotency: unexpected reply %q", res)
}

// Complete stores the response for replay and counts the key against
// principal's bound. The count lives in another slot than the key, so it
// is a second step: a crash between the two leaves a completed key that is
// not counted.
func (s *Store) Complete(ctx context.Context, principal, key string, response []byte) error {
	pipe := s.client.TxPipeline()
	pipe.HSet(ctx, key, "state", "done", "resp", response)
	pipe.PExpire(ctx, key, s.ttl)
	if _, err := pipe.Exec(ctx); err != nil {
		return fmt.Errorf("idempotency: complete: %w", err)
	}
	now := time.Now()
	if err := countScript.Run(ctx, s.client, []string{callerKey(principal)}, key, now.Add(s.ttl).UnixMilli(), now.UnixMilli()).Err(); err != nil {
		return fmt.Errorf("idempotency: count: %w", err)
	}
	return nil
}

// Abandon releases key after a failed request, so the client may retry it.
func (s *Store) Abandon(ctx context.Context, key string) error {
	if err := s.client.Del(ctx, key).Err(); err != nil {
		return fmt.Errorf("idempotency: abandon: %w", err)
	}
	return nil
}

func boolArg(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

// newOwner is a claim's token, unique to one Begin call.
func newOwner() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
