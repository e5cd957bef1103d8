package redistx_test

import (
	"context"
	"errors"
	"testing"

	"github.com/redis/go-redis/v9"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/tjsia/chapterhouse/platform/redistest"
	"github.com/tjsia/chapterhouse/platform/redistx"
)

// TestMessages: a record put as a message reads back as it was, with its
// etag; a missing one and a failed condition answer with the errors the
// caller gave for them.
func TestMessages(t *testing.T) {
	redistest.ForEachBackend(t, func(t *testing.T, c *redis.Client) {
		ctx := context.Background()
		errMissing, errTaken := errors.New("missing"), errors.New("taken")
		taken := func(f *redistx.ConditionFailedError) error {
			if f.Label != "id" {
				t.Errorf("label %q, want id", f.Label)
			}
			return errTaken
		}
		rec := key("msg", "1")
		tx := redistx.New(tag, "put-1").ExpectEtag("id", rec, "")
		if err := tx.PutMessage(rec, wrapperspb.String("文"), "e1"); err != nil {
			t.Fatal(err)
		}
		if err := tx.CommitAs(ctx, c, taken); err != nil {
			t.Fatalf("first commit: %v", err)
		}
		got, err := redistx.GetMessage(ctx, c, rec, &wrapperspb.StringValue{}, errMissing)
		if err != nil || !proto.Equal(got, wrapperspb.String("文")) {
			t.Fatalf("GetMessage = %v, %v", got, err)
		}
		if r, _ := redistx.Get(ctx, c, rec); r.Etag != "e1" {
			t.Errorf("etag %q, want e1", r.Etag)
		}
		again := redistx.New(tag, "put-2").ExpectEtag("id", rec, "")
		if err := again.PutMessage(rec, wrapperspb.String("x"), "e2"); err != nil {
			t.Fatal(err)
		}
		if err := again.CommitAs(ctx, c, taken); !errors.Is(err, errTaken) {
			t.Errorf("a taken id: %v, want errTaken", err)
		}
		if _, err := redistx.GetMessage(ctx, c, key("msg", "2"), &wrapperspb.StringValue{}, errMissing); !errors.Is(err, errMissing) {
			t.Errorf("a missing record: %v, want errMissing", err)
		}
		c.HSet(ctx, key("msg", "3"), redistx.FieldData, "\xff\xff", redistx.FieldEtag, "e")
		if _, err := redistx.GetMessage(ctx, c, key("msg", "3"), &wrapperspb.StringValue{}, errMissing); err == nil || errors.Is(err, errMissing) {
			t.Errorf("an undecodable record: %v", err)
		}
	})
}
