// Package stack starts the whole Chapterhouse system in one process: the
// four gRPC services and the REST gateway, on miniredis or a given Redis.
// The devstack command and the end-to-end tests both use it.
package stack

import (
	"context"
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"golang.org/x/sync/errgroup"

	gateway "github.com/tjsia/chapterhouse/gateway/app"
	"github.com/tjsia/chapterhouse/platform/auth"
	"github.com/tjsia/chapterhouse/platform/auth/oidckeys"
	"github.com/tjsia/chapterhouse/platform/bootstrap"
	"github.com/tjsia/chapterhouse/platform/pagetoken"
	"github.com/tjsia/chapterhouse/platform/redisstore"
	"github.com/tjsia/chapterhouse/platform/servicecall"
	"github.com/tjsia/chapterhouse/platform/telemetry"
	governancev1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/governance/v1"
	activities "github.com/tjsia/chapterhouse/services/activities/app"
	governance "github.com/tjsia/chapterhouse/services/governance/app"
	membership "github.com/tjsia/chapterhouse/services/membership/app"
	standards "github.com/tjsia/chapterhouse/services/standards/app"
)

// Options configure a stack.
type Options struct {
	// RateLimits are the gateway's budgets; zero means its defaults.
	RateLimits gateway.RateLimits
	// RedisURL of a real Redis; empty starts an embedded miniredis.
	RedisURL string
	// RedisURLs gives a service a Redis of its own, by service name; the
	// others use RedisURL. Consumers then read a producer's events from the
	// producer's Redis, as with per-service Redis in production.
	RedisURLs map[string]string
	// HTTPAddr for the gateway; default 127.0.0.1:0 (a free port).
	HTTPAddr string
	// IssuerAddr for the embedded OpenID Provider; default 127.0.0.1:0.
	IssuerAddr string
	Logger     *slog.Logger
	// SpanProcessor, when set, receives every service's spans (tests).
	SpanProcessor sdktrace.SpanProcessor
	// Getenv feeds OTEL_* settings; default os.Getenv.
	Getenv func(string) string
	// Branches governance creates at start (the others learn them from
	// its events); default ["ai"].
	Branches []string
	// AllowedOrigins for the gateway's CORS.
	AllowedOrigins []string
	// Now overrides the services' clock (tests).
	Now func() time.Time
	// LinkVerifiedEmail has membership link an identity of the embedded
	// provider to the seeded person of its verified e-mail
	// (AUTH_LINK_VERIFIED_EMAIL); off, as in a branch by default.
	LinkVerifiedEmail bool
}

// Stack is a running system.
type Stack struct {
	// GatewayURL is the REST base URL, e.g. http://127.0.0.1:8080.
	GatewayURL string
	// Addrs are the services' gRPC addresses by name.
	Addrs map[string]string
	// Embedded is true when the store is the in-memory miniredis.
	Embedded bool
	// Redis is a client of the store, for tests that inspect it.
	Redis redis.UniversalClient
	// Issuer is the embedded OpenID Provider's issuer URL, and LoginURL
	// its development login page (identity.go); empty when attached.
	Issuer, LoginURL string

	signer *auth.Signer
	cancel context.CancelFunc
	group  *errgroup.Group
	closes []func() error
	// services stop one by one (StopService), each with its own context.
	services map[string]*running
}

type running struct {
	cancel context.CancelFunc
	done   chan struct{}
}

// serve runs one service's Run in the group under a context of its own.
func (s *Stack) serve(g *errgroup.Group, ctx context.Context, name string, run func(ctx context.Context) error) {
	ctx, cancel := context.WithCancel(ctx)
	r := &running{cancel: cancel, done: make(chan struct{})}
	s.services[name] = r
	g.Go(func() error {
		defer close(r.done)
		return run(ctx)
	})
}

// StopService stops one service, as if its pods were gone, and returns
// once it has stopped; the rest keep running. Tests use it to show what
// callers of a service that is down get.
func (s *Stack) StopService(name string) error {
	r, ok := s.services[name]
	if !ok {
		return fmt.Errorf("stack: no service %q", name)
	}
	r.cancel()
	<-r.done
	return nil
}

