package redistx

import (
	"context"
	"errors"
	"fmt"
	"github.com/tjsia/chapterhouse/platform/page"
	"time"

	"github.com/redis/go-redis/v9"
	"google.golang.org/protobuf/proto"
)

// SortableTime is t as 16 hex digits that sort lexicographically exactly
// as the times do, for every time a timestamp can hold (years 1 to 9999,
// before 1970 included): Unix milliseconds with the sign bit flipped. An
// index member "<SortableTime>:<id>" orders records by that time.
func SortableTime(t time.Time) string {
	return fmt.Sprintf("%016x", uint64(t.UnixMilli())^(1<<63))
}

// ScanPage pages through index, a sorted set whose members all have the
// same score and so sort lexicographically. For each member it loads the
// record at keyOf(member) and keeps it when keep (nil: all) accepts it.
// Filtering while scanning, instead of keeping a secondary index per
// filter, is right for the small registers Chapterhouse keeps; the page
// continues after the last member read, so filters never skip or repeat.
func ScanPage[T proto.Message](ctx context.Context, client redis.Cmdable, index, after string, size int,
	keyOf func(member string) string, newMsg func() T, keep func(T) bool) (page.Page[T], error) {
	var pg page.Page[T]
	min := "-"
	if after != "" {
		min = "(" + after
	}
	batch := int64(size + 1)
	for {
		members, err := client.ZRangeArgs(ctx, redis.ZRangeArgs{Key: index, Start: min, Stop: "+", ByLex: true, Count: batch}).Result()
		if err != nil {
			return pg, fmt.Errorf("redistx: scan %s: %w", index, err)
		}
		if len(members) == 0 {
			return pg, nil
		}
		keys := make([]string, len(members))
		for i, m := range members {
			keys[i] = keyOf(m)
		}
		msgs, err := load(ctx, client, keys, newMsg)
		if err != nil {
			return pg, fmt.Errorf("redistx: scan %s: %w", index, err)
		}
		for i, m := range members {
			min = "(" + m
			msg := msgs[i]
			if !found(msg) {
				// An index entry whose record is gone: skip it.
				continue
			}
			if keep != nil && !keep(msg) {
				continue
			}
			if len(pg.Items) == size {
				// One more match exists: the page is full and continues.
				return pg, nil
			}
			pg.Items = append(pg.Items, msg)
			pg.Next = m
		}
		if int64(len(members)) < batch {
			pg.Next = ""
			return pg, nil
		}
	}
}

// LoadAll reads the records at keys in one round trip, decoded, in key
// order; a key without a record is skipped.
func LoadAll[T proto.Message](ctx context.Context, client redis.Cmdable, keys []string, newMsg func() T) ([]T, error) {
	msgs, err := load(ctx, client, keys, newMsg)
	if err != nil {
		return nil, err
	}
	out := make([]T, 0, len(msgs))
	for _, m := range msgs {
		if found(m) {
			out = append(out, m)
		}
	}
	return out, nil
}

// load reads the records at keys in one round trip; a missing record is
// T's zero value (see found).
func load[T proto.Message](ctx context.Context, client redis.Cmdable, keys []string, newMsg func() T) ([]T, error) {
	out := make([]T, len(keys))
	if len(keys) == 0 {
		return out, nil
	}
	pipe := client.Pipeline()
	cmds := make([]*redis.SliceCmd, len(keys))
	for i, key := range keys {
		cmds[i] = pipe.HMGet(ctx, key, FieldData)
	}
	if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
		return nil, fmt.Errorf("redistx: load: %w", err)
	}
	for i, cmd := range cmds {
		data, ok := cmd.Val()[0].(string)
		if !ok {
			continue
		}
		msg := newMsg()
		if err := proto.Unmarshal([]byte(data), msg); err != nil {
			return nil, fmt.Errorf("redistx: decode %s: %w", keys[i], err)
		}
		out[i] = msg
	}
	return out, nil
}

// found reports whether load read a record into m (a nil message is none).
func found[T proto.Message](m T) bool { return m.ProtoReflect().IsValid() }
