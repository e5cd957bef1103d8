package apierr

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/tjsia/chapterhouse/platform/i18n"
	apiv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/api/v1"
)

func details(st *status.Status) (info *errdetails.ErrorInfo, pf *errdetails.PreconditionFailure, br *errdetails.BadRequest, lm *errdetails.LocalizedMessage) {
	for _, d := range st.Details() {
		switch d := d.(type) {
		case *errdetails.ErrorInfo:
			info = d
		case *errdetails.PreconditionFailure:
			pf = d
		case *errdetails.BadRequest:
			br = d
		case *errdetails.LocalizedMessage:
			lm = d
		}
	}
	return
}

func TestCharterListsEveryRule(t *testing.T) {
	err := Charter([]Violation{
		Rule("M3", apiv1.ErrorReason_ACADEMIC_CREDENTIALS_MISSING),
		Rule("M2", apiv1.ErrorReason_GENERAL_MEMBERSHIP_REQUIRED),
	})
	st := status.Convert(err)
	if st.Code() != codes.FailedPrecondition {
		t.Fatalf("code = %v", st.Code())
	}
	info, pf, _, lm := details(st)
	if info == nil || info.Domain != Domain || info.Reason != "CHARTER_VIOLATION" || info.Metadata["rules"] != "M2,M3" {
		t.Fatalf("ErrorInfo = %v", info)
	}
	if pf == nil || len(pf.Violations) != 2 || pf.Violations[0].Type != "M3" || pf.Violations[0].Subject != "ACADEMIC_CREDENTIALS_MISSING" {
		t.Fatalf("PreconditionFailure = %v", pf)
	}
	if lm == nil || lm.Locale != "en" || lm.Message != st.Message() {
		t.Fatalf("LocalizedMessage = %v, message %q", lm, st.Message())
	}
}

// TestLocalizeRendersEveryTextInTheCallersLanguage: the status message
// stays English (for developers and logs); the LocalizedMessage, every
// field violation's and every charter violation's text are in the
// caller's language, with the same facts.
func TestLocalizeRendersEveryTextInTheCallersLanguage(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
		// facts that must appear in the texts of both languages
		facts []string
	}{
		{"fields", InvalidArgument(Field("person.display_name", "required"), FieldViolation{Field: "title", Key: "validate.string.max_len",
			Args: map[string]string{"max_len": "100"}}), []string{"person.display_name", "title", "100"}},
		{"transition", InvalidTransition("branches/ai/applications/a1", "approve", "APPLICATION_STATE_REJECTED"), []string{"branches/ai/applications/a1"}},
		{"not found", NotFound("people/li-na"), []string{"people/li-na"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			en, zh := status.Convert(Localize(tc.err, i18n.English)), status.Convert(Localize(tc.err, i18n.Chinese))
			if en.Message() != zh.Message() {
				t.Fatalf("the status message differs by language: %q, %q", en.Message(), zh.Message())
			}
			_, _, _, enText := details(en)
			_, _, brZH, zhText := details(zh)
			if zhText == nil || zhText.Locale != "zh-CN" || enText.Message == zhText.Message {
				t.Fatalf("LocalizedMessage zh-CN = %v, en %v", zhText, enText)
			}
			for _, fact := range tc.facts {
				for _, text := range []string{enText.Message, zhText.Message} {
					if !strings.Contains(text, fact) {
						t.Errorf("%q does not name %s", text, fact)
					}
				}
			}
			for _, f := range brZH.GetFieldViolations() {
				if f.GetLocalizedMessage().GetLocale() != "zh-CN" || f.GetDescription() != f.GetLocalizedMessage().GetMessage() {
					t.Errorf("field violation %v is not rendered in zh-CN", f)
				}
			}
		})
	}
}

// TestCauseSurvivesLocalize: the cause a log line shows is kept through
// the rendering, and the client's status carries none of it.
func TestCauseSurvivesLocalize(t *testing.T) {
	cause := errors.New("dial tcp 10.0.0.7:6379: connection refused")
	err := Localize(Unavailable("the store", cause), i18n.Chinese)
	if !errors.Is(Cause(err), cause) {
		t.Fatalf("cause lost: %v", Cause(err))
	}
	if strings.Contains(fmt.Sprint(status.Convert(err).Proto()), "10.0.0.7") {
		t.Fatal("the cause reached the status")
	}
	if ReasonOf(err) != apiv1.ErrorReason_DEPENDENCY_UNAVAILABLE {
		t.Fatalf("reason %v", ReasonOf(err))
	}
}

func TestNormalize(t *testing.T) {
	for _, tc := range []struct {
		in   error
		code codes.Code
		want apiv1.ErrorReason
	}{
		{status.Error(codes.NotFound, "gone"), codes.NotFound, apiv1.ErrorReason_NOT_FOUND},
		{status.Error(codes.OutOfRange, "x"), codes.InvalidArgument, apiv1.ErrorReason_INVALID_ARGUMENT},
		{errors.New("boom"), codes.Internal, apiv1.ErrorReason_INTERNAL},
		{NotFound("x"), codes.NotFound, apiv1.ErrorReason_NOT_FOUND},
	} {
		got, _ := Normalize(tc.in)
		if status.Code(got) != tc.code || ReasonOf(got) != tc.want {
			t.Errorf("Normalize(%v) = %v %v, want %v %v", tc.in, status.Code(got), ReasonOf(got), tc.code, tc.want)
		}
	}
}
