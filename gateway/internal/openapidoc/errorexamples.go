package openapidoc

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/types/known/anypb"

	apiv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/api/v1"
)

// errorExample is the error an error response's example shows.
type errorExample struct {
	code     codes.Code
	reason   apiv1.ErrorReason
	message  string
	metadata map[string]string
	// fields and rules are the body's fieldViolations and violations.
	fields []*apiv1.FieldViolation
	rules  []*apiv1.RuleViolation
}

// errorExamples gives each error response of the document (by its
// component name) the error it shows; TestErrorExamples holds every
// example to its status and the ErrorBody schema.
var errorExamples = map[string]errorExample{
	"BadRequest": {code: codes.FailedPrecondition, reason: apiv1.ErrorReason_CHARTER_VIOLATION,
		message:  "charter violation: M2: the organisation must be an active member of the general association before the branch can approve it",
		metadata: map[string]string{"rules": "M2"},
		rules: []*apiv1.RuleViolation{{Rule: "M2", Reason: apiv1.ErrorReason_GENERAL_MEMBERSHIP_REQUIRED,
			Message: "organizations/binhai-robotics is not an active member of the general association"}}},
	"Unauthenticated":      {code: codes.Unauthenticated, reason: apiv1.ErrorReason_UNAUTHENTICATED, message: "a bearer token is required"},
	"PermissionDenied":     {code: codes.PermissionDenied, reason: apiv1.ErrorReason_PERMISSION_DENIED, message: "admins only"},
	"NotFound":             {code: codes.NotFound, reason: apiv1.ErrorReason_NOT_FOUND, message: "branches/ai/applications/binhai-2026 not found"},
	"Conflict":             {code: codes.AlreadyExists, reason: apiv1.ErrorReason_ALREADY_EXISTS, message: "branches/ai/applications/binhai-2026 already exists"},
	PreconditionFailed:     {code: codes.Aborted, reason: apiv1.ErrorReason_ETAG_MISMATCH, message: "branches/ai/activities/agent-eval-training changed since it was read", metadata: map[string]string{"resource": "branches/ai/activities/agent-eval-training"}},
	"BodyTooLarge":         {code: codes.InvalidArgument, reason: apiv1.ErrorReason_BODY_TOO_LARGE, message: "the request body is larger than 1048576 bytes"},
	"UnsupportedMediaType": {code: codes.InvalidArgument, reason: apiv1.ErrorReason_UNSUPPORTED_MEDIA_TYPE, message: "the request body must be application/json"},
	"IdempotencyKeyReused": {code: codes.FailedPrecondition, reason: apiv1.ErrorReason_IDEMPOTENCY_KEY_REUSED, message: "the Idempotency-Key was used with another request"},
	"RateLimited":          {code: codes.ResourceExhausted, reason: apiv1.ErrorReason_RATE_LIMITED, message: "too many requests; retry after 2 seconds"},
	"Internal":             {code: codes.Internal, reason: apiv1.ErrorReason_INTERNAL, message: "internal error"},
	"Unavailable":          {code: codes.Unavailable, reason: apiv1.ErrorReason_DEPENDENCY_UNAVAILABLE, message: "a service this request needs is unavailable; nothing was written"},
	"DeadlineExceeded":     {code: codes.DeadlineExceeded, reason: apiv1.ErrorReason_DEADLINE_EXCEEDED, message: "the request took too long; its outcome is unknown"},
	"DefaultError":         {code: codes.Unimplemented, reason: apiv1.ErrorReason_METHOD_NOT_ALLOWED, message: "POST is not allowed on /v1/branches/ai"},
}

// errorStatusCodes are the HTTP statuses of the error responses whose
// status is not in their name's errorStatus entry.
var errorStatusCodes = map[string]int{PreconditionFailed: http.StatusPreconditionFailed, "DefaultError": http.StatusMethodNotAllowed}

// body is the example as the gateway writes it, answering with status.
func (x errorExample) body(status int) (any, error) {
	info, err := anypb.New(&errdetails.ErrorInfo{Reason: x.reason.String(), Domain: "chapterhouse", Metadata: x.metadata})
	if err != nil {
		return nil, fmt.Errorf("openapidoc: error example: %w", err)
	}
	name := strings.ToUpper(x.code.String())
	if s, ok := map[codes.Code]string{codes.Canceled: "CANCELLED", codes.InvalidArgument: "INVALID_ARGUMENT",
		codes.NotFound: "NOT_FOUND", codes.AlreadyExists: "ALREADY_EXISTS", codes.PermissionDenied: "PERMISSION_DENIED",
		codes.ResourceExhausted: "RESOURCE_EXHAUSTED", codes.FailedPrecondition: "FAILED_PRECONDITION", codes.DeadlineExceeded: "DEADLINE_EXCEEDED",
		codes.Unauthenticated: "UNAUTHENTICATED", codes.Unavailable: "UNAVAILABLE", codes.Unimplemented: "UNIMPLEMENTED",
		codes.Internal: "INTERNAL", codes.Aborted: "ABORTED"}[x.code]; ok {
		name = s
	}
	metadata := x.metadata
	if metadata == nil {
		metadata = map[string]string{}
	}
	return asJSON(&apiv1.ErrorBody{Error: &apiv1.Error{
		Code: int32(status), Status: name, Message: x.message, Reason: x.reason, Domain: "chapterhouse",
		Metadata: metadata, FieldViolations: x.fields, Violations: x.rules, Details: []*anypb.Any{info},
	}}, response)
}

// addErrorExamples gives every error response of the components its
// example, each in a content of its own.
func addErrorExamples(doc *openapi3.T) error {
	codes := map[string]int{}
	for _, s := range errorStatuses {
		var n int
		if _, err := fmt.Sscan(s.code, &n); err != nil {
			return fmt.Errorf("openapidoc: status %q: %w", s.code, err)
		}
		codes[s.name] = n
	}
	for k, v := range errorStatusCodes {
		codes[k] = v
	}
	for name, r := range doc.Components.Responses {
		x, ok := errorExamples[name]
		if !ok {
			return fmt.Errorf("openapidoc: the error response %s has no example (errorExamples)", name)
		}
		ex, err := x.body(codes[name])
		if err != nil {
			return err
		}
		media := r.Value.Content.Get("application/json")
		r.Value.Content = openapi3.NewContentWithJSONSchemaRef(media.Schema)
		r.Value.Content.Get("application/json").Example = ex
	}
	return nil
}
