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

	"github.com/tjsia/chapterhouse/gateway/internal/i18n"
	"github.com/tjsia/chapterhouse/platform/apierr"
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
		}
	}
	if e.Reason == "" {
		// No ErrorInfo: the error came from the transport or a peer that
		// is not ours, not from a service's own answer. Name the reason
		// its code means, and drop the transport's text, which can name
		// internal addresses.
		if reason, ok := codeReason[st.Code()]; ok {
			e.Reason, e.Domain = reason.String(), apierr.Domain
			if st.Code() == codes.Unavailable || st.Code() == codes.DeadlineExceeded {
				e.Message = ""
			}
		}
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
	loc *i18n.Localizer
}

// NewWriter returns a writer whose texts come from loc.
func NewWriter(loc *i18n.Localizer) *Writer { return &Writer{loc: loc} }

// localize puts body in locale: the message (a service's own English
// message stays as it is in English, being the more precise), each
// violation's, and a google.rpc.LocalizedMessage detail.
func (wr *Writer) localize(body *Body, locale string) {
	e := &body.Error
	values := map[string]string{}
	for k, v := range e.Metadata {
		values[k] = v
	}
	if text, ok := wr.loc.Text(locale, "reason."+e.Reason, values); ok && (locale != "en" || e.Message == "") {
		e.Message = text
	}
	if locale != "en" {
		for i, v := range e.Violations {
			reason, _ := wr.loc.Text(locale, "reason."+v.Reason, values)
			rule, _ := wr.loc.Text(locale, "rule."+v.Rule, nil)
			e.Violations[i].Message = reason + "（章程 " + v.Rule + "：" + rule + "）"
		}
	}
	if raw, err := json.Marshal(map[string]string{"@type": "type.googleapis.com/google.rpc.LocalizedMessage", "locale": locale, "message": e.Message}); err == nil {
		e.Details = append(e.Details, raw)
	}
}

// Write writes body with its status code, in the language r asks for.
func (wr *Writer) Write(w http.ResponseWriter, r *http.Request, body Body) {
	locale := wr.loc.Choose(r.Header.Get("Accept-Language"))
	wr.localize(&body, locale)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Language", locale)
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

// WriteStatus writes a body for a gRPC code and message with a reason.
func (wr *Writer) WriteStatus(w http.ResponseWriter, r *http.Request, code codes.Code, reason apiv1.ErrorReason, message string) {
	wr.WriteStatusMeta(w, r, code, reason, message, nil)
}

// WriteStatusMeta is WriteStatus with the reason's metadata.
func (wr *Writer) WriteStatusMeta(w http.ResponseWriter, r *http.Request, code codes.Code, reason apiv1.ErrorReason, message string, metadata map[string]string) {
	wr.Write(w, r, FromStatus(status.Convert(apierr.New(code, reason, message, metadata))))
}

// Handler is the grpc-gateway error handler.
func (wr *Writer) Handler(_ context.Context, _ *runtime.ServeMux, _ runtime.Marshaler, w http.ResponseWriter, r *http.Request, err error) {
	st := status.Convert(err)
	// A body cut off by the size limit surfaces from the JSON decoder as an
	// INVALID_ARGUMENT; it is really 413.
	if strings.Contains(st.Message(), "http: request body too large") {
		wr.WriteStatus(w, r, codes.InvalidArgument, apiv1.ErrorReason_BODY_TOO_LARGE, "request body is larger than the gateway accepts")
		return
	}
	if st.Code() == codes.InvalidArgument && len(st.Details()) == 0 {
		// Bodies the gateway itself could not decode (malformed JSON,
		// unknown fields, wrong types) arrive without details.
		wr.WriteStatus(w, r, codes.InvalidArgument, apiv1.ErrorReason_MALFORMED_REQUEST, st.Message())
		return
	}
	wr.Write(w, r, FromStatus(st))
}

// RoutingHandler answers unknown paths and methods with the same shape.
func (wr *Writer) RoutingHandler(_ context.Context, _ *runtime.ServeMux, _ runtime.Marshaler, w http.ResponseWriter, r *http.Request, httpStatus int) {
	switch httpStatus {
	case http.StatusMethodNotAllowed:
		body := FromStatus(status.Convert(apierr.New(codes.Unimplemented, apiv1.ErrorReason_METHOD_NOT_ALLOWED, "method not allowed on this path", nil)))
		body.Error.Code = http.StatusMethodNotAllowed
		wr.Write(w, r, body)
	case http.StatusBadRequest:
		wr.WriteStatus(w, r, codes.InvalidArgument, apiv1.ErrorReason_MALFORMED_REQUEST, "bad request")
	default:
		wr.WriteStatus(w, r, codes.NotFound, apiv1.ErrorReason_NO_SUCH_PATH, "no such path")
	}
}
