package openapidoc_test

import (
	"context"
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	"buf.build/go/protovalidate"
	"github.com/getkin/kin-openapi/openapi3"
	"google.golang.org/genproto/googleapis/api/annotations"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	"github.com/tjsia/chapterhouse/gateway/internal/openapidoc"
	"github.com/tjsia/chapterhouse/proto/gen/go/openapi"
)

// TestExamplesKeepTheProtoRules (issue 15): every operation has examples,
// and each is a message of the proto: a request example, its path and
// query parameters put where the HTTP rule reads them, is a request the
// services' validation (buf.validate, as the interceptor runs it) accepts;
// a response example reads as the method's response message.
func TestExamplesKeepTheProtoRules(t *testing.T) {
	doc, err := openapidoc.Load(context.Background(), openapi.Document())
	if err != nil {
		t.Fatal(err)
	}
	validator, err := protovalidate.New()
	if err != nil {
		t.Fatal(err)
	}
	strict := protojson.UnmarshalOptions{}
	ops, methods, verbs := apiOperations(t, doc)
	for id, op := range ops {
		m := methods[id]
		rule := proto.GetExtension(m.Options(), annotations.E_Http).(*annotations.HttpRule)
		req := newMessage(t, m.Input())
		// The body, where the rule puts it.
		if op.RequestBody != nil {
			ex := op.RequestBody.Value.Content.Get("application/json").Example
			if ex == nil {
				t.Errorf("%s: no request example", id)
				continue
			}
			raw, _ := json.Marshal(ex)
			target := req.ProtoReflect()
			if rule.GetBody() != "*" {
				f := m.Input().Fields().ByName(protoreflect.Name(rule.GetBody()))
				target = target.Mutable(f).Message()
			}
			if err := strict.Unmarshal(raw, target.Interface()); err != nil {
				t.Errorf("%s: the request example is no %s: %v", id, target.Descriptor().FullName(), err)
				continue
			}
		}
		// The path's fields, from the parameters' examples in order.
		var ids []string
		query := map[string]any{}
		for _, p := range op.Parameters {
			switch {
			case p.Value.In == openapi3.ParameterInPath:
				s, ok := p.Value.Example.(string)
				if !ok {
					t.Errorf("%s: path parameter %s has no example", id, p.Value.Name)
				}
				ids = append(ids, s)
			case p.Value.In == openapi3.ParameterInQuery && p.Value.Example != nil && p.Value.Name != openapidoc.UpdateMaskParameter:
				query[p.Value.Name] = p.Value.Example
			case p.Value.In == openapi3.ParameterInQuery && p.Value.Required:
				t.Errorf("%s: required query parameter %s has no example", id, p.Value.Name)
			}
		}
		if len(query) > 0 {
			raw, _ := json.Marshal(query)
			q := newMessage(t, m.Input())
			if err := strict.Unmarshal(raw, q); err != nil {
				t.Errorf("%s: query examples %s: %v", id, raw, err)
			}
			proto.Merge(req, q)
		}
		setPathFields(t, req, httpPath(rule), ids)
		if err := validator.Validate(req); err != nil {
			t.Errorf("%s (%s): the example request breaks the proto's rules: %v", id, verbs[id], err)
		}
		// The response.
		for code, r := range op.Responses.Map() {
			if !strings.HasPrefix(code, "2") {
				continue
			}
			ex := r.Value.Content.Get("application/json").Example
			if ex == nil {
				t.Errorf("%s %s: no response example", id, code)
				continue
			}
			raw, _ := json.Marshal(ex)
			if err := strict.Unmarshal(raw, newMessage(t, m.Output())); err != nil {
				t.Errorf("%s %s: the response example is no %s: %v", id, code, m.Output().FullName(), err)
			}
		}
	}
	for name, r := range doc.Components.Responses {
		if media := r.Value.Content.Get("application/json"); media == nil || media.Example == nil {
			t.Errorf("error response %s has no example", name)
		}
	}
}

func newMessage(t *testing.T, md protoreflect.MessageDescriptor) proto.Message {
	t.Helper()
	mt, err := protoregistry.GlobalTypes.FindMessageByName(md.FullName())
	if err != nil {
		t.Fatal(err)
	}
	return mt.New().Interface()
}

func httpPath(rule *annotations.HttpRule) string {
	switch p := rule.GetPattern().(type) {
	case *annotations.HttpRule_Get:
		return p.Get
	case *annotations.HttpRule_Post:
		return p.Post
	case *annotations.HttpRule_Patch:
		return p.Patch
	case *annotations.HttpRule_Put:
		return p.Put
	case *annotations.HttpRule_Delete:
		return p.Delete
	}
	return ""
}

var pathVariable = regexp.MustCompile(`\{([^}=]+)(=([^}]+))?\}`)

// setPathFields sets the request fields the path template binds, taking
// the ids in order for the template's wildcards (and a plain {field}).
func setPathFields(t *testing.T, req proto.Message, template string, ids []string) {
	t.Helper()
	for _, v := range pathVariable.FindAllStringSubmatch(template, -1) {
		value := "*"
		if v[3] != "" {
			value = v[3]
		}
		for strings.Contains(value, "*") {
			if len(ids) == 0 {
				t.Errorf("%s: more wildcards than path parameters", template)
				return
			}
			value = strings.Replace(value, "*", ids[0], 1)
			ids = ids[1:]
		}
		msg := req.ProtoReflect()
		path := strings.Split(v[1], ".")
		for _, name := range path[:len(path)-1] {
			msg = msg.Mutable(msg.Descriptor().Fields().ByName(protoreflect.Name(name))).Message()
		}
		msg.Set(msg.Descriptor().Fields().ByName(protoreflect.Name(path[len(path)-1])), protoreflect.ValueOfString(value))
	}
}

// TestExampleTablesComplete: every field whose rules the type alone cannot
// meet has an example value, every entry names a field of the API, and
// every resource pattern variable has an example id.
func TestExampleTablesComplete(t *testing.T) {
	doc, err := openapidoc.Load(context.Background(), openapi.Document())
	if err != nil {
		t.Fatal(err)
	}
	_, methods, _ := apiOperations(t, doc)
	fields := map[protoreflect.FullName]bool{}
	seen := map[protoreflect.FullName]bool{}
	var visit func(md protoreflect.MessageDescriptor)
	visit = func(md protoreflect.MessageDescriptor) {
		if seen[md.FullName()] || !strings.HasPrefix(string(md.FullName()), "chapterhouse.") {
			return
		}
		seen[md.FullName()] = true
		for i := 0; i < md.Fields().Len(); i++ {
			f := md.Fields().Get(i)
			fields[f.FullName()] = true
			if openapidoc.NeedsExampleValue(f) {
				if _, ok := openapidoc.ExampleValues[f.FullName()]; !ok {
					t.Errorf("%s: its rules need a meaningful example; give it one in ExampleValues", f.FullName())
				}
			}
			if f.Message() != nil {
				visit(f.Message())
			}
		}
	}
	for _, m := range methods {
		visit(m.Input())
		visit(m.Output())
	}
	for name := range openapidoc.ExampleValues {
		if !fields[name] {
			t.Errorf("ExampleValues has %s, which is no field of the API", name)
		}
	}
	for path := range doc.Paths.Map() {
		for _, v := range regexp.MustCompile(`\{([^}]+)\}`).FindAllStringSubmatch(path, -1) {
			if _, ok := openapidoc.ExampleIDs[v[1]]; !ok {
				t.Errorf("%s: no example id for {%s} in ExampleIDs", path, v[1])
			}
		}
	}
}
