package apierr

import (
	"testing"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	apiv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/api/v1"
)

func TestCharterListsEveryRule(t *testing.T) {
	err := Charter([]Violation{
		{Rule: "M3", Reason: apiv1.ErrorReason_ACADEMIC_CREDENTIALS_MISSING, Message: "state academic credentials"},
		{Rule: "M2", Reason: apiv1.ErrorReason_GENERAL_MEMBERSHIP_REQUIRED, Message: "join the general association first"},
	})
	st := status.Convert(err)
	if st.Code() != codes.FailedPrecondition {
		t.Fatalf("code = %v", st.Code())
	}
	var info *errdetails.ErrorInfo
	var pf *errdetails.PreconditionFailure
	for _, d := range st.Details() {
		switch d := d.(type) {
		case *errdetails.ErrorInfo:
			info = d
		case *errdetails.PreconditionFailure:
			pf = d
		}
	}
	if info == nil || info.Domain != Domain || info.Reason != "CHARTER_VIOLATION" || info.Metadata["rules"] != "M2,M3" {
		t.Fatalf("ErrorInfo = %v", info)
	}
	if pf == nil || len(pf.Violations) != 2 || pf.Violations[0].Type != "M3" {
		t.Fatalf("PreconditionFailure = %v", pf)
	}
}
