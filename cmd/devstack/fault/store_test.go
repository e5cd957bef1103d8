package fault_test

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
	"google.golang.org/protobuf/proto"

	"github.com/tjsia/chapterhouse/platform/eventstream"
	"github.com/tjsia/chapterhouse/platform/redistx"
	eventsv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/events/v1"
)

// outbox is every envelope on the outbox stream of hash tag tag, in
// order.
func outbox(ctx context.Context, rdb redis.Cmdable, tag string) ([]*eventsv1.Envelope, error) {
	msgs, err := rdb.XRange(ctx, eventstream.StreamKey(tag), "-", "+").Result()
	if err != nil {
		return nil, err
	}
	out := make([]*eventsv1.Envelope, 0, len(msgs))
	for _, m := range msgs {
		raw, _ := m.Values["env"].(string)
		env := &eventsv1.Envelope{}
		if err := proto.Unmarshal([]byte(raw), env); err != nil {
			return nil, fmt.Errorf("outbox %s entry %s: %w", tag, m.ID, err)
		}
		out = append(out, env)
	}
	return out, nil
}

// collection is how a store keeps one kind of resource under a hash tag
// (services/<service>/internal/store): a record per resource,
// {tag}:<record>:<id>; an index, the sorted set {tag}:<index> of
// "<time>:<id>"; optionally a gate hash {tag}:<gate>:<id>; and the
// creation event on the tag's outbox, all written in one step.
type collection struct {
	tag, record, index, gate string
	// decode reads a record's data: the resource's name and title.
	decode func(data []byte) (name, title string, err error)
	// created reports whether env is the creation event of the resource
	// named name.
	created func(env *eventsv1.Envelope, name string) bool
	// indexed is the id an index entry stands for; by default what
	// follows its first colon.
	indexed func(member string) string
	// claims are the keys a record's data says must hold its name (a
	// uniqueness claim written with it).
	claims func(data []byte) []string
}

// stored is what a collection holds: the resources' names by title.
type stored struct {
	byTitle map[string][]string
	count   int
}

// audit reads every record of c and checks that each was written whole:
// in the index, with its gate, with exactly one creation event, and no
// index entry without its record. It returns the resources and the
// problems found.
func (c collection) audit(ctx context.Context, rdb *redis.Client) (stored, []string, error) {
	var problems []string
	st := stored{byTitle: map[string][]string{}}
	records := map[string]string{} // id -> name
	iter := rdb.Scan(ctx, 0, redistx.Key(c.tag, c.record, "*"), 500).Iterator()
	for iter.Next(ctx) {
		key := iter.Val()
		id := strings.TrimPrefix(key, redistx.Key(c.tag, c.record, ""))
		data, err := rdb.HGet(ctx, key, redistx.FieldData).Result()
		if err != nil {
			return st, nil, fmt.Errorf("record %s: %w", key, err)
		}
		name, title, err := c.decode([]byte(data))
		if err != nil {
			return st, nil, fmt.Errorf("record %s: %w", key, err)
		}
		records[id] = name
		st.byTitle[title] = append(st.byTitle[title], name)
		if c.claims != nil {
			for _, claim := range c.claims([]byte(data)) {
				if got, err := rdb.Get(ctx, claim).Result(); err != nil || got != name {
					problems = append(problems, fmt.Sprintf("%s: claim %s holds %q (%v)", name, claim, got, err))
				}
			}
		}
		st.count++
	}
	if err := iter.Err(); err != nil {
		return st, nil, err
	}
	members, err := rdb.ZRange(ctx, redistx.Key(c.tag, c.index), 0, -1).Result()
	if err != nil {
		return st, nil, err
	}
	indexed := map[string]bool{}
	for _, m := range members {
		_, id, _ := strings.Cut(m, ":")
		if c.indexed != nil {
			id = c.indexed(m)
		}
		indexed[id] = true
		if _, ok := records[id]; !ok {
			problems = append(problems, fmt.Sprintf("index entry %q has no record", m))
		}
	}
	events, err := outbox(ctx, rdb, c.tag)
	if err != nil {
		return st, nil, err
	}
	ids := make([]string, 0, len(records))
	for id := range records {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		name := records[id]
		if !indexed[id] {
			problems = append(problems, name+" is not in the index")
		}
		if c.gate != "" {
			if n, err := rdb.Exists(ctx, redistx.Key(c.tag, c.gate, id)).Result(); err != nil {
				return st, nil, err
			} else if n != 1 {
				problems = append(problems, name+" has no gate")
			}
		}
		n := 0
		for _, env := range events {
			if c.created(env, name) {
				n++
			}
		}
		if n != 1 {
			problems = append(problems, fmt.Sprintf("%s has %d creation events", name, n))
		}
	}
	return st, problems, nil
}

// groupLag is one consumer group's state on one outbox stream.
type groupLag struct {
	stream, group string
	pending, lag  int64
}

// consumers lists every consumer group on every outbox stream of the
// store, with what it has not processed: entries delivered and not
// acknowledged (pending) and entries not yet delivered (lag).
func consumers(ctx context.Context, rdb *redis.Client) ([]groupLag, error) {
	var out []groupLag
	iter := rdb.Scan(ctx, 0, "*:outbox", 500).Iterator()
	for iter.Next(ctx) {
		stream := iter.Val()
		groups, err := rdb.XInfoGroups(ctx, stream).Result()
		if err != nil {
			return nil, fmt.Errorf("groups of %s: %w", stream, err)
		}
		for _, g := range groups {
			out = append(out, groupLag{stream: stream, group: g.Name, pending: g.Pending, lag: g.Lag})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		return out[i].stream < out[j].stream || out[i].stream == out[j].stream && out[i].group < out[j].group
	})
	return out, iter.Err()
}

// caughtUp waits until every consumer group of every outbox stream has
// processed everything on it, and returns how many groups there are.
func (s *system) caughtUp(timeout time.Duration) int {
	s.t.Helper()
	n := 0
	eventually(s.t, timeout, func() string {
		groups, err := consumers(context.Background(), s.rdb)
		if err != nil {
			return err.Error()
		}
		n = len(groups)
		for _, g := range groups {
			if g.pending != 0 || g.lag != 0 {
				return fmt.Sprintf("group %s on %s: %d pending, %d unread", g.group, g.stream, g.pending, g.lag)
			}
		}
		return ""
	})
	return n
}
