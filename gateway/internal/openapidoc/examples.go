package openapidoc

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
	"unicode"

	"buf.build/gen/go/bufbuild/protovalidate/protocolbuffers/go/buf/validate"
	"github.com/getkin/kin-openapi/openapi3"
	"google.golang.org/genproto/googleapis/api/annotations"
	"google.golang.org/genproto/googleapis/type/date"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/dynamicpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	apiv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/api/v1"
)

// Examples are made from the protos: a request or response example is its
// message filled field by field (from the field's type, its enum values,
// its buf.validate rules, its resource reference or pattern) and written
// with protojson as the gateway writes it, so its JSON names, 64-bit
// integers, enums and times are the wire's. Where a type and its rules
// cannot make a meaningful value (a credit code with its check character,
// a hash, an e-mail address), ExampleValues gives one, keyed by the field's
// full name; ExampleIDs gives the id of each collection of the resource
// patterns. Tests hold both tables complete, and every example to its
// schema and to the proto's validation rules.

// ExampleIDs is the id an example gives each resource pattern variable.
var ExampleIDs = map[string]string{
	"branch":       "ai",
	"organization": "binhai-robotics",
	"person":       "chen-jie",
	"application":  "binhai-2026",
	"member":       "binhai-robotics",
	"activity":     "agent-eval-training",
	"registration": "li-na",
	"certificate":  "c7k2m9xd",
	"term":         "1",
	"nomination":   "wang-wei-chair",
	"officer":      "chair",
	"meeting":      "council-2026-11",
	"resolution":   "adopt-plan-2026",
	"vote":         "wang-wei",
	"work_plan":    "plan-2026",
	"item":         "standards-survey",
	"standard":     "agent-evaluation",
	"draft":        "v1",
	"comment":      "c-0001",
	"signatory":    "binhai-robotics",
	"promotion":    "promo-2026-1",
	"invitation":   "q4w7e2r9t5y8u1i3",
	"account":      "k3m8p2x7c9v4b6n1",
	"role_binding": "h2j5k8l3z6x9c4v7",
}

// ExampleValues are the example values of fields whose type and rules
// alone make no meaningful value: every field with a pattern, e-mail, URI
// or CEL rule has one (TestExampleTablesComplete), and a few texts that
// read better than a field's name.
var ExampleValues = map[protoreflect.FullName]any{
	"chapterhouse.membership.v1.Organization.credit_code":                       "91120118MA07B2PD0K",
	"chapterhouse.membership.v1.ContactInfo.email":                              "chen.jie@binhai-robotics.example",
	"chapterhouse.membership.v1.ContactInfo.phone":                              "+86 22 2345 6789",
	"chapterhouse.standards.v1.Draft.content_uri":                               "https://standards.example.org/agent-evaluation/v1.pdf",
	"chapterhouse.standards.v1.Draft.sha256":                                    "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
	"chapterhouse.governance.v1.StandardCodeFormats.group_standard":             "T/TJSIA {NNN}—{YYYY}",
	"chapterhouse.governance.v1.StandardCodeFormats.local_industry_standard":    "",
	"chapterhouse.governance.v1.StandardCodeFormats.self_discipline_convention": "TJSIA ZL {NNN}—{YYYY}",
	"chapterhouse.governance.v1.StandardCodeFormats.agreement":                  "TJSIA XY {NNN}—{YYYY}",
	"chapterhouse.activities.v1.Certificate.verification_code":                  "K7Q3-M9XD-4HRT",
	"chapterhouse.activities.v1.VerifyCertificateRequest.verification_code":     "K7Q3-M9XD-4HRT",
	"chapterhouse.membership.v1.Organization.display_name":                      "天津滨海机器人有限公司",
	"chapterhouse.membership.v1.Person.display_name":                            "陈杰",
	"chapterhouse.governance.v1.Branch.display_name":                            "人工智能分会",
	"chapterhouse.governance.v1.Resolution.standard":                            "branches/ai/standards/annotation-quality",
}

