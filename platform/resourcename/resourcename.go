// Package resourcename parses AIP-122 resource names such as
// branches/ai/activities/a1 into their ids, with the error every API returns
// for a malformed one.
package resourcename

import (
	"regexp"
	"strings"

	"github.com/tjsia/chapterhouse/platform/apierr"
)

// Wildcard stands for "any" as the last id of a collection read
// (AIP-159), e.g. branches/ai/activities/- .
const Wildcard = "-"

// IDPattern is the one rule for the id segments of resource names, and so
// for every client-chosen id: 1–63 lowercase letters, digits or hyphens,
// starting and ending with a letter or digit. The protos declare the same
// rule as the predefined buf.validate rule chapterhouse.api.v1.resource_id;
// a test holds the two to one text.
const IDPattern = `^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`

// IDRule says IDPattern in words, for error messages.
const IDRule = "1–63 lowercase letters, digits or hyphens, starting and ending with a letter or digit"

var segment = regexp.MustCompile(IDPattern)

// ValidID reports whether id follows IDPattern.
func ValidID(id string) bool { return segment.MatchString(id) }

// Parse returns the ids of name, whose collections must be collections in
// order: Parse("branches/ai/members/m1", "branches", "members") is
// ["ai", "m1"].
func Parse(name string, collections ...string) ([]string, error) {
	return parse(name, false, collections)
}

// ParseWithWildcard is Parse that also accepts Wildcard as the last id.
func ParseWithWildcard(name string, collections ...string) ([]string, error) {
	return parse(name, true, collections)
}

func parse(name string, wildcard bool, collections []string) ([]string, error) {
	parts := strings.Split(name, "/")
	if len(parts) != 2*len(collections) {
		return nil, malformed(name, collections)
	}
	ids := make([]string, len(collections))
	for i, c := range collections {
		id := parts[2*i+1]
		last := i == len(collections)-1
		valid := segment.MatchString(id) || (wildcard && last && id == Wildcard)
		if parts[2*i] != c || !valid {
			return nil, malformed(name, collections)
		}
		ids[i] = id
	}
	return ids, nil
}

func malformed(name string, collections []string) error {
	pattern := make([]string, len(collections))
	for i, c := range collections {
		pattern[i] = c + "/{id}"
	}
	return apierr.InvalidArgument(apierr.Field("name", "name_form", "name", name, "pattern", strings.Join(pattern, "/")))
}
