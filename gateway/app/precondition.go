package app

import (
	"context"
	"net/http"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/grpc/status"

	"github.com/tjsia/chapterhouse/gateway/internal/errorbody"
	"github.com/tjsia/chapterhouse/gateway/internal/precondition"
	"github.com/tjsia/chapterhouse/platform/apierr"
)

// withPrecondition answers a request whose If-Match the service found
// stale with 412 Precondition Failed (RFC 9110 §13.1.1) and the service's
// own error body (ETAG_MISMATCH); the same mismatch of an etag sent in the
// body stays 409, as the API has always answered it.
func withPrecondition(errs *errorbody.Writer, next runtime.ErrorHandlerFunc) runtime.ErrorHandlerFunc {
	return func(ctx context.Context, mux *runtime.ServeMux, m runtime.Marshaler, w http.ResponseWriter, r *http.Request, err error) {
		if !precondition.Failed(ctx, err) {
			next(ctx, mux, m, w, r, err)
			return
		}
		body := errorbody.FromStatus(status.Convert(apierr.Localize(err, errs.Language(r))))
		body.Error.Code = http.StatusPreconditionFailed
		errs.Write(w, r, body)
	}
}

// refuseIfMatch answers an If-Match the gateway cannot read.
func refuseIfMatch(errs *errorbody.Writer) func(w http.ResponseWriter, r *http.Request, err error) {
	return func(w http.ResponseWriter, r *http.Request, err error) {
		errs.WriteError(w, r, err)
	}
}