// exampleTexts are texts for string fields by their name, wherever they
// are: more telling than the field's name, and within every limit the API
// sets on them.
var exampleTexts = map[protoreflect.Name]string{
	"reason":                  "council meeting of 2026-11-20",
	"statement":               "Industrial robots with on-device vision models.",
	"title":                   "Evaluating LLM agents",
	"location":                "天津市滨海新区",
	"academic_credentials":    "PhD in computer science; professor of machine learning",
	"qualification_statement": "Twenty years of industrial AI research and product leadership.",
	"consultation_notes":      "Democratic consultation with the member units on 2026-11-10.",
	"expertise":               "machine vision",
	"summary":                 "The draft meets the scope; two clauses clarified.",
	"text":                    "Clause 4.2 should name the test data set.",
	"clause":                  "4.2",
	"version":                 "v1",
	"scope":                   "Evaluation of LLM agents used in industry.",
	"address":                 "天津市滨海新区海泰发展六道 6 号",
	"time_zone":               "Asia/Shanghai",
	"online_url":              "https://meet.example.org/agent-eval",
	"submitter":               "people/chen-jie",
	"reviewer":                "people/admin",
	"description":             "A half-day training on evaluating LLM agents, with hands-on exercises.",
	"display_name":            "人工智能分会",
}

// exampleInts are integers by field name (clamped into the field's rules).
var exampleInts = map[protoreflect.Name]int64{
	"year": 2026, "capacity": 30, "page_size": 20, "number": 1, "position": 1,
	"min_exchange_activities_per_year": 2, "max_consecutive_terms": 2,
	"chair_max_age": 70, "director_max_age": 65, "max_director_nominees_per_member": 1,
}

// exampleTime is the instant examples are set around.
var exampleTime = time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)

// instant is the example time of a time or date field, by its name, so an
// example's times are in the order the API asks for: a registration window
// opens before it closes, an activity starts before it ends, a person was
// born long before.
func instant(name protoreflect.Name) time.Time {
	n := string(name)
	switch {
	case strings.Contains(n, "birth"):
		return time.Date(1978, 5, 4, 0, 0, 0, 0, time.UTC)
	case strings.Contains(n, "open"), strings.HasPrefix(n, "start_date"), strings.Contains(n, "create"):
		return exampleTime.AddDate(0, -1, 0)
	case strings.Contains(n, "close"), strings.Contains(n, "deadline"):
		return exampleTime.Add(-time.Hour)
	case strings.HasPrefix(n, "end_date"):
		return exampleTime.AddDate(3, 0, 0)
	case strings.Contains(n, "end"), strings.Contains(n, "expire"):
		return exampleTime.Add(2 * time.Hour)
	}
	return exampleTime
}

// exampleEtag is the etag every example resource has.
const exampleEtag = "3f9a1c07"

type exampler struct {
	// patterns maps a resource type to its first pattern.
	patterns map[string]string
	// own maps a resource message to its pattern.
	own map[protoreflect.FullName]string
}

func newExampler(files *protoregistry.Files) *exampler {
	e := &exampler{patterns: map[string]string{}, own: map[protoreflect.FullName]string{}}
	files.RangeFiles(func(f protoreflect.FileDescriptor) bool {
		if defs, ok := proto.GetExtension(f.Options(), annotations.E_ResourceDefinition).([]*annotations.ResourceDescriptor); ok {
			for _, d := range defs {
				if len(d.GetPattern()) > 0 {
					e.patterns[d.GetType()] = d.GetPattern()[0]
				}
			}
		}
		for _, md := range messages(f.Messages()) {
			if r, ok := proto.GetExtension(md.Options(), annotations.E_Resource).(*annotations.ResourceDescriptor); ok && r != nil && len(r.GetPattern()) > 0 {
				e.patterns[r.GetType()] = r.GetPattern()[0]
				e.own[md.FullName()] = r.GetPattern()[0]
			}
		}
		return true
	})
	return e
}

