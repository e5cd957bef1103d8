// Package app is the membership service's one public entry point: both its
// own binary and the devstack call Run with a Config.
package app

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"google.golang.org/grpc"

	"github.com/tjsia/chapterhouse/contracts/governance/branches/directory"
	gstreams "github.com/tjsia/chapterhouse/contracts/governance/streams"
	mclient "github.com/tjsia/chapterhouse/contracts/membership/client"
	"github.com/tjsia/chapterhouse/contracts/membership/streams"
	"github.com/tjsia/chapterhouse/platform/auth"
	"github.com/tjsia/chapterhouse/platform/bootstrap"
	"github.com/tjsia/chapterhouse/platform/follow"
	membershipv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/membership/v1"

	"github.com/tjsia/chapterhouse/services/membership/internal/domain"
	"github.com/tjsia/chapterhouse/services/membership/internal/server"
	"github.com/tjsia/chapterhouse/services/membership/internal/store"
)

// Needs are the dependencies the binary builds from the environment: its
// own Redis, and governance's, whose branch events it follows
// (GOVERNANCE_REDIS_URL; REDIS_URL when unset).
var Needs = bootstrap.Needs{Redis: true, Verifier: true, PageTokens: true, ServiceCalls: true, EventSources: []string{gstreams.Producer}}

// BranchesTag is the hash tag of membership's copy of governance's
// branches (in membership's own Redis): its streams contract's, since
// consumers learn from it which branch streams there are.
const BranchesTag = streams.BranchesTag

// Name is the service name in telemetry and events.
const Name = "membership"

// DefaultAddr is where the binary listens unless LISTEN_ADDR says otherwise.
const DefaultAddr = ":" + mclient.Port

// Config configures one membership instance.
type Config struct {
	bootstrap.ServiceConfig
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// FirstAdmin, people/{id}, is granted the admin role at start when no
	// ACTIVE admin binding exists (AUTH_FIRST_ADMIN); "" grants nothing.
	FirstAdmin string
	// FirstAdminIdentity, when set, is linked to FirstAdmin with that
	// first grant (AUTH_FIRST_ADMIN_ISSUER, AUTH_FIRST_ADMIN_SUBJECT): the
	// first admin signs in at the branch's identity provider and acts at
	// once, with no static key (domain.Service.EnsureFirstAdmin).
	FirstAdminIdentity auth.Identity
	// LinkVerifiedEmail links an OpenID Connect identity linked to no one
	// to the one person whose e-mail its verified email claim names
	// (AUTH_LINK_VERIFIED_EMAIL; domain.Service.Resolve). Off by default.
	LinkVerifiedEmail bool
}

// Run serves until ctx is done, then drains and returns.
func Run(ctx context.Context, cfg Config) error {
	if cfg.Listener == nil || cfg.Redis == nil || cfg.Verifier == nil || cfg.PageTokens == nil || cfg.ServiceCalls == nil || cfg.Telemetry == nil || cfg.Logger == nil {
		return errors.New("membership: Config needs Listener, Redis, Verifier, PageTokens, ServiceCalls, Telemetry and Logger")
	}
	// Which branches exist is governance's to say: membership keeps a
	// register for each branch whose BranchCreated it has seen.
	known := directory.New(cfg.Redis, streams.BranchesTag, cfg.Now)
	st := store.New(cfg.Redis)
	svc := domain.NewService(st, known, cfg.PageTokens, cfg.Now, domain.LinkVerifiedEmail(cfg.LinkVerifiedEmail))
	// The e-mail index is written with every person since it exists; the
	// people stored before are added here, at every start (idempotent and
	// safe on every replica at once; see store.BackfillEmailIndex), with
	// or without LinkVerifiedEmail, so turning it on later finds them.
	added, err := st.BackfillEmailIndex(ctx)
	if err != nil {
		return fmt.Errorf("membership: %w", err)
	}
	if added > 0 {
		cfg.Logger.InfoContext(ctx, "added people stored before the e-mail index to it", "people", added)
	}
	if cfg.FirstAdmin != "" {
		granted, err := svc.EnsureFirstAdmin(ctx, cfg.FirstAdmin, cfg.FirstAdminIdentity)
		if err != nil {
			return fmt.Errorf("membership: first admin %s: %w", cfg.FirstAdmin, err)
		}
		if granted {
			cfg.Logger.InfoContext(ctx, "granted the first admin role from configuration", "person", cfg.FirstAdmin,
				"issuer", cfg.FirstAdminIdentity.Issuer, "subject", cfg.FirstAdminIdentity.Subject)
		}
	}
	// Governance's branch register keeps the directory; membership's own
	// organisation events release or hold applications waiting for general
	// membership (M2).
	followed, err := follow.New(cfg.Follow(Name, 0), known.FollowBranches(), streams.FollowOrganizations(svc.HandleEvent))
	if err != nil {
		return fmt.Errorf("membership: %w", err)
	}
	// Who an OpenID Connect identity is, membership's own store says,
	// unless the caller supplies its own resolver (a test's table of
	// identities, or an operator's): that one is kept.
	if cfg.Accounts == nil {
		cfg.Accounts = svc
	}
	return cfg.Serve(ctx, Name, followed, func(srv *grpc.Server) {
		membershipv1.RegisterMembershipServiceServer(srv, server.New(svc))
	})
}

