package grpcserver

import (
	"context"
	"errors"
	"log/slog"
	"runtime/debug"
	"strings"
	"time"

	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	"github.com/tjsia/chapterhouse/platform/apierr"
	"github.com/tjsia/chapterhouse/platform/auth"
	"github.com/tjsia/chapterhouse/platform/idempotency"
)

// IdempotencyKeyHeader is the metadata key carrying a client's
// Idempotency-Key (the gateway forwards the HTTP header under this name).
const IdempotencyKeyHeader = "idempotency-key"

func recoverUnary(log *slog.Logger) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (resp any, err error) {
		defer func() {
			if r := recover(); r != nil {
				log.ErrorContext(ctx, "panic in handler", "method", info.FullMethod, "panic", r, "stack", string(debug.Stack()))
				err = status.Error(codes.Internal, "internal error")
			}
		}()
		return handler(ctx, req)
	}
}

func recoverStream(log *slog.Logger) grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) (err error) {
		defer func() {
			if r := recover(); r != nil {
				log.ErrorContext(ss.Context(), "panic in stream handler", "method", info.FullMethod, "panic", r, "stack", string(debug.Stack()))
				err = status.Error(codes.Internal, "internal error")
			}
		}()
		return handler(srv, ss)
	}
}

func logAttrs(ctx context.Context, method string, start time.Time, err error) []any {
	attrs := []any{"method", method, "code", status.Code(err).String(), "duration", time.Since(start)}
	if sc := trace.SpanContextFromContext(ctx); sc.IsValid() {
		attrs = append(attrs, "trace_id", sc.TraceID().String(), "span_id", sc.SpanID().String())
	}
	if p, ok := auth.FromContext(ctx); ok {
		attrs = append(attrs, "principal", p.Subject)
	}
	if err != nil {
		attrs = append(attrs, "err", status.Convert(err).Message())
	}
	return attrs
}

func level(err error) slog.Level {
	switch status.Code(err) {
	case codes.OK, codes.NotFound, codes.InvalidArgument, codes.AlreadyExists, codes.FailedPrecondition,
		codes.Aborted, codes.PermissionDenied, codes.Unauthenticated, codes.OutOfRange, codes.Canceled:
		return slog.LevelInfo
	}
	return slog.LevelError
}

func logUnary(log *slog.Logger) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		start := time.Now()
		var principalCtx context.Context = ctx
		resp, err := handler(withPrincipalSink(ctx, &principalCtx), req)
		log.Log(ctx, level(err), "rpc", logAttrs(principalCtx, info.FullMethod, start, err)...)
		return resp, err
	}
}

func logStream(log *slog.Logger) grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		start := time.Now()
		err := handler(srv, ss)
		if !strings.HasPrefix(info.FullMethod, "/grpc.") {
			log.Log(ss.Context(), level(err), "rpc stream", logAttrs(ss.Context(), info.FullMethod, start, err)...)
		}
		return err
	}
}

// The logging interceptor runs before auth, but wants the principal in its
// line; auth reports the authenticated context back through this sink.
type sinkKey struct{}

func withPrincipalSink(ctx context.Context, sink *context.Context) context.Context {
	return context.WithValue(ctx, sinkKey{}, sink)
}

func reportPrincipal(ctx context.Context) {
	if sink, ok := ctx.Value(sinkKey{}).(*context.Context); ok {
		*sink = ctx
	}
}

func bearer(ctx context.Context) (string, bool) {
	md, _ := metadata.FromIncomingContext(ctx)
	for _, v := range md.Get("authorization") {
		if tok, ok := strings.CutPrefix(v, "Bearer "); ok {
			return strings.TrimSpace(tok), true
		}
		if tok, ok := strings.CutPrefix(v, "bearer "); ok {
			return strings.TrimSpace(tok), true
		}
		return "", true
	}
	return "", false
}

func authenticate(ctx context.Context, v *auth.Verifier, public bool) (context.Context, error) {
	raw, present := bearer(ctx)
	if !present {
		if public {
			return ctx, nil
		}
		return nil, apierr.Unauthenticated("a bearer token is required")
	}
	p, err := v.Verify(raw)
	if err != nil {
		return nil, apierr.Unauthenticated("the bearer token is not valid")
	}
	return auth.WithPrincipal(ctx, p), nil
}

