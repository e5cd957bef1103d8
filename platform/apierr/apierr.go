// Package apierr builds the gRPC errors every Chapterhouse API returns: a
// status whose details carry google.rpc.ErrorInfo (domain "chapterhouse",
// a reason from the one chapterhouse.api.v1.ErrorReason enum) and, where it
// applies, BadRequest field violations or PreconditionFailure charter
// violations. Clients branch on the reason, never on the message.
package apierr

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/protoadapt"

	apiv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/api/v1"
)

// Domain is the ErrorInfo domain of every Chapterhouse error.
const Domain = "chapterhouse"

// FieldViolation is one bad field of a request.
type FieldViolation struct {
	Field       string
	Description string
}

// Violation is one broken charter rule.
type Violation struct {
	// Rule is the CHARTER.md code, e.g. "M2".
	Rule string
	// Reason names the violation, e.g. GENERAL_MEMBERSHIP_REQUIRED.
	Reason apiv1.ErrorReason
	// Message explains it to a person.
	Message string
}

// New returns a status error with ErrorInfo and any further details.
func New(code codes.Code, reason apiv1.ErrorReason, message string, metadata map[string]string, details ...protoadapt.MessageV1) error {
	st := status.New(code, message)
	all := append([]protoadapt.MessageV1{&errdetails.ErrorInfo{Reason: reason.String(), Domain: Domain, Metadata: metadata}}, details...)
	withDetails, err := st.WithDetails(all...)
	if err != nil {
		return st.Err()
	}
	return withDetails.Err()
}

// Info returns the ErrorInfo of err, or nil when it carries none.
func Info(err error) *errdetails.ErrorInfo {
	st, ok := status.FromError(err)
	if !ok {
		return nil
	}
	for _, d := range st.Details() {
		if info, ok := d.(*errdetails.ErrorInfo); ok {
			return info
		}
	}
	return nil
}

// ReasonOf returns the reason of a Chapterhouse error, or
// ERROR_REASON_UNSPECIFIED when err carries no (known) reason.
func ReasonOf(err error) apiv1.ErrorReason {
	info := Info(err)
	if info == nil || info.GetDomain() != Domain {
		return apiv1.ErrorReason_ERROR_REASON_UNSPECIFIED
	}
	return apiv1.ErrorReason(apiv1.ErrorReason_value[info.GetReason()])
}

// Is reports whether err is a Chapterhouse error with reason.
func Is(err error, reason apiv1.ErrorReason) bool { return ReasonOf(err) == reason }

// CheckReason reports an error when err's ErrorInfo is missing, is of
// another domain, or names a reason outside the ErrorReason enum. The
// services' tests hold every returned error to it.
func CheckReason(err error) error {
	if err == nil {
		return nil
	}
	info := Info(err)
	switch {
	case info == nil:
		return fmt.Errorf("error without google.rpc.ErrorInfo: %w", err)
	case info.GetDomain() != Domain:
		return fmt.Errorf("ErrorInfo domain %q, want %q: %w", info.GetDomain(), Domain, err)
	}
	if v, ok := apiv1.ErrorReason_value[info.GetReason()]; !ok || v == 0 {
		return fmt.Errorf("reason %q is not a chapterhouse.api.v1.ErrorReason: %w", info.GetReason(), err)
	}
	st, _ := status.FromError(err)
	for _, d := range st.Details() {
		if pf, ok := d.(*errdetails.PreconditionFailure); ok {
			for _, v := range pf.GetViolations() {
				if r, ok := apiv1.ErrorReason_value[v.GetSubject()]; !ok || r == 0 {
					return fmt.Errorf("violation reason %q is not a chapterhouse.api.v1.ErrorReason: %w", v.GetSubject(), err)
				}
			}
		}
	}
	return nil
}

// InvalidArgument reports bad fields; every violation is listed.
func InvalidArgument(violations ...FieldViolation) error {
	br := &errdetails.BadRequest{}
	msgs := make([]string, 0, len(violations))
	for _, v := range violations {
		br.FieldViolations = append(br.FieldViolations, &errdetails.BadRequest_FieldViolation{Field: v.Field, Description: v.Description})
		msgs = append(msgs, v.Field+": "+v.Description)
	}
	return New(codes.InvalidArgument, apiv1.ErrorReason_INVALID_ARGUMENT, "invalid request: "+strings.Join(msgs, "; "), nil, br)
}

// Charter reports every broken charter rule at once. The ErrorInfo metadata
// "rules" lists the codes, comma-separated and sorted; PreconditionFailure
// carries one violation per rule (type = code, subject = reason).
func Charter(violations []Violation) error {
	pf := &errdetails.PreconditionFailure{}
	msgs := make([]string, 0, len(violations))
	codesSeen := map[string]bool{}
	for _, v := range violations {
		pf.Violations = append(pf.Violations, &errdetails.PreconditionFailure_Violation{Type: v.Rule, Subject: v.Reason.String(), Description: v.Message})
		msgs = append(msgs, fmt.Sprintf("%s: %s", v.Rule, v.Message))
		codesSeen[v.Rule] = true
	}
	rules := make([]string, 0, len(codesSeen))
	for c := range codesSeen {
		rules = append(rules, c)
	}
	sort.Strings(rules)
	return New(codes.FailedPrecondition, apiv1.ErrorReason_CHARTER_VIOLATION,
		"charter violation: "+strings.Join(msgs, "; "),
		map[string]string{"rules": strings.Join(rules, ",")}, pf)
}

// NotFound reports a missing resource by name.
func NotFound(name string) error {
	return New(codes.NotFound, apiv1.ErrorReason_NOT_FOUND, name+" not found", map[string]string{"resource": name})
}

