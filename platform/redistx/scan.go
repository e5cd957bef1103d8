package redistx

import (
	"context"
	"errors"
	"fmt"

	"github.com/redis/go-redis/v9"
	"google.golang.org/protobuf/proto"
)

// Page is one page of records and the index member to continue after ("" on
// the last page).
type Page[T proto.Message] struct {
	Items []T
	Next  string
}

// ScanPage pages through index, a sorted set whose members all have the
// same score and so sort lexicographically. For each member it loads the
// record at keyOf(member) and keeps it when keep (nil: all) accepts it.
// Filtering while scanning, instead of keeping a secondary index per
// filter, is right for the small registers Chapterhouse keeps; the page
// continues after the last member read, so filters never skip or repeat.
func ScanPage[T proto.Message](ctx context.Context, client redis.Cmdable, index, after string, size int,
	keyOf func(member string) string, newMsg func() T, keep func(T) bool) (Page[T], error) {
	var page Page[T]
	min := "-"
	if after != "" {
		min = "(" + after
	}
	batch := int64(size + 1)
	for {
		members, err := client.ZRangeArgs(ctx, redis.ZRangeArgs{Key: index, Start: min, Stop: "+", ByLex: true, Count: batch}).Result()
		if err != nil {
			return page, fmt.Errorf("redistx: scan %s: %w", index, err)
		}
		if len(members) == 0 {
			return page, nil
		}
		pipe := client.Pipeline()
		cmds := make([]*redis.SliceCmd, len(members))
		for i, m := range members {
			cmds[i] = pipe.HMGet(ctx, keyOf(m), FieldData)
		}
		if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
			return page, fmt.Errorf("redistx: load %s: %w", index, err)
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
				return page, fmt.Errorf("redistx: decode %s: %w", m, err)
			}
			if keep != nil && !keep(msg) {
				continue
			}
			if len(page.Items) == size {
				// One more match exists: the page is full and continues.
				return page, nil
			}
			page.Items = append(page.Items, msg)
			page.Next = m
		}
		if int64(len(members)) < batch {
			page.Next = ""
			return page, nil
		}
	}
}
