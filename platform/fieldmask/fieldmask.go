// Package fieldmask reads the update_mask of an Update request (AIP-134):
// which paths it names, checked against what may be updated, and copies
// those fields from the request's resource.
package fieldmask

import (
	"slices"
	"strings"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/fieldmaskpb"

	"github.com/tjsia/chapterhouse/platform/apierr"
)

// Paths validates an update_mask against the updatable paths; "*" means all of
// them. An empty mask is an error: AIP-134 allows it to mean "every
// provided field", but with proto3 scalars a client could then not clear a
// field, and clearing by accident is worse than a clear error. Paths may be
// lowerCamel (the JSON form REST clients write) or snake_case; a path
// inside an updatable message field (birth_date.year, which the REST
// gateway derives from a body) updates that field whole.
//
// forbidden says why a path may not be updated, as the suffix of its
// catalog text "field.mask.<why>" ("immutable", "output_only", ...).
func Paths(mask *fieldmaskpb.FieldMask, updatable []string, forbidden map[string]string) ([]string, error) {
	if len(mask.GetPaths()) == 0 {
		return nil, apierr.InvalidArgument(apierr.Field("update_mask", "mask.required"))
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
			bad = append(bad, apierr.Field("update_mask", "mask."+forbidden[path], "path", raw))
		case enclosing(path, updatable) != "":
			add(enclosing(path, updatable))
		default:
			bad = append(bad, apierr.Field("update_mask", "mask.unknown", "path", raw))
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

// Apply copies the fields at paths from src to dst; a field src does not
// set is cleared. A path names a field of src's message or, dotted
// (contact.email), a field inside one: dst's enclosing messages are made
// as needed, and the fields beside it stay as they were. A path naming no
// field is passed over: Paths has refused it before.
func Apply(dst, src proto.Message, paths []string) {
	for _, path := range paths {
		apply(dst.ProtoReflect(), src.ProtoReflect(), strings.Split(path, "."))
	}
}

func apply(d, s protoreflect.Message, names []string) {
	fd := s.Descriptor().Fields().ByName(protoreflect.Name(names[0]))
	switch {
	case fd == nil:
	case len(names) > 1:
		if fd.Kind() == protoreflect.MessageKind && !fd.IsList() && !fd.IsMap() {
			apply(d.Mutable(fd).Message(), s.Get(fd).Message(), names[1:])
		}
	case s.Has(fd):
		d.Set(fd, s.Get(fd))
	default:
		d.Clear(fd)
	}
}
