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
		pipe := client.Pipeline()
		cmds := make([]*redis.SliceCmd, len(members))
		for i, m := range members {
			cmds[i] = pipe.HMGet(ctx, keyOf(m), FieldData)
		}
		if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
			return pg, fmt.Errorf("redistx: load %s: %w", index, err)
		}
		for i, m := range members {
			min = "(" + m
			data, ok := cmds[i].Val()[0].(string)
			if !ok {
				// An index entry whose record is gone: skip it.
				continue
			}
			msg := newMsg()
			if err := proto.Unmarshal([]byte(data), msg); err != nil {
				return pg, fmt.Errorf("redistx: decode %s: %w", m, err)
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
