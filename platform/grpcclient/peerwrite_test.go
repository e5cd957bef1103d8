package grpcclient_test

import (
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/tjsia/chapterhouse/platform/apierr"
	"github.com/tjsia/chapterhouse/platform/grpcclient"
	apiv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/api/v1"
)

// TestPeerWriteError: a write that may have reached the peer is
// OUTCOME_UNKNOWN naming it; one the peer says it did not apply, or that
// never dialled it, is DEPENDENCY_UNAVAILABLE; other answers pass as
// PeerError passes them.
func TestPeerWriteError(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
		want apiv1.ErrorReason
	}{
		{"reply lost", status.Error(codes.Unavailable, "error reading from server: EOF"), apiv1.ErrorReason_OUTCOME_UNKNOWN},
		{"too late", status.Error(codes.DeadlineExceeded, "context deadline exceeded"), apiv1.ErrorReason_OUTCOME_UNKNOWN},
		{"cancelled", status.Error(codes.Canceled, "context canceled"), apiv1.ErrorReason_OUTCOME_UNKNOWN},
		{"the peer's store did not confirm", apierr.OutcomeUnknown("the store", nil), apiv1.ErrorReason_OUTCOME_UNKNOWN},
		{"the peer changed nothing", apierr.Unavailable("the store", nil), apiv1.ErrorReason_DEPENDENCY_UNAVAILABLE},
		{"never dialled", status.Error(codes.Unavailable, `connection error: desc = "transport: Error while dialing: dial tcp 10.0.0.9:8083: connect: connection refused"`), apiv1.ErrorReason_DEPENDENCY_UNAVAILABLE},
		{"the peer's refusal", apierr.PermissionDenied("admins"), apiv1.ErrorReason_PERMISSION_DENIED},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := grpcclient.PeerWriteError("activities", tc.err)
			if apierr.ReasonOf(err) != tc.want {
				t.Fatalf("%v: reason %v, want %v", err, apierr.ReasonOf(err), tc.want)
			}
			if tc.want != apiv1.ErrorReason_PERMISSION_DENIED && (status.Code(err) != codes.Unavailable || apierr.Info(err).GetMetadata()["dependency"] != "activities") {
				t.Fatalf("%v: want UNAVAILABLE naming activities", err)
			}
		})
	}
}
