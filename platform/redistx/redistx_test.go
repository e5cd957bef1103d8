package redistx_test

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/tjsia/chapterhouse/platform/redistest"
	"github.com/tjsia/chapterhouse/platform/redistx"
)

const tag = "t"

func key(parts ...string) string { return redistx.Key(tag, parts...) }

// dump renders the whole content of key, whatever its type, so a test can
// compare a key before and after a commit.
func dump(t *testing.T, c *redis.Client, k string) string {
	t.Helper()
	ctx := context.Background()
	typ, err := c.Type(ctx, k).Result()
	if err != nil {
		t.Fatalf("TYPE %s: %v", k, err)
	}
	switch typ {
	case "none":
		return "none"
	case "string":
		return "string:" + c.Get(ctx, k).Val()
	case "hash":
		m := c.HGetAll(ctx, k).Val()
		fields := make([]string, 0, len(m))
		for f, v := range m {
			fields = append(fields, f+"="+v)
		}
		sort.Strings(fields)
		return "hash:" + strings.Join(fields, ",")
	case "zset":
		return fmt.Sprintf("zset:%v", c.ZRangeWithScores(ctx, k, 0, -1).Val())
	case "stream":
		return fmt.Sprintf("stream:%v", c.XRange(ctx, k, "-", "+").Val())
	}
	return "other:" + typ
}

func snapshot(t *testing.T, c *redis.Client, keys []string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, k := range keys {
		out[k] = dump(t, c, k)
	}
	return out
}

func assertUnchanged(t *testing.T, c *redis.Client, before map[string]string) {
	t.Helper()
	for k, want := range before {
		if got := dump(t, c, k); got != want {
			t.Errorf("key %s changed: before %q, after %q", k, want, got)
		}
	}
}

// Keys of the fixture every condition test starts from.
var (
	recA     = key("rec", "a")   // record, etag "e1"
	recB     = key("rec", "b")   // record, etag "e2"
	recNew   = key("rec", "new") // absent record
	claimX   = key("claim", "x") // string "owner1"
	claimNew = key("claim", "new")
	index    = key("idx") // zset {a:1, b:2}
	outbox   = key("outbox")
	stale    = key("stale") // string "old", deleted by the Tx
)

func seed(t *testing.T, c *redis.Client) {
	t.Helper()
	ctx := context.Background()
	pipe := c.TxPipeline()
	pipe.HSet(ctx, recA, redistx.FieldData, "A", redistx.FieldEtag, "e1")
	pipe.HSet(ctx, recB, redistx.FieldData, "B", redistx.FieldEtag, "e2")
	pipe.Set(ctx, claimX, "owner1", 0)
	pipe.ZAdd(ctx, index, redis.Z{Score: 1, Member: "a"}, redis.Z{Score: 2, Member: "b"})
	pipe.Set(ctx, stale, "old", 0)
	if _, err := pipe.Exec(ctx); err != nil {
		t.Fatalf("seed: %v", err)
	}
}

// withMutations adds one mutation of every kind.
func withMutations(tx *redistx.Tx) *redistx.Tx {
	return tx.
		Put(recNew, []byte("N"), "e-new").
		Put(recA, []byte("A2"), "e1b").
		Set(claimNew, "owner-new").
		Del(stale).
		ZAdd(index, 3, "new").
		ZRem(index, "a").
		XAdd(outbox, "id", "ev1", "env", "payload")
}

var touched = []string{recA, recB, recNew, claimX, claimNew, index, outbox, stale}

