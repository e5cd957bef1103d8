package app

import (
	"context"
	"net/http"
	"strings"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/tjsia/chapterhouse/platform/apierr"
)

// withOutcome holds failed writes to what a client can know about them.
// A backend call that failed in the transport, not with an answer of the
// service (UNAVAILABLE without a reason: the connection broke, the pod
// died mid-call, a reply was lost), may have been applied before the
// reply was lost. For a write that is OUTCOME_UNKNOWN (retry with the
// same Idempotency-Key, which never applies it twice), not the
// DEPENDENCY_UNAVAILABLE ("nothing was changed") a reasonless UNAVAILABLE
// otherwise gets: in the fault tests, services killed under load told
// up to 5 clients in 400 that nothing was changed about creates they had
// applied. Only a call that never left the gateway (its transport could
// not even dial) is known to have changed nothing. Reads, and every answer
// a service gave itself, pass unchanged.
func withOutcome(next runtime.ErrorHandlerFunc) runtime.ErrorHandlerFunc {
	return func(ctx context.Context, mux *runtime.ServeMux, m runtime.Marshaler, w http.ResponseWriter, r *http.Request, err error) {
		next(ctx, mux, m, w, r, outcome(r.Method, err))
	}
}

// outcome is err as the answer to a request with method.
func outcome(method string, err error) error {
	if method == http.MethodGet || method == http.MethodHead {
		return err
	}
	st, ok := status.FromError(err)
	if !ok || st.Code() != codes.Unavailable || apierr.Info(err) != nil {
		return err
	}
	// grpc-go's words for a connection it could not make: the request
	// was never sent.
	if strings.Contains(st.Message(), "Error while dialing") {
		return err
	}
	return apierr.OutcomeUnknown("the service", err)
}
