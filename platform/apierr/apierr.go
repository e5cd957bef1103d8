// Package apierr builds the gRPC errors every Chapterhouse API returns: a
// status whose details carry google.rpc.ErrorInfo (domain "chapterhouse",
// a reason from the one chapterhouse.api.v1.ErrorReason enum, and the facts
// as metadata) and, where it applies, BadRequest field violations or
// PreconditionFailure charter violations. Clients branch on the reason,
// never on the message.
//
// Every text in an error is for people, so none is written here as prose:
// an error keeps its texts as catalog keys with their facts (i18n.Message)
// until it is rendered for its caller (Localize: the server does it with
// the caller's language). The top message is "reason.<REASON>" filled
// from the metadata unless a more precise text is given; a charter
// violation's is "violation.<REASON>"; a field violation names its key.
package apierr

import (
	"errors"
	"maps"
	"regexp"
	"sort"
	"strings"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/protoadapt"

	"github.com/tjsia/chapterhouse/platform/i18n"
	apiv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/api/v1"
)

// Domain is the ErrorInfo domain of every Chapterhouse error.
const Domain = "chapterhouse"

// FieldViolation is one bad field of a request: the field's path and what
// is wrong with it, as a catalog key ("field.<what>") and its facts.
type FieldViolation struct {
	Field string
	Key   string
	Args  map[string]string
}

// Field is a violation of field whose text is "field.<what>" with args as
// alternating names and values.
func Field(field, what string, args ...string) FieldViolation {
	return FieldViolation{Field: field, Key: "field." + what, Args: pairs(args)}
}

// Violation is one broken charter rule.
type Violation struct {
	// Rule is the CHARTER.md code, e.g. "M2".
	Rule string
	// Reason names the violation, e.g. GENERAL_MEMBERSHIP_REQUIRED.
	Reason apiv1.ErrorReason
	// Key is the catalog key of its text; empty means
	// "violation.<Reason>".
	Key string
	// Args are the facts the text names.
	Args map[string]string
}

// Text is the violation's text, unrendered.
func (v Violation) Text() i18n.Message {
	key := v.Key
	if key == "" {
		key = "violation." + v.Reason.String()
	}
	return i18n.Message{Key: key, Args: v.Args}
}

// Rule is a violation of rule for reason whose text is
// "violation.<reason>" with args as alternating names and values.
func Rule(rule string, reason apiv1.ErrorReason, args ...string) Violation {
	return Violation{Rule: rule, Reason: reason, Args: pairs(args)}
}

// pairs makes a map of alternating names and values.
func pairs(kv []string) map[string]string {
	if len(kv) == 0 {
		return nil
	}
	m := make(map[string]string, len(kv)/2)
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return m
}

// Error is a Chapterhouse error before it is rendered for its caller.
// Its GRPCStatus is the English rendering, so it is a gRPC error as it
// stands; Localize renders it in a caller's language.
type Error struct {
	Code     codes.Code
	Reason   apiv1.ErrorReason
	Metadata map[string]string
	// Message is the top text; empty means "reason.<Reason>" with the
	// metadata.
	Message    i18n.Message
	Fields     []FieldViolation
	Violations []Violation
	// Details are further google.rpc details, as they are.
	Details []protoadapt.MessageV1
}

func (e *Error) Error() string              { return e.GRPCStatus().Err().Error() }
func (e *Error) GRPCStatus() *status.Status { return e.Status(i18n.English) }

// Option refines an error New makes.
type Option func(*Error)

// Text gives the error a top message more precise than its reason's:
// the catalog's key, with args as alternating names and values.
func Text(key string, args ...string) Option {
	return func(e *Error) { e.Message = i18n.Message{Key: key, Args: pairs(args)} }
}

// Details attaches further google.rpc details.
func Details(details ...protoadapt.MessageV1) Option {
	return func(e *Error) { e.Details = append(e.Details, details...) }
}

// New is an error with code, reason and the facts as metadata.
func New(code codes.Code, reason apiv1.ErrorReason, metadata map[string]string, opts ...Option) error {
	e := &Error{Code: code, Reason: reason, Metadata: metadata}
	for _, o := range opts {
		o(e)
	}
	return e
}

