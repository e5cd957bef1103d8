// Package errorbody writes the gateway's one JSON error shape. Every error a
// REST client sees — from a service, from routing, from a bad body — has it:
//
//	{
//	  "error": {
//	    "code": 400,                      // HTTP status
//	    "status": "INVALID_ARGUMENT",     // gRPC code name
//	    "message": "human-readable text",
//	    "reason": "CHARTER_VIOLATION",    // google.rpc.ErrorInfo.reason
//	    "domain": "chapterhouse",
//	    "metadata": {"rules": "M2,M3"},   // google.rpc.ErrorInfo.metadata
//	    "fieldViolations": [{"field": "...", "description": "..."}],
//	    "violations": [{"rule": "M3", "reason": "...", "message": "..."}],
//	    "details": [ ...google.rpc.Status details, with "@type"... ]
//	  }
//	}
//
// The message is in the caller's language (Accept-Language: zh-CN or en),
// and a google.rpc.LocalizedMessage detail carries it; an error without a
// reason of its own (one from the transport) gets the reason its code
// means, and never the transport's text.
package errorbody

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	rpccode "google.golang.org/genproto/googleapis/rpc/code"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/tjsia/chapterhouse/platform/apierr"
	"github.com/tjsia/chapterhouse/platform/i18n"
	apiv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/api/v1"
)

// Body is the top-level error document as the gateway assembles it. What
// goes on the wire is its chapterhouse.api.v1.ErrorBody (Message), the
// message the OpenAPI document's error schema is generated from.
type Body struct {
	Error Error `json:"error"`
}

// Error is the error object; see apiv1.Error for each field.
type Error struct {
	Code            int               `json:"code"`
	Status          string            `json:"status"`
	Message         string            `json:"message"`
	Reason          string            `json:"reason,omitempty"`
	Domain          string            `json:"domain,omitempty"`
	Metadata        map[string]string `json:"metadata,omitempty"`
	FieldViolations []FieldViolation  `json:"fieldViolations,omitempty"`
	Violations      []Violation       `json:"violations,omitempty"`
	Details         []json.RawMessage `json:"details,omitempty"`
	// Language is the language the texts are in (the LocalizedMessage's
	// locale); empty when they are not rendered yet.
	Language string `json:"-"`
}

// FieldViolation is one bad request field.
type FieldViolation struct {
	Field       string `json:"field"`
	Description string `json:"description"`
}

// Violation is one broken charter rule.
type Violation struct {
	Rule    string `json:"rule"`
	Reason  string `json:"reason,omitempty"`
	Message string `json:"message"`
}

// Reasons mapped to a more precise HTTP status than their gRPC code gives.
var reasonStatus = map[string]int{
	apiv1.ErrorReason_IDEMPOTENCY_KEY_REUSED.String(): http.StatusUnprocessableEntity,
	apiv1.ErrorReason_BODY_TOO_LARGE.String():         http.StatusRequestEntityTooLarge,
	apiv1.ErrorReason_UNSUPPORTED_MEDIA_TYPE.String(): http.StatusUnsupportedMediaType,
}

// FromStatus builds the body for st.
func FromStatus(st *status.Status) Body {
	e := Error{
		Code:    runtime.HTTPStatusFromCode(st.Code()),
		Status:  st.Code().String(),
		Message: st.Message(),
	}
	switch st.Code() {
	case codes.Unknown, codes.Internal, codes.DataLoss:
		// Never leak internals to clients; the service logged them.
		e.Message, e.Status, e.Code = "internal error", "INTERNAL", http.StatusInternalServerError
	default:
		e.Status = codeName(st.Code())
	}
	for _, d := range st.Proto().GetDetails() {
		if raw, err := protojson.Marshal(d); err == nil {
			e.Details = append(e.Details, raw)
		}
	}
	for _, d := range st.Details() {
		switch d := d.(type) {
		case *errdetails.ErrorInfo:
			e.Reason, e.Domain, e.Metadata = d.GetReason(), d.GetDomain(), d.GetMetadata()
		case *errdetails.BadRequest:
			for _, v := range d.GetFieldViolations() {
				e.FieldViolations = append(e.FieldViolations, FieldViolation{Field: v.GetField(), Description: v.GetDescription()})
			}
		case *errdetails.PreconditionFailure:
			for _, v := range d.GetViolations() {
				e.Violations = append(e.Violations, Violation{Rule: v.GetType(), Reason: v.GetSubject(), Message: v.GetDescription()})
			}
		case *errdetails.LocalizedMessage:
			// A service renders its texts in the caller's language (the
			// gateway forwards the one it chose): that is the message.
			e.Message, e.Language = d.GetMessage(), d.GetLocale()
		}
	}
	if e.Reason == "" {
		// No ErrorInfo: the error came from the transport or a peer that
		// is not ours, not from a service's own answer. Name the reason
		// its code means, and drop the transport's text, which can name
		// internal addresses.
		if reason, ok := codeReason[st.Code()]; ok {
			e.Reason, e.Domain = reason.String(), apierr.Domain
		}
		e.Message, e.Language, e.Details = "", "", nil
	}
	if code, ok := reasonStatus[e.Reason]; ok {
		e.Code = code
	}
	return Body{Error: e}
}

