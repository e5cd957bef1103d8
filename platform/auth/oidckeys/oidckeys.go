// Package oidckeys keeps an OpenID Connect issuer's signing keys: it reads
// the issuer's discovery document (coreos/go-oidc) and fetches and refreshes
// its JWKS (MicahParks/keyfunc, jwkset). An *Issuer is what auth.Verifier
// trusts (auth.WithOIDCIssuers); it lives apart from package auth, which the
// domain packages import and which does no I/O.
package oidckeys

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"time"

	"github.com/MicahParks/jwkset"
	"github.com/MicahParks/keyfunc/v3"
	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/golang-jwt/jwt/v5"
	"golang.org/x/time/rate"
)

// Defaults of Options.
const (
	// DefaultRefreshInterval is how often an issuer's JWKS is fetched
	// again on schedule, so a key the provider withdrew stops verifying
	// within this time even if nobody presents an unknown kid.
	DefaultRefreshInterval = time.Hour
	// DefaultUnknownKIDInterval is how often, at most, a token whose kid
	// the issuer's JWKS does not hold makes it fetched again. A provider
	// publishes a new key before it signs with it (OpenID Connect Core
	// §10.1), so the first token signed with it finds it with one fetch;
	// anyone may send made-up kids, so the fetches they cause are bounded:
	// one a minute is 60 an hour per issuer per replica, nothing to a
	// provider, and a forged kid sent just before a real rotation delays
	// the new key's tokens by a minute at most (until the scheduled
	// refresh otherwise).
	DefaultUnknownKIDInterval = time.Minute
	// DefaultHTTPTimeout bounds each discovery and JWKS request.
	DefaultHTTPTimeout = 10 * time.Second
)

// Options tune how an OpenID Connect issuer's keys are kept.
type Options struct {
	// HTTPClient fetches the discovery document and the JWKS; nil is a
	// client with DefaultHTTPTimeout.
	HTTPClient *http.Client
	// RefreshInterval: the JWKS is fetched again this often (default
	// DefaultRefreshInterval).
	RefreshInterval time.Duration
	// UnknownKIDInterval: an unknown kid makes the JWKS fetched again at
	// most once per this interval (default DefaultUnknownKIDInterval); a
	// token with an unknown kid within it is refused without a fetch.
	UnknownKIDInterval time.Duration
	// Logger reports failed refreshes (the keys held are kept); nil is
	// slog.Default().
	Logger *slog.Logger
}

// ErrIssuerURL is wrapped by DiscoverIssuer's error for an issuer or JWKS
// URL it will not use: asking again will not help.
var ErrIssuerURL = errors.New("not an https URL (plain http only on a loopback address)")

// Issuer is a trusted OpenID Connect issuer: its URL (the exact iss of
// its tokens) and the keys of its JWKS, kept fresh in the background until
// Close.
type Issuer struct {
	url    string
	keys   keyfunc.Keyfunc
	cancel context.CancelFunc
}

// URL is the issuer's identifier, the iss of its tokens.
func (i *Issuer) URL() string { return i.url }

// Close stops refreshing the issuer's keys.
func (i *Issuer) Close() { i.cancel() }

// Holds reports whether the issuer's keys, as last fetched, hold kid (any
// key, for a token that named none). It never fetches.
func (i *Issuer) Holds(ctx context.Context, kid string) bool {
	if kid == "" {
		return true
	}
	all, err := i.keys.Storage().KeyReadAll(ctx)
	if err != nil {
		return false
	}
	for _, k := range all {
		if k.Marshal().KID == kid {
			return true
		}
	}
	return false
}

// Keyfunc picks the key of this issuer's JWKS that verifies t: by kid,
// fetching the JWKS again (rate-limited) when no key has it, or, for a
// token without a kid, every key of the set; only keys whose use is
// signing (or unstated) and whose alg (if stated) is the token's. The
// caller checks the key's type against the token's algorithm.
func (i *Issuer) Keyfunc(ctx context.Context) jwt.Keyfunc { return i.keys.KeyfuncCtx(ctx) }

