// Package app is the REST gateway's one public entry point: both its own
// binary and the devstack call Run (or NewHandler, in tests).
package app

import (
	"context"
	"errors"
	"fmt"
	aclient "github.com/tjsia/chapterhouse/contracts/activities/client"
	govclient "github.com/tjsia/chapterhouse/contracts/governance/client"
	mclient "github.com/tjsia/chapterhouse/contracts/membership/client"
	stdclient "github.com/tjsia/chapterhouse/contracts/standards/client"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/textproto"
	"strings"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"github.com/redis/go-redis/v9"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	"github.com/tjsia/chapterhouse/gateway/internal/accesslog"
	"github.com/tjsia/chapterhouse/gateway/internal/docs"
	"github.com/tjsia/chapterhouse/gateway/internal/errorbody"
	"github.com/tjsia/chapterhouse/gateway/internal/middleware"
	"github.com/tjsia/chapterhouse/gateway/internal/openapidoc"
	"github.com/tjsia/chapterhouse/gateway/internal/precondition"
	"github.com/tjsia/chapterhouse/gateway/internal/queryparams"
	"github.com/tjsia/chapterhouse/gateway/internal/ratelimit"
	"github.com/tjsia/chapterhouse/gateway/internal/readiness"
	"github.com/tjsia/chapterhouse/gateway/internal/strictjson"
	"github.com/tjsia/chapterhouse/platform/apierr"
	"github.com/tjsia/chapterhouse/platform/auth"
	"github.com/tjsia/chapterhouse/platform/bootstrap"
	"github.com/tjsia/chapterhouse/platform/grpcclient"
	"github.com/tjsia/chapterhouse/platform/grpcserver"
	"github.com/tjsia/chapterhouse/platform/i18n"
	"github.com/tjsia/chapterhouse/platform/telemetry"
	activitiesv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/activities/v1"
	apiv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/api/v1"
	governancev1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/governance/v1"
	membershipv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/membership/v1"
	standardsv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/standards/v1"
	"github.com/tjsia/chapterhouse/proto/gen/go/openapi"
)

// Name is the gateway's service name in telemetry.
const Name = "gateway"

// RateLimits are the gateway's request budgets by kind of caller.
type RateLimits = ratelimit.Limits

// callerLookupTimeout bounds the rate limiter's question to membership
// about who a token's caller is. Every signed-in request waits for it, so
// it is shorter than a backend call's: past it the caller is counted by
// address (ratelimit.Limiter) and the backend answers the call itself.
const callerLookupTimeout = 2 * time.Second

// Needs: the gateway's own Redis (the callers' request budgets) and the
// token verifier (budgets are per person a verified token is linked to, as
// membership answers).
var Needs = bootstrap.Needs{Redis: true, Verifier: true}

// backend is one service the gateway fronts: its REST routes (generated
// from its proto's google.api.http annotations) and where it listens unless
// told otherwise.
type backend struct {
	name        string
	service     string
	defaultAddr string
	register    func(ctx context.Context, mux *runtime.ServeMux, conn grpc.ClientConnInterface) error
}

// backends is the gateway's one list of the services behind it.
var backends = []backend{
	{"membership", mclient.Service, mclient.DefaultAddr, func(ctx context.Context, mux *runtime.ServeMux, c grpc.ClientConnInterface) error {
		return membershipv1.RegisterMembershipServiceHandlerClient(ctx, mux, membershipv1.NewMembershipServiceClient(c))
	}},
	{"governance", govclient.Service, govclient.DefaultAddr, func(ctx context.Context, mux *runtime.ServeMux, c grpc.ClientConnInterface) error {
		return governancev1.RegisterGovernanceServiceHandlerClient(ctx, mux, governancev1.NewGovernanceServiceClient(c))
	}},
	{"activities", aclient.Service, aclient.DefaultAddr, func(ctx context.Context, mux *runtime.ServeMux, c grpc.ClientConnInterface) error {
		return activitiesv1.RegisterActivitiesServiceHandlerClient(ctx, mux, activitiesv1.NewActivitiesServiceClient(c))
	}},
	{"standards", stdclient.Service, stdclient.DefaultAddr, func(ctx context.Context, mux *runtime.ServeMux, c grpc.ClientConnInterface) error {
		return standardsv1.RegisterStandardsServiceHandlerClient(ctx, mux, standardsv1.NewStandardsServiceClient(c))
	}},
}