// codeReason is the reason an error without one gets from its code.
var codeReason = map[codes.Code]apiv1.ErrorReason{
	codes.InvalidArgument:   apiv1.ErrorReason_INVALID_ARGUMENT,
	codes.NotFound:          apiv1.ErrorReason_NOT_FOUND,
	codes.AlreadyExists:     apiv1.ErrorReason_ALREADY_EXISTS,
	codes.PermissionDenied:  apiv1.ErrorReason_PERMISSION_DENIED,
	codes.Unauthenticated:   apiv1.ErrorReason_UNAUTHENTICATED,
	codes.Unimplemented:     apiv1.ErrorReason_UNIMPLEMENTED,
	codes.Unavailable:       apiv1.ErrorReason_DEPENDENCY_UNAVAILABLE,
	codes.DeadlineExceeded:  apiv1.ErrorReason_DEADLINE_EXCEEDED,
	codes.Canceled:          apiv1.ErrorReason_CANCELLED,
	codes.ResourceExhausted: apiv1.ErrorReason_RATE_LIMITED,
	codes.Unknown:           apiv1.ErrorReason_INTERNAL,
	codes.Internal:          apiv1.ErrorReason_INTERNAL,
	codes.DataLoss:          apiv1.ErrorReason_INTERNAL,
}

func codeName(c codes.Code) string {
	// codes.Code.String gives "InvalidArgument"; clients expect the
	// canonical upper-snake name, as in google.rpc.Code. Take it from
	// there: it is not always the Go name in upper snake case (Canceled
	// is CANCELLED).
	if name, ok := rpccode.Code_name[int32(c)]; ok {
		return name
	}
	// A code outside google.rpc.Code (a misbehaving peer): "CODE(42)".
	return strings.ToUpper(c.String())
}

// Writer writes error bodies in the caller's language.
type Writer struct {
	cat *i18n.Catalog
	def string
}

// NewWriter returns a writer whose texts come from cat, in the language
// each request asks for (Accept-Language), def when it asks for none of
// cat's.
func NewWriter(cat *i18n.Catalog, def string) *Writer { return &Writer{cat: cat, def: def} }

// Language is the language of the answer to r.
func (wr *Writer) Language(r *http.Request) string {
	return wr.cat.Choose(r.Header.Get("Accept-Language"), wr.def)
}

// render gives a body whose texts no service rendered (the transport's
// errors, a peer that is not ours) its message in lang, from its reason
// and metadata, and the google.rpc.LocalizedMessage detail saying so.
func (wr *Writer) render(body *Body, lang string) {
	e := &body.Error
	if e.Language != "" {
		return
	}
	e.Message = wr.cat.Render(lang, i18n.Message{Key: "reason." + e.Reason, Args: e.Metadata})
	e.Language = lang
	if raw, err := json.Marshal(map[string]string{"@type": "type.googleapis.com/google.rpc.LocalizedMessage", "locale": lang, "message": e.Message}); err == nil {
		e.Details = append(e.Details, raw)
	}
}

// Write writes body with its status code, its texts in the language r
// asks for (Content-Language says which).
func (wr *Writer) Write(w http.ResponseWriter, r *http.Request, body Body) {
	wr.render(&body, wr.Language(r))
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Language", body.Error.Language)
	w.Header().Del("Content-Length")
	raw, err := body.Marshal()
	if err != nil {
		// Only a detail that is not valid JSON could do this; the body
		// still goes out, without its details.
		body.Error.Details = nil
		raw, _ = body.Marshal()
	}
	w.WriteHeader(body.Error.Code)
	_, _ = w.Write(append(raw, '\n'))
}

