// Package app is the governance service's one public entry point: both its
// own binary and the devstack call Run with a Config.
package app

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	// "Today" and ages are judged in Asia/Shanghai; a minimal container
	// image has no zoneinfo, so the binary carries its own.
	_ "time/tzdata"

	"google.golang.org/grpc"

	aclient "github.com/tjsia/chapterhouse/contracts/activities/client"
	govclient "github.com/tjsia/chapterhouse/contracts/governance/client"
	mclient "github.com/tjsia/chapterhouse/contracts/membership/client"
	mstreams "github.com/tjsia/chapterhouse/contracts/membership/streams"
	"github.com/tjsia/chapterhouse/platform/bootstrap"
	"github.com/tjsia/chapterhouse/platform/follow"
	governancev1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/governance/v1"
	membershipv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/membership/v1"

	"github.com/tjsia/chapterhouse/services/governance/internal/domain"
	"github.com/tjsia/chapterhouse/services/governance/internal/peers"
	"github.com/tjsia/chapterhouse/services/governance/internal/server"
	"github.com/tjsia/chapterhouse/services/governance/internal/store"
)

// Name is the service name in telemetry and events.
const Name = "governance"

// DefaultAddr is where the binary listens unless LISTEN_ADDR says otherwise.
const DefaultAddr = ":" + govclient.Port

// Needs are the dependencies the binary builds from the environment: its
// own Redis, and membership's, whose MemberTerminated events it follows
// (MEMBERSHIP_REDIS_URL; REDIS_URL when unset).
var Needs = bootstrap.Needs{Redis: true, Verifier: true, PageTokens: true, ServiceCalls: true, EventSources: []string{mstreams.Producer}}

// InitialBranch is a branch governance creates at start when it does not
// exist yet; an existing branch is never changed by it.
type InitialBranch struct {
	ID     string
	Branch *governancev1.Branch
}

// Config configures one governance instance.
type Config struct {
	bootstrap.ServiceConfig
	// MembershipAddr and ActivitiesAddr are the peers' gRPC targets.
	MembershipAddr string
	ActivitiesAddr string
	// InitialBranches are created at start when missing.
	InitialBranches []InitialBranch
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// FollowInterval is how often new branches' membership streams are
	// looked for; default 5s.
	FollowInterval time.Duration
}

// Run serves until ctx is done, then drains and returns.
func Run(ctx context.Context, cfg Config) error {
	if cfg.Listener == nil || cfg.Redis == nil || cfg.Verifier == nil || cfg.PageTokens == nil || cfg.ServiceCalls == nil || cfg.Telemetry == nil || cfg.Logger == nil ||
		cfg.MembershipAddr == "" || cfg.ActivitiesAddr == "" {
		return errors.New("governance: Config needs Listener, Redis, Verifier, PageTokens, ServiceCalls, Telemetry, Logger, MembershipAddr and ActivitiesAddr")
	}
	members, err := cfg.Dial(Name, cfg.MembershipAddr, mclient.Service)
	if err != nil {
		return err
	}
	defer members.Close()
	acts, err := cfg.Dial(Name, cfg.ActivitiesAddr, aclient.Service)
	if err != nil {
		return err
	}
	defer acts.Close()

	st := store.New(cfg.Redis)
	svc := domain.NewService(st, peers.NewPeople(members, 3*time.Second), peers.NewActivities(acts, 3*time.Second), cfg.PageTokens, cfg.Now)
	for _, ib := range cfg.InitialBranches {
		if _, err := svc.EnsureBranch(ctx, ib.ID, ib.Branch); err != nil {
			return fmt.Errorf("governance: initial branch %s: %w", ib.ID, err)
		}
	}

	// MemberTerminated arrives on each branch's membership stream, read
	// from membership's Redis.
	followed, err := follow.New(cfg.Follow(Name, cfg.FollowInterval), mstreams.FollowBranches(svc.HandleEvent))
	if err != nil {
		return fmt.Errorf("governance: %w", err)
	}
	// Who an OpenID Connect identity is, membership says, unless the
	// caller supplies its own resolver (a test's table of identities, or
	// an operator's): that one is kept.
	if cfg.Accounts == nil {
		cfg.Accounts = mclient.NewCallers(mclient.New(members, 3*time.Second), mclient.CallerTTL)
	}
	return cfg.Serve(ctx, Name, followed, func(srv *grpc.Server) {
		governancev1.RegisterGovernanceServiceServer(srv, server.New(svc))
	})
}

