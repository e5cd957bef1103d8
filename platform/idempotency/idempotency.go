// Package idempotency remembers the response to a request sent with an
// Idempotency-Key, so a client that retries a POST after a lost reply gets
// the first response back instead of a second write. A key reused with a
// different request is rejected.
package idempotency

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// Outcomes of Begin.
var (
	// ErrMismatch: the key was used before with a different request.
	ErrMismatch = errors.New("idempotency key reused with a different request")
	// ErrInProgress: the first request with this key has not finished.
	ErrInProgress = errors.New("a request with this idempotency key is still in progress")
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
}

// New returns a store keeping responses for ttl.
func New(client redis.UniversalClient, ttl time.Duration) *Store {
	return &Store{client: client, ttl: ttl, pendingTTL: 5 * time.Second}
}

// MaxKeyLength bounds client-supplied keys.
const MaxKeyLength = 255

// Key scopes a client key to the caller and the method, so two callers'
// keys never collide.
func Key(principal, method, clientKey string) string {
	h := sha256.Sum256([]byte(principal + "\x00" + method + "\x00" + clientKey))
	return "{idem:" + hex.EncodeToString(h[:16]) + "}"
}

// RequestHash fingerprints a serialized request.
func RequestHash(request []byte) string {
	h := sha256.Sum256(request)
	return hex.EncodeToString(h[:])
}

var beginScript = redis.NewScript(`
local state = redis.call('HGET', KEYS[1], 'state')
if not state then
  redis.call('HSET', KEYS[1], 'state', 'pending', 'hash', ARGV[1])
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return {'new'}
end
if redis.call('HGET', KEYS[1], 'hash') ~= ARGV[1] then return {'mismatch'} end
if state == 'pending' then return {'pending'} end
return {'done', redis.call('HGET', KEYS[1], 'resp')}
`)

// Begin claims key for a request with hash. It returns (nil, nil) when the
// caller should execute the request, the stored response when it already
// completed, or ErrMismatch / ErrInProgress.
func (s *Store) Begin(ctx context.Context, key, hash string) ([]byte, error) {
	res, err := beginScript.Run(ctx, s.client, []string{key}, hash, s.pendingTTL.Milliseconds()).StringSlice()
	if err != nil {
		return nil, fmt.Errorf("idempotency: begin: %w", err)
	}
	switch res[0] {
	case "new":
		return nil, nil
	case "mismatch":
		return nil, ErrMismatch
	case "pending":
		return nil, ErrInProgress
	case "done":
		return []byte(res[1]), nil
	}
	return nil, fmt.Errorf("idempotency: unexpected reply %q", res)
}

// Complete stores the response for replay.
func (s *Store) Complete(ctx context.Context, key string, response []byte) error {
	pipe := s.client.TxPipeline()
	pipe.HSet(ctx, key, "state", "done", "resp", response)
	pipe.PExpire(ctx, key, s.ttl)
	if _, err := pipe.Exec(ctx); err != nil {
		return fmt.Errorf("idempotency: complete: %w", err)
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
