package pagetoken

import (
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/tjsia/chapterhouse/platform/apierr"
	apiv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/api/v1"
)

// FuzzParseToken feeds page tokens to a codec that has rotated (keyNew
// signs, keyOld still verifies). Properties: Parse never panics; it refuses
// with INVALID_PAGE_TOKEN or accepts exactly a token one of its keys wrote
// for these filters (the same bytes, spelt the same way); and a token it
// issues after any position pages on under its own filters and no others.
// The seed corpus is in testdata/fuzz/FuzzParseToken.
func FuzzParseToken(f *testing.F) {
	rotated := codec(f, keyNew, keyOld)
	byKey := []*Codec{codec(f, keyNew), codec(f, keyOld)}
	f.Fuzz(func(t *testing.T, raw, after, filter string) {
		filters := []string{"fuzz", filter}
		pg, err := rotated.Parse(0, raw, filters...)
		switch {
		case err != nil:
			if status.Code(err) != codes.InvalidArgument || !apierr.Is(err, apiv1.ErrorReason_INVALID_PAGE_TOKEN) {
				t.Fatalf("Parse(%q) = %v, want INVALID_PAGE_TOKEN", raw, err)
			}
		case raw == "":
			if pg.After != "" {
				t.Fatalf("an empty token continues after %q", pg.After)
			}
		default:
			bound := binding(filters)
			if pg.After == "" || (raw != byKey[0].encode(pg.After, bound) && raw != byKey[1].encode(pg.After, bound)) {
				t.Fatalf("Parse accepted %q (after %q), which no key of the codec wrote for %q", raw, pg.After, filter)
			}
		}

		if after == "" {
			return
		}
		first, err := rotated.Parse(0, "", filters...)
		if err != nil {
			t.Fatal(err)
		}
		tok := first.Next(after)
		if pg, err := rotated.Parse(0, tok, filters...); err != nil || pg.After != after {
			t.Fatalf("the token after %q does not page on: %+v, %v", after, pg, err)
		}
		if _, err := rotated.Parse(0, tok, "fuzz", filter, ""); err == nil {
			t.Fatalf("the token after %q for %q is accepted with another filter", after, filter)
		}
		if _, err := byKey[1].Parse(0, tok, filters...); err == nil {
			t.Fatal("a new token verifies under the old key alone")
		}
	})
}
