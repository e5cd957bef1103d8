// Package bootstrap assembles what every Chapterhouse binary needs before it
// can serve — logger, telemetry, Redis, token verifier, page token keys —
// from the process environment, and runs the binary until SIGINT/SIGTERM.
// The devstack builds the same Deps itself and skips this package's env
// reading.
package bootstrap

import (
	"context"
	"crypto"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"
	"time"

	"github.com/cenkalti/backoff/v5"
	"github.com/redis/go-redis/v9"

	"github.com/tjsia/chapterhouse/platform/auth"
	"github.com/tjsia/chapterhouse/platform/auth/oidckeys"
	"github.com/tjsia/chapterhouse/platform/pagetoken"
	"github.com/tjsia/chapterhouse/platform/redisstore"
	"github.com/tjsia/chapterhouse/platform/servicecall"
	"github.com/tjsia/chapterhouse/platform/telemetry"
)

// Deps are a service's shared dependencies.
type Deps struct {
	Logger    *slog.Logger
	Telemetry *telemetry.Providers
	Redis     redis.UniversalClient
	Verifier  *auth.Verifier
	// PageTokens signs and verifies the page tokens of List methods; every
	// replica of a service must hold the same keys.
	PageTokens *pagetoken.Codec
	// ServiceCalls are the keys with which the services vouch for their
	// calls to each other (platform/servicecall); every service of a
	// system holds the same.
	ServiceCalls *servicecall.Keys
	// EventSources are the Redis clients of the services whose events this
	// one consumes, by producer name: each producer's streams live in the
	// producer's Redis, which need not be this service's.
	EventSources map[string]redis.UniversalClient
}

// EventSource returns the client of producer's Redis: the configured one,
// else this service's own (one shared Redis).
func (d Deps) EventSource(producer string) redis.UniversalClient {
	if c, ok := d.EventSources[producer]; ok && c != nil {
		return c
	}
	return d.Redis
}

// EventSourceEnv is the variable holding producer's Redis URL, e.g.
// MEMBERSHIP_REDIS_URL.
func EventSourceEnv(producer string) string { return strings.ToUpper(producer) + "_REDIS_URL" }

// Env reads a variable with a default.
func Env(getenv func(string) string, key, def string) string {
	if v := getenv(key); v != "" {
		return v
	}
	return def
}

// Duration reads a duration variable with a default.
func Duration(getenv func(string) string, key string, def time.Duration) (time.Duration, error) {
	v := getenv(key)
	if v == "" {
		return def, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", key, err)
	}
	return d, nil
}

// NewLogger returns a JSON logger at LOG_LEVEL (debug, info, warn, error).
func NewLogger(getenv func(string) string, service string) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(Env(getenv, "LOG_LEVEL", "info")))
	return slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: level})).With("service", service)
}

