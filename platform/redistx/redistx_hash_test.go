package redistx

import (
	"context"
	"errors"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/tjsia/chapterhouse/platform/redistest"
)

func TestHashFieldConditionAndHSet(t *testing.T) {
	redistest.ForEachBackend(t, func(t *testing.T, c *redis.Client) {
		ctx := context.Background()
		gate := Key("h", "gate")
		if err := New("h", "1").ExpectHashField("fresh", gate, "ver", "").HSet(gate, "ver", "1", "state", "OPEN").Commit(ctx, c); err != nil {
			t.Fatalf("empty field should match a missing key: %v", err)
		}
		err := New("h", "2").ExpectHashField("ver", gate, "ver", "0").HSet(gate, "ver", "2").Commit(ctx, c)
		var failed *ConditionFailedError
		if !errors.As(err, &failed) || failed.Label != "ver" || failed.Current != "1" {
			t.Fatalf("mismatch: %v", err)
		}
		if err := New("h", "3").ExpectHashField("ver", gate, "ver", "1").HSet(gate, "ver", "2").Commit(ctx, c); err != nil {
			t.Fatal(err)
		}
		got, _ := c.HGetAll(ctx, gate).Result()
		if got["ver"] != "2" || got["state"] != "OPEN" {
			t.Fatalf("gate = %v", got)
		}
	})
}

// TestHIncrBy: writers that bump a counter without a condition on it all
// commit; one that conditions on the counter sees the bumps.
func TestHIncrBy(t *testing.T) {
	redistest.ForEachBackend(t, func(t *testing.T, c *redis.Client) {
		ctx := context.Background()
		gate := Key("h", "gate")
		for i, id := range []string{"a", "b", "c"} {
			if err := New("h", id).ExpectHashField("open", gate, "state", "").HIncrBy(gate, "ballots", 1).Commit(ctx, c); err != nil {
				t.Fatalf("bump %d: %v", i, err)
			}
		}
		err := New("h", "close").ExpectHashField("ballots", gate, "ballots", "2").HSet(gate, "state", "CLOSED").Commit(ctx, c)
		var failed *ConditionFailedError
		if !errors.As(err, &failed) || failed.Current != "3" {
			t.Fatalf("a close that missed a ballot: %v", err)
		}
		if err := New("h", "close2").ExpectHashField("ballots", gate, "ballots", "3").HSet(gate, "state", "CLOSED").Commit(ctx, c); err != nil {
			t.Fatal(err)
		}
	})
}

// TestHashFieldBelow: places are taken while the count is below the
// limit, whatever it was when read, and the writer that finds none left
// is refused with the count, writing nothing.
func TestHashFieldBelow(t *testing.T) {
	redistest.ForEachBackend(t, func(t *testing.T, c *redis.Client) {
		ctx := context.Background()
		claims := Key("h", "claims")
		for i, id := range []string{"a", "b"} {
			if err := New("h", id).ExpectHashFieldBelow("claim", claims, "unit", 2).HIncrBy(claims, "unit", 1).Set(Key("h", id), "x").Commit(ctx, c); err != nil {
				t.Fatalf("place %d of 2: %v", i+1, err)
			}
		}
		err := New("h", "c").ExpectHashFieldBelow("claim", claims, "unit", 2).HIncrBy(claims, "unit", 1).Set(Key("h", "c"), "x").Commit(ctx, c)
		var failed *ConditionFailedError
		if !errors.As(err, &failed) || failed.Label != "claim" || failed.Current != "2" {
			t.Fatalf("a third place of 2: %v", err)
		}
		if n, _ := c.Exists(ctx, Key("h", "c")).Result(); n != 0 {
			t.Fatal("the refused writer wrote")
		}
		if err := New("h", "d").ExpectHashFieldBelow("claim", claims, "other", 1).Commit(ctx, c); err != nil {
			t.Fatalf("a missing field counts 0: %v", err)
		}
		c.HIncrBy(ctx, claims, "unit", -1)
		if err := New("h", "e").ExpectHashFieldBelow("claim", claims, "unit", 2).HIncrBy(claims, "unit", 1).Commit(ctx, c); err != nil {
			t.Fatalf("a place given back is free again: %v", err)
		}
	})
}
