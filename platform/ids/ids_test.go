package ids

import (
	"regexp"
	"testing"
	"time"
)

func TestNewSortsByTimeAndIsAValidID(t *testing.T) {
	valid := regexp.MustCompile(`^[a-z][a-z0-9]{19}$`)
	base := time.UnixMilli(1_700_000_000_000)
	prev := ""
	seen := map[string]bool{}
	for i := range 1000 {
		id := New(base.Add(time.Duration(i) * time.Millisecond))
		if !valid.MatchString(id) {
			t.Fatalf("id %q is not a valid resource id", id)
		}
		if id <= prev {
			t.Fatalf("id %q does not sort after %q", id, prev)
		}
		if seen[id] {
			t.Fatalf("duplicate %q", id)
		}
		seen[id], prev = true, id
	}
}