// Status renders e in lang: the status message in English (for developers
// and logs), the texts people read (a google.rpc.LocalizedMessage, every
// field and charter violation's description) in lang.
func (e *Error) Status(lang string) *status.Status {
	cat := i18n.Default()
	if !i18n.Known(lang) {
		lang = i18n.English
	}
	details := []protoadapt.MessageV1{&errdetails.ErrorInfo{Reason: e.Reason.String(), Domain: Domain, Metadata: e.Metadata}}
	if len(e.Fields) > 0 {
		br := &errdetails.BadRequest{}
		for _, f := range e.Fields {
			text := cat.Render(lang, i18n.Message{Key: f.Key, Args: f.Args})
			br.FieldViolations = append(br.FieldViolations, &errdetails.BadRequest_FieldViolation{Field: f.Field, Description: text,
				LocalizedMessage: &errdetails.LocalizedMessage{Locale: lang, Message: text}})
		}
		details = append(details, br)
	}
	if len(e.Violations) > 0 {
		pf := &errdetails.PreconditionFailure{}
		for _, v := range e.Violations {
			pf.Violations = append(pf.Violations, &errdetails.PreconditionFailure_Violation{Type: v.Rule, Subject: v.Reason.String(),
				Description: cat.Render(lang, v.Text())})
		}
		details = append(details, pf)
	}
	details = append(details, e.Details...)
	details = append(details, &errdetails.LocalizedMessage{Locale: lang, Message: e.render(cat, lang)})
	st, err := status.New(e.Code, e.render(cat, i18n.English)).WithDetails(details...)
	if err != nil {
		return status.New(e.Code, e.render(cat, i18n.English))
	}
	return st
}

// render is the top message in lang. Without a text of its own, it is the
// reason's, filled from the metadata and, for field and charter
// violations, with each one's text ({fields}, {violations}).
func (e *Error) render(cat *i18n.Catalog, lang string) string {
	m := e.Message
	if m.Key == "" {
		m = i18n.Message{Key: "reason." + e.Reason.String(), Args: e.Metadata}
	}
	if len(e.Fields) > 0 || len(e.Violations) > 0 {
		args := maps.Clone(m.Args)
		if args == nil {
			args = map[string]string{}
		}
		sep := cat.Render(lang, i18n.Message{Key: "list.separator"})
		var fields, violations []string
		for _, f := range e.Fields {
			description := cat.Render(lang, i18n.Message{Key: f.Key, Args: f.Args})
			if f.Field == "" {
				// The request (or its body) as a whole.
				fields = append(fields, description)
				continue
			}
			fields = append(fields, cat.Render(lang, i18n.Message{Key: "list.field", Args: map[string]string{"field": f.Field, "description": description}}))
		}
		for _, v := range e.Violations {
			violations = append(violations, cat.Render(lang, i18n.Message{Key: "list.violation", Args: map[string]string{
				"rule": v.Rule, "description": cat.Render(lang, v.Text())}}))
		}
		if len(fields) > 0 {
			args["fields"] = strings.Join(fields, sep)
		}
		if len(violations) > 0 {
			args["violations"] = strings.Join(violations, sep)
		}
		m.Args = args
	}
	return cat.Render(lang, m)
}

// Localize is err as its caller in lang reads it: a Chapterhouse error
// rendered in lang (its cause kept for the logs); anything else (a peer's
// status, already rendered for the caller) as it is.
func Localize(err error, lang string) error {
	var e *Error
	if !errors.As(err, &e) {
		return err
	}
	rendered := e.Status(lang).Err()
	if cause := Cause(err); cause != nil {
		return &causedError{st: status.Convert(rendered), cause: cause}
	}
	return rendered
}

