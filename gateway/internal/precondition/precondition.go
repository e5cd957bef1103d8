// Package precondition maps HTTP's validators onto the API's etags (RFC
// 9110 §8.8.3, §13.1.1). An answer that is a resource with an etag carries
// it as a strong ETag; a request's If-Match becomes the etag of the method's
// request, where the service compares it as it compares an etag in the
// body, and a mismatch the service reports is then 412 Precondition Failed
// rather than the 409 of an etag sent in the body. Which methods take an
// etag, and where, is read from the services' descriptors and HTTP
// bindings: a top-level etag field of the request (custom methods), or
// the etag of the resource a PATCH carries as its body (AIP-134, AIP-154).
package precondition

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"google.golang.org/genproto/googleapis/api/annotations"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/tjsia/chapterhouse/platform/apierr"
	apiv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/api/v1"
)

// etagField is the field an etag lives in, on a resource and on a request
// (AIP-154; platform/apilint holds the resources to it).
const etagField = "etag"

// updateMaskField is an update's field mask (AIP-134).
const updateMaskField = "update_mask"

// Header is the request header this package reads.
const Header = "If-Match"

// IfMatch is a request's If-Match: either "*" (any current version), or
// one strong etag.
type IfMatch struct {
	Any  bool
	Etag string
}

// refused is an If-Match the gateway cannot honour: INVALID_ARGUMENT
// naming the header, its text "field.if_match.<why>".
func refused(why string, args ...string) error {
	return apierr.InvalidArgument(apierr.Field(Header, "if_match."+why, args...))
}

// Parse reads the If-Match field lines of a request. It takes "*" or one
// strong entity-tag ("<etag>"): the API keeps one version of a resource, so
// a list of etags cannot be sent on to a service, and a weak tag never
// matches under If-Match's strong comparison; both are refused rather
// than guessed at.
func Parse(lines []string) (IfMatch, error) {
	value := strings.TrimSpace(strings.Join(lines, ","))
	switch {
	case value == "*":
		return IfMatch{Any: true}, nil
	case value == "":
		return IfMatch{}, refused("empty")
	case strings.HasPrefix(value, "W/"):
		return IfMatch{}, refused("weak")
	case len(value) < 2 || value[0] != '"' || value[len(value)-1] != '"':
		return IfMatch{}, refused("form", "value", clip(value))
	}
	etag := value[1 : len(value)-1]
	if strings.Contains(etag, `"`) {
		return IfMatch{}, refused("list")
	}
	if !valid(etag) {
		return IfMatch{}, refused("characters")
	}
	return IfMatch{Etag: etag}, nil
}

// valid: etag is made of etagc (RFC 9110 §8.8.3), and is not empty.
func valid(etag string) bool {
	if etag == "" {
		return false
	}
	for i := 0; i < len(etag); i++ {
		if c := etag[i]; c < 0x21 || c == '"' || c == 0x7f {
			return false
		}
	}
	return true
}

func clip(s string) string {
	if len(s) > 40 {
		s = s[:40] + "…"
	}
	return fmt.Sprintf("%q", s)
}

// Quote is etag as an ETag header's strong validator, or "" for a value
// that cannot be one.
func Quote(etag string) string {
	if !valid(etag) {
		return ""
	}
	return `"` + etag + `"`
}

type ifMatchKey struct{}

// WithIfMatch is ctx carrying a request's If-Match.
func WithIfMatch(ctx context.Context, im IfMatch) context.Context {
	return context.WithValue(ctx, ifMatchKey{}, im)
}

// FromContext is the If-Match of the request ctx belongs to, if it had one.
func FromContext(ctx context.Context) (IfMatch, bool) {
	im, ok := ctx.Value(ifMatchKey{}).(IfMatch)
	return im, ok
}

// Read is a middleware that parses If-Match into the request's context,
// and answers a malformed one with refuse (its reason in words).
func Read(refuse func(w http.ResponseWriter, r *http.Request, err error)) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			lines := r.Header.Values(Header)
			if len(lines) == 0 {
				next.ServeHTTP(w, r)
				return
			}
			im, err := Parse(lines)
			if err != nil {
				refuse(w, r, err)
				return
			}
			next.ServeHTTP(w, r.WithContext(WithIfMatch(r.Context(), im)))
		})
	}
}

// Failed reports whether err, the answer to the request ctx belongs to, is
// its If-Match failing: the service found the etag If-Match sent stale.
// (An ETAG_MISMATCH under If-Match: * is a record that kept changing, not
// a failed condition, and stays 409.)
func Failed(ctx context.Context, err error) bool {
	im, ok := FromContext(ctx)
	return ok && !im.Any && apierr.ReasonOf(err) == apiv1.ErrorReason_ETAG_MISMATCH
}

// ETag is a grpc-gateway forward-response option: an answer whose message
// has an etag carries it as a strong ETag.
func ETag(_ context.Context, w http.ResponseWriter, m proto.Message) error {
	if m == nil {
		return nil
	}
	msg := m.ProtoReflect()
	fd := msg.Descriptor().Fields().ByName(etagField)
	if fd == nil || fd.Kind() != protoreflect.StringKind || fd.IsList() {
		return nil
	}
	if tag := Quote(msg.Get(fd).String()); tag != "" {
		w.Header().Set("ETag", tag)
	}
	return nil
}

// Methods knows where each method's request carries the etag that
// conditions it.
type Methods struct {
	// etags is the path from the request to its etag, by full method
	// name ("/chapterhouse.membership.v1.MembershipService/UpdatePerson").
	etags map[string][]protoreflect.FieldDescriptor
	// masks is an update's update_mask, by full method name.
	masks map[string]protoreflect.FieldDescriptor
}

