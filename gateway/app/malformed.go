package app

import (
	"context"
	"net/http"
	"strings"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/tjsia/chapterhouse/gateway/internal/errorbody"
	"github.com/tjsia/chapterhouse/gateway/internal/i18n"
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
func withMalformedBody(loc *i18n.Localizer, errs *errorbody.Writer, next runtime.ErrorHandlerFunc) runtime.ErrorHandlerFunc {
	return func(ctx context.Context, mux *runtime.ServeMux, m runtime.Marshaler, w http.ResponseWriter, r *http.Request, err error) {
		st := status.Convert(err)
		problems, ok := malformed.FromMessage(st.Message())
		if !ok || st.Code() != codes.InvalidArgument || len(st.Details()) != 0 {
			next(ctx, mux, m, w, r, err)
			return
		}
		locale := loc.Choose(r.Header.Get("Accept-Language"))
		violations := make([]*errdetails.BadRequest_FieldViolation, len(problems))
		summary := make([]string, len(problems))
		for i, p := range problems {
			violations[i] = &errdetails.BadRequest_FieldViolation{Field: p.Field, Description: malformed.Describe(loc, locale, p)}
			field := p.Field
			if field == "" {
				field = "the body"
			}
			summary[i] = field + ": " + malformed.Describe(loc, "en", p)
		}
		// The English message names every problem; in another language
		// the catalog's text for the reason replaces it, and the
		// violations say the rest.
		errs.Write(w, r, errorbody.FromStatus(status.Convert(apierr.New(codes.InvalidArgument, apiv1.ErrorReason_MALFORMED_REQUEST,
			"the request body could not be read: "+strings.Join(summary, " "), nil, &errdetails.BadRequest{FieldViolations: violations}))))
	}
}