// Verifier builds the token verifier from the environment. It trusts:
//
//   - AUTH_OIDC_ISSUERS: comma-separated OpenID Connect issuer URLs (https,
//     or http on a loopback address), each read by discovery at start;
//   - the static-key issuer AUTH_ISSUER (default "chapterhouse"), when
//     AUTH_JWT_PUBLIC_KEYS (PEM text) or AUTH_JWT_PUBLIC_KEYS_FILE (a PEM
//     file, e.g. a mounted Secret) holds its keys: for tests, the
//     development stack, and an operator who mints tokens with a key of
//     their own;
//
// at least one of them, both if both are set. Every issuer's tokens must
// name AUTH_AUDIENCE (default "chapterhouse") and live no longer than
// AUTH_TOKEN_MAX_LIFETIME. AUTH_JWKS_REFRESH_INTERVAL (default 1h) is how
// often each issuer's JWKS is fetched again on schedule,
// AUTH_JWKS_UNKNOWN_KID_INTERVAL (default 1m) the least time between two
// fetches caused by an unknown kid.
//
// An issuer that does not answer at start is asked again with backoff for
// up to AUTH_OIDC_DISCOVERY_TIMEOUT (default 2m); then Verifier fails, the
// binary exits, and its supervisor (Kubernetes) starts it again with its
// own growing delay, so a provider that was down briefly is found without
// anyone stepping in and one that stays down shows as a failing pod, not
// as a service refusing every sign-in. Once started, a provider down only
// means its keys are not refreshed: the keys held keep verifying.
// Close the returned verifier when done (it refreshes in the background).
func Verifier(ctx context.Context, getenv func(string) string, logger *slog.Logger) (*auth.Verifier, error) {
	maxLifetime, err := Duration(getenv, "AUTH_TOKEN_MAX_LIFETIME", auth.DefaultMaxLifetime)
	if err != nil {
		return nil, err
	}
	if maxLifetime <= 0 {
		return nil, fmt.Errorf("AUTH_TOKEN_MAX_LIFETIME %v: must be positive", maxLifetime)
	}
	pemText := getenv("AUTH_JWT_PUBLIC_KEYS")
	if file := getenv("AUTH_JWT_PUBLIC_KEYS_FILE"); file != "" {
		b, err := os.ReadFile(file) //nolint:gosec // G304: the path is the operator's setting (a mounted Secret), not request input

		if err != nil {
			return nil, fmt.Errorf("read AUTH_JWT_PUBLIC_KEYS_FILE: %w", err)
		}
		pemText = string(b)
	}
	issuerURLs := OIDCIssuers(getenv)
	if strings.TrimSpace(pemText) == "" && len(issuerURLs) == 0 {
		return nil, errors.New("set AUTH_OIDC_ISSUERS to the OpenID Connect issuers whose tokens the services accept (comma-separated issuer URLs), or AUTH_JWT_PUBLIC_KEYS / AUTH_JWT_PUBLIC_KEYS_FILE to the PEM public keys of a static-key issuer, or both")
	}
	var keys []crypto.PublicKey
	if strings.TrimSpace(pemText) != "" {
		if keys, err = auth.ParsePublicKeysPEM([]byte(pemText)); err != nil {
			return nil, err
		}
	}
	opts := oidckeys.Options{Logger: logger}
	if opts.RefreshInterval, err = Duration(getenv, "AUTH_JWKS_REFRESH_INTERVAL", oidckeys.DefaultRefreshInterval); err != nil {
		return nil, err
	}
	if opts.UnknownKIDInterval, err = Duration(getenv, "AUTH_JWKS_UNKNOWN_KID_INTERVAL", oidckeys.DefaultUnknownKIDInterval); err != nil {
		return nil, err
	}
	wait, err := Duration(getenv, "AUTH_OIDC_DISCOVERY_TIMEOUT", DefaultDiscoveryTimeout)
	if err != nil {
		return nil, err
	}
	for name, d := range map[string]time.Duration{"AUTH_JWKS_REFRESH_INTERVAL": opts.RefreshInterval, "AUTH_JWKS_UNKNOWN_KID_INTERVAL": opts.UnknownKIDInterval, "AUTH_OIDC_DISCOVERY_TIMEOUT": wait} {
		if d <= 0 {
			return nil, fmt.Errorf("%s %v: must be positive", name, d)
		}
	}
	issuers := make([]auth.OIDCIssuer, 0, len(issuerURLs))
	closeAll := func() {
		for _, i := range issuers {
			i.Close()
		}
	}
	for _, u := range issuerURLs {
		i, err := discover(ctx, u, opts, wait, logger)
		if err != nil {
			closeAll()
			return nil, fmt.Errorf("AUTH_OIDC_ISSUERS: %w", err)
		}
		issuers = append(issuers, i)
	}
	v, err := auth.NewVerifier(keys, Env(getenv, "AUTH_ISSUER", auth.DefaultIssuer), Env(getenv, "AUTH_AUDIENCE", auth.DefaultAudience),
		auth.WithMaxLifetime(maxLifetime), auth.WithOIDCIssuers(issuers...))
	if err != nil {
		return nil, err // NewVerifier closed the issuers
	}
	return v, nil
}

// DefaultDiscoveryTimeout is how long, by default, a binary waits at start
// for an OpenID Connect issuer to answer its discovery and JWKS requests.
const DefaultDiscoveryTimeout = 2 * time.Minute

