// Request plumbing shared by the use cases: paging, update masks and
// resource names.

package domain

import (
	"slices"

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
// field, and clearing by accident is worse than a clear error.
func maskPaths(mask *fieldmaskpb.FieldMask, updatable []string, forbidden map[string]string) ([]string, error) {
	if len(mask.GetPaths()) == 0 {
		return nil, apierr.InvalidArgument(apierr.FieldViolation{Field: "update_mask", Description: "is required; name the fields to change, or \"*\""})
	}
	var bad []apierr.FieldViolation
	var out []string
	for _, path := range mask.GetPaths() {
		switch {
		case path == "*":
			out = append(out, updatable...)
		case slices.Contains(updatable, path):
			out = append(out, path)
		case forbidden[path] != "":
			bad = append(bad, apierr.FieldViolation{Field: "update_mask", Description: path + " " + forbidden[path]})
		default:
			bad = append(bad, apierr.FieldViolation{Field: "update_mask", Description: "unknown or non-updatable field " + path})
		}
	}
	if len(bad) > 0 {
		return nil, apierr.InvalidArgument(bad...)
	}
	return out, nil
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
