// Package apierr builds the gRPC errors every Chapterhouse API returns: a
// status whose details carry google.rpc.ErrorInfo (domain "chapterhouse",
// a machine-readable reason) and, where it applies, BadRequest field
// violations or PreconditionFailure charter violations. Clients branch on
// the reason, never on the message.
package apierr

import (
	"fmt"
	"sort"
	"strings"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/protoadapt"
)

// Domain is the ErrorInfo domain of every Chapterhouse error.
const Domain = "chapterhouse"

// Reasons shared across services.
const (
	ReasonInvalidArgument    = "INVALID_ARGUMENT"
	ReasonCharterViolation   = "CHARTER_VIOLATION"
	ReasonNotFound           = "NOT_FOUND"
	ReasonEtagMismatch       = "ETAG_MISMATCH"
	ReasonInvalidTransition  = "INVALID_STATE_TRANSITION"
	ReasonPermissionDenied   = "PERMISSION_DENIED"
	ReasonUnauthenticated    = "UNAUTHENTICATED"
	ReasonInvalidPageToken   = "INVALID_PAGE_TOKEN"
	ReasonDependencyDown     = "DEPENDENCY_UNAVAILABLE"
	ReasonIdempotencyReused  = "IDEMPOTENCY_KEY_REUSED"
	ReasonIdempotencyPending = "IDEMPOTENCY_KEY_IN_PROGRESS"
)

// FieldViolation is one bad field of a request.
type FieldViolation struct {
	Field       string
	Description string
}

// Violation is one broken charter rule.
type Violation struct {
	// Rule is the CHARTER.md code, e.g. "M2".
	Rule string
	// Reason is a machine-readable reason, e.g. "AGE_LIMIT_EXCEEDED".
	Reason string
	// Message explains it to a person.
	Message string
}

// New returns a status error with ErrorInfo and any further details.
func New(code codes.Code, reason, message string, metadata map[string]string, details ...protoadapt.MessageV1) error {
	st := status.New(code, message)
	all := append([]protoadapt.MessageV1{&errdetails.ErrorInfo{Reason: reason, Domain: Domain, Metadata: metadata}}, details...)
	withDetails, err := st.WithDetails(all...)
	if err != nil {
		return st.Err()
	}
	return withDetails.Err()
}

// InvalidArgument reports bad fields; every violation is listed.
func InvalidArgument(violations ...FieldViolation) error {
	br := &errdetails.BadRequest{}
	var msgs []string
	for _, v := range violations {
		br.FieldViolations = append(br.FieldViolations, &errdetails.BadRequest_FieldViolation{Field: v.Field, Description: v.Description})
		msgs = append(msgs, v.Field+": "+v.Description)
	}
	return New(codes.InvalidArgument, ReasonInvalidArgument, "invalid request: "+strings.Join(msgs, "; "), nil, br)
}

// Charter reports every broken charter rule at once. The ErrorInfo metadata
// "rules" lists the codes, comma-separated and sorted; PreconditionFailure
// carries one violation per rule (type = code, subject = reason).
func Charter(violations []Violation) error {
	pf := &errdetails.PreconditionFailure{}
	var msgs []string
	codesSeen := map[string]bool{}
	for _, v := range violations {
		pf.Violations = append(pf.Violations, &errdetails.PreconditionFailure_Violation{Type: v.Rule, Subject: v.Reason, Description: v.Message})
		msgs = append(msgs, fmt.Sprintf("%s: %s", v.Rule, v.Message))
		codesSeen[v.Rule] = true
	}
	rules := make([]string, 0, len(codesSeen))
	for c := range codesSeen {
		rules = append(rules, c)
	}
	sort.Strings(rules)
	return New(codes.FailedPrecondition, ReasonCharterViolation,
		"charter violation: "+strings.Join(msgs, "; "),
		map[string]string{"rules": strings.Join(rules, ",")}, pf)
}

// NotFound reports a missing resource by name.
func NotFound(name string) error {
	return New(codes.NotFound, ReasonNotFound, name+" not found", map[string]string{"resource": name})
}

// EtagMismatch reports a lost-update conflict (REST 409).
func EtagMismatch(name string) error {
	return New(codes.Aborted, ReasonEtagMismatch, name+" was changed by someone else; read it again and retry with its new etag", map[string]string{"resource": name})
}

// InvalidTransition reports a state change the resource's state forbids.
func InvalidTransition(name, action, state string) error {
	return New(codes.FailedPrecondition, ReasonInvalidTransition,
		fmt.Sprintf("cannot %s %s in state %s", action, name, state),
		map[string]string{"resource": name, "action": action, "state": state})
}

// PermissionDenied reports a caller who may not do this.
func PermissionDenied(message string) error {
	return New(codes.PermissionDenied, ReasonPermissionDenied, message, nil)
}

// Unauthenticated reports a missing or bad token.
func Unauthenticated(message string) error {
	return New(codes.Unauthenticated, ReasonUnauthenticated, message, nil)
}

// InvalidPageToken reports a page token not issued for this request.
func InvalidPageToken() error {
	return New(codes.InvalidArgument, ReasonInvalidPageToken, "page_token is not valid for this request",
		nil, &errdetails.BadRequest{FieldViolations: []*errdetails.BadRequest_FieldViolation{{Field: "page_token", Description: "not issued for this request"}}})
}

// Unavailable reports that a dependency could not be reached; nothing was
// written.
func Unavailable(dependency string, err error) error {
	return New(codes.Unavailable, ReasonDependencyDown, fmt.Sprintf("%s is unavailable; nothing was changed: %v", dependency, err),
		map[string]string{"dependency": dependency})
}