// discover reads the issuer at issuerURL, asking again with jittered
// exponential backoff (1s up to 15s between tries) for up to wait.
func discover(ctx context.Context, issuerURL string, opts oidckeys.Options, wait time.Duration, logger *slog.Logger) (*oidckeys.Issuer, error) {
	b := &backoff.ExponentialBackOff{InitialInterval: time.Second, RandomizationFactor: 0.3, Multiplier: 2, MaxInterval: 15 * time.Second}
	return backoff.Retry(ctx, func() (*oidckeys.Issuer, error) {
		i, err := oidckeys.DiscoverIssuer(ctx, issuerURL, opts)
		if errors.Is(err, oidckeys.ErrIssuerURL) {
			return nil, backoff.Permanent(err)
		}
		if err != nil {
			logger.WarnContext(ctx, "OpenID Connect issuer not reachable yet; retrying", "issuer", issuerURL, "error", err)
		}
		return i, err
	}, backoff.WithBackOff(b), backoff.WithMaxElapsedTime(wait))
}

// list splits a comma-separated setting, dropping blanks.
// OIDCIssuers reads AUTH_OIDC_ISSUERS, the OpenID Connect issuers whose
// tokens the services accept: comma-separated URLs, in the order given.
func OIDCIssuers(getenv func(string) string) []string {
	return list(getenv("AUTH_OIDC_ISSUERS"))
}

