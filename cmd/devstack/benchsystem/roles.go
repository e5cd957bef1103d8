package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"runtime"

	gwruntime "github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"github.com/redis/go-redis/v9"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/proto"

	gateway "github.com/tjsia/chapterhouse/gateway/app"
	"github.com/tjsia/chapterhouse/platform/bootstrap"
	membershipv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/membership/v1"
	activities "github.com/tjsia/chapterhouse/services/activities/app"
	governance "github.com/tjsia/chapterhouse/services/governance/app"
	membership "github.com/tjsia/chapterhouse/services/membership/app"
	standards "github.com/tjsia/chapterhouse/services/standards/app"
)

// The benchmark runs every component as a process of its own, as in a
// deployment, by running itself again in a role: the environment says
// which, and the role reads the rest of its settings from the environment
// exactly as its binary does.
const (
	roleEnv  = "BENCHSYSTEM_ROLE"
	statsEnv = "BENCHSYSTEM_STATS_ADDR"
	// bareKeyEnv / bareAddrEnv / bareListenEnv configure the baseline.
	bareKeyEnv    = "BENCHSYSTEM_BARE_KEY"
	bareAddrEnv   = "BENCHSYSTEM_BARE_ADDR"
	bareListenEnv = "BENCHSYSTEM_BARE_LISTEN"
)

// runRole runs one component until it is signalled; it never returns.
func runRole(role string) {
	serveStats(os.Getenv(statsEnv))
	switch role {
	case membership.Name:
		bootstrap.Serve(membership.Name, membership.Needs, membership.ConfigFromEnv, membership.Run)
	case governance.Name:
		bootstrap.Serve(governance.Name, governance.Needs, governance.ConfigFromEnv, governance.Run)
	case activities.Name:
		bootstrap.Serve(activities.Name, activities.Needs, activities.ConfigFromEnv, activities.Run)
	case standards.Name:
		bootstrap.Serve(standards.Name, standards.Needs, standards.ConfigFromEnv, standards.Run)
	case gateway.Name:
		bootstrap.Serve(gateway.Name, gateway.Needs, gateway.ConfigFromEnv, gateway.Run)
	case "bare-service":
		exitOn(runBareService())
	case "bare-gateway":
		exitOn(runBareGateway())
	default:
		exitOn(fmt.Errorf("unknown role %q", role))
	}
	os.Exit(0)
}

func exitOn(err error) {
	if err != nil {
		fmt.Fprintf(os.Stderr, "benchsystem %s: %v\n", os.Getenv(roleEnv), err)
		os.Exit(1)
	}
}

// serveStats answers the orchestrator: the process's allocation count
// (/stats), its CPU profile (/debug/pprof/profile) and what it allocated
// (/debug/pprof/allocs?seconds=N).
func serveStats(addr string) {
	if addr == "" {
		return
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/stats", func(w http.ResponseWriter, _ *http.Request) {
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		_ = json.NewEncoder(w).Encode(map[string]uint64{"mallocs": m.Mallocs, "totalAlloc": m.TotalAlloc, "numGC": uint64(m.NumGC)})
	})
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.Handle("/debug/pprof/allocs", pprof.Handler("allocs"))
	lis, err := net.Listen("tcp", addr)
	exitOn(err)
	go func() { _ = http.Serve(lis, mux) }() //nolint:gosec // G114: a loopback benchmark endpoint, gone with the process
}

// bareOrganizations is the baseline service: GetOrganization reads one
// record's bytes from Redis and returns them, with no authentication,
// interceptors, domain or telemetry.
type bareOrganizations struct {
	membershipv1.UnimplementedMembershipServiceServer
	rdb redis.UniversalClient
	key string
}

func (s bareOrganizations) GetOrganization(ctx context.Context, _ *membershipv1.GetOrganizationRequest) (*membershipv1.Organization, error) {
	data, err := s.rdb.Get(ctx, s.key).Bytes()
	if err != nil {
		return nil, err
	}
	org := &membershipv1.Organization{}
	if err := proto.Unmarshal(data, org); err != nil {
		return nil, err
	}
	return org, nil
}

func runBareService() error {
	opts, err := redis.ParseURL(os.Getenv("REDIS_URL"))
	if err != nil {
		return err
	}
	lis, err := net.Listen("tcp", os.Getenv(bareListenEnv))
	if err != nil {
		return err
	}
	srv := grpc.NewServer()
	membershipv1.RegisterMembershipServiceServer(srv, bareOrganizations{rdb: redis.NewClient(opts), key: os.Getenv(bareKeyEnv)})
	return srv.Serve(lis)
}

func runBareGateway() error {
	conn, err := grpc.NewClient(os.Getenv(bareAddrEnv), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return err
	}
	mux := gwruntime.NewServeMux()
	if err := membershipv1.RegisterMembershipServiceHandlerClient(context.Background(), mux, membershipv1.NewMembershipServiceClient(conn)); err != nil {
		return err
	}
	lis, err := net.Listen("tcp", os.Getenv(bareListenEnv))
	if err != nil {
		return err
	}
	return http.Serve(lis, mux) //nolint:gosec // G114: the baseline is as bare as a user's first try
}
