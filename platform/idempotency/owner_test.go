package idempotency

import (
	"context"
	"testing"

	"github.com/tjsia/chapterhouse/platform/redistest"
)

// TestBeginRunAgainFindsItsOwnClaim: the claim script run a second time
// with the same arguments, as go-redis sends a command again after its
// reply was lost, lets the request go on; another Begin of the same key
// (a client's concurrent retry) is still refused as in progress.
func TestBeginRunAgainFindsItsOwnClaim(t *testing.T) {
	client := redistest.Start(t).Client()
	t.Cleanup(func() { client.Close() })
	ctx := context.Background()
	key, owner := Key("people/a", "/svc/Create", "k1"), newOwner()
	for run := range 2 {
		res, err := beginScript.Run(ctx, client, []string{key}, "hash", 5000, owner).StringSlice()
		if err != nil || res[0] != "new" {
			t.Fatalf("run %d of one Begin: %v %v, want new", run+1, res, err)
		}
	}
	s := New(client, 0)
	if _, err := s.Begin(ctx, "people/a", key, "hash"); err != ErrInProgress {
		t.Fatalf("another Begin while the first is pending: %v, want ErrInProgress", err)
	}
}