// BackendNames lists the services the gateway fronts, in order.
func BackendNames() []string {
	names := make([]string, len(backends))
	for i, b := range backends {
		names[i] = b.name
	}
	return names
}

// Services are the descriptors of the gRPC services the gateway fronts, in
// backends' order: their HTTP bindings are its routes.
func Services() ([]protoreflect.ServiceDescriptor, error) {
	services := make([]protoreflect.ServiceDescriptor, 0, len(backends))
	for _, b := range backends {
		d, err := protoregistry.GlobalFiles.FindDescriptorByName(protoreflect.FullName(b.service))
		if err != nil {
			return nil, fmt.Errorf("gateway: %s: %w", b.service, err)
		}
		services = append(services, d.(protoreflect.ServiceDescriptor))
	}
	return services, nil
}

// Config configures the gateway.
type Config struct {
	Logger    *slog.Logger
	Telemetry *telemetry.Providers
	Listener  net.Listener
	// Backends are the services' gRPC targets by name (BackendNames), e.g.
	// dns:///membership:8081; every one is required.
	Backends map[string]string
	// AllowedOrigins for CORS; empty allows no cross-origin calls.
	AllowedOrigins []string
	// MaxBodyBytes bounds request bodies; default 1 MiB.
	MaxBodyBytes int64
	// DrainDelay: how long /readyz fails before the server stops.
	DrainDelay time.Duration
	// BackendTimeout is every REST call's deadline on its backend call;
	// past it the client gets 504 DEADLINE_EXCEEDED. Default 15s.
	BackendTimeout time.Duration
	// Language answers error bodies for callers whose Accept-Language asks
	// for neither catalog ("en" or "zh-CN"); default "en".
	Language string
	// Redis keeps the callers' request budgets, shared by every gateway
	// pod; Verifier tells a caller's own token from a forged one, so
	// budgets are per person a verified token is linked to (membership,
	// one of Backends, says who). Both are required.
	Redis    redis.UniversalClient
	Verifier *auth.Verifier
	// RateLimits are the budgets; zero means ratelimit.DefaultLimits.
	RateLimits RateLimits
	// TrustedProxies may say who the client is in X-Forwarded-For.
	TrustedProxies []netip.Prefix
	// DocsUI holds Swagger UI's files for /docs; nil means the ones built
	// into the binary (docs.Embedded).
	DocsUI fs.FS
	// SignInIssuer is the OpenID Connect issuer people sign in at, which
	// /openapi.json names in its openIdConnect scheme; empty leaves the
	// document's placeholder (openapidoc.DiscoveryPlaceholder).
	SignInIssuer string
}

// forwardedHeaders is the allowlist of HTTP headers passed to the services
// as gRPC metadata; anything else stays at the edge. (grpc-gateway passes
// Authorization itself: listing it here sent the token twice.)
var forwardedHeaders = map[string]string{
	"X-Request-Id":    "x-request-id",
	"Idempotency-Key": "idempotency-key",
}

// returnedHeaders are the gRPC response headers shown to REST clients.
var returnedHeaders = map[string]string{
	"idempotent-replay":      "Idempotent-Replay",
	i18n.ResponseMetadataKey: "Content-Language",
}

// Handler is the gateway's HTTP handler and the connections it owns.
type Handler struct {
	http.Handler
	conns     []*grpc.ClientConn
	readiness *readiness.Checker
}

// Close closes the backend connections.
func (h *Handler) Close() error {
	var errs []error
	for _, c := range h.conns {
		errs = append(errs, c.Close())
	}
	return errors.Join(errs...)
}

