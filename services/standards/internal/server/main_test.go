package server_test

import (
	"os"
	"testing"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
	"google.golang.org/grpc"

	"github.com/tjsia/chapterhouse/platform/servicetest"
	standardsv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/standards/v1"

	"github.com/tjsia/chapterhouse/services/standards/internal/server"
	"github.com/tjsia/chapterhouse/services/standards/internal/stdtest"
)

// reasons is every reason this package's tests saw a method answer.
// TestMain holds the methods' comments to it: each reason a comment names
// is met by some test here (servicetest.RunCheckingReasons).
var reasons = servicetest.NewReasons()

func TestMain(m *testing.M) {
	os.Exit(servicetest.RunCheckingReasons(m, reasons, standardsv1.StandardsService_ServiceDesc))
}

// serve starts standards on an in-memory store, with membership,
// governance and activities as fakes (stdtest), through the real
// interceptors; its client holds every response to the names check
// (servicetest.CheckNames) and records every reason for TestMain.
func serve(t *testing.T) *served {
	t.Helper()
	mr := miniredis.RunT(t)
	rdb := redis.NewClient(&redis.Options{Addr: mr.Addr()})
	t.Cleanup(func() { rdb.Close() })
	f := stdtest.New(t, rdb)
	srv := servicetest.Serve(t, "standards", func(s *grpc.Server) { standardsv1.RegisterStandardsServiceServer(s, server.New(f.Svc)) },
		servicetest.CheckNames(), servicetest.RecordReasons(reasons))
	return &served{f: f, mr: mr, srv: srv, c: standardsv1.NewStandardsServiceClient(srv.Conn)}
}

// served is a started standards: its fixture (the service, its store
// and fakes), its Redis, the server and a client.
type served struct {
	f   *stdtest.Fixture
	mr  *miniredis.Miniredis
	srv *servicetest.Running
	c   standardsv1.StandardsServiceClient
}
