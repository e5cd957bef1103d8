package grpcserver

import (
	"context"
	"errors"
	"fmt"
	"google.golang.org/genproto/googleapis/api/annotations"
	"log/slog"
	"net"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"time"

	"buf.build/go/protovalidate"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	"github.com/tjsia/chapterhouse/platform/apierr"
	"github.com/tjsia/chapterhouse/platform/auth"
	"github.com/tjsia/chapterhouse/platform/i18n"
	"github.com/tjsia/chapterhouse/platform/idempotency"
	"github.com/tjsia/chapterhouse/platform/privacy"
	"github.com/tjsia/chapterhouse/platform/redisstore"
	"github.com/tjsia/chapterhouse/platform/redistx"
	"github.com/tjsia/chapterhouse/platform/servicecall"
	apiv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/api/v1"
)

// IdempotencyKeyHeader is the metadata key carrying a client's
// Idempotency-Key (the gateway forwards the HTTP header under this name).
const IdempotencyKeyHeader = "idempotency-key"

// publicMethods answers, from the protos' (chapterhouse.api.v1.public)
// method option, which methods need no token. Health and reflection are
// always public. Answers are cached per method.
type publicMethods struct{ cache, unlinked sync.Map }

func newPublicMethods() *publicMethods { return &publicMethods{} }

// opensToUnlinked reports whether the proto lets an identity linked to
// no person call fullMethod ((chapterhouse.api.v1.unlinked_identities)).
func (p *publicMethods) opensToUnlinked(fullMethod string) bool {
	if v, ok := p.unlinked.Load(fullMethod); ok {
		return v.(bool)
	}
	open := false
	if md, err := methodDescriptor(fullMethod); err == nil {
		open, _ = proto.GetExtension(md.Options(), apiv1.E_UnlinkedIdentities).(bool)
	}
	p.unlinked.Store(fullMethod, open)
	return open
}

func (p *publicMethods) isPublic(fullMethod string) bool {
	if v, ok := p.cache.Load(fullMethod); ok {
		return v.(bool)
	}
	public := strings.HasPrefix(fullMethod, "/grpc.health.v1.") || strings.HasPrefix(fullMethod, "/grpc.reflection.") || IsPublicMethod(fullMethod)
	p.cache.Store(fullMethod, public)
	return public
}

// IsPublicMethod reports whether the proto declares fullMethod
// ("/pkg.Service/Method") public with (chapterhouse.api.v1.public).
func IsPublicMethod(fullMethod string) bool {
	md, err := methodDescriptor(fullMethod)
	if err != nil {
		return false
	}
	public, _ := proto.GetExtension(md.Options(), apiv1.E_Public).(bool)
	return public
}

func methodDescriptor(fullMethod string) (protoreflect.MethodDescriptor, error) {
	name := strings.Replace(strings.TrimPrefix(fullMethod, "/"), "/", ".", 1)
	desc, err := protoregistry.GlobalFiles.FindDescriptorByName(protoreflect.FullName(name))
	if err != nil {
		return nil, fmt.Errorf("grpcserver: %s: %w", fullMethod, err)
	}
	md, ok := desc.(protoreflect.MethodDescriptor)
	if !ok {
		return nil, fmt.Errorf("grpcserver: %s is not a method", fullMethod)
	}
	return md, nil
}

// normalizeUnary holds every error to the API's contract: one with a
// chapterhouse ErrorInfo passes unchanged, anything else (a bare status, a
// store's Go error) gets its reason or becomes INTERNAL, keeping the
// original as the cause the log line shows. It chooses the caller's
// language for the handler (i18n.FromContext), names it in the
// content-language response header, and renders the error's texts in it.
func normalizeUnary() grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		lang := callerLanguage(ctx)
		ctx = i18n.WithLanguage(ctx, lang)
		_ = grpc.SetHeader(ctx, metadata.Pairs(i18n.ResponseMetadataKey, lang))
		resp, err := handler(ctx, req)
		err = storeDown(info.FullMethod, err)
		err = cancelled(ctx, err)
		err, _ = apierr.Normalize(err)
		return resp, apierr.Localize(err, lang)
	}
}

