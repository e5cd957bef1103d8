package app

import (
	"context"
	"net/http"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/tjsia/chapterhouse/gateway/internal/errorbody"
	"github.com/tjsia/chapterhouse/gateway/internal/malformed"
	"github.com/tjsia/chapterhouse/platform/apierr"
	apiv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/api/v1"
)

// withMalformedBody answers a body the gateway could not decode (a
// *malformed.Error from strictjson, which reaches the error handler as the
// text of an INVALID_ARGUMENT status) with 400 MALFORMED_REQUEST and a
// fieldViolation for each problem: the field's JSON path and what is wrong
// with it, in the caller's language. The parser's own words never reach
// the client. Every other error passes to next.
func withMalformedBody(errs *errorbody.Writer, next runtime.ErrorHandlerFunc) runtime.ErrorHandlerFunc {
	return func(ctx context.Context, mux *runtime.ServeMux, m runtime.Marshaler, w http.ResponseWriter, r *http.Request, err error) {
		st := status.Convert(err)
		problems, ok := malformed.FromMessage(st.Message())
		if !ok || st.Code() != codes.InvalidArgument || len(st.Details()) != 0 {
			next(ctx, mux, m, w, r, err)
			return
		}
		violations := make([]apierr.FieldViolation, len(problems))
		for i, p := range problems {
			violations[i] = malformed.Violation(p)
		}
		errs.WriteError(w, r, &apierr.Error{Code: codes.InvalidArgument, Reason: apiv1.ErrorReason_MALFORMED_REQUEST, Fields: violations})
	}
}
