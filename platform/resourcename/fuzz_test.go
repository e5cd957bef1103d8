package resourcename

import (
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// FuzzParse: for a name read with the collections it names (its even
// segments), Parse accepts exactly when every id follows the id rule, and
// ParseWithWildcard when every id does but the last, which may also be the
// wildcard; what either accepts formats back to the name; what it refuses
// is INVALID_ARGUMENT. A name read with collections it does not name is
// refused.
func FuzzParse(f *testing.F) {
	for _, name := range []string{
		"branches/ai/activities/a-1",
		"branches/ai/activities/-",
		"branches/-/activities/a1",
		"branches/ai/activity/a1",
		"branches/ai/activities",
		"branches/AI/activities/a1",
		"branches/ai/activities/a1/extra",
		"people/" + strings.Repeat("a", 63),
		"people/" + strings.Repeat("a", 64),
		"people/a:b",
		"people/../admin",
		"people/a\n",
		"people/",
		"/a",
		"",
	} {
		f.Add(name)
	}
	f.Fuzz(func(t *testing.T, name string) {
		parts := strings.Split(name, "/")
		if len(parts)%2 != 0 {
			// No collections name the name; none may parse it.
			for _, collections := range [][]string{nil, parts, append(parts, "x")} {
				if _, err := Parse(name, collections...); err == nil {
					t.Fatalf("Parse(%q, %q) accepted an odd number of segments", name, collections)
				}
			}
			return
		}
		var collections, want []string
		for i := 0; i < len(parts); i += 2 {
			collections = append(collections, parts[i])
			want = append(want, parts[i+1])
		}
		allValid, lastWildcard := true, false
		for i, id := range want {
			if !idByRule(id) {
				if i == len(want)-1 && id == Wildcard {
					lastWildcard = true
					continue
				}
				allValid = false
			}
		}
		check := func(fn string, ids []string, err error, ok bool) {
			t.Helper()
			if (err == nil) != ok {
				t.Fatalf("%s(%q, %q) = %q, %v; want ok=%v", fn, name, collections, ids, err, ok)
			}
			if err != nil {
				if status.Code(err) != codes.InvalidArgument {
					t.Fatalf("%s(%q): %v, not INVALID_ARGUMENT", fn, name, err)
				}
				return
			}
			if got := format(collections, ids); got != name {
				t.Fatalf("%s(%q) = %q, which formats to %q", fn, name, ids, got)
			}
		}
		ids, err := Parse(name, collections...)
		check("Parse", ids, err, allValid && !lastWildcard)
		ids, err = ParseWithWildcard(name, collections...)
		check("ParseWithWildcard", ids, err, allValid)

		// Another collection in any place: refused.
		for i := range collections {
			other := append([]string(nil), collections...)
			other[i] += "x"
			if _, err := ParseWithWildcard(name, other...); err == nil {
				t.Fatalf("ParseWithWildcard(%q, %q) accepted collection %q as %q", name, other, parts[2*i], other[i])
			}
		}
	})
}

// FuzzValidID: ValidID, a regular expression, is the id rule as
// resourcename.IDRule says it in words; an id it accepts is the id of a
// name, and one it refuses is not.
func FuzzValidID(f *testing.F) {
	for _, id := range []string{"ai", "1", "a-b", "-a", "a-", "A", "a_b", "a/b", "a.b", "张", "-", "", "a\n", strings.Repeat("a", 63), strings.Repeat("a", 64)} {
		f.Add(id)
	}
	f.Fuzz(func(t *testing.T, id string) {
		valid := ValidID(id)
		if valid != idByRule(id) {
			t.Fatalf("ValidID(%q) = %v, the rule in words says %v", id, valid, !valid)
		}
		if ids, err := Parse("people/"+id, "people"); (err == nil) != valid || (valid && ids[0] != id) {
			t.Fatalf("Parse(people/%q) = %q, %v; ValidID says %v", id, ids, err, valid)
		}
	})
}

// format is the name of ids in collections.
func format(collections, ids []string) string {
	parts := make([]string, 0, 2*len(ids))
	for i, id := range ids {
		parts = append(parts, collections[i], id)
	}
	return strings.Join(parts, "/")
}

// idByRule is IDRule read as words, apart from IDPattern: 1–63 lowercase
// letters, digits or hyphens, starting and ending with a letter or digit.
func idByRule(id string) bool {
	if len(id) < 1 || len(id) > 63 || id[0] == '-' || id[len(id)-1] == '-' {
		return false
	}
	for _, c := range []byte(id) {
		switch {
		case 'a' <= c && c <= 'z', '0' <= c && c <= '9', c == '-':
		default:
			return false
		}
	}
	return true
}
