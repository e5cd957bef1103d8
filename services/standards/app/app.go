// Package app is the standards service's one public entry point: both its
// own binary and the devstack call Run with a Config.
package app

import (
	"context"
	"errors"
	"fmt"
	"time"
	// Days (publication, effect, withdrawal) are judged in Asia/Shanghai;
	// a minimal container image has no zoneinfo, so the binary carries its
	// own.
	_ "time/tzdata"

	"google.golang.org/grpc"

	aclient "github.com/tjsia/chapterhouse/contracts/activities/client"
	"github.com/tjsia/chapterhouse/contracts/governance/branches/directory"
	govclient "github.com/tjsia/chapterhouse/contracts/governance/client"
	gstreams "github.com/tjsia/chapterhouse/contracts/governance/streams"
	mclient "github.com/tjsia/chapterhouse/contracts/membership/client"
	mstreams "github.com/tjsia/chapterhouse/contracts/membership/streams"
	stdclient "github.com/tjsia/chapterhouse/contracts/standards/client"
	"github.com/tjsia/chapterhouse/platform/bootstrap"
	"github.com/tjsia/chapterhouse/platform/follow"
	standardsv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/standards/v1"

	"github.com/tjsia/chapterhouse/services/standards/internal/domain"
	"github.com/tjsia/chapterhouse/services/standards/internal/peers"
	"github.com/tjsia/chapterhouse/services/standards/internal/server"
	"github.com/tjsia/chapterhouse/services/standards/internal/store"
)

// Name is the service name in telemetry and events.
const Name = "standards"

// DefaultAddr is where the binary listens unless LISTEN_ADDR says otherwise.
const DefaultAddr = ":" + stdclient.Port

// BranchesTag is the hash tag of standards' copy of governance's branches
// (in standards' own Redis).
const BranchesTag = "std:branches"

// Needs are the dependencies the binary builds from the environment: its
// own Redis, and the Redis of the producers whose events it consumes,
// membership's (MEMBERSHIP_REDIS_URL: MemberTerminated) and governance's
// (GOVERNANCE_REDIS_URL: branches and their leaders); REDIS_URL when
// unset.
var Needs = bootstrap.Needs{Redis: true, Verifier: true, PageTokens: true, ServiceCalls: true, EventSources: []string{mstreams.Producer, gstreams.Producer}}

// Config configures one standards instance.
type Config struct {
	bootstrap.ServiceConfig
	// The peers' gRPC targets: membership (members and representatives),
	// governance (council resolutions), activities (promotions).
	MembershipAddr, GovernanceAddr, ActivitiesAddr string
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// FollowInterval is how often new branches' streams are looked for;
	// default 5s.
	FollowInterval time.Duration
}

// Run serves until ctx is done, then drains and returns.
func Run(ctx context.Context, cfg Config) error {
	if cfg.Listener == nil || cfg.Redis == nil || cfg.Verifier == nil || cfg.PageTokens == nil || cfg.ServiceCalls == nil || cfg.Telemetry == nil || cfg.Logger == nil ||
		cfg.MembershipAddr == "" || cfg.GovernanceAddr == "" || cfg.ActivitiesAddr == "" {
		return errors.New("standards: Config needs Listener, Redis, Verifier, PageTokens, ServiceCalls, Telemetry, Logger, MembershipAddr, GovernanceAddr and ActivitiesAddr")
	}
	members, err := cfg.Dial(Name, cfg.MembershipAddr, mclient.Service)
	if err != nil {
		return err
	}
	defer members.Close()
	gov, err := cfg.Dial(Name, cfg.GovernanceAddr, govclient.Service)
	if err != nil {
		return err
	}
	defer gov.Close()
	acts, err := cfg.Dial(Name, cfg.ActivitiesAddr, aclient.Service)
	if err != nil {
		return err
	}
	defer acts.Close()

	// Which branches exist, their code formats and who leads them are
	// governance's to say; standards keeps a copy from its events.
	known := directory.New(cfg.Redis, BranchesTag, cfg.Now)
	svc := domain.NewService(domain.Config{
		Repo: store.New(cfg.Redis), Branches: directory.Confirm(known, govclient.NewOfficers(gov, 3*time.Second)), Now: cfg.Now,
		Members:     peers.NewMembers(members, 3*time.Second),
		Resolutions: peers.NewResolutions(gov, 3*time.Second),
		Activities:  peers.NewActivities(acts, 5*time.Second),
		Pages:       cfg.PageTokens,
	})
	// Governance's branches and leaders keep the directory; each branch's
	// MemberTerminated (membership) ends what the member held.
	followed, err := follow.New(cfg.Follow(Name, cfg.FollowInterval),
		known.FollowBranches(), known.FollowOfficers(), mstreams.FollowBranches(svc.HandleEvent))
	if err != nil {
		return fmt.Errorf("standards: %w", err)
	}
	// Who an OpenID Connect identity is, membership says, unless the
	// caller supplies its own resolver (a test's table of identities, or
	// an operator's): that one is kept.
	if cfg.Accounts == nil {
		cfg.Accounts = mclient.NewCallers(mclient.New(members, 3*time.Second), mclient.CallerTTL)
	}
	return cfg.Serve(ctx, Name, followed, func(srv *grpc.Server) {
		standardsv1.RegisterStandardsServiceServer(srv, server.New(svc))
	})
}

// ConfigFromEnv reads the standards settings from the environment.
func ConfigFromEnv(getenv func(string) string, deps bootstrap.Deps) (Config, error) {
	base, err := bootstrap.ServiceConfigFromEnv(getenv, deps, DefaultAddr)
	if err != nil {
		return Config{}, fmt.Errorf("standards: %w", err)
	}
	return Config{
		ServiceConfig:  base,
		MembershipAddr: bootstrap.Env(getenv, mclient.AddrEnv, mclient.DefaultAddr),
		GovernanceAddr: bootstrap.Env(getenv, govclient.AddrEnv, govclient.DefaultAddr),
		ActivitiesAddr: bootstrap.Env(getenv, aclient.AddrEnv, aclient.DefaultAddr),
	}, nil
}