// NewHandler builds the full HTTP handler: otelhttp around recovery,
// request ids, CORS, gzip and the body limit, around the routes.
func NewHandler(ctx context.Context, cfg Config) (*Handler, error) {
	if cfg.Logger == nil || cfg.Telemetry == nil || cfg.Redis == nil || cfg.Verifier == nil {
		return nil, errors.New("gateway: Config needs Logger, Telemetry, Redis and Verifier")
	}
	if cfg.RateLimits == (ratelimit.Limits{}) {
		cfg.RateLimits = ratelimit.DefaultLimits
	}
	if cfg.MaxBodyBytes == 0 {
		cfg.MaxBodyBytes = 1 << 20
	}
	if cfg.BackendTimeout == 0 {
		cfg.BackendTimeout = 15 * time.Second
	}
	if cfg.Language == "" {
		cfg.Language = i18n.English
	}
	if !i18n.Known(cfg.Language) {
		return nil, fmt.Errorf("gateway: default language %q is not one of %v", cfg.Language, i18n.Languages())
	}
	catalog := i18n.Default()
	errs := errorbody.NewWriter(catalog, cfg.Language)
	services, err := Services()
	if err != nil {
		return nil, err
	}
	params := queryparams.New(services...)
	etags := precondition.New(services...)
	// The limiter is made once the backends are dialled (it asks
	// membership whose budget a token draws on); the mux reads it only
	// when serving.
	var limiter *ratelimit.Limiter
	mux := runtime.NewServeMux(
		runtime.WithIncomingHeaderMatcher(func(key string) (string, bool) {
			md, ok := forwardedHeaders[textproto.CanonicalMIMEHeaderKey(key)]
			return md, ok
		}),
		runtime.WithOutgoingHeaderMatcher(func(key string) (string, bool) {
			h, ok := returnedHeaders[strings.ToLower(key)]
			return h, ok
		}),
		// The services scope an anonymous caller's Idempotency-Keys by its
		// address, which only the edge knows (behind a trusted proxy, from
		// X-Forwarded-For, as the rate limiter reads it).
		// The services answer in the language the caller asks for; the
		// gateway names the one it chose (DEFAULT_LANGUAGE for a caller
		// who asks for neither), so every text of the answer, a service's
		// or the gateway's own, is in one language.
		runtime.WithMetadata(func(_ context.Context, r *http.Request) metadata.MD {
			return metadata.Pairs(grpcserver.ClientAddressHeader, limiter.ClientAddr(r), i18n.MetadataKey, errs.Language(r))
		}),
		runtime.WithErrorHandler(withMalformedBody(errs, withPrecondition(errs, withOutcome(errs.Handler)))),
		// An answer that is a resource with an etag carries it as ETag.
		runtime.WithForwardResponseOption(precondition.ETag),
		// The access log names the route template that matched, and a
		// query parameter the route does not take is refused (grpc-gateway
		// would ignore it): both need the route, which only the mux knows.
		runtime.WithMiddlewares(func(next runtime.HandlerFunc) runtime.HandlerFunc {
			return func(w http.ResponseWriter, r *http.Request, pathParams map[string]string) {
				if pattern, ok := runtime.HTTPPattern(r.Context()); ok {
					accesslog.SetRoute(r.Context(), pattern)
					if r.URL.RawQuery != "" {
						if p, unknown := params.Unknown(r.Method, pattern.String(), r.URL.Query()); unknown {
							errs.WriteError(w, r, apierr.New(codes.InvalidArgument, apiv1.ErrorReason_UNKNOWN_QUERY_PARAMETER, map[string]string{"parameter": p}))
							return
						}
					}
				}
				next(w, r, pathParams)
			}
		}),
		runtime.WithRoutingErrorHandler(errs.RoutingHandler),
		// A body is exactly one JSON value: data after it is refused, not
		// ignored; what cannot be decoded is said in the client's terms
		// (withMalformedBody).
		runtime.WithMarshalerOption(runtime.MIMEWildcard, strictjson.Marshaler{JSONPb: &runtime.JSONPb{
			// Zero values are answers too: a revoked certificate's
			// "valid": false, an empty list's [], a count of 0. Without
			// them a client reads a missing key as "unknown".
			MarshalOptions: protojson.MarshalOptions{EmitDefaultValues: true},
			// Unknown fields are an error: a misspelt field must not be
			// silently dropped from a write.
			UnmarshalOptions: protojson.UnmarshalOptions{DiscardUnknown: false},
		}}),
	)
	h := &Handler{}
	dial := func(addr, service string) (*grpc.ClientConn, error) {
		conn, err := grpcclient.Dial(addr, grpcclient.Config{Telemetry: cfg.Telemetry, Services: []string{service}})
		if err != nil {
			return nil, fmt.Errorf("gateway: %w", err)
		}
		h.conns = append(h.conns, conn)
		return conn, nil
	}
	health := map[string]grpc.ClientConnInterface{}
	var members grpc.ClientConnInterface
	for _, b := range backends {
		addr := cfg.Backends[b.name]
		if addr == "" {
			_ = h.Close()
			return nil, fmt.Errorf("gateway: no address for %s", b.name)
		}
		conn, err := dial(addr, b.service)
		if err != nil {
			_ = h.Close()
			return nil, err
		}
		// A request's If-Match reaches the service as the etag of the
		// method's request.
		if err := b.register(ctx, mux, etags.Conn(conn)); err != nil {
			_ = h.Close()
			return nil, fmt.Errorf("gateway: register %s: %w", b.name, err)
		}
		health[b.name] = conn
		if b.service == mclient.Service {
			members = conn
		}
	}
	limiter, err = ratelimit.New(ratelimit.Config{Redis: cfg.Redis, Verifier: cfg.Verifier,
		Callers: mclient.NewCallers(mclient.New(members, callerLookupTimeout), mclient.CallerTTL),
		Limits:  cfg.RateLimits, TrustedProxies: cfg.TrustedProxies, Errors: errs, Logger: cfg.Logger})
	if err != nil {
		_ = h.Close()
		return nil, fmt.Errorf("gateway: %w", err)
	}
	h.readiness = readiness.New(health, 2*time.Second, map[string]func(context.Context) error{"redis": limiter.Ready})
	if err := h.readiness.RegisterMetrics(cfg.Telemetry.MeterProvider.Meter("chapterhouse/gateway")); err != nil {
		_ = h.Close()
		return nil, fmt.Errorf("gateway: %w", err)
	}

	routes := http.NewServeMux()
	routes.HandleFunc("GET /healthz", readiness.Liveness)
	routes.Handle("GET /readyz", h.readiness)
	routes.HandleFunc("GET /diagz/backends", h.readiness.Backends)
	if cfg.DocsUI == nil {
		cfg.DocsUI = docs.Embedded()
	}
	// /docs answers as the API does when it cannot: the documented error
	// body, not the file server's text.
	docsPage := docs.Handler(cfg.DocsUI,
		http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			errs.WriteError(w, r, apierr.New(codes.Unavailable, apiv1.ErrorReason_DEPENDENCY_UNAVAILABLE,
				map[string]string{"dependency": "Swagger UI"}, apierr.Text("error.gateway.no_swagger_ui")))
		}),
		http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			errs.RoutingHandler(r.Context(), mux, nil, w, r, http.StatusNotFound)
		}))
	routes.Handle("GET /docs", docsPage)
	routes.Handle("GET /docs/", docsPage)
	document := openapi.Document()
	if cfg.SignInIssuer != "" {
		if document, err = openapidoc.WithSignInIssuer(document, cfg.SignInIssuer); err != nil {
			return nil, fmt.Errorf("gateway: %w", err)
		}
	}
	routes.HandleFunc("GET /openapi.json", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(document)
	})
	// The API's routes, each request drawing on its caller's budget; the
	// probes and the document above draw on none.
	api := func(h http.Handler) http.Handler {
		return middleware.Chain(h, middleware.NoStore, limiter.Handler, middleware.EdgeHeaders,
			middleware.RequireJSON(errs), precondition.Read(refuseIfMatch(errs)), middleware.LimitBody(cfg.MaxBodyBytes, errs),
			middleware.Deadline(cfg.BackendTimeout))
	}
	routes.Handle("/", api(mux))
	// A path that is not canonical is answered as an unknown API path is,
	// never redirected.
	noSuchPath := api(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		errs.RoutingHandler(r.Context(), mux, nil, w, r, http.StatusNotFound)
	}))

	inner := middleware.Chain(routes,
		middleware.CloseAfterChunked,
		accesslog.Handler(cfg.Logger, middleware.RequestIDHeader),
		middleware.Recover(cfg.Logger, errs),
		middleware.RequestID,
		middleware.CORS(cfg.AllowedOrigins, errs),
		middleware.Gzip,
		middleware.CanonicalPaths(noSuchPath),
	)
	h.Handler = otelhttp.NewHandler(inner, "gateway",
		otelhttp.WithTracerProvider(cfg.Telemetry.TracerProvider),
		otelhttp.WithMeterProvider(cfg.Telemetry.MeterProvider),
		otelhttp.WithPropagators(cfg.Telemetry.Propagator),
		otelhttp.WithSpanNameFormatter(func(_ string, r *http.Request) string { return r.Method + " " + r.URL.Path }),
	)
	return h, nil
}

