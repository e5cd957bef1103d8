package server_test

import (
	"os"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
	"google.golang.org/grpc"

	"github.com/tjsia/chapterhouse/platform/pagetoken"
	"github.com/tjsia/chapterhouse/platform/servicetest"
	governancev1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/governance/v1"

	"github.com/tjsia/chapterhouse/services/governance/internal/domain"
	"github.com/tjsia/chapterhouse/services/governance/internal/govtest"
	"github.com/tjsia/chapterhouse/services/governance/internal/server"
	"github.com/tjsia/chapterhouse/services/governance/internal/store"
)

// reasons is every reason this package's tests saw a method answer.
// TestMain holds the methods' comments to it: each reason a comment names
// is met by some test here (servicetest.RunCheckingReasons).
var reasons = servicetest.NewReasons()

func TestMain(m *testing.M) {
	os.Exit(servicetest.RunCheckingReasons(m, reasons, governancev1.GovernanceService_ServiceDesc))
}

// served is governance on an in-memory store, with membership and
// activities as fakes, on the tests' fixed clock.
type served struct {
	mr     *miniredis.Miniredis
	svc    *domain.Service
	people *govtest.People
	srv    *servicetest.Running
	c      governancev1.GovernanceServiceClient
}

// serve starts governance through the real interceptors; its client holds
// every response to the names check (servicetest.CheckNames) and records
// every reason for TestMain.
func serve(t *testing.T) *served {
	t.Helper()
	mr := miniredis.RunT(t)
	rdb := redis.NewClient(&redis.Options{Addr: mr.Addr()})
	t.Cleanup(func() { rdb.Close() })
	people := govtest.NewPeople()
	svc := domain.NewService(store.New(rdb), people, govtest.Activities{Completed: 2}, pagetoken.NewEphemeral(), func() time.Time { return govtest.Today })
	srv := servicetest.Serve(t, "governance", func(s *grpc.Server) { governancev1.RegisterGovernanceServiceServer(s, server.New(svc)) },
		servicetest.CheckNames(), servicetest.RecordReasons(reasons))
	return &served{mr: mr, svc: svc, people: people, srv: srv, c: governancev1.NewGovernanceServiceClient(srv.Conn)}
}