func TestCommitConditionFailedWritesNothing(t *testing.T) {
	tests := []struct {
		name  string
		conds func(tx *redistx.Tx)
		want  redistx.ConditionFailedError
	}{
		{
			name:  "etag empty but record exists",
			conds: func(tx *redistx.Tx) { tx.ExpectEtag("create a", recA, "") },
			want:  redistx.ConditionFailedError{Index: 0, Label: "create a", Current: "e1"},
		},
		{
			name:  "etag mismatch",
			conds: func(tx *redistx.Tx) { tx.ExpectEtag("update a", recA, "stale-etag") },
			want:  redistx.ConditionFailedError{Index: 0, Label: "update a", Current: "e1"},
		},
		{
			name:  "etag expected but record absent",
			conds: func(tx *redistx.Tx) { tx.ExpectEtag("update new", recNew, "e1") },
			want:  redistx.ConditionFailedError{Index: 0, Label: "update new", Current: ""},
		},
		{
			name: "second etag fails after first holds",
			conds: func(tx *redistx.Tx) {
				tx.ExpectEtag("a ok", recA, "e1").ExpectEtag("b stale", recB, "e1")
			},
			want: redistx.ConditionFailedError{Index: 1, Label: "b stale", Current: "e2"},
		},
		{
			name: "absent but claim taken",
			conds: func(tx *redistx.Tx) {
				tx.ExpectEtag("new free", recNew, "").ExpectAbsent("claim free", claimNew).ExpectAbsent("claim x", claimX)
			},
			want: redistx.ConditionFailedError{Index: 2, Label: "claim x", Current: "owner1"},
		},
		{
			name:  "absent but key is a hash",
			conds: func(tx *redistx.Tx) { tx.ExpectAbsent("rec a free", recA) },
			want:  redistx.ConditionFailedError{Index: 0, Label: "rec a free", Current: ""},
		},
		{
			name:  "value mismatch",
			conds: func(tx *redistx.Tx) { tx.ExpectValue("owner", claimX, "owner2") },
			want:  redistx.ConditionFailedError{Index: 0, Label: "owner", Current: "owner1"},
		},
		{
			name: "value expected but key absent",
			conds: func(tx *redistx.Tx) {
				tx.ExpectValue("owner ok", claimX, "owner1").ExpectValue("missing", claimNew, "someone")
			},
			want: redistx.ConditionFailedError{Index: 1, Label: "missing", Current: ""},
		},
	}
	redistest.ForEachBackend(t, func(t *testing.T, c *redis.Client) {
		ctx := context.Background()
		seed(t, c)
		for i, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				before := snapshot(t, c, touched)
				id := fmt.Sprintf("fail-%d", i)
				tx := redistx.New(tag, id)
				tt.conds(tx)
				withMutations(tx)
				err := tx.Commit(ctx, c)
				var cf *redistx.ConditionFailedError
				if !errors.As(err, &cf) {
					t.Fatalf("Commit err = %v, want *ConditionFailedError", err)
				}
				if *cf != tt.want {
					t.Fatalf("ConditionFailedError = %+v, want %+v", *cf, tt.want)
				}
				if !strings.Contains(cf.Error(), tt.want.Label) {
					t.Errorf("Error() = %q, want it to name label %q", cf.Error(), tt.want.Label)
				}
				assertUnchanged(t, c, before)
				if n := c.XLen(ctx, outbox).Val(); n != 0 {
					t.Errorf("outbox has %d entries, want 0", n)
				}
				// A failed Tx must not be remembered as applied.
				if n := c.Exists(ctx, key("tx", id)).Val(); n != 0 {
					t.Errorf("applied marker for failed tx %s exists", id)
				}
			})
		}
	})
}