// fill returns pattern with each {variable} replaced by its example id.
func fill(pattern string) string {
	return templateParam.ReplaceAllStringFunc(pattern, func(v string) string {
		if id, ok := ExampleIDs[strings.Trim(v, "{}")]; ok {
			return id
		}
		return "example"
	})
}

// mode says which fields a filled message holds.
type mode int

const (
	// response: every field.
	response mode = iota
	// request: what a client sends, without output-only fields or the
	// resource's own name (the path or the server gives it) and etag.
	request
)

// Message fills a new message of md as an example.
func (e *exampler) Message(md protoreflect.MessageDescriptor, m mode) proto.Message {
	msg := newMessage(md)
	e.fillMessage(msg.ProtoReflect(), m, 0)
	return msg
}

func newMessage(md protoreflect.MessageDescriptor) proto.Message {
	if mt, err := protoregistry.GlobalTypes.FindMessageByName(md.FullName()); err == nil {
		return mt.New().Interface()
	}
	return dynamicpb.NewMessage(md)
}

// maxDepth bounds how deep examples nest, for recursive messages.
const maxDepth = 5

func (e *exampler) fillMessage(msg protoreflect.Message, m mode, depth int) {
	md := msg.Descriptor()
	switch md.FullName() {
	case "google.protobuf.Timestamp":
		ts := timestamppb.New(exampleTime)
		msg.Set(md.Fields().ByName("seconds"), protoreflect.ValueOfInt64(ts.GetSeconds()))
		return
	case "google.type.Date":
		d := &date.Date{Year: int32(exampleTime.Year()), Month: int32(exampleTime.Month()), Day: int32(exampleTime.Day())}
		proto.Merge(msg.Interface(), d)
		return
	case "google.protobuf.FieldMask", "google.protobuf.Any", "google.protobuf.Struct", "google.protobuf.Value", "google.protobuf.Empty":
		return // the update mask is a query parameter; the others carry no example
	}
	if depth > maxDepth {
		return
	}
	fields := md.Fields()
	for i := 0; i < fields.Len(); i++ {
		f := fields.Get(i)
		if o := f.ContainingOneof(); o != nil && !o.IsSynthetic() && o.Fields().Get(0) != f {
			continue // one member of a oneof: the first
		}
		if m == request && (hasBehavior(f, annotations.FieldBehavior_OUTPUT_ONLY) || hasBehavior(f, annotations.FieldBehavior_IDENTIFIER) || f.Name() == etagField) {
			continue
		}
		e.fillField(msg, f, m, depth)
	}
}

func (e *exampler) fillField(msg protoreflect.Message, f protoreflect.FieldDescriptor, m mode, depth int) {
	rules := fieldRules(f)
	switch {
	case f.IsMap():
		mp := msg.Mutable(f).Map()
		key := protoreflect.ValueOfString("key").MapKey()
		if f.MapValue().Kind() == protoreflect.MessageKind {
			v := mp.NewValue()
			e.fillMessage(v.Message(), m, depth+1)
			mp.Set(key, v)
		} else {
			mp.Set(key, e.scalar(f.MapValue(), nil))
		}
	case f.IsList():
		list := msg.Mutable(f).List()
		n := max(1, int(rules.GetRepeated().GetMinItems()))
		var items *validate.FieldRules
		if rules.GetRepeated() != nil {
			items = rules.GetRepeated().GetItems()
		}
		for range n {
			if f.Kind() == protoreflect.MessageKind {
				v := list.NewElement()
				e.fillMessage(v.Message(), m, depth+1)
				list.Append(v)
			} else {
				list.Append(e.scalar(f, items))
			}
		}
	case f.Message() != nil && f.Message().FullName() == "google.protobuf.Timestamp":
		msg.Set(f, protoreflect.ValueOfMessage(timestamppb.New(instant(f.Name())).ProtoReflect()))
	case f.Message() != nil && f.Message().FullName() == "google.type.Date":
		t := instant(f.Name())
		msg.Set(f, protoreflect.ValueOfMessage((&date.Date{Year: int32(t.Year()), Month: int32(t.Month()), Day: int32(t.Day())}).ProtoReflect()))
	case f.Kind() == protoreflect.MessageKind || f.Kind() == protoreflect.GroupKind:
		if depth >= maxDepth {
			return
		}
		e.fillMessage(msg.Mutable(f).Message(), m, depth+1)
	default:
		msg.Set(f, e.scalar(f, rules))
	}
}

