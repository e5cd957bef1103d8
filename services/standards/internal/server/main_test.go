package server_test

import (
	"testing"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
	"google.golang.org/grpc"

	"github.com/tjsia/chapterhouse/platform/servicetest"
	standardsv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/standards/v1"

	"github.com/tjsia/chapterhouse/services/standards/internal/server"
	"github.com/tjsia/chapterhouse/services/standards/internal/stdtest"
)

// serve starts standards on an in-memory store, with membership,
// governance and activities as fakes (stdtest), through the real
// interceptors.
func serve(t *testing.T) (*stdtest.Fixture, *servicetest.Running, standardsv1.StandardsServiceClient) {
	t.Helper()
	mr := miniredis.RunT(t)
	rdb := redis.NewClient(&redis.Options{Addr: mr.Addr()})
	t.Cleanup(func() { rdb.Close() })
	f := stdtest.New(t, rdb)
	srv := servicetest.Serve(t, "standards", func(s *grpc.Server) { standardsv1.RegisterStandardsServiceServer(s, server.New(f.Svc)) })
	return f, srv, standardsv1.NewStandardsServiceClient(srv.Conn)
}