func TestCommitAppliesAllMutations(t *testing.T) {
	redistest.ForEachBackend(t, func(t *testing.T, c *redis.Client) {
		ctx := context.Background()
		seed(t, c)
		tx := redistx.New(tag, "ok-1").
			ExpectEtag("new absent", recNew, "").
			ExpectEtag("a current", recA, "e1").
			ExpectAbsent("claim free", claimNew).
			ExpectValue("owner", claimX, "owner1")
		withMutations(tx)
		if tx.Empty() {
			t.Fatal("Empty() = true for a Tx with mutations")
		}
		if err := tx.Commit(ctx, c); err != nil {
			t.Fatalf("Commit: %v", err)
		}

		records := []struct {
			key        string
			data, etag string
		}{
			{recNew, "N", "e-new"},
			{recA, "A2", "e1b"},
			{recB, "B", "e2"},
		}
		for _, r := range records {
			got, err := redistx.Get(ctx, c, r.key)
			if err != nil {
				t.Fatalf("Get %s: %v", r.key, err)
			}
			if string(got.Data) != r.data || got.Etag != r.etag {
				t.Errorf("Get %s = {%q %q}, want {%q %q}", r.key, got.Data, got.Etag, r.data, r.etag)
			}
		}
		if v := c.Get(ctx, claimNew).Val(); v != "owner-new" {
			t.Errorf("claim = %q, want owner-new", v)
		}
		if n := c.Exists(ctx, stale).Val(); n != 0 {
			t.Errorf("deleted key still exists")
		}
		z := c.ZRangeWithScores(ctx, index, 0, -1).Val()
		wantZ := []redis.Z{{Score: 2, Member: "b"}, {Score: 3, Member: "new"}}
		if fmt.Sprint(z) != fmt.Sprint(wantZ) {
			t.Errorf("index = %v, want %v", z, wantZ)
		}
		msgs := c.XRange(ctx, outbox, "-", "+").Val()
		if len(msgs) != 1 {
			t.Fatalf("outbox has %d entries, want 1", len(msgs))
		}
		if msgs[0].Values["id"] != "ev1" || msgs[0].Values["env"] != "payload" || len(msgs[0].Values) != 2 {
			t.Errorf("outbox entry = %v", msgs[0].Values)
		}
		ttl := c.TTL(ctx, key("tx", "ok-1")).Val()
		if ttl <= 0 {
			t.Errorf("applied marker TTL = %v, want a positive expiry", ttl)
		}
	})
}

func TestCommitMutationOrder(t *testing.T) {
	redistest.ForEachBackend(t, func(t *testing.T, c *redis.Client) {
		ctx := context.Background()
		// Mutations apply in the order added: the later one wins.
		err := redistx.New(tag, "order").
			Set(claimNew, "first").Del(claimNew).
			Put(recNew, []byte("x"), "1").Put(recNew, []byte("y"), "2").
			ZAdd(index, 1.5, "m").ZAdd(index, -2.25, "m").
			Commit(ctx, c)
		if err != nil {
			t.Fatalf("Commit: %v", err)
		}
		if n := c.Exists(ctx, claimNew).Val(); n != 0 {
			t.Errorf("Set then Del: key exists")
		}
		if r, err := redistx.Get(ctx, c, recNew); err != nil || string(r.Data) != "y" || r.Etag != "2" {
			t.Errorf("Get = %+v, %v; want data y etag 2", r, err)
		}
		if s := c.ZScore(ctx, index, "m").Val(); s != -2.25 {
			t.Errorf("score = %v, want -2.25", s)
		}
	})
}

func TestCommitReplayAppliesOnce(t *testing.T) {
	redistest.ForEachBackend(t, func(t *testing.T, c *redis.Client) {
		ctx := context.Background()
		build := func() *redistx.Tx {
			return redistx.New(tag, "replayed").
				ExpectEtag("create", recNew, "").
				ExpectAbsent("claim", claimNew).
				Put(recNew, []byte("v1"), "e1").
				Set(claimNew, "me").
				ZAdd(index, 1, "new").
				XAdd(outbox, "id", "ev-1")
		}
		first := build()
		if err := first.Commit(ctx, c); err != nil {
			t.Fatalf("first Commit: %v", err)
		}
		// Someone else changes the record after the first commit; a replay
		// must neither fail its (now false) conditions nor overwrite this.
		if err := c.HSet(ctx, recNew, redistx.FieldData, "v9", redistx.FieldEtag, "e9").Err(); err != nil {
			t.Fatal(err)
		}
		c.ZRem(ctx, index, "new")

		replays := []struct {
			name string
			tx   *redistx.Tx
		}{
			{"same Tx value", first},
			{"rebuilt with same id", build()},
		}
		for _, r := range replays {
			if err := r.tx.Commit(ctx, c); err != nil {
				t.Fatalf("%s: replay Commit = %v, want nil", r.name, err)
			}
		}
		if n := c.XLen(ctx, outbox).Val(); n != 1 {
			t.Errorf("outbox has %d entries after replays, want 1", n)
		}
		if rec, _ := redistx.Get(ctx, c, recNew); string(rec.Data) != "v9" || rec.Etag != "e9" {
			t.Errorf("record = {%q %q}, replay overwrote it", rec.Data, rec.Etag)
		}
		if n := c.ZCard(ctx, index).Val(); n != 0 {
			t.Errorf("index has %d members, replay re-added", n)
		}

		// The same Tx under a new id is a new operation: its conditions
		// are checked and now fail.
		other := redistx.New(tag, "fresh").ExpectEtag("create", recNew, "").Put(recNew, []byte("v2"), "e2")
		var cf *redistx.ConditionFailedError
		if err := other.Commit(ctx, c); !errors.As(err, &cf) || cf.Current != "e9" {
			t.Fatalf("fresh id Commit = %v, want ConditionFailedError with current e9", err)
		}
	})
}

