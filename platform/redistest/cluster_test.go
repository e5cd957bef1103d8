package redistest

import (
	"context"
	"testing"
)

func TestStartCluster(t *testing.T) {
	c := StartCluster(t)
	client := c.Client()
	defer client.Close()
	ctx := context.Background()
	// Keys in different slots land on different nodes; the client routes.
	for _, k := range []string{"a", "b", "c", "{x}:1", "{x}:2"} {
		if err := client.Set(ctx, k, k, 0).Err(); err != nil {
			t.Fatalf("set %s: %v", k, err)
		}
	}
	// A script over keys of one hash tag works; over two slots it fails.
	if err := client.Eval(ctx, "return redis.call('MGET', KEYS[1], KEYS[2])", []string{"{x}:1", "{x}:2"}).Err(); err != nil {
		t.Fatalf("same-slot script: %v", err)
	}
	if err := client.Eval(ctx, "return redis.call('MGET', KEYS[1], KEYS[2])", []string{"a", "b"}).Err(); err == nil {
		t.Fatal("a cross-slot script should be refused by the cluster")
	}
}
