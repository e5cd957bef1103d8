package openapidoc

import (
	"slices"
	"sort"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
)

// present marks, in every schema a successful response uses, the fields
// the gateway always writes as required, so generated clients read them
// as plain values, not optional ones. The gateway marshals with protojson's
// EmitDefaultValues: a field without presence (a scalar, an enum, a list, a
// map) is always written; a message field, a oneof member or a proto3
// optional field only when set.
//
// Request bodies must not inherit this (a create leaves most fields out),
// so a schema both sides use is copied for the requests first, as
// <Name>Input, keeping the required fields the proto gave it.
func present(doc *openapi3.T, files *protoregistry.Files) {
	messages := messagesByName(files)
	responses := map[string]bool{}
	for _, item := range doc.Paths.Map() {
		for _, op := range item.Operations() {
			for code, r := range op.Responses.Map() {
				if !strings.HasPrefix(code, "2") || r.Value == nil {
					continue
				}
				for _, media := range r.Value.Content {
					reach(media.Schema, responses)
				}
			}
		}
	}
	inputs := inputCopies{doc: doc, shared: responses, made: map[string]*openapi3.SchemaRef{}}
	for _, item := range doc.Paths.Map() {
		for _, op := range item.Operations() {
			if op.RequestBody == nil || op.RequestBody.Value == nil {
				continue
			}
			for _, media := range op.RequestBody.Value.Content {
				media.Schema = inputs.rewrite(media.Schema)
			}
		}
	}
	for name := range responses {
		s := doc.Components.Schemas[name]
		md, ok := messages[name]
		if s == nil || s.Value == nil || !ok || len(s.Value.Properties) == 0 {
			continue
		}
		fields := md.Fields()
		for i := 0; i < fields.Len(); i++ {
			f := fields.Get(i)
			if f.HasPresence() || f.Kind() == protoreflect.MessageKind && !f.IsList() && !f.IsMap() {
				continue
			}
			if _, listed := s.Value.Properties[f.JSONName()]; listed && !slices.Contains(s.Value.Required, f.JSONName()) {
				s.Value.Required = append(s.Value.Required, f.JSONName())
			}
		}
		sort.Strings(s.Value.Required)
	}
}

// messagesByName maps the document's schema names (the generator's
// "simple" naming: the message's own name) to the API's messages; a name
// two messages share is left out.
func messagesByName(files *protoregistry.Files) map[string]protoreflect.MessageDescriptor {
	out := map[string]protoreflect.MessageDescriptor{}
	dup := map[string]bool{}
	files.RangeFiles(func(f protoreflect.FileDescriptor) bool {
		if !strings.HasPrefix(string(f.Package()), "chapterhouse.") {
			return true
		}
		for _, md := range messages(f.Messages()) {
			name := string(md.Name())
			if _, seen := out[name]; seen {
				dup[name] = true
			}
			out[name] = md
		}
		return true
	})
	for name := range dup {
		delete(out, name)
	}
	return out
}

// reach adds the component names ref leads to.
func reach(ref *openapi3.SchemaRef, into map[string]bool) {
	if ref == nil {
		return
	}
	if name, ok := strings.CutPrefix(ref.Ref, "#/components/schemas/"); ok {
		if into[name] {
			return
		}
		into[name] = true
	}
	if ref.Value == nil {
		return
	}
	for _, p := range ref.Value.Properties {
		reach(p, into)
	}
	reach(ref.Value.Items, into)
	reach(ref.Value.AdditionalProperties.Schema, into)
}

// inputCopies gives requests their own copies of the schemas responses use.
type inputCopies struct {
	doc    *openapi3.T
	shared map[string]bool
	made   map[string]*openapi3.SchemaRef
}

func (c inputCopies) rewrite(ref *openapi3.SchemaRef) *openapi3.SchemaRef {
	if ref == nil || ref.Value == nil {
		return ref
	}
	name, named := strings.CutPrefix(ref.Ref, "#/components/schemas/")
	if named && !c.shared[name] {
		// A request's own schema: rewrite what it holds, in place.
		if _, done := c.made[name]; !done {
			c.made[name] = ref
			c.rewriteProperties(ref.Value)
		}
		return ref
	}
	if named {
		if copied, ok := c.made[name+"Input"]; ok {
			return copied
		}
		if len(ref.Value.Properties) == 0 {
			return ref // an enum or a scalar: nothing to require
		}
	}
	copied := *ref.Value
	copied.Required = slices.Clone(ref.Value.Required)
	out := &openapi3.SchemaRef{Value: &copied}
	if named {
		input := name + "Input"
		c.doc.Components.Schemas[input] = &openapi3.SchemaRef{Value: &copied}
		out = openapi3.NewSchemaRef("#/components/schemas/"+input, &copied)
		c.made[input] = out
	}
	c.rewriteProperties(&copied)
	return out
}

func (c inputCopies) rewriteProperties(s *openapi3.Schema) {
	props := openapi3.Schemas{}
	for k, v := range s.Properties {
		props[k] = c.rewrite(v)
	}
	s.Properties = props
	s.Items = c.rewrite(s.Items)
}