func list(v string) []string {
	var out []string
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// Needs says which dependencies a binary uses: the gateway, for one,
// neither stores data nor verifies tokens (the services do).
type Needs struct {
	Redis    bool
	Verifier bool
	// PageTokens: the binary serves List methods, whose page tokens it
	// signs (PAGE_TOKEN_KEYS).
	PageTokens bool
	// ServiceCalls: the binary is a service, which calls other services
	// and is called by them with service credentials (SERVICE_CALL_KEYS).
	ServiceCalls bool
	// EventSources are the producers whose events the binary consumes;
	// each is read from <PRODUCER>_REDIS_URL, defaulting to REDIS_URL.
	EventSources []string
}

// PageTokens reads the page token keys: PAGE_TOKEN_KEYS, comma-separated
// base64 keys of at least 32 bytes, the first signing and every one
// verifying (rotate by putting a new key first; remove the old one once the
// tokens it signed have aged out). There is no default: a key made up at
// start would differ between replicas and restarts, and break paging.
func PageTokens(getenv func(string) string) (*pagetoken.Codec, error) {
	v := getenv("PAGE_TOKEN_KEYS")
	if strings.TrimSpace(v) == "" {
		return nil, errors.New("set PAGE_TOKEN_KEYS to the keys that sign page tokens: comma-separated base64 keys of at least 32 bytes, the signing key first (e.g. `openssl rand -base64 32`), the same on every replica")
	}
	keys, err := pagetoken.ParseKeys(v)
	if err != nil {
		return nil, fmt.Errorf("PAGE_TOKEN_KEYS: %w", err)
	}
	codec, err := pagetoken.NewCodec(keys...)
	if err != nil {
		return nil, fmt.Errorf("PAGE_TOKEN_KEYS: %w", err)
	}
	return codec, nil
}

// ServiceCalls reads the service call keys: SERVICE_CALL_KEYS, spelled as
// PAGE_TOKEN_KEYS (the first signs, every one verifies). There is no
// default: every service of a system must hold the same keys, or one
// service's calls are refused by another.
func ServiceCalls(getenv func(string) string) (*servicecall.Keys, error) {
	v := getenv("SERVICE_CALL_KEYS")
	if strings.TrimSpace(v) == "" {
		return nil, errors.New("set SERVICE_CALL_KEYS to the keys with which the services vouch for their calls to each other: comma-separated base64 keys of at least 32 bytes, the signing key first (e.g. `openssl rand -base64 32`), the same in every service and replica, and never given to the gateway")
	}
	keys, err := servicecall.ParseKeys(v)
	if err != nil {
		return nil, fmt.Errorf("SERVICE_CALL_KEYS: %w", err)
	}
	return keys, nil
}

// FromEnv builds Deps for a standalone binary. The returned close releases
// them; call it last, after the server stopped, so telemetry is flushed.
func FromEnv(ctx context.Context, getenv func(string) string, service string, needs Needs) (Deps, func(context.Context) error, error) {
	logger := NewLogger(getenv, service)
	tel, err := telemetry.New(ctx, telemetry.Config{ServiceName: service, ServiceVersion: Version(), Getenv: getenv})
	if err != nil {
		return Deps{}, nil, err
	}
	deps := Deps{Logger: logger, Telemetry: tel}
	closers := []func(context.Context) error{tel.Shutdown}
	closeAll := func(ctx context.Context) error {
		var errs []error
		for i := len(closers) - 1; i >= 0; i-- {
			errs = append(errs, closers[i](ctx))
		}
		return errors.Join(errs...)
	}
	if needs.Verifier {
		deps.Verifier, err = Verifier(ctx, getenv, logger)
		if err != nil {
			_ = closeAll(ctx)
			return Deps{}, nil, err
		}
		v := deps.Verifier
		closers = append(closers, func(context.Context) error { v.Close(); return nil })
	}
	if needs.PageTokens {
		deps.PageTokens, err = PageTokens(getenv)
		if err != nil {
			_ = closeAll(ctx)
			return Deps{}, nil, err
		}
	}
	if needs.ServiceCalls {
		deps.ServiceCalls, err = ServiceCalls(getenv)
		if err != nil {
			_ = closeAll(ctx)
			return Deps{}, nil, err
		}
	}
	// A service's own Redis must answer at start; an event source is only
	// a readiness condition (the consumer waits for it).
	open := func(url string, ping bool) (redis.UniversalClient, error) {
		cfg := redisstore.Config{URL: url, TracerProvider: tel.TracerProvider, MeterProvider: tel.MeterProvider}
		var client redis.UniversalClient
		var err error
		if ping {
			client, err = redisstore.Open(ctx, cfg)
		} else {
			client, err = redisstore.New(cfg)
		}
		if err != nil {
			return nil, err
		}
		closers = append(closers, func(context.Context) error { return client.Close() })
		return client, nil
	}
	if needs.Redis {
		url := getenv("REDIS_URL")
		if url == "" {
			_ = closeAll(ctx)
			return Deps{}, nil, errors.New("set REDIS_URL (redis://host:6379/0, or redis+cluster://...)")
		}
		if deps.Redis, err = open(url, true); err != nil {
			_ = closeAll(ctx)
			return Deps{}, nil, err
		}
		for _, producer := range needs.EventSources {
			sourceURL := getenv(EventSourceEnv(producer))
			if sourceURL == "" || sourceURL == url {
				continue
			}
			client, err := open(sourceURL, false)
			if err != nil {
				_ = closeAll(ctx)
				return Deps{}, nil, fmt.Errorf("%s: %w", EventSourceEnv(producer), err)
			}
			if deps.EventSources == nil {
				deps.EventSources = map[string]redis.UniversalClient{}
			}
			deps.EventSources[producer] = client
		}
	}
	return deps, closeAll, nil
}

// Version is the module version and VCS revision the binary was built from.
func Version() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	version := info.Main.Version
	for _, s := range info.Settings {
		if s.Key == "vcs.revision" && len(s.Value) >= 12 {
			version += "+" + s.Value[:12]
		}
	}
	return version
}

// PrintVersion writes the version and build info when args ask for it
// (--version) and reports whether they did.
func PrintVersion(args []string, name string) bool {
	for _, a := range args {
		if a == "--version" || a == "-version" {
			info, _ := debug.ReadBuildInfo()
			fmt.Printf("%s %s\n", name, Version())
			if info != nil {
				fmt.Printf("go %s\n", info.GoVersion)
				for _, s := range info.Settings {
					if strings.HasPrefix(s.Key, "vcs.") || s.Key == "CGO_ENABLED" || s.Key == "GOARCH" || s.Key == "GOOS" {
						fmt.Printf("%s=%s\n", s.Key, s.Value)
					}
				}
			}
			return true
		}
	}
	return false
}

// SignalContext is cancelled on SIGINT or SIGTERM.
func SignalContext() (context.Context, context.CancelFunc) {
	return signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
}