// Info returns the ErrorInfo of err, or nil when it carries none.
func Info(err error) *errdetails.ErrorInfo {
	var e *Error
	if errors.As(err, &e) {
		return &errdetails.ErrorInfo{Reason: e.Reason.String(), Domain: Domain, Metadata: e.Metadata}
	}
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

// Violations are the charter violations err carries (from its
// PreconditionFailure), with their rendered texts: what a caller that
// passes a peer's refusal on, or a test, reads.
func Violations(err error) []*errdetails.PreconditionFailure_Violation {
	st, _ := status.FromError(err)
	for _, d := range st.Details() {
		if pf, ok := d.(*errdetails.PreconditionFailure); ok {
			return pf.GetViolations()
		}
	}
	return nil
}

// CheckReason reports an error when err's ErrorInfo is missing, is of
// another domain, or names a reason outside the ErrorReason enum, or when
// a text of it was not in the catalog (checkTexts). The services' tests
// hold every returned error to it.
func CheckReason(err error) error {
	if err == nil {
		return nil
	}
	info := Info(err)
	switch {
	case info == nil:
		return errors.New("error without google.rpc.ErrorInfo: " + err.Error())
	case info.GetDomain() != Domain:
		return errors.New("ErrorInfo domain " + info.GetDomain() + ", want " + Domain + ": " + err.Error())
	}
	if v, ok := apiv1.ErrorReason_value[info.GetReason()]; !ok || v == 0 {
		return errors.New("reason " + info.GetReason() + " is not a chapterhouse.api.v1.ErrorReason: " + err.Error())
	}
	for _, v := range Violations(err) {
		if r, ok := apiv1.ErrorReason_value[v.GetSubject()]; !ok || r == 0 {
			return errors.New("violation reason " + v.GetSubject() + " is not a chapterhouse.api.v1.ErrorReason: " + err.Error())
		}
	}
	return checkTexts(err, info)
}

// catalogKey is what a text the catalog lacks renders as: its key.
var catalogKey = regexp.MustCompile(`^[a-z_]+(\.[A-Za-z0-9_]+)+$`)

// checkTexts reports a text of err the catalog could not render (it shows
// its key), and a fact its reason's text shows as a term ({state|term})
// for which some language has no term: a person would read a raw enum
// name or key.
func checkTexts(err error, info *errdetails.ErrorInfo) error {
	st, _ := status.FromError(err)
	texts := []string{st.Message()}
	for _, d := range st.Details() {
		switch d := d.(type) {
		case *errdetails.LocalizedMessage:
			texts = append(texts, d.GetMessage())
		case *errdetails.BadRequest:
			for _, f := range d.GetFieldViolations() {
				texts = append(texts, f.GetDescription())
			}
		case *errdetails.PreconditionFailure:
			for _, v := range d.GetViolations() {
				texts = append(texts, v.GetDescription())
			}
		}
	}
	for _, text := range texts {
		if catalogKey.MatchString(text) {
			return errors.New("text " + text + " is not in the catalog: " + err.Error())
		}
	}
	cat := i18n.Default()
	raw, _ := cat.Raw(i18n.English, "reason."+info.GetReason())
	for _, p := range i18n.Placeholders(raw) {
		name, kind, ok := strings.Cut(strings.Trim(p, "{}"), "|")
		value, set := info.GetMetadata()[name]
		if !ok || !set || value == "" {
			continue
		}
		values := []string{value}
		if kind == "terms" {
			values = strings.Split(value, ",")
		}
		for _, v := range values {
			for _, lang := range i18n.Languages() {
				if !cat.Has(lang, "term."+strings.TrimSpace(v)) {
					return errors.New(lang + " has no term." + strings.TrimSpace(v) + " for " + name + " of " + info.GetReason())
				}
			}
		}
	}
	return nil
}

// InvalidArgument reports bad fields; every violation is listed.
func InvalidArgument(violations ...FieldViolation) error {
	return &Error{Code: codes.InvalidArgument, Reason: apiv1.ErrorReason_INVALID_ARGUMENT, Fields: violations}
}

// Charter reports every broken charter rule at once. The ErrorInfo metadata
// "rules" lists the codes, comma-separated and sorted; PreconditionFailure
// carries one violation per rule (type = code, subject = reason).
func Charter(violations []Violation) error {
	seen := map[string]bool{}
	for _, v := range violations {
		seen[v.Rule] = true
	}
	rules := make([]string, 0, len(seen))
	for c := range seen {
		rules = append(rules, c)
	}
	sort.Strings(rules)
	return &Error{Code: codes.FailedPrecondition, Reason: apiv1.ErrorReason_CHARTER_VIOLATION,
		Metadata: map[string]string{"rules": strings.Join(rules, ",")}, Violations: violations}
}

// NotFound reports a missing resource by name.
func NotFound(name string) error {
	return New(codes.NotFound, apiv1.ErrorReason_NOT_FOUND, map[string]string{"resource": name})
}

// AlreadyExists reports a client-chosen id that is taken.
func AlreadyExists(name string) error {
	return New(codes.AlreadyExists, apiv1.ErrorReason_ALREADY_EXISTS, map[string]string{"resource": name})
}

// EtagMismatch reports a lost-update conflict (REST 409).
func EtagMismatch(name string) error {
	return New(codes.Aborted, apiv1.ErrorReason_ETAG_MISMATCH, map[string]string{"resource": name})
}

// TooContended reports a record that kept changing under an optimistic
// read-modify-write, however often it was retried.
func TooContended(name string) error {
	return New(codes.Aborted, apiv1.ErrorReason_ETAG_MISMATCH, map[string]string{"resource": name}, Text("error.too_contended", "resource", name))
}

// InvalidTransition reports an action the resource's state forbids. The
// metadata names the resource, the action, the state (its enum value name)
// and the actions the state does allow ("allowed", comma-separated; empty
// when the state is final).
func InvalidTransition(name, action, state string, allowed ...string) error {
	return New(codes.FailedPrecondition, apiv1.ErrorReason_INVALID_STATE_TRANSITION,
		map[string]string{"resource": name, "action": action, "state": state, "allowed": strings.Join(allowed, ",")})
}

// ReferenceNotFound reports that a resource a request field names does not
// exist.
func ReferenceNotFound(field, name string) error {
	return New(codes.FailedPrecondition, apiv1.ErrorReason_REFERENCED_RESOURCE_NOT_FOUND,
		map[string]string{"field": field, "resource": name})
}

// PermissionDenied reports a caller who may not do this; the text
// "denied.<who>" says who may (args as alternating names and values).
func PermissionDenied(who string, args ...string) error {
	return New(codes.PermissionDenied, apiv1.ErrorReason_PERMISSION_DENIED, nil, Text("denied."+who, args...))
}

// AccountNotLinked refuses a caller whose token verified but whose identity
// is not linked to a person (PERMISSION_DENIED, reason ACCOUNT_NOT_LINKED):
// the caller signed in, so signing in again would not help; claiming an
// invitation would.
func AccountNotLinked() error {
	return New(codes.PermissionDenied, apiv1.ErrorReason_ACCOUNT_NOT_LINKED, nil)
}

// Unauthenticated reports a missing or bad token; the text
// "unauthenticated.<why>" says which.
func Unauthenticated(why string) error {
	return New(codes.Unauthenticated, apiv1.ErrorReason_UNAUTHENTICATED, nil, Text("unauthenticated."+why))
}

// InvalidPageToken reports a page token not issued for this request.
func InvalidPageToken() error {
	return &Error{Code: codes.InvalidArgument, Reason: apiv1.ErrorReason_INVALID_PAGE_TOKEN,
		Message: i18n.Message{Key: "reason.INVALID_PAGE_TOKEN"}, Fields: []FieldViolation{Field("page_token", "page_token_not_ours")}}
}

// Unavailable reports that a dependency could not be reached; nothing was
// written. The cause stays on the server: it is logged with the call (see
// Cause), never sent, because it may name internal addresses.
func Unavailable(dependency string, cause error) error {
	return WithCause(New(codes.Unavailable, apiv1.ErrorReason_DEPENDENCY_UNAVAILABLE, map[string]string{"dependency": dependency}), cause)
}

// OutcomeUnknown reports a write that may have been applied: the store or
// the peer (dependency) did not confirm it.
func OutcomeUnknown(dependency string, cause error) error {
	return WithCause(New(codes.Unavailable, apiv1.ErrorReason_OUTCOME_UNKNOWN, map[string]string{"dependency": dependency}), cause)
}

// causedError is an error that remembers, for the server's logs, the
// error that caused it. gRPC sends only the status.
type causedError struct {
	st    *status.Status
	err   error // the error it stands for, when not yet rendered
	cause error
}

func (e *causedError) Error() string { return e.GRPCStatus().Err().Error() }
func (e *causedError) GRPCStatus() *status.Status {
	if e.st != nil {
		return e.st
	}
	return status.Convert(e.err)
}
func (e *causedError) Unwrap() []error {
	if e.err != nil {
		return []error{e.err, e.cause}
	}
	return []error{e.cause}
}

// WithCause attaches cause to the error err for logging; the client still
// receives err's status only.
func WithCause(err, cause error) error {
	if cause == nil || err == nil {
		return err
	}
	if _, ok := status.FromError(err); !ok {
		return err
	}
	return &causedError{err: err, cause: cause}
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
	return New(codes.Internal, apiv1.ErrorReason_INTERNAL, nil)
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
	reason, ok := codeReason[st.Code()]
	if !ok {
		return WithCause(Internal(), err), true
	}
	code := st.Code()
	if code == codes.OutOfRange {
		code = codes.InvalidArgument
	}
	return WithCause(New(code, reason, nil), err), true
}

// codeReason is the reason a bare status gets from its code.
var codeReason = map[codes.Code]apiv1.ErrorReason{
	codes.Unimplemented:    apiv1.ErrorReason_UNIMPLEMENTED,
	codes.Unauthenticated:  apiv1.ErrorReason_UNAUTHENTICATED,
	codes.PermissionDenied: apiv1.ErrorReason_PERMISSION_DENIED,
	codes.NotFound:         apiv1.ErrorReason_NOT_FOUND,
	codes.InvalidArgument:  apiv1.ErrorReason_INVALID_ARGUMENT,
	codes.OutOfRange:       apiv1.ErrorReason_INVALID_ARGUMENT,
	codes.Unavailable:      apiv1.ErrorReason_DEPENDENCY_UNAVAILABLE,
	codes.DeadlineExceeded: apiv1.ErrorReason_DEADLINE_EXCEEDED,
	codes.Canceled:         apiv1.ErrorReason_CANCELLED,
}