// callerLanguage is the language the caller asks for in its
// accept-language metadata (the gateway forwards the one it chose from
// Accept-Language), English when it asks for none the catalogs have.
func callerLanguage(ctx context.Context) string {
	values := metadata.ValueFromIncomingContext(ctx, i18n.MetadataKey)
	if len(values) == 0 {
		return i18n.English
	}
	return i18n.Default().Choose(strings.Join(values, ","), i18n.English)
}

// cancelled says what a call whose caller went away (or whose server is
// stopping) gets: CANCELLED, or DEADLINE_EXCEEDED when its deadline
// passed, never INTERNAL. A store or a peer reports the end of the call's
// context as its own failure ("redistx: commit: context canceled"), which
// would otherwise be logged as a fault of the service. A refusal the
// handler decided on (a reason of its own) stands.
func cancelled(ctx context.Context, err error) error {
	if err == nil {
		return nil
	}
	switch apierr.ReasonOf(err) {
	case apiv1.ErrorReason_ERROR_REASON_UNSPECIFIED, apiv1.ErrorReason_INTERNAL,
		apiv1.ErrorReason_DEPENDENCY_UNAVAILABLE, apiv1.ErrorReason_OUTCOME_UNKNOWN:
	default:
		return err
	}
	cause := apierr.Cause(err)
	if cause == nil {
		cause = err
	}
	switch {
	case errors.Is(ctx.Err(), context.Canceled) || errors.Is(cause, context.Canceled) || status.Code(cause) == codes.Canceled:
		return apierr.WithCause(apierr.New(codes.Canceled, apiv1.ErrorReason_CANCELLED, nil), cause)
	case errors.Is(ctx.Err(), context.DeadlineExceeded) || errors.Is(cause, context.DeadlineExceeded):
		return apierr.WithCause(apierr.New(codes.DeadlineExceeded, apiv1.ErrorReason_DEADLINE_EXCEEDED, nil), cause)
	}
	return err
}

// storeDown says what a call that met an unreachable Redis means for the
// client. A read changed nothing: 503 DEPENDENCY_UNAVAILABLE, retry later.
// A write may or may not have been applied (the store did not confirm
// it): 503 OUTCOME_UNKNOWN, retry with the same Idempotency-Key, which
// never applies it twice. Other errors pass unchanged.
func storeDown(fullMethod string, err error) error {
	if err == nil {
		return nil
	}
	if info := apierr.Info(err); info != nil && info.GetReason() != apiv1.ErrorReason_INTERNAL.String() {
		return err
	}
	cause := apierr.Cause(err)
	if cause == nil {
		cause = err
	}
	if !redisstore.Unreachable(cause) {
		return err
	}
	if isRead(fullMethod) {
		return apierr.Unavailable("the store", cause)
	}
	return apierr.OutcomeUnknown("the store", cause)
}

// isRead: the method is a read (its HTTP rule is a GET), which changes
// nothing whatever happens.
func isRead(fullMethod string) bool {
	md, err := methodDescriptor(fullMethod)
	if err != nil {
		return false
	}
	rule, _ := proto.GetExtension(md.Options(), annotations.E_Http).(*annotations.HttpRule)
	return rule.GetGet() != ""
}

func normalizeStream() grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		err := handler(srv, ss)
		if strings.HasPrefix(info.FullMethod, "/grpc.") {
			return err
		}
		err, _ = apierr.Normalize(cancelled(ss.Context(), err))
		return apierr.Localize(err, callerLanguage(ss.Context()))
	}
}

// validateUnary enforces the protos' buf.validate rules on every request,
// listing every bad field in the usual INVALID_ARGUMENT body.
func validateUnary(v protovalidate.Validator) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		if msg, ok := req.(proto.Message); ok {
			if err := v.Validate(msg); err != nil {
				return nil, validationError(err)
			}
		}
		return handler(ctx, req)
	}
}

