// Request plumbing shared by the use cases: paging, update masks and
// resource names.

package domain

import (
	"slices"
	"strings"

	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/types/known/fieldmaskpb"

	"github.com/tjsia/chapterhouse/platform/apierr"
	"github.com/tjsia/chapterhouse/platform/pagetoken"
	"github.com/tjsia/chapterhouse/platform/resourcename"
	apiv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/api/v1"
)

func pageArgs(size int32, token string, filters ...string) (int, string, string, error) {
	n, err := pagetoken.Size(size)
	if err != nil {
		return 0, "", "", apierr.InvalidArgument(apierr.FieldViolation{Field: "page_size", Description: err.Error()})
	}
	fp := pagetoken.Fingerprint(filters...)
	after, err := pagetoken.Decode(token, fp)
	if err != nil {
		return 0, "", "", apierr.InvalidPageToken()
	}
	return n, after, fp, nil
}

func nextToken(next, fp string) string {
	if next == "" {
		return ""
	}
	return pagetoken.Encode(next, fp)
}

// maskPaths validates mask against the updatable paths; "*" means all of
// them. An empty mask is an error: AIP-134 allows it to mean "every
// provided field", but with proto3 scalars a client could then not clear a
// field, and clearing by accident is worse than a clear error. Paths may be
// lowerCamel (the JSON form REST clients write) or snake_case; a path
// inside an updatable message field (birth_date.year, which the REST
// gateway derives from a body) updates that field whole.
func maskPaths(mask *fieldmaskpb.FieldMask, updatable []string, forbidden map[string]string) ([]string, error) {
	if len(mask.GetPaths()) == 0 {
		return nil, apierr.InvalidArgument(apierr.FieldViolation{Field: "update_mask", Description: "is required; name the fields to change, or \"*\""})
	}
	var bad []apierr.FieldViolation
	var out []string
	add := func(p string) {
		if !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	for _, raw := range mask.GetPaths() {
		path := snakeCase(raw)
		switch {
		case path == "*":
			for _, p := range updatable {
				add(p)
			}
		case slices.Contains(updatable, path):
			add(path)
		case forbidden[path] != "":
			bad = append(bad, apierr.FieldViolation{Field: "update_mask", Description: raw + " " + forbidden[path]})
		case enclosing(path, updatable) != "":
			add(enclosing(path, updatable))
		default:
			bad = append(bad, apierr.FieldViolation{Field: "update_mask", Description: "unknown or non-updatable field " + raw})
		}
	}
	if len(bad) > 0 {
		return nil, apierr.InvalidArgument(bad...)
	}
	return out, nil
}

// enclosing is the longest updatable path that path lies inside, or "".
func enclosing(path string, updatable []string) string {
	for i := strings.LastIndexByte(path, '.'); i > 0; i = strings.LastIndexByte(path[:i], '.') {
		if slices.Contains(updatable, path[:i]) {
			return path[:i]
		}
	}
	return ""
}

// snakeCase turns a lowerCamel field path (birthDate.year) into the proto
// names (birth_date.year); snake_case passes unchanged.
func snakeCase(path string) string {
	var b strings.Builder
	for _, r := range path {
		if r >= 'A' && r <= 'Z' {
			b.WriteByte('_')
			r += 'a' - 'A'
		}
		b.WriteRune(r)
	}
	return b.String()
}

// --- names ---

func parseName(name string, collections ...string) ([]string, error) {
	return resourcename.Parse(name, collections...)
}

// ParseOrganizationName returns the id of organizations/{id}.
func ParseOrganizationName(name string) (string, error) {
	ids, err := parseName(name, "organizations")
	if err != nil {
		return "", err
	}
	return ids[0], nil
}

// ParsePersonName returns the id of people/{id}.
func ParsePersonName(name string) (string, error) {
	ids, err := parseName(name, "people")
	if err != nil {
		return "", err
	}
	return ids[0], nil
}

func (s *Service) parseBranch(parent string) (string, error) {
	ids, err := parseName(parent, "branches")
	if err != nil {
		return "", err
	}
	if !s.branches[ids[0]] {
		return "", apierr.New(codes.NotFound, apiv1.ErrorReason_UNKNOWN_BRANCH, parent+" not found", map[string]string{"resource": parent})
	}
	return ids[0], nil
}

func (s *Service) parseInBranch(name, collection string) (branch, id string, err error) {
	ids, err := parseName(name, "branches", collection)
	if err != nil {
		return "", "", err
	}
	if !s.branches[ids[0]] {
		return "", "", apierr.NotFound(name)
	}
	return ids[0], ids[1], nil
}