// Run serves until ctx is done, then fails /readyz for DrainDelay and shuts
// down, letting in-flight requests finish.
func Run(ctx context.Context, cfg Config) error {
	if cfg.Listener == nil {
		return errors.New("gateway: Config needs a Listener")
	}
	h, err := NewHandler(ctx, cfg)
	if err != nil {
		return err
	}
	defer h.Close()
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(cfg.Listener) }()
	cfg.Logger.InfoContext(ctx, "gateway listening", "addr", cfg.Listener.Addr().String())
	select {
	case err := <-errc:
		return fmt.Errorf("gateway: serve: %w", err)
	case <-ctx.Done():
	}
	h.readiness.Drain()
	time.Sleep(cfg.DrainDelay)
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("gateway: shutdown: %w", err)
	}
	cfg.Logger.Info("gateway stopped")
	return nil
}

// ConfigFromEnv reads the gateway settings from the environment.
func ConfigFromEnv(getenv func(string) string, deps bootstrap.Deps) (Config, error) {
	drain, err := bootstrap.Duration(getenv, "DRAIN_DELAY", 5*time.Second)
	if err != nil {
		return Config{}, err
	}
	timeout, err := bootstrap.Duration(getenv, "BACKEND_TIMEOUT", 15*time.Second)
	if err != nil {
		return Config{}, err
	}
	lis, err := net.Listen("tcp", bootstrap.Env(getenv, "LISTEN_ADDR", ":8080"))
	if err != nil {
		return Config{}, fmt.Errorf("gateway: listen: %w", err)
	}
	var origins []string
	for _, o := range strings.Split(getenv("CORS_ALLOWED_ORIGINS"), ",") {
		if o = strings.TrimSpace(o); o != "" {
			origins = append(origins, o)
		}
	}
	limits, err := limitsFromEnv(getenv)
	if err != nil {
		return Config{}, err
	}
	var proxies []netip.Prefix
	for _, p := range strings.Split(getenv("TRUSTED_PROXIES"), ",") {
		if p = strings.TrimSpace(p); p == "" {
			continue
		}
		prefix, err := netip.ParsePrefix(p)
		if err != nil {
			return Config{}, fmt.Errorf("gateway: TRUSTED_PROXIES: %w", err)
		}
		proxies = append(proxies, prefix)
	}
	return Config{
		Logger: deps.Logger, Telemetry: deps.Telemetry, Listener: lis, DrainDelay: drain, AllowedOrigins: origins, BackendTimeout: timeout,
		Language: bootstrap.Env(getenv, "DEFAULT_LANGUAGE", "en"),
		Backends: backendsFromEnv(getenv),
		Redis:    deps.Redis, Verifier: deps.Verifier, RateLimits: limits, TrustedProxies: proxies,
		SignInIssuer: signInIssuer(getenv),
	}, nil
}

