package page_test

import (
	"slices"
	"testing"

	"github.com/tjsia/chapterhouse/platform/page"
)

func TestOfWalksEveryItemOnce(t *testing.T) {
	items := []string{"a", "b", "c", "d", "e"}
	id := func(s string) string { return s }
	for size := 1; size <= 6; size++ {
		var got []string
		after := ""
		for range 10 {
			pg := page.Of(items, id, after, size)
			got = append(got, pg.Items...)
			if pg.Next == "" {
				break
			}
			after = pg.Next
		}
		if !slices.Equal(got, items) {
			t.Errorf("size %d: walked %v, want %v", size, got, items)
		}
	}
	if pg := page.Of(items, id, "e", 2); len(pg.Items) != 0 || pg.Next != "" {
		t.Errorf("after the last item: %+v, want an empty last page", pg)
	}
}
