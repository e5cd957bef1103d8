package redistx

import (
	"context"
	"errors"
	"fmt"

	"github.com/redis/go-redis/v9"
	"google.golang.org/protobuf/proto"
)

// What every store does with its protobuf records, once: marshal one into
// a Tx, read one back, and tell a failed condition by what it means to the
// store's domain. Each store gives its own domain's errors.

// PutMessage stores msg's protobuf bytes as the record at key, with etag
// (Put). Nothing is added when msg cannot be marshalled.
func (t *Tx) PutMessage(key string, msg proto.Message, etag string) error {
	data, err := proto.Marshal(msg)
	if err != nil {
		return fmt.Errorf("redistx: marshal %s: %w", key, err)
	}
	t.Put(key, data, etag)
	return nil
}

// GetMessage reads the record at key into msg and returns it. A key
// without a record answers notFound, the caller's domain's error for a
// missing record.
func GetMessage[T proto.Message](ctx context.Context, client redis.Cmdable, key string, msg T, notFound error) (T, error) {
	rec, err := Get(ctx, client, key)
	if errors.Is(err, ErrNotFound) {
		return msg, notFound
	}
	if err != nil {
		return msg, err
	}
	if err := proto.Unmarshal(rec.Data, msg); err != nil {
		return msg, fmt.Errorf("redistx: decode %s: %w", key, err)
	}
	return msg, nil
}

// CommitAs commits t (Commit) and answers a condition that did not hold
// with meaning(failure): the error the caller's domain knows it by, which
// its label says. Any other outcome is Commit's.
func (t *Tx) CommitAs(ctx context.Context, client redis.Scripter, meaning func(*ConditionFailedError) error) error {
	err := t.Commit(ctx, client)
	var failed *ConditionFailedError
	if errors.As(err, &failed) {
		return meaning(failed)
	}
	return err
}