// signInIssuer is the first of the issuers the services trust
// (bootstrap.OIDCIssuers): the one people are sent to sign in.
func signInIssuer(getenv func(string) string) string {
	if issuers := bootstrap.OIDCIssuers(getenv); len(issuers) > 0 {
		return issuers[0]
	}
	return ""
}

// limitsFromEnv reads RATE_LIMIT_ANONYMOUS, _AUTHENTICATED, _ADMIN and
// _VERIFY ("N/s", "N/m" or "N/h"), each defaulting to DefaultLimits.
func limitsFromEnv(getenv func(string) string) (ratelimit.Limits, error) {
	l := ratelimit.DefaultLimits
	for key, limit := range map[string]*redis_rate.Limit{
		"RATE_LIMIT_ANONYMOUS": &l.Anonymous, "RATE_LIMIT_AUTHENTICATED": &l.Authenticated,
		"RATE_LIMIT_ADMIN": &l.Admin, "RATE_LIMIT_VERIFY": &l.Verify,
	} {
		if v := getenv(key); v != "" {
			parsed, err := ratelimit.ParseLimit(v)
			if err != nil {
				return ratelimit.Limits{}, fmt.Errorf("gateway: %s: %w", key, err)
			}
			*limit = parsed
		}
	}
	return l, nil
}

// backendsFromEnv reads <SERVICE>_ADDR for every backend.
func backendsFromEnv(getenv func(string) string) map[string]string {
	addrs := map[string]string{}
	for _, b := range backends {
		addrs[b.name] = bootstrap.Env(getenv, strings.ToUpper(b.name)+"_ADDR", b.defaultAddr)
	}
	return addrs
}