// WriteError writes the gateway's own error err (an apierr error),
// rendered in the language r asks for.
func (wr *Writer) WriteError(w http.ResponseWriter, r *http.Request, err error) {
	wr.Write(w, r, FromStatus(status.Convert(apierr.Localize(err, wr.Language(r)))))
}

// Message is the body as the wire message.
func (b Body) Message() (*apiv1.ErrorBody, error) {
	e := b.Error
	out := &apiv1.Error{
		Code: int32(e.Code), Status: e.Status, Message: e.Message,
		Reason: apiv1.ErrorReason(apiv1.ErrorReason_value[e.Reason]), Domain: e.Domain, Metadata: e.Metadata,
	}
	if out.Domain == "" {
		out.Domain = apierr.Domain
	}
	for _, v := range e.FieldViolations {
		out.FieldViolations = append(out.FieldViolations, &apiv1.FieldViolation{Field: v.Field, Description: v.Description})
	}
	for _, v := range e.Violations {
		out.Violations = append(out.Violations, &apiv1.RuleViolation{Rule: v.Rule,
			Reason: apiv1.ErrorReason(apiv1.ErrorReason_value[v.Reason]), Message: v.Message})
	}
	for _, raw := range e.Details {
		detail := &anypb.Any{}
		if err := protojson.Unmarshal(raw, detail); err != nil {
			return nil, fmt.Errorf("errorbody: detail %s: %w", raw, err)
		}
		out.Details = append(out.Details, detail)
	}
	return &apiv1.ErrorBody{Error: out}, nil
}

// wire writes every field, empty ones included, as the API's responses do.
var wire = protojson.MarshalOptions{EmitUnpopulated: true}

// Marshal is the body's JSON, as it goes on the wire.
func (b Body) Marshal() ([]byte, error) {
	m, err := b.Message()
	if err != nil {
		return nil, err
	}
	return wire.Marshal(m)
}

// Handler is the grpc-gateway error handler.
func (wr *Writer) Handler(_ context.Context, _ *runtime.ServeMux, _ runtime.Marshaler, w http.ResponseWriter, r *http.Request, err error) {
	// An error of the gateway's own making (an apierr error) is rendered in
	// the caller's language; a service's answer already is.
	st := status.Convert(apierr.Localize(err, wr.Language(r)))
	// A body cut off by the size limit surfaces from the JSON decoder as an
	// INVALID_ARGUMENT; it is really 413.
	if strings.Contains(st.Message(), "http: request body too large") {
		wr.WriteError(w, r, apierr.New(codes.InvalidArgument, apiv1.ErrorReason_BODY_TOO_LARGE, nil))
		return
	}
	if st.Code() == codes.InvalidArgument && len(st.Details()) == 0 {
		// What grpc-gateway itself could not decode (a query or path
		// parameter of the wrong type) arrives without details; its text
		// is the parser's, not the client's terms, and stays here.
		wr.WriteError(w, r, apierr.New(codes.InvalidArgument, apiv1.ErrorReason_MALFORMED_REQUEST, nil))
		return
	}
	wr.Write(w, r, FromStatus(st))
}

// RoutingHandler answers unknown paths and methods with the same shape.
func (wr *Writer) RoutingHandler(_ context.Context, _ *runtime.ServeMux, _ runtime.Marshaler, w http.ResponseWriter, r *http.Request, httpStatus int) {
	switch httpStatus {
	case http.StatusMethodNotAllowed:
		body := FromStatus(status.Convert(apierr.Localize(apierr.New(codes.Unimplemented, apiv1.ErrorReason_METHOD_NOT_ALLOWED, nil), wr.Language(r))))
		body.Error.Code = http.StatusMethodNotAllowed
		wr.Write(w, r, body)
	case http.StatusBadRequest:
		wr.WriteError(w, r, apierr.New(codes.InvalidArgument, apiv1.ErrorReason_MALFORMED_REQUEST, nil))
	default:
		wr.WriteError(w, r, apierr.New(codes.NotFound, apiv1.ErrorReason_NO_SUCH_PATH, nil))
	}
}
