package openapidoc

import (
	"fmt"
	"slices"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"google.golang.org/genproto/googleapis/api/annotations"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/tjsia/chapterhouse/gateway/internal/precondition"
)

// The fields and messages the method contracts below are read from.
const (
	etagField       = "etag"
	updateMaskField = "update_mask"
	fieldMaskType   = "google.protobuf.FieldMask"
	// UpdateMaskParameter is the query parameter an update's mask travels
	// in: the gateway reads update_mask from it by its JSON name.
	UpdateMaskParameter = "updateMask"
)

// Header names the document declares once, in components/headers (or
// components/parameters for request headers), and references everywhere.
const (
	HeaderContentLanguage    = "Content-Language"
	HeaderRetryAfter         = "Retry-After"
	HeaderRateLimitLimit     = "RateLimit-Limit"
	HeaderRateLimitRemaining = "RateLimit-Remaining"
	HeaderRateLimitReset     = "RateLimit-Reset"
	HeaderETag               = "ETag"
	HeaderIdempotentReplay   = "Idempotent-Replay"
	HeaderIfMatch            = "If-Match"
)

// PreconditionFailed is the component response of 412, the answer to a
// stale If-Match.
const PreconditionFailed = "PreconditionFailed"

// TakesEtag reports whether m's request carries an etag the service checks:
// an etag field of its own (a custom method's), or one in the resource an
// update's body holds (not a create's, whose etag is only ever an
// answer). Those are the methods If-Match applies to; the gateway's rule
// (precondition.TakesEtag) is the one source.
func TakesEtag(m protoreflect.MethodDescriptor) bool { return precondition.TakesEtag(m) }

// ReturnsEtag reports whether m's response is a resource with an etag, whose
// answer carries it in the ETag header too.
func ReturnsEtag(m protoreflect.MethodDescriptor) bool {
	return m.Output().Fields().ByName(etagField) != nil
}

// UpdateMask is the update_mask field of m's request, when it has one.
func UpdateMask(m protoreflect.MethodDescriptor) protoreflect.FieldDescriptor {
	f := m.Input().Fields().ByName(updateMaskField)
	if f == nil || f.Message() == nil || f.Message().FullName() != fieldMaskType {
		return nil
	}
	return f
}

// bodyField is the request field the HTTP rule's body names (nil for no
// body or the whole request).
func bodyField(m protoreflect.MethodDescriptor) protoreflect.FieldDescriptor {
	rule, _ := proto.GetExtension(m.Options(), annotations.E_Http).(*annotations.HttpRule)
	if rule == nil || rule.GetBody() == "" || rule.GetBody() == "*" {
		return nil
	}
	return m.Input().Fields().ByName(protoreflect.Name(rule.GetBody()))
}

// updatable are the JSON names of the fields of the resource an update
// changes that a mask may name: those the proto does not mark
// OUTPUT_ONLY or IMMUTABLE, less the name and the etag.
func updatable(m protoreflect.MethodDescriptor) []string {
	body := bodyField(m)
	if body == nil || body.Message() == nil {
		return nil
	}
	var out []string
	fields := body.Message().Fields()
	for i := 0; i < fields.Len(); i++ {
		f := fields.Get(i)
		if f.Name() == "name" || f.Name() == etagField || hasBehavior(f, annotations.FieldBehavior_OUTPUT_ONLY) || hasBehavior(f, annotations.FieldBehavior_IMMUTABLE) {
			continue
		}
		out = append(out, f.JSONName())
	}
	return out
}

func hasBehavior(f protoreflect.FieldDescriptor, b annotations.FieldBehavior) bool {
	behaviors, _ := proto.GetExtension(f.Options(), annotations.E_FieldBehavior).([]annotations.FieldBehavior)
	return slices.Contains(behaviors, b)
}

// maskPattern admits what the gateway parses as a field mask: * or
// comma-separated dotted paths of field names, lowerCamelCase or
// snake_case.
const maskPattern = `^(\*|[A-Za-z][A-Za-z0-9_]*(\.[A-Za-z][A-Za-z0-9_]*)*(,[A-Za-z][A-Za-z0-9_]*(\.[A-Za-z][A-Za-z0-9_]*)*)*)$`

// addUpdateMask declares the update mask of an update method as the query
// parameter the gateway reads it from.
func addUpdateMask(op *openapi3.Operation, m protoreflect.MethodDescriptor) error {
	f := UpdateMask(m)
	if f == nil {
		return nil
	}
	fields := updatable(m)
	if len(fields) == 0 {
		return fmt.Errorf("openapidoc: %s has an update_mask but its body names no resource with updatable fields", m.FullName())
	}
	resource := string(bodyField(m).Message().Name())
	schema := openapi3.NewStringSchema()
	schema.Pattern = maskPattern
	op.Parameters = append(op.Parameters, &openapi3.ParameterRef{Value: &openapi3.Parameter{
		Name: UpdateMaskParameter, In: openapi3.ParameterInQuery,
		Description: "The fields of the " + resource + " to change: comma-separated field paths, " +
			"each lowerCamelCase as in the body (`displayName`) or snake_case as in the proto (`display_name`), " +
			"with dots into a message field (`parameters.quorum` changes only that part); `*` replaces every updatable field. " +
			"Without it, the mask is every field the body holds, and a body that echoes output-only or immutable fields " +
			"(a read-modify-write of the whole resource) is refused (400 INVALID_ARGUMENT): name the fields you change. " +
			"Fields a mask may name: " + strings.Join(fields, ", ") + "; the operation's description says who may change which.",
		Schema:  schema.NewRef(),
		Example: strings.Join(fields[:min(2, len(fields))], ","),
	}})
	return nil
}

// addPreconditions declares the etag contract of an operation: If-Match on
// a request that carries an etag, with the 412 a stale one gets, and the
// ETag header on a response that is a resource with an etag.
func addPreconditions(op *openapi3.Operation, m protoreflect.MethodDescriptor) {
	if TakesEtag(m) {
		op.Parameters = append(op.Parameters, &openapi3.ParameterRef{Ref: "#/components/parameters/" + componentName(HeaderIfMatch)})
		op.Responses.Set("412", &openapi3.ResponseRef{Ref: "#/components/responses/" + PreconditionFailed})
	}
	if !ReturnsEtag(m) {
		return
	}
	for code, r := range op.Responses.Map() {
		if !strings.HasPrefix(code, "2") || r.Value == nil {
			continue
		}
		if r.Value.Headers == nil {
			r.Value.Headers = openapi3.Headers{}
		}
		r.Value.Headers[HeaderETag] = headerRef(HeaderETag)
	}
}

// addReplayHeader declares, on a write's successful answer, the header
// that says it is the stored answer of an earlier try with the same
// Idempotency-Key.
func addReplayHeader(op *openapi3.Operation, method string) {
	if !slices.Contains([]string{"POST", "PATCH", "PUT", "DELETE"}, method) {
		return
	}
	for code, r := range op.Responses.Map() {
		if !strings.HasPrefix(code, "2") || r.Value == nil {
			continue
		}
		if r.Value.Headers == nil {
			r.Value.Headers = openapi3.Headers{}
		}
		r.Value.Headers[HeaderIdempotentReplay] = headerRef(HeaderIdempotentReplay)
	}
}

func headerRef(name string) *openapi3.HeaderRef {
	return &openapi3.HeaderRef{Ref: "#/components/headers/" + name}
}