// ConfigFromEnv reads the governance settings from the environment. The
// initial branch (INITIAL_BRANCH, default "ai") takes its display name
// from INITIAL_BRANCH_DISPLAY_NAME and its charter parameters from the
// charter settings (MIN_EXCHANGE_ACTIVITIES_PER_YEAR, MAX_CONSECUTIVE_TERMS,
// MIN_REPRESENTATIVE_RANK, CHAIR_MAX_AGE, DIRECTOR_MAX_AGE, COUNCIL_QUORUM,
// COUNCIL_MAJORITY, MAX_DIRECTOR_NOMINEES_PER_MEMBER); unset ones take
// CHARTER.md's defaults. They are read only to create the branch when it
// is missing: after that, the branch in governance is the one source.
func ConfigFromEnv(getenv func(string) string, deps bootstrap.Deps) (Config, error) {
	base, err := bootstrap.ServiceConfigFromEnv(getenv, deps, DefaultAddr)
	if err != nil {
		return Config{}, fmt.Errorf("governance: %w", err)
	}
	cfg := Config{
		ServiceConfig:  base,
		MembershipAddr: bootstrap.Env(getenv, mclient.AddrEnv, mclient.DefaultAddr),
		ActivitiesAddr: bootstrap.Env(getenv, aclient.AddrEnv, aclient.DefaultAddr),
	}
	if id := bootstrap.Env(getenv, "INITIAL_BRANCH", "ai"); id != "" && id != "-" {
		params, err := CharterFromEnv(getenv)
		if err != nil {
			return Config{}, fmt.Errorf("governance: %w", err)
		}
		cfg.InitialBranches = []InitialBranch{{ID: id, Branch: &governancev1.Branch{
			DisplayName: bootstrap.Env(getenv, "INITIAL_BRANCH_DISPLAY_NAME", "人工智能分会"), Parameters: params,
		}}}
	}
	return cfg, nil
}

// CharterFromEnv reads the charter settings; unset ones stay zero, which
// CreateBranch fills with CHARTER.md's defaults.
func CharterFromEnv(getenv func(string) string) (*governancev1.CharterParameters, error) {
	p := &governancev1.CharterParameters{}
	ints := []struct {
		env string
		dst *int32
	}{
		{"MIN_EXCHANGE_ACTIVITIES_PER_YEAR", &p.MinExchangeActivitiesPerYear},
		{"MAX_CONSECUTIVE_TERMS", &p.MaxConsecutiveTerms},
		{"CHAIR_MAX_AGE", &p.ChairMaxAge},
		{"DIRECTOR_MAX_AGE", &p.DirectorMaxAge},
		{"MAX_DIRECTOR_NOMINEES_PER_MEMBER", &p.MaxDirectorNomineesPerMember},
	}
	for _, i := range ints {
		v := getenv(i.env)
		if v == "" {
			continue
		}
		n, err := strconv.ParseInt(v, 10, 32)
		if err != nil || n < 1 || n > 120 {
			return nil, fmt.Errorf("%s must be a whole number from 1 to 120, not %q", i.env, v)
		}
		*i.dst = int32(n)
	}
	if v := getenv("MIN_REPRESENTATIVE_RANK"); v != "" {
		r, ok := membershipv1.Rank_value["RANK_"+strings.TrimPrefix(v, "RANK_")]
		if !ok || r == 0 {
			return nil, fmt.Errorf("MIN_REPRESENTATIVE_RANK %q is not a rank (e.g. VICE_PRESIDENT)", v)
		}
		p.MinRepresentativeRank = membershipv1.Rank(r)
	}
	for _, f := range []struct {
		env string
		dst **governancev1.Fraction
	}{{"COUNCIL_QUORUM", &p.Quorum}, {"COUNCIL_MAJORITY", &p.Majority}} {
		v := getenv(f.env)
		if v == "" {
			continue
		}
		num, den, ok := strings.Cut(v, "/")
		n, err1 := strconv.ParseInt(num, 10, 32)
		d, err2 := strconv.ParseInt(den, 10, 32)
		if !ok || err1 != nil || err2 != nil || d < 1 || n < 0 || n > d {
			return nil, fmt.Errorf("%s must be a fraction from 0 to 1 such as 2/3, not %q", f.env, v)
		}
		*f.dst = &governancev1.Fraction{Numerator: int32(n), Denominator: int32(d)}
	}
	return p, nil
}