// New reads, from the descriptors of services, which of their methods
// take an etag, and where.
func New(services ...protoreflect.ServiceDescriptor) *Methods {
	m := &Methods{etags: map[string][]protoreflect.FieldDescriptor{}, masks: map[string]protoreflect.FieldDescriptor{}}
	for _, s := range services {
		for i := range s.Methods().Len() {
			method := s.Methods().Get(i)
			name := "/" + string(s.FullName()) + "/" + string(method.Name())
			path := etagPath(method)
			if path == nil {
				continue
			}
			m.etags[name] = path
			if mask := method.Input().Fields().ByName(updateMaskField); len(path) > 1 && mask != nil &&
				mask.Message() != nil && mask.Message().FullName() == "google.protobuf.FieldMask" {
				m.masks[name] = mask
			}
		}
	}
	return m
}

// Takes reports whether the method (its full name) takes an etag.
func (m *Methods) Takes(method string) bool {
	_, ok := m.etags[method]
	return ok
}

// TakesEtag reports whether method's request carries an etag the service
// compares (If-Match is honoured exactly there): the one rule the gateway
// and the OpenAPI document both follow.
func TakesEtag(method protoreflect.MethodDescriptor) bool { return etagPath(method) != nil }

// etagPath is where method's request carries an etag: its own etag field,
// or, for an update (an HTTP PATCH whose body is a resource), the
// resource's. A create's body is a resource too, but its etag is only
// ever an answer.
func etagPath(method protoreflect.MethodDescriptor) []protoreflect.FieldDescriptor {
	in := method.Input()
	if fd := stringField(in, etagField); fd != nil {
		return []protoreflect.FieldDescriptor{fd}
	}
	rule, _ := proto.GetExtension(method.Options(), annotations.E_Http).(*annotations.HttpRule)
	if rule.GetPatch() == "" || rule.GetBody() == "" || rule.GetBody() == "*" {
		return nil
	}
	body := in.Fields().ByName(protoreflect.Name(rule.GetBody()))
	if body == nil || body.Message() == nil || body.IsList() || body.IsMap() {
		return nil
	}
	if fd := stringField(body.Message(), etagField); fd != nil {
		return []protoreflect.FieldDescriptor{body, fd}
	}
	return nil
}

func stringField(md protoreflect.MessageDescriptor, name protoreflect.Name) protoreflect.FieldDescriptor {
	fd := md.Fields().ByName(name)
	if fd == nil || fd.Kind() != protoreflect.StringKind || fd.IsList() || fd.ContainingOneof() != nil && !fd.ContainingOneof().IsSynthetic() {
		return nil
	}
	return fd
}

// Conn wraps cc so that a call made for a request with If-Match carries
// its etag in the request, where the method takes one. A method that takes
// none is refused before it is called: its answer could not honour the
// condition.
func (m *Methods) Conn(cc grpc.ClientConnInterface) grpc.ClientConnInterface {
	return &conn{ClientConnInterface: cc, methods: m}
}

type conn struct {
	grpc.ClientConnInterface
	methods *Methods
}

func (c *conn) Invoke(ctx context.Context, method string, args, reply any, opts ...grpc.CallOption) error {
	c.methods.unmask(method, args)
	if im, ok := FromContext(ctx); ok {
		if err := c.methods.apply(method, im, args); err != nil {
			return err
		}
	}
	return c.ClientConnInterface.Invoke(ctx, method, args, reply, opts...)
}

// unmask takes the etag out of an update's update_mask: it conditions the
// update, it is never a field to change. grpc-gateway derives the mask of
// a PATCH without one from every field of its body, the etag included,
// which the services refuse as not updatable: an etag sent in the body of
// such a PATCH was answered 400, not compared.
func (m *Methods) unmask(method string, req any) {
	maskField, ok := m.masks[method]
	pm, isMessage := req.(proto.Message)
	if !ok || !isMessage {
		return
	}
	msg := pm.ProtoReflect()
	if !msg.Has(maskField) {
		return
	}
	etag := m.etags[method][len(m.etags[method])-1]
	paths := msg.Mutable(maskField).Message()
	list := paths.Mutable(paths.Descriptor().Fields().ByName("paths")).List()
	kept := 0
	for i := range list.Len() {
		if p := list.Get(i).String(); p != string(etag.Name()) && p != etag.JSONName() {
			list.Set(kept, list.Get(i))
			kept++
		}
	}
	list.Truncate(kept)
}

// apply puts im's etag in req, the request of method.
func (m *Methods) apply(method string, im IfMatch, req any) error {
	path, ok := m.etags[method]
	if !ok {
		return refused("no_etag")
	}
	if im.Any {
		// Any current version: nothing to compare beyond what the body
		// asks, and the service answers NOT_FOUND when there is none.
		return nil
	}
	pm, ok := req.(proto.Message)
	if !ok {
		return fmt.Errorf("precondition: %s: request %T is not a message", method, req)
	}
	msg := pm.ProtoReflect()
	for _, fd := range path[:len(path)-1] {
		msg = msg.Mutable(fd).Message()
	}
	fd := path[len(path)-1]
	if cur := msg.Get(fd).String(); cur != "" && cur != im.Etag {
		return apierr.InvalidArgument(apierr.Field(fd.JSONName(), "if_match.disagrees", "etag", cur, "if_match", im.Etag))
	}
	msg.Set(fd, protoreflect.ValueOfString(im.Etag))
	return nil
}
