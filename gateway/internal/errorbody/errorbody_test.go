package errorbody

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/tjsia/chapterhouse/platform/apierr"
	"github.com/tjsia/chapterhouse/platform/i18n"
	apiv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/api/v1"
)

// text is key rendered in English from the catalog, as the services and
// the gateway render it.
func text(key string, args map[string]string) string {
	return i18n.Default().Render(i18n.English, i18n.Message{Key: key, Args: args})
}

func TestFromStatus(t *testing.T) {
	fields := apierr.InvalidArgument(apierr.Field("organization.display_name", "required"),
		apierr.FieldViolation{Field: "organization.credit_code", Key: "validate.string.max_len", Args: map[string]string{"max_len": "18"}})
	charter := apierr.Charter([]apierr.Violation{
		{Rule: "M3", Reason: apiv1.ErrorReason_ACADEMIC_CREDENTIALS_MISSING, Key: "reason.ACADEMIC_CREDENTIALS_MISSING"},
		{Rule: "M2", Reason: apiv1.ErrorReason_GENERAL_MEMBERSHIP_REQUIRED, Key: "reason.GENERAL_MEMBERSHIP_REQUIRED"},
	})
	tests := []struct {
		name string
		err  error
		want Error // Details checked separately (count only)
		// number of google.rpc.Status details expected in "details"
		wantDetails int
	}{
		{
			name: "invalid argument with field violations",
			err:  fields,
			want: Error{
				Code: 400, Status: "INVALID_ARGUMENT", Message: status.Convert(fields).Message(),
				Reason: "INVALID_ARGUMENT", Domain: "chapterhouse", Language: "en",
				FieldViolations: []FieldViolation{
					{Field: "organization.display_name", Description: text("field.required", nil)},
					{Field: "organization.credit_code", Description: "must be at most 18 characters"},
				},
			},
			wantDetails: 3,
		},
		{
			name: "charter violation",
			err:  charter,
			want: Error{
				Code: 400, Status: "FAILED_PRECONDITION", Message: status.Convert(charter).Message(),
				Reason: "CHARTER_VIOLATION", Domain: "chapterhouse", Language: "en",
				Metadata: map[string]string{"rules": "M2,M3"},
				Violations: []Violation{
					{Rule: "M3", Reason: "ACADEMIC_CREDENTIALS_MISSING", Message: text("reason.ACADEMIC_CREDENTIALS_MISSING", nil)},
					{Rule: "M2", Reason: "GENERAL_MEMBERSHIP_REQUIRED", Message: text("reason.GENERAL_MEMBERSHIP_REQUIRED", nil)},
				},
			},
			wantDetails: 3,
		},
		{
			name: "internal hides the message",
			err:  status.Error(codes.Internal, "redis: connection refused at 10.0.0.7"),
			want: Error{Code: 500, Status: "INTERNAL", Reason: "INTERNAL", Domain: "chapterhouse"},
		},
		{
			name: "unknown is internal",
			err:  errors.New("plain Go error with a stack trace"),
			want: Error{Code: 500, Status: "INTERNAL", Reason: "INTERNAL", Domain: "chapterhouse"},
		},
		{
			name: "data loss is internal",
			err:  status.Error(codes.DataLoss, "corrupt record"),
			want: Error{Code: 500, Status: "INTERNAL", Reason: "INTERNAL", Domain: "chapterhouse"},
		},
		{
			name:        "idempotency key reused is 422",
			err:         apierr.New(codes.InvalidArgument, apiv1.ErrorReason_IDEMPOTENCY_KEY_REUSED, nil),
			want:        Error{Code: 422, Status: "INVALID_ARGUMENT", Message: text("reason.IDEMPOTENCY_KEY_REUSED", nil), Reason: "IDEMPOTENCY_KEY_REUSED", Domain: "chapterhouse", Language: "en"},
			wantDetails: 2,
		},
		{
			name:        "body too large is 413",
			err:         apierr.New(codes.InvalidArgument, apiv1.ErrorReason_BODY_TOO_LARGE, nil),
			want:        Error{Code: 413, Status: "INVALID_ARGUMENT", Message: text("reason.BODY_TOO_LARGE", nil), Reason: "BODY_TOO_LARGE", Domain: "chapterhouse", Language: "en"},
			wantDetails: 2,
		},
		{
			name: "not found",
			err:  apierr.NotFound("organizations/o1"),
			want: Error{Code: 404, Status: "NOT_FOUND", Message: "organizations/o1 was not found.", Reason: "NOT_FOUND", Domain: "chapterhouse", Language: "en",
				Metadata: map[string]string{"resource": "organizations/o1"}},
			wantDetails: 2,
		},
		{
			name: "etag mismatch is 409",
			err:  apierr.EtagMismatch("organizations/o1"),
			want: Error{Code: 409, Status: "ABORTED", Message: text("reason.ETAG_MISMATCH", map[string]string{"resource": "organizations/o1"}),
				Reason: "ETAG_MISMATCH", Domain: "chapterhouse", Language: "en", Metadata: map[string]string{"resource": "organizations/o1"}},
			wantDetails: 2,
		},
		{
			name:        "unauthenticated",
			err:         apierr.Unauthenticated("token_required"),
			want:        Error{Code: 401, Status: "UNAUTHENTICATED", Message: text("unauthenticated.token_required", nil), Reason: "UNAUTHENTICATED", Domain: "chapterhouse", Language: "en"},
			wantDetails: 2,
		},
		{
			// From the transport: the reason its code means, the
			// message left to the catalog.
			name: "no details",
			err:  status.Error(codes.Unavailable, "down"),
			want: Error{Code: 503, Status: "UNAVAILABLE", Reason: "DEPENDENCY_UNAVAILABLE", Domain: "chapterhouse"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := FromStatus(status.Convert(tt.err)).Error
			if len(got.Details) != tt.wantDetails {
				t.Errorf("%d details, want %d", len(got.Details), tt.wantDetails)
			}
			for i, d := range got.Details {
				var m map[string]any
				if err := json.Unmarshal(d, &m); err != nil {
					t.Errorf("detail %d is not JSON: %v", i, err)
				} else if typ, _ := m["@type"].(string); !strings.HasPrefix(typ, "type.googleapis.com/google.rpc.") {
					t.Errorf("detail %d @type = %q", i, typ)
				}
			}
			got.Details = nil
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("FromStatus =\n  %+v\nwant\n  %+v", got, tt.want)
			}
		})
	}
}