func recoverUnary(log *slog.Logger) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (resp any, err error) {
		defer func() {
			if r := recover(); r != nil {
				log.ErrorContext(ctx, "panic in handler", "method", info.FullMethod, "panic", r, "stack", string(debug.Stack()))
				err = apierr.Internal()
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
				err = apierr.Internal()
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
		if info := apierr.Info(err); info != nil {
			attrs = append(attrs, "reason", info.GetReason())
		}
		if cause := apierr.Cause(err); cause != nil {
			attrs = append(attrs, "cause", cause.Error())
		}
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
		principalCtx := ctx
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

// bearer returns the call's bearer token and its authorization header as
// sent (the one a service credential is bound to).
func bearer(ctx context.Context) (token, header string, present bool) {
	// ValueFromIncomingContext copies one key's values; FromIncomingContext
	// copied every header of every call (a quarter of membership's
	// allocations in make bench-system).
	values := metadata.ValueFromIncomingContext(ctx, "authorization")
	if len(values) == 0 {
		return "", "", false
	}
	// Only the first value counts; a header that is not a bearer token is
	// present but empty, so it fails verification instead of being ignored.
	if tok, ok := strings.CutPrefix(values[0], "Bearer "); ok {
		return strings.TrimSpace(tok), values[0], true
	}
	if tok, ok := strings.CutPrefix(values[0], "bearer "); ok {
		return strings.TrimSpace(tok), values[0], true
	}
	return "", values[0], true
}

// authenticator identifies callers: the bearer token's principal, and the
// Chapterhouse service calling on its behalf when the call carries that
// service's credential (platform/servicecall).
type authenticator struct {
	verifier *auth.Verifier
	// accounts links identities to people; nil links none.
	accounts auth.Accounts
	isPublic func(string) bool
	// opensToUnlinked says which methods an identity linked to no person
	// may call beside the public ones.
	opensToUnlinked func(string) bool
	// services verifies service credentials; nil refuses every call that
	// presents one.
	services *servicecall.Keys
	now      func() time.Time
}

// authenticate puts the caller in ctx. A token whose identity acts as a
// person gives a Principal; one whose identity is not linked to a person
// (an OpenID Connect sign-in with no account link yet) gives only the
// Identity (auth.IdentityFromContext), and the call is served as an
// anonymous one: a public method answers it as it answers anyone, any
// method the proto opens to unlinked identities gets the identity alone
// (CreatePerson: registering its own person), any other method refuses it
// with ACCOUNT_NOT_LINKED, since signing in again
// would not help and claiming an invitation would.
func (a authenticator) authenticate(ctx context.Context, fullMethod string) (context.Context, error) {
	raw, header, present := bearer(ctx)
	if !present {
		if a.isPublic(fullMethod) {
			return ctx, nil
		}
		return nil, apierr.Unauthenticated("token_required")
	}
	p, err := a.verifier.Verify(ctx, raw)
	if err != nil {
		return nil, apierr.Unauthenticated("token_invalid")
	}
	// A service acts for a caller: its credential counts only beside the
	// caller's token, and only with the header it was made for.
	if creds := metadata.ValueFromIncomingContext(ctx, servicecall.Header); len(creds) > 0 {
		if a.services == nil {
			return nil, apierr.Unauthenticated("this service takes no service credentials")
		}
		service, err := a.services.Verify(creds[0], fullMethod, header, a.now())
		if err != nil {
			return nil, apierr.Unauthenticated("the service credential is not valid")
		}
		p.Service = service
	}
	ctx = auth.WithIdentity(ctx, p.Identity)
	if a.accounts != nil {
		// The issuer vouches for the identity only (a static-key issuer
		// also names the person): the person and the roles are what
		// membership has linked and granted, never claims.
		linked, err := a.accounts.Linked(ctx, p)
		if err != nil {
			if a.isPublic(fullMethod) {
				// A public method serves anyone: without membership's
				// answer, the caller is served as anonymous rather than
				// refused.
				return ctx, nil
			}
			return nil, apierr.Unavailable("membership", err)
		}
		p.Subject, p.Roles = linked.Person, linked.Roles
	}
	if p.Subject == "" {
		if !a.isPublic(fullMethod) && !a.opensToUnlinked(fullMethod) {
			return nil, apierr.AccountNotLinked()
		}
		return ctx, nil
	}
	return auth.WithPrincipal(ctx, p), nil
}

func authUnary(a authenticator) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		ctx, err := a.authenticate(ctx, info.FullMethod)
		if err != nil {
			return nil, err
		}
		reportPrincipal(ctx)
		resp, err := handler(ctx, req)
		return resp, signInWouldHelp(ctx, err)
	}
}

// signInWouldHelp answers an anonymous caller of a public method whom the
// method refused (PERMISSION_DENIED) with UNAUTHENTICATED: the missing
// credential is what stands in the way, and signing in is what to try
// (RFC 9110 §15.5.2). A signed-in caller refused stays PERMISSION_DENIED;
// what is hidden stays NOT_FOUND for everyone.
func signInWouldHelp(ctx context.Context, err error) error {
	if err == nil || !apierr.Is(err, apiv1.ErrorReason_PERMISSION_DENIED) {
		return err
	}
	if _, signedIn := auth.FromContext(ctx); signedIn {
		return err
	}
	if _, identified := auth.IdentityFromContext(ctx); identified {
		return apierr.AccountNotLinked()
	}
	return apierr.Unauthenticated("sign_in")
}

// maskUnary clears from every response the private fields the caller may
// not read (platform/privacy, by the protos' chapterhouse.api.v1.readers):
// whatever produced it, the handler or an Idempotency-Key replay of a
// response stored for an earlier call, so each is masked for the caller
// it goes to.
func maskUnary() grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		resp, err := handler(ctx, req)
		msg, ok := resp.(proto.Message)
		if err != nil || !ok {
			return resp, err
		}
		viewer, _ := auth.FromContext(ctx)
		return privacy.Mask(msg, viewer), nil
	}
}