// TestOperationRetriedAfterACrashWritesOnce: a request whose commit was
// applied but whose answer was lost (the process died) is run again under
// the same operation; with fresh ids and a fresh Tx id its commit writes
// nothing and returns the first result. Another operation, or none, writes.
func TestOperationRetriedAfterACrashWritesOnce(t *testing.T) {
	redistest.ForEachBackend(t, func(t *testing.T, c *redis.Client) {
		create := func(ctx context.Context, txID, id string) error {
			return redistx.New(tag, txID).ExpectEtag("create", key("rec", id), "").
				Put(key("rec", id), []byte("data-"+id), "e").ZAdd(key("idx"), 0, id).XAdd(key("outbox"), "id", id).
				Commit(ctx, c)
		}
		first := redistx.WithOperation(context.Background(), "{idem:li-na/CreateActivity/k1}")
		if err := create(first, "tx-1", "a1"); err != nil {
			t.Fatal(err)
		}
		// The retry: a new process, a new random id for the resource, a new Tx id.
		retry := redistx.WithOperation(context.Background(), "{idem:li-na/CreateActivity/k1}")
		err := create(retry, "tx-2", "a2")
		var applied *redistx.AppliedError
		if !errors.As(err, &applied) || string(applied.Result) != "data-a1" {
			t.Fatalf("retry: %v, want AppliedError with the first result", err)
		}
		if n := c.ZCard(context.Background(), key("idx")).Val(); n != 1 {
			t.Fatalf("%d records after the retry, want 1", n)
		}
		if n := c.XLen(context.Background(), key("outbox")).Val(); n != 1 {
			t.Fatalf("%d events after the retry, want 1", n)
		}
		// Another client key is another operation; no operation is none.
		if err := create(redistx.WithOperation(context.Background(), "{idem:li-na/CreateActivity/k2}"), "tx-3", "a3"); err != nil {
			t.Fatal(err)
		}
		if err := create(context.Background(), "tx-4", "a4"); err != nil {
			t.Fatal(err)
		}
		if n := c.ZCard(context.Background(), key("idx")).Val(); n != 3 {
			t.Fatalf("%d records, want 3", n)
		}
		// One request that commits twice meets each of its commits in order.
		two := redistx.WithOperation(context.Background(), "{idem:li-na/Two/k}")
		if err := create(two, "tx-5", "b1"); err != nil {
			t.Fatal(err)
		}
		if err := create(two, "tx-6", "b2"); err != nil {
			t.Fatalf("the request's second commit: %v", err)
		}
		again := redistx.WithOperation(context.Background(), "{idem:li-na/Two/k}")
		if err := create(again, "tx-7", "b9"); !errors.As(err, &applied) || string(applied.Result) != "data-b1" {
			t.Fatalf("its retry: %v, want the first commit's result", err)
		}
	})
}

func TestCommitRetryAfterConditionFailure(t *testing.T) {
	redistest.ForEachBackend(t, func(t *testing.T, c *redis.Client) {
		ctx := context.Background()
		seed(t, c)
		// A Tx id whose commit failed is not burned: once the condition
		// holds, the same id applies.
		fails := redistx.New(tag, "retry").ExpectValue("owner", claimX, "owner2").Set(claimNew, "done")
		if err := fails.Commit(ctx, c); err == nil {
			t.Fatal("first Commit succeeded, want condition failure")
		}
		c.Set(ctx, claimX, "owner2", 0)
		if err := fails.Commit(ctx, c); err != nil {
			t.Fatalf("second Commit: %v", err)
		}
		if v := c.Get(ctx, claimNew).Val(); v != "done" {
			t.Errorf("claim = %q, want done", v)
		}
	})
}