// fieldRules are f's buf.validate rules (an empty set without them).
func fieldRules(f protoreflect.FieldDescriptor) *validate.FieldRules {
	if r, ok := proto.GetExtension(f.Options(), validate.E_Field).(*validate.FieldRules); ok && r != nil {
		return r
	}
	return &validate.FieldRules{}
}

// scalar is an example of f's scalar kind, within rules.
func (e *exampler) scalar(f protoreflect.FieldDescriptor, rules *validate.FieldRules) protoreflect.Value {
	if rules == nil {
		rules = &validate.FieldRules{}
	}
	if v, ok := ExampleValues[f.FullName()]; ok {
		switch v := v.(type) {
		case string:
			return protoreflect.ValueOfString(v)
		case int:
			return intValue(f, int64(v))
		}
	}
	switch f.Kind() {
	case protoreflect.StringKind:
		return protoreflect.ValueOfString(e.text(f, rules.GetString()))
	case protoreflect.BoolKind:
		return protoreflect.ValueOfBool(true)
	case protoreflect.EnumKind:
		return protoreflect.ValueOfEnum(enumValue(f.Enum(), rules.GetEnum()))
	case protoreflect.BytesKind:
		return protoreflect.ValueOfBytes([]byte("example"))
	case protoreflect.FloatKind:
		return protoreflect.ValueOfFloat32(0.5)
	case protoreflect.DoubleKind:
		return protoreflect.ValueOfFloat64(0.5)
	}
	want, ok := exampleInts[f.Name()]
	if !ok {
		want = 1
	}
	lo, hi := intBounds(rules)
	return intValue(f, min(max(want, lo), hi))
}

func intValue(f protoreflect.FieldDescriptor, v int64) protoreflect.Value {
	switch f.Kind() {
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind:
		return protoreflect.ValueOfInt32(int32(v))
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind:
		return protoreflect.ValueOfUint32(uint32(v))
	case protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		return protoreflect.ValueOfUint64(uint64(v))
	}
	return protoreflect.ValueOfInt64(v)
}

// intBounds are the inclusive bounds an integer's rules set.
func intBounds(r *validate.FieldRules) (lo, hi int64) {
	lo, hi = math.MinInt32, math.MaxInt32
	if i := r.GetInt32(); i != nil {
		if i.HasGte() {
			lo = int64(i.GetGte())
		}
		if i.HasGt() {
			lo = int64(i.GetGt()) + 1
		}
		if i.HasLte() {
			hi = int64(i.GetLte())
		}
		if i.HasLt() {
			hi = int64(i.GetLt()) - 1
		}
	}
	if i := r.GetInt64(); i != nil {
		if i.HasGte() {
			lo = i.GetGte()
		}
		if i.HasGt() {
			lo = i.GetGt() + 1
		}
		if i.HasLte() {
			hi = i.GetLte()
		}
		if i.HasLt() {
			hi = i.GetLt() - 1
		}
	}
	return lo, hi
}

// enumValue is the first value other than the zero one that rules admit.
func enumValue(ed protoreflect.EnumDescriptor, rules *validate.EnumRules) protoreflect.EnumNumber {
	values := ed.Values()
	for i := 0; i < values.Len(); i++ {
		n := values.Get(i).Number()
		if n == 0 && values.Len() > 1 {
			continue
		}
		if len(rules.GetIn()) > 0 && !slices.Contains(rules.GetIn(), int32(n)) || slices.Contains(rules.GetNotIn(), int32(n)) {
			continue
		}
		return n
	}
	return values.Get(0).Number()
}

