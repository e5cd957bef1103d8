// Package call holds what every gRPC adapter does before its use case
// runs: find the caller, refuse a call without one where the method is
// not public, and check that the request carries the resource it acts on.
// The rules themselves (who may do what) are the domain's.
package call

import (
	"context"

	"github.com/tjsia/chapterhouse/platform/apierr"
	"github.com/tjsia/chapterhouse/platform/auth"
)

// As runs use with the caller, or answers UNAUTHENTICATED when the call
// carries no token: every method but the public ones needs one.
func As[T any](ctx context.Context, use func(auth.Principal) (T, error)) (T, error) {
	p, ok := auth.FromContext(ctx)
	if !ok {
		var zero T
		return zero, apierr.Unauthenticated("token_required")
	}
	return use(p)
}

// Anyone is the caller of a public method: the zero principal without a
// token, to whom the use case shows only what is public.
func Anyone(ctx context.Context) auth.Principal {
	p, _ := auth.FromContext(ctx)
	return p
}

// With runs use when the request carries its resource (present), and
// answers INVALID_ARGUMENT naming field otherwise, before the use case
// reads a nil message.
func With[T any](field string, present bool, use func() (T, error)) (T, error) {
	if !present {
		var zero T
		return zero, apierr.InvalidArgument(apierr.Field(field, "required"))
	}
	return use()
}
