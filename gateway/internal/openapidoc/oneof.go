package openapidoc

import (
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
)

// modelOneofs makes each proto oneof of a schema's message a oneOf of the
// schema: protoc-gen-openapiv2 lists a oneof's members as plain optional
// properties, so a generated type accepted two at once (an application
// with both unit and individual), which the gateway refuses.
//
// Every member stays in the schema's properties (so the object still lists
// every field it may hold); the oneOf adds one alternative per member, in
// which that member is required and the others may only be absent (or
// null, which protojson reads as unset), and one in which none is set. A
// value with two members set matches no alternative. Typed generators turn
// it into a union whose every branch admits one member at most
// (openapi-typescript: `{unit: Unit; individual?: null} | …`).
//
// The schema of a message is found by its name, and so are the copies this
// package makes of it (<Name>Input for requests, Partial<Name> for updates).
func modelOneofs(doc *openapi3.T, files *protoregistry.Files) {
	messages := messagesByName(files)
	for name, ref := range doc.Components.Schemas {
		md, ok := messageOfSchema(messages, name)
		if !ok || ref.Value == nil {
			continue
		}
		var alternatives []*openapi3.Schema
		oneofs := md.Oneofs()
		for i := 0; i < oneofs.Len(); i++ {
			o := oneofs.Get(i)
			if o.IsSynthetic() {
				continue // a proto3 optional field, not a choice
			}
			if s := oneOf(ref.Value, o); s != nil {
				alternatives = append(alternatives, s)
			}
		}
		switch len(alternatives) {
		case 0:
		case 1:
			ref.Value.OneOf = alternatives[0].OneOf
		default:
			for _, a := range alternatives {
				ref.Value.AllOf = append(ref.Value.AllOf, a.NewRef())
			}
		}
	}
}

// messageOfSchema is the message a component schema was made from.
func messageOfSchema(messages map[string]protoreflect.MessageDescriptor, name string) (protoreflect.MessageDescriptor, bool) {
	if md, ok := messages[name]; ok {
		return md, true
	}
	if base, ok := strings.CutSuffix(name, "Input"); ok {
		if md, ok := messages[base]; ok {
			return md, true
		}
	}
	if base, ok := strings.CutPrefix(name, "Partial"); ok {
		if md, ok := messages[base]; ok {
			return md, true
		}
	}
	return nil, false
}

// oneOf is a schema whose oneOf holds the alternatives of o, for the
// schema s of o's message (nil when s lists fewer than two members).
func oneOf(s *openapi3.Schema, o protoreflect.OneofDescriptor) *openapi3.Schema {
	var members []string
	fields := o.Fields()
	for i := 0; i < fields.Len(); i++ {
		if _, ok := s.Properties[fields.Get(i).JSONName()]; ok {
			members = append(members, fields.Get(i).JSONName())
		}
	}
	if len(members) < 2 {
		return nil
	}
	out := &openapi3.Schema{}
	alternative := func(set string) *openapi3.Schema {
		a := openapi3.NewObjectSchema()
		a.Title = "none of " + strings.Join(members, ", ")
		if set != "" {
			a.Title = set
			a.Required = []string{set}
		}
		a.Properties = openapi3.Schemas{}
		for _, m := range members {
			if m == set {
				a.Properties[m] = s.Properties[m]
			} else {
				a.Properties[m] = Unset(s.Properties[m]).NewRef()
			}
		}
		return a
	}
	for _, m := range members {
		out.OneOf = append(out.OneOf, alternative(m).NewRef())
	}
	out.OneOf = append(out.OneOf, alternative("").NewRef())
	return out
}

// Unset is the schema of a oneof member another member excludes: absent,
// or null (which protojson reads as unset). It keeps the member's type, as
// OpenAPI 3.0 asks of a nullable schema.
func Unset(member *openapi3.SchemaRef) *openapi3.Schema {
	typ := &openapi3.Types{openapi3.TypeObject}
	if member != nil && member.Value != nil && member.Value.Type != nil {
		typ = member.Value.Type
	}
	s := &openapi3.Schema{Type: typ, Nullable: true, Enum: []any{nil}}
	s.Description = "Not set in this alternative: a oneof holds one member at most."
	return s
}