// AlreadyExists reports a client-chosen id that is taken.
func AlreadyExists(name string) error {
	return New(codes.AlreadyExists, apiv1.ErrorReason_ALREADY_EXISTS, name+" already exists", map[string]string{"resource": name})
}

// EtagMismatch reports a lost-update conflict (REST 409).
func EtagMismatch(name string) error {
	return New(codes.Aborted, apiv1.ErrorReason_ETAG_MISMATCH, name+" was changed by someone else; read it again and retry with its new etag", map[string]string{"resource": name})
}

// TooContended reports a record that kept changing under an optimistic
// read-modify-write, however often it was retried.
func TooContended(name string) error {
	return New(codes.Aborted, apiv1.ErrorReason_ETAG_MISMATCH, name+" is changing too often; retry", map[string]string{"resource": name})
}

// InvalidTransition reports a state change the resource's state forbids.
// allowed, when given, are the actions the state does allow: metadata
// "allowed", comma-separated, and named in the message.
func InvalidTransition(name, action, state string, allowed ...string) error {
	msg := fmt.Sprintf("cannot %s %s in state %s", action, name, state)
	md := map[string]string{"resource": name, "action": action, "state": state}
	if len(allowed) > 0 {
		md["allowed"] = strings.Join(allowed, ",")
		msg += "; it allows " + strings.Join(allowed, ", ")
	} else if allowed != nil {
		md["allowed"] = ""
		msg += "; it allows nothing more (final)"
	}
	return New(codes.FailedPrecondition, apiv1.ErrorReason_INVALID_STATE_TRANSITION, msg, md)
}

// ReferenceNotFound reports that a resource a request field names does not
// exist.
func ReferenceNotFound(field, name string) error {
	return New(codes.FailedPrecondition, apiv1.ErrorReason_REFERENCED_RESOURCE_NOT_FOUND, name+" does not exist",
		map[string]string{"field": field, "resource": name})
}

// PermissionDenied reports a caller who may not do this.
func PermissionDenied(message string) error {
	return New(codes.PermissionDenied, apiv1.ErrorReason_PERMISSION_DENIED, message, nil)
}

// Unauthenticated reports a missing or bad token.
func Unauthenticated(message string) error {
	return New(codes.Unauthenticated, apiv1.ErrorReason_UNAUTHENTICATED, message, nil)
}

// InvalidPageToken reports a page token not issued for this request.
func InvalidPageToken() error {
	return New(codes.InvalidArgument, apiv1.ErrorReason_INVALID_PAGE_TOKEN, "page_token is not valid for this request",
		nil, &errdetails.BadRequest{FieldViolations: []*errdetails.BadRequest_FieldViolation{{Field: "page_token", Description: "not issued for this request"}}})
}

// Unavailable reports that a dependency could not be reached; nothing was
// written. The cause stays on the server: it is logged with the call (see
// Cause), never sent, because it may name internal addresses.
func Unavailable(dependency string, cause error) error {
	return WithCause(New(codes.Unavailable, apiv1.ErrorReason_DEPENDENCY_UNAVAILABLE, dependency+" is unavailable; nothing was changed",
		map[string]string{"dependency": dependency}), cause)
}

// causedError is a status error that remembers, for the server's logs, the
// error that caused it. gRPC sends only the status.
type causedError struct {
	st    *status.Status
	cause error
}

func (e *causedError) Error() string              { return e.st.Err().Error() }
func (e *causedError) GRPCStatus() *status.Status { return e.st }
func (e *causedError) Unwrap() error              { return e.cause }

// WithCause attaches cause to the status error err for logging; the client
// still receives err's status only.
func WithCause(err, cause error) error {
	st, ok := status.FromError(err)
	if !ok || cause == nil {
		return err
	}
	return &causedError{st: st, cause: cause}
}

// Cause returns the cause WithCause attached to err, or nil.
func Cause(err error) error {
	var c *causedError
	if errors.As(err, &c) {
		return c.cause
	}
	return nil
}

// Internal reports a fault of the service without saying what it was.
func Internal() error {
	return New(codes.Internal, apiv1.ErrorReason_INTERNAL, "internal error", nil)
}

// Normalize returns err as a Chapterhouse error: one that already carries
// ErrorInfo is returned as it is; a bare status gets the reason its code
// implies; anything else (a Go error from a store, a panic) becomes
// INTERNAL. The second result is true when err was not a Chapterhouse
// error, so the caller can log the original.
func Normalize(err error) (error, bool) {
	if err == nil {
		return nil, false
	}
	if Info(err) != nil {
		return err, false
	}
	st, ok := status.FromError(err)
	if !ok {
		return WithCause(Internal(), err), true
	}
	switch st.Code() {
	case codes.Unimplemented:
		return New(codes.Unimplemented, apiv1.ErrorReason_UNIMPLEMENTED, st.Message(), nil), true
	case codes.Unauthenticated:
		return Unauthenticated(st.Message()), true
	case codes.PermissionDenied:
		return PermissionDenied(st.Message()), true
	case codes.NotFound:
		return New(codes.NotFound, apiv1.ErrorReason_NOT_FOUND, st.Message(), nil), true
	case codes.InvalidArgument, codes.OutOfRange:
		return New(codes.InvalidArgument, apiv1.ErrorReason_INVALID_ARGUMENT, st.Message(), nil), true
	case codes.Unavailable:
		return New(codes.Unavailable, apiv1.ErrorReason_DEPENDENCY_UNAVAILABLE, st.Message(), nil), true
	case codes.DeadlineExceeded:
		return New(codes.DeadlineExceeded, apiv1.ErrorReason_DEADLINE_EXCEEDED, st.Message(), nil), true
	case codes.Canceled:
		return New(codes.Canceled, apiv1.ErrorReason_CANCELLED, st.Message(), nil), true
	}
	return WithCause(Internal(), err), true
}