// Start brings everything up and returns once the gateway reports ready.
func Start(ctx context.Context, opts Options) (*Stack, error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	if opts.Getenv == nil {
		opts.Getenv = os.Getenv
	}
	if opts.HTTPAddr == "" {
		opts.HTTPAddr = "127.0.0.1:0"
	}
	if opts.IssuerAddr == "" {
		opts.IssuerAddr = "127.0.0.1:0"
	}
	if len(opts.Branches) == 0 {
		opts.Branches = []string{"ai"}
	}
	s := &Stack{Addrs: map[string]string{}, services: map[string]*running{}}
	ok := false
	defer func() {
		if !ok {
			s.closeAll()
		}
	}()

	redisURL := opts.RedisURL
	if redisURL == "" {
		mr := miniredis.NewMiniRedis()
		if err := mr.StartAddr("127.0.0.1:0"); err != nil {
			return nil, fmt.Errorf("stack: start miniredis: %w", err)
		}
		s.closes = append(s.closes, func() error { mr.Close(); return nil })
		redisURL = "redis://" + mr.Addr() + "/0"
		s.Embedded = true
	}

	// The identity provider first: the services will trust its issuer.
	if err := s.startIdentityProvider(ctx, opts.IssuerAddr); err != nil {
		return nil, err
	}

	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("stack: signing key: %w", err)
	}
	s.signer = auth.NewSigner(key, auth.DefaultIssuer, auth.DefaultAudience)
	// The services trust the embedded provider as they would the
	// association's own, and the static key beside it for the tokens the
	// devstack prints.
	provider, err := oidckeys.DiscoverIssuer(ctx, s.Issuer, oidckeys.Options{Logger: opts.Logger})
	if err != nil {
		return nil, fmt.Errorf("stack: %w", err)
	}
	verifier, err := auth.NewVerifier([]crypto.PublicKey{s.signer.PublicKey()}, auth.DefaultIssuer, auth.DefaultAudience, auth.WithOIDCIssuers(provider))
	if err != nil {
		return nil, err
	}
	s.closes = append(s.closes, func() error { verifier.Close(); return nil })

	// One page token key for the whole system, made up at start: the
	// services run once each, in this process, so no replica or restart
	// needs to share it (a restarted devstack refuses its old tokens).
	pages := pagetoken.NewEphemeral()
	// The services' service call keys, likewise one set for the system,
	// held by the services and never the gateway.
	calls := servicecall.NewEphemeral()

	redisFor := func(name string) string {
		if url := opts.RedisURLs[name]; url != "" {
			return url
		}
		return redisURL
	}
	deps := func(name string, sources ...string) (bootstrap.Deps, error) {
		tel, err := telemetry.New(ctx, telemetry.Config{ServiceName: name, ServiceVersion: bootstrap.Version(), SpanProcessor: opts.SpanProcessor, Getenv: opts.Getenv})
		if err != nil {
			return bootstrap.Deps{}, err
		}
		s.closes = append(s.closes, func() error {
			flush, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			return tel.Shutdown(flush)
		})
		open := func(url string) (redis.UniversalClient, error) {
			client, err := redisstore.Open(ctx, redisstore.Config{URL: url, TracerProvider: tel.TracerProvider, MeterProvider: tel.MeterProvider})
			if err != nil {
				return nil, err
			}
			s.closes = append(s.closes, client.Close)
			return client, nil
		}
		client, err := open(redisFor(name))
		if err != nil {
			return bootstrap.Deps{}, err
		}
		d := bootstrap.Deps{Logger: opts.Logger.With("service", name), Telemetry: tel, Redis: client, Verifier: verifier,
			PageTokens: pages, EventSources: map[string]redis.UniversalClient{}}
		if name != gateway.Name {
			d.ServiceCalls = calls
		}
		for _, producer := range sources {
			if d.EventSources[producer], err = open(redisFor(producer)); err != nil {
				return bootstrap.Deps{}, err
			}
		}
		return d, nil
	}
	service := func(name string, needs bootstrap.Needs) (bootstrap.ServiceConfig, error) {
		d, err := deps(name, needs.EventSources...)
		if err != nil {
			return bootstrap.ServiceConfig{}, err
		}
		lis, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return bootstrap.ServiceConfig{}, fmt.Errorf("stack: listen for %s: %w", name, err)
		}
		s.Addrs[name] = lis.Addr().String()
		return bootstrap.ServiceConfig{Deps: d, Listener: lis, ConsumerName: "devstack"}, nil
	}

	runCtx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	g, gctx := errgroup.WithContext(runCtx)
	s.group = g

	issuer := s.Issuer
	memberCfg, err := service(membership.Name, membership.Needs)
	if err != nil {
		return nil, err
	}
	s.Redis = memberCfg.Redis
	s.serve(g, gctx, membership.Name, func(gctx context.Context) error {
		// The secretariat is the first admin, linked to its identity at
		// the embedded provider by configuration, as a branch that signs
		// in only at its own provider starts (AUTH_FIRST_ADMIN_ISSUER).
		return membership.Run(gctx, membership.Config{ServiceConfig: memberCfg, Now: opts.Now,
			FirstAdmin: AdminSubject, FirstAdminIdentity: auth.Identity{Issuer: issuer, Subject: IdentitySubject(personID(AdminSubject))},
			LinkVerifiedEmail: opts.LinkVerifiedEmail})
	})
	actCfg, err := service(activities.Name, activities.Needs)
	if err != nil {
		return nil, err
	}
	// Activities and governance call each other, so both listen before
	// either starts.
	govCfg, err := service(governance.Name, governance.Needs)
	if err != nil {
		return nil, err
	}
	// Each service's goroutine gets its peers' addresses as values: s.Addrs
	// is still being written while the earlier services start.
	membershipAddr, governanceAddr := s.Addrs[membership.Name], s.Addrs[governance.Name]
	s.serve(g, gctx, activities.Name, func(gctx context.Context) error {
		return activities.Run(gctx, activities.Config{ServiceConfig: actCfg, MembershipAddr: membershipAddr, GovernanceAddr: governanceAddr,
			Now: opts.Now, FollowInterval: time.Second})
	})
	// Governance owns the branches: it creates the initial ones, with
	// CHARTER.md's parameters, the way the chart has it do.
	var initial []governance.InitialBranch
	for _, b := range opts.Branches {
		initial = append(initial, governance.InitialBranch{ID: b, Branch: &governancev1.Branch{DisplayName: initialDisplayName(b)}})
	}
	activitiesAddr := s.Addrs[activities.Name]
	s.serve(g, gctx, governance.Name, func(gctx context.Context) error {
		return governance.Run(gctx, governance.Config{ServiceConfig: govCfg, MembershipAddr: membershipAddr,
			ActivitiesAddr: activitiesAddr, InitialBranches: initial, Now: opts.Now, FollowInterval: time.Second})
	})
	stdCfg, err := service(standards.Name, standards.Needs)
	if err != nil {
		return nil, err
	}
	s.serve(g, gctx, standards.Name, func(gctx context.Context) error {
		return standards.Run(gctx, standards.Config{ServiceConfig: stdCfg, MembershipAddr: membershipAddr,
			GovernanceAddr: governanceAddr, ActivitiesAddr: activitiesAddr, Now: opts.Now, FollowInterval: time.Second})
	})

	gwDeps, err := deps(gateway.Name)
	if err != nil {
		return nil, err
	}
	gwLis, err := net.Listen("tcp", opts.HTTPAddr)
	if err != nil {
		return nil, fmt.Errorf("stack: gateway listen on %s: %w", opts.HTTPAddr, err)
	}
	s.GatewayURL = "http://" + gwLis.Addr().String()
	g.Go(func() error {
		return gateway.Run(gctx, gateway.Config{
			Logger: gwDeps.Logger, Telemetry: gwDeps.Telemetry, Listener: gwLis, AllowedOrigins: opts.AllowedOrigins,
			Backends: s.Addrs, Redis: gwDeps.Redis, Verifier: gwDeps.Verifier, RateLimits: opts.RateLimits,
			SignInIssuer: s.Issuer,
		})
	})
	if err := s.waitReady(ctx, 15*time.Second); err != nil {
		return nil, err
	}
	if err := s.waitForBranches(ctx, opts.Branches, 15*time.Second); err != nil {
		return nil, err
	}
	ok = true
	return s, nil
}