// text is an example of string field f: a resource name, an id, an etag,
// or a text, within its length rules.
func (e *exampler) text(f protoreflect.FieldDescriptor, rules *validate.StringRules) string {
	s := e.meaning(f, rules)
	if in := rules.GetIn(); len(in) > 0 {
		s = in[0]
	}
	if rules.HasMaxLen() && uint64(len([]rune(s))) > rules.GetMaxLen() {
		s = string([]rune(s)[:rules.GetMaxLen()])
	}
	for rules.HasMinLen() && uint64(len([]rune(s))) < rules.GetMinLen() {
		s += "x"
	}
	return s
}

func (e *exampler) meaning(f protoreflect.FieldDescriptor, rules *validate.StringRules) string {
	if f.Name() == "name" {
		if p, ok := e.own[f.ContainingMessage().FullName()]; ok {
			return fill(p)
		}
	}
	if ref, ok := proto.GetExtension(f.Options(), annotations.E_ResourceReference).(*annotations.ResourceReference); ok && ref != nil {
		if p, ok := e.patterns[ref.GetType()]; ok {
			return fill(p)
		}
		if p, ok := e.patterns[ref.GetChildType()]; ok {
			parts := strings.Split(p, "/")
			return fill(strings.Join(parts[:max(0, len(parts)-2)], "/"))
		}
	}
	if f.Name() == etagField {
		return exampleEtag
	}
	if isResourceID(rules) {
		if id, ok := ExampleIDs[strings.TrimSuffix(string(f.Name()), "_id")]; ok {
			return id
		}
		return "example"
	}
	if t, ok := exampleTexts[f.Name()]; ok {
		return t
	}
	return strings.ReplaceAll(string(f.Name()), "_", " ")
}

// isResourceID: the field follows the API's id rule.
func isResourceID(r *validate.StringRules) bool {
	if r == nil {
		return false
	}
	id, _ := proto.GetExtension(r, apiv1.E_ResourceId).(bool)
	return id
}

// NeedsExampleValue reports whether f's rules are ones an example cannot
// meet by its type and length alone: a pattern, an e-mail address, a URI
// or a CEL expression, the field's own or a predefined rule of the API
// (the text rules aside, which the examples meet as they are made).
func NeedsExampleValue(f protoreflect.FieldDescriptor) bool {
	r := fieldRules(f)
	if len(r.GetCel()) > 0 {
		return true
	}
	if r.GetRepeated() != nil && r.GetRepeated().GetItems() != nil {
		r = r.GetRepeated().GetItems()
	}
	s := r.GetString()
	return s != nil && (s.HasPattern() || s.GetEmail() || s.GetUri() || s.GetUriRef() || s.GetHostname() || s.GetIp() ||
		otherPredefined(s))
}

// textRules are the API's predefined string rules an example meets as it
// is made: the id rule through ExampleIDs, the etag's token through
// exampleEtag, and the rules of text a person writes.
var textRules = []protoreflect.FullName{
	apiv1.E_ResourceId.TypeDescriptor().FullName(), apiv1.E_Token.TypeDescriptor().FullName(),
	apiv1.E_SingleLine.TypeDescriptor().FullName(), apiv1.E_MultiLine.TypeDescriptor().FullName(),
}

// otherPredefined: s sets a predefined rule other than textRules (a
// branch's standard_code_format), which only a value made for it meets.
func otherPredefined(s *validate.StringRules) bool {
	found := false
	s.ProtoReflect().Range(func(fd protoreflect.FieldDescriptor, _ protoreflect.Value) bool {
		found = fd.IsExtension() && !slices.Contains(textRules, fd.FullName())
		return !found
	})
	return found
}

// asJSON is msg as the gateway writes it: every field without presence,
// when it answers; what was set, in a request.
func asJSON(msg proto.Message, m mode) (any, error) {
	raw, err := protojson.MarshalOptions{EmitDefaultValues: m == response}.Marshal(msg)
	if err != nil {
		return nil, fmt.Errorf("openapidoc: example %s: %w", msg.ProtoReflect().Descriptor().FullName(), err)
	}
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil, fmt.Errorf("openapidoc: example %s: %w", msg.ProtoReflect().Descriptor().FullName(), err)
	}
	return v, nil
}