func TestCodeName(t *testing.T) {
	// The canonical google.rpc.Code names.
	want := map[codes.Code]string{
		codes.OK:                 "OK",
		codes.Canceled:           "CANCELLED",
		codes.Unknown:            "UNKNOWN",
		codes.InvalidArgument:    "INVALID_ARGUMENT",
		codes.DeadlineExceeded:   "DEADLINE_EXCEEDED",
		codes.NotFound:           "NOT_FOUND",
		codes.AlreadyExists:      "ALREADY_EXISTS",
		codes.PermissionDenied:   "PERMISSION_DENIED",
		codes.ResourceExhausted:  "RESOURCE_EXHAUSTED",
		codes.FailedPrecondition: "FAILED_PRECONDITION",
		codes.Aborted:            "ABORTED",
		codes.OutOfRange:         "OUT_OF_RANGE",
		codes.Unimplemented:      "UNIMPLEMENTED",
		codes.Internal:           "INTERNAL",
		codes.Unavailable:        "UNAVAILABLE",
		codes.DataLoss:           "DATA_LOSS",
		codes.Unauthenticated:    "UNAUTHENTICATED",
	}
	for c, name := range want {
		if got := codeName(c); got != name {
			t.Errorf("codeName(%v) = %q, want %q", c, got, name)
		}
	}
}

func decode(t *testing.T, rec *httptest.ResponseRecorder) map[string]any {
	t.Helper()
	if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q", ct)
	}
	var doc map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &doc); err != nil {
		t.Fatalf("body %q: %v", rec.Body.String(), err)
	}
	e, ok := doc["error"].(map[string]any)
	if !ok || len(doc) != 1 {
		t.Fatalf("body %q is not {\"error\": {...}}", rec.Body.String())
	}
	return e
}