func (s *Stack) waitReady(ctx context.Context, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	client := &http.Client{Timeout: time.Second}
	for {
		resp, err := client.Get(s.GatewayURL + "/diagz/backends")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("stack: gateway not ready after %s (last error %v)", timeout, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// waitForBranches returns once membership, activities and standards have learnt
// governance's initial branches from its events, so the stack is usable
// the moment Start returns.
func (s *Stack) waitForBranches(ctx context.Context, branches []string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	client := &http.Client{Timeout: time.Second}
	admin := s.Token(AdminSubject)
	for _, b := range branches {
		for _, path := range []string{"/v1/branches/" + b + "/members", "/v1/branches/" + b + "/activities", "/v1/branches/" + b + "/standards"} {
			for {
				req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.GatewayURL+path, nil)
				if err != nil {
					return err
				}
				req.Header.Set("Authorization", "Bearer "+admin)
				resp, err := client.Do(req)
				if err == nil {
					resp.Body.Close()
					if resp.StatusCode == http.StatusOK {
						break
					}
				}
				if time.Now().After(deadline) {
					return fmt.Errorf("stack: %s not served %s after start (last error %v)", path, timeout, err)
				}
				select {
				case <-ctx.Done():
					return ctx.Err()
				case <-time.After(20 * time.Millisecond):
				}
			}
		}
	}
	return nil
}

// initialDisplayName names the devstack's branches: "ai" is the AI branch
// Chapterhouse was built for.
func initialDisplayName(id string) string {
	if id == "ai" {
		return "人工智能分会"
	}
	return "branch " + id
}

// Token mints a static-key bearer token for subject (people/<id>), valid
// for the longest lifetime a verifier accepts by default (a day), and sees
// that subject holds roles: a token's roles claim grants nothing, so each
// role is granted the way the secretariat grants it, as a role binding
// (CreateRoleBinding as the first admin, every time: a test may have
// revoked it), creating the person first when it does not exist. It panics when membership refuses: the stack is then
// broken, and Token is for tests and the benchmark.
func (s *Stack) Token(subject string, roles ...string) string {
	for _, role := range roles {
		if err := s.grant(subject, role); err != nil {
			panic(fmt.Sprintf("stack: grant %s to %s: %v", role, subject, err))
		}
	}
	tok, err := s.signer.Sign(subject, roles, auth.DefaultMaxLifetime)
	if err != nil {
		panic(err) // Ed25519 signing of a fixed claim set cannot fail.
	}
	return tok
}

// Wait blocks until the stack stops; it returns the first failure.
func (s *Stack) Wait() error {
	if s.group == nil {
		return errors.New("stack: attached to a system started elsewhere")
	}
	return s.group.Wait()
}

// Stop shuts everything down gracefully and releases it.
func (s *Stack) Stop() error {
	if s.cancel == nil {
		return nil // attached: the system is stopped by whoever started it
	}
	s.cancel()
	err := s.group.Wait()
	s.closeAll()
	if errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}

func (s *Stack) closeAll() {
	if s.cancel != nil {
		s.cancel()
	}
	if s.group != nil {
		_ = s.group.Wait()
	}
	for i := len(s.closes) - 1; i >= 0; i-- {
		_ = s.closes[i]()
	}
	s.closes = nil
}

// Attach is a Stack for a system started elsewhere (separate processes,
// as the system benchmark runs it): Token, DemoTokens and Seed work on it;
// Stop, Wait and StopService do not.
func Attach(gatewayURL string, addrs map[string]string, signer *auth.Signer, rdb redis.UniversalClient) *Stack {
	return &Stack{GatewayURL: gatewayURL, Addrs: addrs, Redis: rdb, signer: signer, services: map[string]*running{}}
}
