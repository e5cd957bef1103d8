// Package app is the activities service's one public entry point: both its
// own binary and the devstack call Run with a Config.
package app

import (
	"context"
	"errors"
	"fmt"
	"time"

	// Activity times are shown in IANA zones; a minimal container image
	// has no zoneinfo, so the binary carries its own.
	_ "time/tzdata"

	"google.golang.org/grpc"

	aclient "github.com/tjsia/chapterhouse/contracts/activities/client"
	"github.com/tjsia/chapterhouse/contracts/governance/branches/directory"
	govclient "github.com/tjsia/chapterhouse/contracts/governance/client"
	gstreams "github.com/tjsia/chapterhouse/contracts/governance/streams"
	mclient "github.com/tjsia/chapterhouse/contracts/membership/client"
	mstreams "github.com/tjsia/chapterhouse/contracts/membership/streams"
	"github.com/tjsia/chapterhouse/platform/bootstrap"
	"github.com/tjsia/chapterhouse/platform/follow"
	activitiesv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/activities/v1"

	"github.com/tjsia/chapterhouse/services/activities/internal/domain"
	"github.com/tjsia/chapterhouse/services/activities/internal/membership"
	"github.com/tjsia/chapterhouse/services/activities/internal/server"
	"github.com/tjsia/chapterhouse/services/activities/internal/store"
)

// Needs are the dependencies the binary builds from the environment: its
// own Redis, and the Redis of the producers whose events it consumes,
// membership's (MEMBERSHIP_REDIS_URL) and governance's
// (GOVERNANCE_REDIS_URL); REDIS_URL when unset.
var Needs = bootstrap.Needs{Redis: true, Verifier: true, PageTokens: true, ServiceCalls: true, EventSources: []string{mstreams.Producer, gstreams.Producer}}

// BranchesTag is the hash tag of activities' copy of governance's branches
// (in activities' own Redis).
const BranchesTag = "act:branches"

// Name is the service name in telemetry and events.
const Name = "activities"

// DefaultAddr is where the binary listens unless LISTEN_ADDR says otherwise.
const DefaultAddr = ":" + aclient.Port

// Config configures one activities instance.
type Config struct {
	bootstrap.ServiceConfig
	// MembershipAddr is the membership service's gRPC address.
	MembershipAddr string
	// GovernanceAddr is the governance service's gRPC address, asked who
	// leads a branch when the branch directory has not heard yet.
	GovernanceAddr string
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// FollowInterval is how often new branches' streams are looked for;
	// default 5s.
	FollowInterval time.Duration
}

// Run serves until ctx is done, then drains and returns.
func Run(ctx context.Context, cfg Config) error {
	if cfg.Listener == nil || cfg.Redis == nil || cfg.Verifier == nil || cfg.PageTokens == nil || cfg.ServiceCalls == nil || cfg.Telemetry == nil || cfg.Logger == nil || cfg.MembershipAddr == "" || cfg.GovernanceAddr == "" {
		return errors.New("activities: Config needs Listener, Redis, Verifier, PageTokens, ServiceCalls, Telemetry, Logger, MembershipAddr and GovernanceAddr")
	}
	conn, err := cfg.Dial(Name, cfg.MembershipAddr, mclient.Service)
	if err != nil {
		return err
	}
	defer conn.Close()
	gov, err := cfg.Dial(Name, cfg.GovernanceAddr, govclient.Service)
	if err != nil {
		return err
	}
	defer gov.Close()
	st := store.New(cfg.Redis, cfg.Now)
	// Which branches exist, their A1 minimum and their chair and
	// secretary-general are governance's to say; activities keeps a copy
	// from governance's events.
	known := directory.New(cfg.Redis, BranchesTag, cfg.Now)
	svc := domain.NewService(st, membership.New(conn, 3*time.Second), domain.Config{
		Branches: directory.Confirm(known, govclient.NewOfficers(gov, 3*time.Second)), Pages: cfg.PageTokens, Now: cfg.Now})
	// Old-form index entries are rewritten before anything reads them.
	if err := reindex(ctx, cfg, known, st); err != nil {
		return err
	}
	// Governance's branches and officers keep the directory; each branch's
	// MemberTerminated (membership) cancels what the member held.
	followed, err := follow.New(cfg.Follow(Name, cfg.FollowInterval),
		known.FollowBranches(), known.FollowOfficers(), mstreams.FollowBranches(svc.HandleEvent))
	if err != nil {
		return fmt.Errorf("activities: %w", err)
	}
	// Who an OpenID Connect identity is, membership says, unless the
	// caller supplies its own resolver (a test's table of identities, or
	// an operator's): that one is kept.
	if cfg.Accounts == nil {
		cfg.Accounts = mclient.NewCallers(mclient.New(conn, 3*time.Second), mclient.CallerTTL)
	}
	return cfg.Serve(ctx, Name, followed, func(srv *grpc.Server) {
		activitiesv1.RegisterActivitiesServiceServer(srv, server.New(svc))
	})
}

// reindex is the start-up migration of the activity index: every branch
// the directory holds, rewritten to the current entry form.
func reindex(ctx context.Context, cfg Config, known *directory.Directory, st *store.Store) error {
	ids, err := known.IDs(ctx)
	if err != nil {
		return fmt.Errorf("activities: reindex: %w", err)
	}
	for _, branch := range ids {
		n, err := st.Reindex(ctx, branch)
		if err != nil {
			return fmt.Errorf("activities: reindex %s: %w", branch, err)
		}
		if n > 0 {
			cfg.Logger.InfoContext(ctx, "rewrote activity index entries of the old form", "branch", branch, "count", n)
		}
	}
	return nil
}

// ConfigFromEnv reads the activities settings from the environment.
func ConfigFromEnv(getenv func(string) string, deps bootstrap.Deps) (Config, error) {
	base, err := bootstrap.ServiceConfigFromEnv(getenv, deps, DefaultAddr)
	if err != nil {
		return Config{}, fmt.Errorf("activities: %w", err)
	}
	return Config{
		ServiceConfig:  base,
		MembershipAddr: bootstrap.Env(getenv, mclient.AddrEnv, mclient.DefaultAddr),
		GovernanceAddr: bootstrap.Env(getenv, govclient.AddrEnv, govclient.DefaultAddr),
	}, nil
}