func TestCommitRejectsKeysOutsideTag(t *testing.T) {
	other := redistx.Key("other", "k")
	tests := []struct {
		name string
		tx   *redistx.Tx
		bad  string
	}{
		{"mutation key without tag", redistx.New(tag, "x1").Set(claimNew, "v").Set("plain:key", "v"), "plain:key"},
		{"mutation key of another tag", redistx.New(tag, "x2").Set(claimNew, "v").XAdd(other, "f", "v"), other},
		{"condition key of another tag", redistx.New(tag, "x3").ExpectAbsent("c", other).Set(claimNew, "v"), other},
		// Redis hashes only the first {...} of a key: this key contains
		// "{t}" but lives in the slot of "other".
		{"tag after another tag", redistx.New(tag, "x4").Set(claimNew, "v").Set("{other}:{t}:k", "v"), "{other}:{t}:k"},
		{"tag after an empty tag", redistx.New(tag, "x5").Set(claimNew, "v").Del("{}{t}:k"), "{}{t}:k"},
	}
	redistest.ForEachBackend(t, func(t *testing.T, c *redis.Client) {
		ctx := context.Background()
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				err := tt.tx.Commit(ctx, c)
				if err == nil || !strings.Contains(err.Error(), tt.bad) || !strings.Contains(err.Error(), "outside slot") {
					t.Fatalf("Commit err = %v, want outside-slot error naming %q", err, tt.bad)
				}
				var cf *redistx.ConditionFailedError
				if errors.As(err, &cf) {
					t.Fatalf("err is a ConditionFailedError: %v", err)
				}
				keys, err := c.Keys(ctx, "*").Result()
				if err != nil {
					t.Fatal(err)
				}
				if len(keys) != 0 {
					t.Fatalf("keys written: %v", keys)
				}
			})
		}
	})
}

func TestCommitNeedsID(t *testing.T) {
	// Fails before any Redis call, so no server is needed.
	err := redistx.New(tag, "").Set(claimNew, "v").Commit(context.Background(), redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"}))
	if err == nil || !strings.Contains(err.Error(), "no id") {
		t.Fatalf("Commit err = %v, want no-id error", err)
	}
}

func TestGet(t *testing.T) {
	redistest.ForEachBackend(t, func(t *testing.T, c *redis.Client) {
		ctx := context.Background()
		c.HSet(ctx, recA, redistx.FieldData, "\x00bin\xff", redistx.FieldEtag, "e1")
		c.HSet(ctx, recB, redistx.FieldData, "only data")

		got, err := redistx.Get(ctx, c, recA)
		if err != nil || string(got.Data) != "\x00bin\xff" || got.Etag != "e1" {
			t.Fatalf("Get = %+v, %v", got, err)
		}
		for _, k := range []string{recNew, recB} {
			if _, err := redistx.Get(ctx, c, k); !errors.Is(err, redistx.ErrNotFound) {
				t.Errorf("Get %s err = %v, want ErrNotFound", k, err)
			}
		}
	})
}

func TestTxBuilders(t *testing.T) {
	if k := redistx.Key("mbr:orgs", "org", "a1"); k != "{mbr:orgs}:org:a1" {
		t.Errorf("Key = %q", k)
	}
	if !redistx.New(tag, "id").ExpectAbsent("c", claimNew).Empty() {
		t.Error("Empty() = false for a Tx with conditions only")
	}
	defer func() {
		if recover() == nil {
			t.Error("XAdd with an odd number of fields did not panic")
		}
	}()
	redistx.New(tag, "id").XAdd(outbox, "lonely") //nolint:staticcheck // SA5012: the odd field count is the point of the test

}

func TestCommitAcceptsKeysInTagSlot(t *testing.T) {
	redistest.ForEachBackend(t, func(t *testing.T, c *redis.Client) {
		ctx := context.Background()
		// Only the first {...} decides the slot; later braces are plain text.
		k := "{t}:{other}:k"
		if err := redistx.New(tag, "in-slot").Set(k, "v").Commit(ctx, c); err != nil {
			t.Fatalf("Commit: %v", err)
		}
		if v := c.Get(ctx, k).Val(); v != "v" {
			t.Fatalf("GET %s = %q, want v", k, v)
		}
	})
}