// ConfigFromEnv reads the membership settings from the environment.
func ConfigFromEnv(getenv func(string) string, deps bootstrap.Deps) (Config, error) {
	first := getenv("AUTH_FIRST_ADMIN")
	if first != "" {
		if _, err := domain.ParsePersonName(first); err != nil {
			return Config{}, fmt.Errorf("membership: AUTH_FIRST_ADMIN %q is not people/<id>: %w", first, err)
		}
	}
	identity, err := firstAdminIdentity(getenv, first)
	if err != nil {
		return Config{}, err
	}
	linkEmail, err := parseBool(getenv, "AUTH_LINK_VERIFIED_EMAIL")
	if err != nil {
		return Config{}, err
	}
	base, err := bootstrap.ServiceConfigFromEnv(getenv, deps, DefaultAddr)
	if err != nil {
		return Config{}, fmt.Errorf("membership: %w", err)
	}
	return Config{ServiceConfig: base, FirstAdmin: first, FirstAdminIdentity: identity, LinkVerifiedEmail: linkEmail}, nil
}

// parseBool reads a switch that is off unless set: exactly "true" or
// "false" (or unset), since a setting that links identities to people
// must not be turned on, or left off, by a typo.
func parseBool(getenv func(string) string, name string) (bool, error) {
	switch v := getenv(name); v {
	case "", "false":
		return false, nil
	case "true":
		return true, nil
	default:
		return false, fmt.Errorf("membership: %s %q is neither true nor false", name, v)
	}
}

// firstAdminIdentity reads AUTH_FIRST_ADMIN_ISSUER and
// AUTH_FIRST_ADMIN_SUBJECT: both or neither, only beside AUTH_FIRST_ADMIN,
// and the issuer one the services trust (AUTH_OIDC_ISSUERS), or the link
// could never be used.
func firstAdminIdentity(getenv func(string) string, first string) (auth.Identity, error) {
	id := auth.Identity{Issuer: getenv("AUTH_FIRST_ADMIN_ISSUER"), Subject: getenv("AUTH_FIRST_ADMIN_SUBJECT")}
	switch {
	case id.Issuer == "" && id.Subject == "":
		return auth.Identity{}, nil
	case id.Issuer == "" || id.Subject == "":
		return auth.Identity{}, errors.New("membership: AUTH_FIRST_ADMIN_ISSUER and AUTH_FIRST_ADMIN_SUBJECT go together")
	case first == "":
		return auth.Identity{}, errors.New("membership: AUTH_FIRST_ADMIN_ISSUER needs AUTH_FIRST_ADMIN, the person the identity is linked to")
	case !slices.Contains(bootstrap.OIDCIssuers(getenv), id.Issuer):
		return auth.Identity{}, fmt.Errorf("membership: AUTH_FIRST_ADMIN_ISSUER %q is not one of AUTH_OIDC_ISSUERS", id.Issuer)
	}
	return id, nil
}