// addExamples gives op, the operation of method m, an example of each
// parameter it can, of its request body and of its successful response.
func (e *exampler) addExamples(op *openapi3.Operation, m protoreflect.MethodDescriptor) error {
	rule, _ := proto.GetExtension(m.Options(), annotations.E_Http).(*annotations.HttpRule)
	req := e.Message(m.Input(), request)
	all, err := asJSON(req, request)
	if err != nil {
		return err
	}
	fields, _ := all.(map[string]any)
	for _, p := range op.Parameters {
		if p.Value == nil || p.Ref != "" {
			continue
		}
		switch p.Value.In {
		case openapi3.ParameterInPath:
			if id, ok := ExampleIDs[p.Value.Name]; ok {
				p.Value.Example = id
			}
		case openapi3.ParameterInQuery:
			if v, ok := fields[p.Value.Name]; ok && p.Value.Name != "pageToken" && p.Value.Example == nil {
				p.Value.Example = v
			}
		}
	}
	if op.RequestBody != nil && op.RequestBody.Value != nil {
		body, err := e.requestBody(m, rule, req, fields)
		if err != nil {
			return err
		}
		if media := op.RequestBody.Value.Content.Get("application/json"); media != nil {
			media.Example = body
		}
	}
	out, err := asJSON(e.Message(m.Output(), response), response)
	if err != nil {
		return err
	}
	for code, r := range op.Responses.Map() {
		if !strings.HasPrefix(code, "2") || r.Value == nil {
			continue
		}
		if media := r.Value.Content.Get("application/json"); media != nil {
			media.Example = out
		}
	}
	return nil
}

// requestBody is the body of the example request req (whose JSON is
// fields): the field the rule's body names, or every field the path does
// not carry; an update's holds the fields its example mask names.
func (e *exampler) requestBody(m protoreflect.MethodDescriptor, rule *annotations.HttpRule, req proto.Message, fields map[string]any) (any, error) {
	if rule.GetBody() == "*" {
		body := map[string]any{}
		bound := pathFields(rule)
		for k, v := range fields {
			if !slices.Contains(bound, k) {
				body[k] = v
			}
		}
		return body, nil
	}
	f := bodyField(m)
	if f == nil || f.Message() == nil {
		return nil, fmt.Errorf("openapidoc: %s: body %q is no message field", m.FullName(), rule.GetBody())
	}
	body, err := asJSON(req.ProtoReflect().Get(f).Message().Interface(), request)
	if err != nil {
		return nil, err
	}
	if UpdateMask(m) == nil {
		return body, nil
	}
	mask := updatable(m)
	partial := map[string]any{}
	for k, v := range body.(map[string]any) {
		if slices.Contains(mask[:min(2, len(mask))], k) {
			partial[k] = v
		}
	}
	return partial, nil
}

// pathFields are the JSON names of the request fields the rule's path
// carries ("name", "parent").
func pathFields(rule *annotations.HttpRule) []string {
	var path string
	switch p := rule.GetPattern().(type) {
	case *annotations.HttpRule_Get:
		path = p.Get
	case *annotations.HttpRule_Post:
		path = p.Post
	case *annotations.HttpRule_Patch:
		path = p.Patch
	case *annotations.HttpRule_Put:
		path = p.Put
	case *annotations.HttpRule_Delete:
		path = p.Delete
	}
	var out []string
	for _, m := range templateParam.FindAllStringSubmatch(path, -1) {
		name, _, _ := strings.Cut(m[1], "=")
		out = append(out, jsonName(strings.Split(name, ".")[0]))
	}
	return out
}

// jsonName is protojson's name of a proto field name.
func jsonName(s string) string {
	var b strings.Builder
	upper := false
	for _, r := range s {
		if r == '_' {
			upper = true
			continue
		}
		if upper {
			r = unicode.ToUpper(r)
			upper = false
		}
		b.WriteRune(r)
	}
	return b.String()
}