func TestWriteDocumentedShape(t *testing.T) {
	rec := httptest.NewRecorder()
	rec.Header().Set("Content-Length", "999") // stale length from a handler
	st := status.Convert(apierr.Charter([]apierr.Violation{{Rule: "M3", Reason: apiv1.ErrorReason_ACADEMIC_CREDENTIALS_MISSING, Key: "reason.ACADEMIC_CREDENTIALS_MISSING"}}))
	writer(t).Write(rec, httptest.NewRequest(http.MethodGet, "/", nil), FromStatus(st))
	if rec.Code != 400 {
		t.Fatalf("status = %d", rec.Code)
	}
	if cl := rec.Header().Get("Content-Length"); cl != "" {
		t.Errorf("stale Content-Length %q kept", cl)
	}
	e := decode(t, rec)
	// Every field is present, empty ones too, as in every response.
	for _, k := range []string{"code", "status", "message", "reason", "domain", "metadata", "fieldViolations", "violations", "details"} {
		if _, ok := e[k]; !ok {
			t.Errorf("key %q missing from %v", k, e)
		}
	}
	if fv, ok := e["fieldViolations"].([]any); !ok || len(fv) != 0 {
		t.Errorf("fieldViolations = %v, want []", e["fieldViolations"])
	}
	v := e["violations"].([]any)[0].(map[string]any)
	if v["rule"] != "M3" || v["reason"] != "ACADEMIC_CREDENTIALS_MISSING" || v["message"] != text("reason.ACADEMIC_CREDENTIALS_MISSING", nil) {
		t.Errorf("violation = %v", v)
	}
	if e["code"] != float64(400) || e["status"] != "FAILED_PRECONDITION" {
		t.Errorf("code/status = %v/%v", e["code"], e["status"])
	}
}

func TestWriteError(t *testing.T) {
	rec := httptest.NewRecorder()
	writer(t).WriteError(rec, httptest.NewRequest(http.MethodGet, "/", nil), apierr.New(codes.PermissionDenied, apiv1.ErrorReason_CORS_ORIGIN_NOT_ALLOWED, map[string]string{"origin": "https://evil.example"}))
	e := decode(t, rec)
	if rec.Code != 403 || e["reason"] != "CORS_ORIGIN_NOT_ALLOWED" || e["domain"] != "chapterhouse" || e["status"] != "PERMISSION_DENIED" {
		t.Errorf("%d %v", rec.Code, e)
	}
}

func TestHandler(t *testing.T) {
	tests := []struct {
		name       string
		err        error
		wantCode   int
		wantReason string
		wantMsg    string
	}{
		{"body cut off by the limit", status.Error(codes.InvalidArgument, "unexpected EOF: http: request body too large"),
			413, "BODY_TOO_LARGE", "The request body is too large."},
		{"undecodable parameter: the parser's text stays here", status.Error(codes.InvalidArgument, "proto: syntax error (line 1:2): invalid value"),
			400, "MALFORMED_REQUEST", "The request could not be read."},
		{"service error passes through", status.Convert(apierr.InvalidArgument(apierr.Field("name", "required"))).Err(),
			400, "INVALID_ARGUMENT", "The request has invalid fields (name: is required)."},
		{"the gateway's own error, rendered", apierr.New(codes.InvalidArgument, apiv1.ErrorReason_IDEMPOTENCY_KEY_REUSED, nil),
			422, "IDEMPOTENCY_KEY_REUSED", text("reason.IDEMPOTENCY_KEY_REUSED", nil)},
		{"internal", status.Error(codes.Internal, "stack trace"), 500, "INTERNAL", text("reason.INTERNAL", nil)},
		// From the transport, not a service: the reason its code means,
		// and not the transport's text (it names internal addresses).
		{"unreachable backend", status.Error(codes.Unavailable, "connection error: desc = \"transport: Error while dialing: dial tcp 10.0.0.7:8081: connect: connection refused\""),
			503, "DEPENDENCY_UNAVAILABLE", "A service this request needs is unavailable; nothing was changed. Retry later."},
		{"unserved method", status.Error(codes.Unimplemented, "unknown method"), 501, "UNIMPLEMENTED", text("reason.UNIMPLEMENTED", nil)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			writer(t).Handler(context.Background(), nil, nil, rec, httptest.NewRequest(http.MethodPost, "/", nil), tt.err)
			e := decode(t, rec)
			reason, _ := e["reason"].(string)
			if rec.Code != tt.wantCode || reason != tt.wantReason || e["message"] != tt.wantMsg || e["code"] != float64(tt.wantCode) {
				t.Errorf("got %d reason %q message %q, want %d %q %q", rec.Code, reason, e["message"], tt.wantCode, tt.wantReason, tt.wantMsg)
			}
		})
	}
}