type wrappedStream struct {
	grpc.ServerStream
	ctx context.Context
}

func (w wrappedStream) Context() context.Context { return w.ctx }

func authStream(a authenticator) grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		ctx, err := a.authenticate(ss.Context(), info.FullMethod)
		if err != nil {
			return err
		}
		return handler(srv, wrappedStream{ss, ctx})
	}
}

// ClientAddressHeader is the metadata key in which the gateway names the
// REST client's address (the peer, or the last untrusted hop of
// X-Forwarded-For when the peer is a trusted proxy). Services are reached
// only by the gateway and by each other, so they take it as given.
const ClientAddressHeader = "x-client-address"

// idempotencyScope is whose keys a request's key is among: a signed-in
// caller's subject, an identity not linked to a person (its issuer and
// subject: two such callers behind one address must not see each other's
// answers), or, without a token, the client's address (as the gateway
// names it, else the gRPC peer's), so an anonymous write retried with its
// key is applied once too, and one client's keys never answer another's.
//
// An identity that links itself by its call (CreatePerson by an identity
// linked to no one) retries as the person it became: its retry is not a
// replay, and answers what the person's own CreatePerson answers.
func idempotencyScope(ctx context.Context) string {
	if p, ok := auth.FromContext(ctx); ok {
		return p.Subject
	}
	if id, ok := auth.IdentityFromContext(ctx); ok {
		return "identity@" + id.Issuer + "#" + id.Subject
	}
	if addr := metadata.ValueFromIncomingContext(ctx, ClientAddressHeader); len(addr) > 0 && addr[0] != "" {
		return "anonymous@" + addr[0]
	}
	if pr, ok := peer.FromContext(ctx); ok && pr.Addr != nil {
		host, _, err := net.SplitHostPort(pr.Addr.String())
		if err != nil {
			host = pr.Addr.String()
		}
		return "anonymous@" + host
	}
	return "anonymous"
}

