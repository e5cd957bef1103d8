// Package app is the standards service's one public entry point: both its
// own binary and the devstack call Run with a Config.
package app

import (
	"context"
	"errors"
	"fmt"
	aclient "github.com/tjsia/chapterhouse/contracts/activities/client"
	stdclient "github.com/tjsia/chapterhouse/contracts/standards/client"
	"time"

	"golang.org/x/sync/errgroup"
	"google.golang.org/grpc"

	// Days (publication, effect, withdrawal) are judged in Asia/Shanghai;
	// a minimal container image has no zoneinfo, so the binary carries its
	// own.
	_ "time/tzdata"

	mclient "github.com/tjsia/chapterhouse/contracts/membership/client"
	mstreams "github.com/tjsia/chapterhouse/contracts/membership/streams"
	"github.com/tjsia/chapterhouse/platform/bootstrap"
	"github.com/tjsia/chapterhouse/platform/follow"
	"github.com/tjsia/chapterhouse/platform/grpcclient"
	"github.com/tjsia/chapterhouse/platform/grpcserver"
	"github.com/tjsia/chapterhouse/platform/idempotency"
	"github.com/tjsia/chapterhouse/platform/redisstore"
	"github.com/tjsia/chapterhouse/platform/servicecall"
	standardsv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/standards/v1"

	"github.com/tjsia/chapterhouse/contracts/governance/branches/directory"
	govclient "github.com/tjsia/chapterhouse/contracts/governance/client"
	gstreams "github.com/tjsia/chapterhouse/contracts/governance/streams"

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
	if cfg.ConsumerName == "" {
		cfg.ConsumerName = Name
	}
	// Every call to another service says, with this service's credential,
	// which service makes it for the caller whose token it carries.
	caller := &servicecall.Caller{Service: Name, Keys: cfg.ServiceCalls}
	dial := func(name, addr, service string) (*grpc.ClientConn, error) {
		conn, err := grpcclient.Dial(addr, grpcclient.Config{Telemetry: cfg.Telemetry, Caller: caller, Services: []string{service}})
		if err != nil {
			return nil, fmt.Errorf("standards: %s client: %w", name, err)
		}
		return conn, nil
	}
	members, err := dial("membership", cfg.MembershipAddr, mclient.Service)
	if err != nil {
		return err
	}
	defer members.Close()
	gov, err := dial("governance", cfg.GovernanceAddr, govclient.Service)
	if err != nil {
		return err
	}
	defer gov.Close()
	acts, err := dial("activities", cfg.ActivitiesAddr, aclient.Service)
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
	srv, err := grpcserver.New(grpcserver.Config{
		Name: Name, Logger: cfg.Logger, Telemetry: cfg.Telemetry, Verifier: cfg.Verifier, ServiceCalls: cfg.ServiceCalls,
		DrainDelay:  cfg.DrainDelay,
		Idempotency: idempotency.New(cfg.Redis, 24*time.Hour),
		Readiness:   append([]grpcserver.Check{{Name: "redis", Probe: redisstore.Ping(cfg.Redis)}}, followed.Checks()...),
	})
	if err != nil {
		return fmt.Errorf("standards: %w", err)
	}
	standardsv1.RegisterStandardsServiceServer(srv.GRPC(), server.New(svc))

	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return srv.Serve(gctx, cfg.Listener) })
	g.Go(func() error { return followed.Run(gctx) })
	return g.Wait()
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