// DiscoverIssuer trusts the OpenID Connect issuer at issuerURL: it reads
// the issuer's discovery document (go-oidc, which holds the document's
// issuer to issuerURL exactly) and fetches its JWKS once; both must answer,
// or DiscoverIssuer fails (the caller retries: see bootstrap). From then on
// the keys are refreshed every opts.RefreshInterval and on an unknown kid,
// and a failed refresh keeps the keys held. issuerURL must be https, or
// http on a loopback address (a provider on the same machine, in tests
// and the development stack).
func DiscoverIssuer(ctx context.Context, issuerURL string, opts Options) (*Issuer, error) {
	if err := checkProviderURL(issuerURL); err != nil {
		return nil, fmt.Errorf("oidckeys: OpenID Connect issuer %q: %w: %w", issuerURL, ErrIssuerURL, err)
	}
	if opts.HTTPClient == nil {
		opts.HTTPClient = &http.Client{Timeout: DefaultHTTPTimeout}
	}
	if opts.RefreshInterval <= 0 {
		opts.RefreshInterval = DefaultRefreshInterval
	}
	if opts.UnknownKIDInterval <= 0 {
		opts.UnknownKIDInterval = DefaultUnknownKIDInterval
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	provider, err := oidc.NewProvider(oidc.ClientContext(ctx, opts.HTTPClient), issuerURL)
	if err != nil {
		return nil, fmt.Errorf("oidckeys: OpenID Connect discovery of %q: %w", issuerURL, err)
	}
	var doc struct {
		JWKSURI string `json:"jwks_uri"`
	}
	if err := provider.Claims(&doc); err != nil {
		return nil, fmt.Errorf("oidckeys: OpenID Connect discovery of %q: %w", issuerURL, err)
	}
	if err := checkProviderURL(doc.JWKSURI); err != nil {
		return nil, fmt.Errorf("oidckeys: OpenID Connect issuer %q: jwks_uri %q: %w: %w", issuerURL, doc.JWKSURI, ErrIssuerURL, err)
	}
	// The refreshing outlives ctx (which bounds start-up only) until
	// Close.
	life, cancel := context.WithCancel(context.WithoutCancel(ctx))
	noErrorFirst := false
	timeout := DefaultHTTPTimeout
	if opts.HTTPClient.Timeout > 0 {
		timeout = opts.HTTPClient.Timeout
	}
	fetched, err := keyfunc.NewDefaultOverrideCtx(life, []string{doc.JWKSURI}, keyfunc.Override{
		Client:                    opts.HTTPClient,
		HTTPTimeout:               timeout,
		NoErrorReturnFirstHTTPReq: &noErrorFirst,
		RefreshInterval:           opts.RefreshInterval,
		// Burst 1: the first unknown kid fetches at once, the next
		// waits out the interval.
		RefreshUnknownKID: rate.NewLimiter(rate.Every(opts.UnknownKIDInterval), 1),
		// How long a token with an unknown kid may wait for the
		// limiter and the fetch together: a kid arriving more than this
		// before the limiter allows the next fetch is refused at once.
		RateLimitWaitMax: timeout,
		RefreshErrorHandlerFunc: func(u string) func(context.Context, error) {
			return func(ctx context.Context, err error) {
				opts.Logger.WarnContext(ctx, "OpenID Connect keys not refreshed; the keys held still verify", "issuer", issuerURL, "jwks_uri", u, "error", err)
			}
		},
	})
	if err != nil {
		cancel()
		return nil, fmt.Errorf("oidckeys: OpenID Connect issuer %q: JWKS: %w", issuerURL, err)
	}
	// Only signing keys: a key published for encryption (use "enc")
	// verifies nothing; a key that does not say is taken as a signing
	// key, as most providers leave use out.
	keys, err := keyfunc.New(keyfunc.Options{Ctx: life, Storage: fetched.Storage(), UseWhitelist: []jwkset.USE{jwkset.UseSig, ""}})
	if err != nil {
		cancel()
		return nil, fmt.Errorf("oidckeys: OpenID Connect issuer %q: %w", issuerURL, err)
	}
	return &Issuer{url: issuerURL, keys: keys, cancel: cancel}, nil
}

// checkProviderURL holds an issuer's or its JWKS's URL to https, or http on
// a loopback address: keys fetched over plain HTTP from elsewhere could be
// anyone's.
func checkProviderURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return err
	}
	if u.Host == "" {
		return errors.New("not an absolute URL")
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		host := u.Hostname()
		if host == "localhost" {
			return nil
		}
		if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
			return nil
		}
		return errors.New("plain http elsewhere than on a loopback address")
	}
	return fmt.Errorf("scheme %q", u.Scheme)
}