// idempotencyUnary replays the first response to a request repeated with
// the same Idempotency-Key by the same caller (idempotencyScope).
func idempotencyUnary(store *idempotency.Store) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		keys := metadata.ValueFromIncomingContext(ctx, IdempotencyKeyHeader)
		if len(keys) == 0 || keys[0] == "" {
			return handler(ctx, req)
		}
		// A read changes nothing, so there is nothing to apply once: its
		// key is ignored, and its response (a whole page, perhaps) is
		// never kept in the system of record for a day.
		if isRead(info.FullMethod) {
			return handler(ctx, req)
		}
		clientKey := keys[0]
		if len(clientKey) > idempotency.MaxKeyLength {
			return nil, apierr.InvalidArgument(apierr.Field("Idempotency-Key", "idempotency_key_too_long", "max_len", strconv.Itoa(idempotency.MaxKeyLength)))
		}
		msg, ok := req.(proto.Message)
		if !ok {
			return handler(ctx, req)
		}
		reqBytes, err := proto.MarshalOptions{Deterministic: true}.Marshal(msg)
		if err != nil {
			return nil, apierr.WithCause(apierr.Internal(), err)
		}
		scope := idempotencyScope(ctx)
		key := idempotency.Key(scope, info.FullMethod, clientKey)
		stored, err := store.Begin(ctx, scope, key, idempotency.RequestHash(reqBytes))
		switch {
		case errors.Is(err, idempotency.ErrMismatch):
			return nil, apierr.New(codes.InvalidArgument, apiv1.ErrorReason_IDEMPOTENCY_KEY_REUSED, nil)
		case errors.Is(err, idempotency.ErrInProgress):
			return nil, apierr.New(codes.Aborted, apiv1.ErrorReason_IDEMPOTENCY_KEY_IN_PROGRESS, nil)
		case errors.Is(err, idempotency.ErrTooManyKeys):
			return nil, apierr.New(codes.ResourceExhausted, apiv1.ErrorReason_IDEMPOTENCY_KEYS_EXHAUSTED, nil)
		case err != nil:
			return nil, apierr.Unavailable("idempotency store", err)
		case stored != nil:
			resp, err := newResponse(info.FullMethod)
			if err != nil {
				return nil, apierr.WithCause(apierr.Internal(), err)
			}
			if err := proto.Unmarshal(stored, resp); err != nil {
				return nil, apierr.WithCause(apierr.Internal(), err)
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
		// Every commit the handler makes records, in its own step, that
		// this request applied it: a retry after a crash that lost the
		// answer (and the key's record) finds it instead of writing again.
		resp, herr := handler(redistx.WithOperation(ctx, key), req)
		returned = true
		var applied *redistx.AppliedError
		if errors.As(herr, &applied) {
			return replayApplied(ctx, bg, store, scope, key, info.FullMethod, applied)
		}
		if herr != nil {
			_ = store.Abandon(bg, key)
			return resp, herr
		}
		if out, ok := resp.(proto.Message); ok {
			if b, err := proto.Marshal(out); err == nil {
				_ = store.Complete(bg, scope, key, b)
			}
		}
		return resp, nil
	}
}

// replayApplied answers a request whose write had been applied by an
// earlier run of it (the answer was lost): with the record that answered
// it, as a replay, when that record is this method's response; otherwise
// with REQUEST_ALREADY_APPLIED, so the client reads the result instead of
// writing again.
func replayApplied(ctx, bg context.Context, store *idempotency.Store, scope, key, fullMethod string, applied *redistx.AppliedError) (any, error) {
	resp, err := newResponse(fullMethod)
	if err == nil && len(applied.Result) > 0 {
		// A record of another type would decode with fields this message
		// does not know: then it is not the response.
		if proto.Unmarshal(applied.Result, resp) == nil && len(resp.ProtoReflect().GetUnknown()) == 0 {
			_ = store.Complete(bg, scope, key, applied.Result)
			_ = grpc.SetHeader(ctx, metadata.Pairs("idempotent-replay", "true"))
			return resp, nil
		}
	}
	_ = store.Abandon(bg, key)
	return nil, apierr.New(codes.AlreadyExists, apiv1.ErrorReason_REQUEST_ALREADY_APPLIED, nil)
}

// newResponse makes an empty response message for a full method name.
func newResponse(fullMethod string) (proto.Message, error) {
	md, err := methodDescriptor(fullMethod)
	if err != nil {
		return nil, err
	}
	mt, err := protoregistry.GlobalTypes.FindMessageByName(md.Output().FullName())
	if err != nil {
		return nil, err
	}
	return mt.New().Interface(), nil
}