func authUnary(v *auth.Verifier, isPublic func(string) bool) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		ctx, err := authenticate(ctx, v, isPublic(info.FullMethod))
		if err != nil {
			return nil, err
		}
		reportPrincipal(ctx)
		return handler(ctx, req)
	}
}

type wrappedStream struct {
	grpc.ServerStream
	ctx context.Context
}

func (w wrappedStream) Context() context.Context { return w.ctx }

func authStream(v *auth.Verifier, isPublic func(string) bool) grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		ctx, err := authenticate(ss.Context(), v, isPublic(info.FullMethod))
		if err != nil {
			return err
		}
		return handler(srv, wrappedStream{ss, ctx})
	}
}

// idempotencyUnary replays the first response to a request repeated with
// the same Idempotency-Key by the same caller.
func idempotencyUnary(store *idempotency.Store) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		md, _ := metadata.FromIncomingContext(ctx)
		keys := md.Get(IdempotencyKeyHeader)
		if len(keys) == 0 || keys[0] == "" {
			return handler(ctx, req)
		}
		clientKey := keys[0]
		if len(clientKey) > idempotency.MaxKeyLength {
			return nil, apierr.InvalidArgument(apierr.FieldViolation{Field: "Idempotency-Key", Description: "at most 255 characters"})
		}
		msg, ok := req.(proto.Message)
		if !ok {
			return handler(ctx, req)
		}
		reqBytes, err := proto.MarshalOptions{Deterministic: true}.Marshal(msg)
		if err != nil {
			return nil, status.Error(codes.Internal, "internal error")
		}
		p, ok := auth.FromContext(ctx)
		if !ok {
			// Keys are scoped to a caller; anonymous callers (public
			// reads) would share one scope and could see each other's
			// responses, so their keys are ignored.
			return handler(ctx, req)
		}
		key := idempotency.Key(p.Subject, info.FullMethod, clientKey)
		stored, err := store.Begin(ctx, key, idempotency.RequestHash(reqBytes))
		switch {
		case errors.Is(err, idempotency.ErrMismatch):
			return nil, apierr.New(codes.InvalidArgument, apierr.ReasonIdempotencyReused,
				"this Idempotency-Key was already used with a different request", nil)
		case errors.Is(err, idempotency.ErrInProgress):
			return nil, apierr.New(codes.Aborted, apierr.ReasonIdempotencyPending,
				"a request with this Idempotency-Key is still in progress; retry shortly", nil)
		case err != nil:
			return nil, status.Error(codes.Unavailable, "idempotency store unavailable")
		case stored != nil:
			resp, err := newResponse(info.FullMethod)
			if err != nil {
				return nil, status.Error(codes.Internal, "internal error")
			}
			if err := proto.Unmarshal(stored, resp); err != nil {
				return nil, status.Error(codes.Internal, "internal error")
			}
			_ = grpc.SetHeader(ctx, metadata.Pairs("idempotent-replay", "true"))
			return resp, nil
		}
		// Use a context that outlives a cancelled request: the outcome must
		// be recorded even if the client went away.
		bg := context.WithoutCancel(ctx)
		// A handler that panics (recoverUnary turns it into Internal) has
		// failed too: release the key, or every retry would be refused as
		// still in progress until the pending claim expires.
		returned := false
		defer func() {
			if !returned {
				_ = store.Abandon(bg, key)
			}
		}()
		resp, herr := handler(ctx, req)
		returned = true
		if herr != nil {
			_ = store.Abandon(bg, key)
			return resp, herr
		}
		if out, ok := resp.(proto.Message); ok {
			if b, err := proto.Marshal(out); err == nil {
				_ = store.Complete(bg, key, b)
			}
		}
		return resp, nil
	}
}

// newResponse makes an empty response message for a full method name.
func newResponse(fullMethod string) (proto.Message, error) {
	name := strings.TrimPrefix(fullMethod, "/")
	name = strings.Replace(name, "/", ".", 1)
	desc, err := protoregistry.GlobalFiles.FindDescriptorByName(protoreflect.FullName(name))
	if err != nil {
		return nil, err
	}
	md, ok := desc.(protoreflect.MethodDescriptor)
	if !ok {
		return nil, errors.New("not a method")
	}
	mt, err := protoregistry.GlobalTypes.FindMessageByName(md.Output().FullName())
	if err != nil {
		return nil, err
	}
	return mt.New().Interface(), nil
}