func TestRoutingHandler(t *testing.T) {
	tests := []struct {
		in         int
		wantCode   int
		wantStatus string
		wantReason string
	}{
		{http.StatusMethodNotAllowed, 405, "UNIMPLEMENTED", "METHOD_NOT_ALLOWED"},
		{http.StatusBadRequest, 400, "INVALID_ARGUMENT", "MALFORMED_REQUEST"},
		{http.StatusNotFound, 404, "NOT_FOUND", "NO_SUCH_PATH"},
	}
	for _, tt := range tests {
		rec := httptest.NewRecorder()
		writer(t).RoutingHandler(context.Background(), nil, nil, rec, httptest.NewRequest(http.MethodGet, "/nope", nil), tt.in)
		e := decode(t, rec)
		if rec.Code != tt.wantCode || e["code"] != float64(tt.wantCode) || e["status"] != tt.wantStatus || e["reason"] != tt.wantReason {
			t.Errorf("routing %d: got %d %v", tt.in, rec.Code, e)
		}
	}
}

// Details of an unknown type still appear in "details" and do not break
// the known fields.
func TestFromStatusKeepsOtherDetails(t *testing.T) {
	st, err := status.New(codes.ResourceExhausted, "slow down").WithDetails(
		&errdetails.ErrorInfo{Reason: "QUOTA", Domain: "chapterhouse"},
		&errdetails.RetryInfo{},
	)
	if err != nil {
		t.Fatal(err)
	}
	got := FromStatus(st).Error
	if got.Code != 429 || got.Status != "RESOURCE_EXHAUSTED" || got.Reason != "QUOTA" || len(got.Details) != 2 {
		t.Errorf("got %+v", got)
	}
}

func writer(t *testing.T) *Writer {
	t.Helper()
	return NewWriter(i18n.Default(), i18n.English)
}

// TestChineseAndEnglish: the same refusal in zh-CN and en: the message,
// each violation and a google.rpc.LocalizedMessage in the language asked
// for, with the same facts. A service renders them in the language the
// gateway forwards; the gateway renders its own.
func TestChineseAndEnglish(t *testing.T) {
	err := apierr.Charter([]apierr.Violation{{Rule: "G4", Reason: apiv1.ErrorReason_AGE_LIMIT_EXCEEDED, Key: "reason.AGE_LIMIT_EXCEEDED"}})
	for _, tt := range []struct {
		accept, locale string
	}{{"zh-CN,zh;q=0.9", "zh-CN"}, {"en-US", "en"}} {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest(http.MethodPost, "/", nil)
		req.Header.Set("Accept-Language", tt.accept)
		writer(t).Handler(context.Background(), nil, nil, rec, req, err)
		e := decode(t, rec)
		message := i18n.Default().Render(tt.locale, i18n.Message{Key: "reason.AGE_LIMIT_EXCEEDED"})
		if !strings.Contains(e["message"].(string), message) || !strings.Contains(e["message"].(string), "G4") || rec.Header().Get("Content-Language") != tt.locale {
			t.Errorf("%s: message %q (Content-Language %q)", tt.accept, e["message"], rec.Header().Get("Content-Language"))
		}
		if v := e["violations"].([]any)[0].(map[string]any); v["message"] != message || v["rule"] != "G4" {
			t.Errorf("%s: violation %v", tt.accept, v)
		}
		var localized map[string]any
		for _, d := range e["details"].([]any) {
			if d.(map[string]any)["@type"] == "type.googleapis.com/google.rpc.LocalizedMessage" {
				localized = d.(map[string]any)
			}
		}
		if localized["locale"] != tt.locale || localized["message"] != e["message"] {
			t.Errorf("%s: LocalizedMessage %v", tt.accept, localized)
		}
	}
}
