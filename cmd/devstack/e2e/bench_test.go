package e2e

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"github.com/redis/go-redis/v9"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/proto"

	membershipv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/membership/v1"
)

// BenchmarkGatewayOverhead reads one organisation over REST through the
// gateway and, as the baseline measured in the same run, straight over
// gRPC from the membership service. It reports the REST cost as a ratio of
// the gRPC cost ("rest/grpc"), which stays meaningful on a noisy machine
// where absolute times do not.
func BenchmarkGatewayOverhead(b *testing.B) {
	token := adminToken()
	conn, err := grpc.NewClient(sys.Addrs["membership"], grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	grpcClient := membershipv1.NewMembershipServiceClient(conn)
	ctx := metadata.AppendToOutgoingContext(context.Background(), "authorization", "Bearer "+token)
	req, err := http.NewRequest(http.MethodGet, sys.GatewayURL+"/v1/organizations/zhiyuan-ai", nil)
	if err != nil {
		b.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	httpClient := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}}

	grpcOnce := func() {
		if _, err := grpcClient.GetOrganization(ctx, &membershipv1.GetOrganizationRequest{Name: "organizations/zhiyuan-ai"}); err != nil {
			b.Fatal(err)
		}
	}
	restOnce := func() {
		resp, err := httpClient.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			b.Fatalf("status %d", resp.StatusCode)
		}
	}
	// Warm both paths so connection set-up is not measured.
	for range 20 {
		grpcOnce()
		restOnce()
	}
	b.ResetTimer()
	var grpcTime, restTime time.Duration
	for b.Loop() {
		// Interleave so drift in machine load hits both sides alike.
		start := time.Now()
		grpcOnce()
		grpcTime += time.Since(start)
		start = time.Now()
		restOnce()
		restTime += time.Since(start)
	}
	b.ReportMetric(float64(restTime)/float64(grpcTime), "rest/grpc")
	b.ReportMetric(float64(grpcTime.Nanoseconds())/float64(b.N), "grpc-ns/op")
	b.ReportMetric(float64(restTime.Nanoseconds())/float64(b.N), "rest-ns/op")
}

// bareOrganizations is the baseline service: GetOrganization reads the
// record from Redis and returns it, with no authentication, interceptors,
// domain or telemetry.
type bareOrganizations struct {
	membershipv1.UnimplementedMembershipServiceServer
	rdb redis.UniversalClient
}

func (s bareOrganizations) GetOrganization(ctx context.Context, _ *membershipv1.GetOrganizationRequest) (*membershipv1.Organization, error) {
	data, err := s.rdb.Get(ctx, "bench:bare:organization").Bytes()
	if err != nil {
		return nil, err
	}
	org := &membershipv1.Organization{}
	if err := proto.Unmarshal(data, org); err != nil {
		return nil, err
	}
	return org, nil
}

// BenchmarkSystemAgainstBareChain compares an authenticated read of one
// organisation through the whole system (gateway: CORS, gzip, rate limit,
// access log, tracing; membership: token verification, validation,
// authorisation, the store) with what a user would otherwise build with the
// same libraries: a grpc-gateway mux in front of a gRPC server that reads
// the same bytes from the same Redis. Both sides run in alternating rounds
// of 50 concurrent clients, so machine noise hits them alike. It reports
// throughput as a ratio ("system/bare", higher is better; the goal is
// ≥ 0.8) and the p99 latency ratio ("p99-system/bare").
func BenchmarkSystemAgainstBareChain(b *testing.B) {
	const clients, perRound = 50, 2000
	ctx := context.Background()
	token := adminToken()

	// The baseline: the same organisation's bytes, in the same Redis.
	conn, err := grpc.NewClient(sys.Addrs["membership"], grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	org, err := membershipv1.NewMembershipServiceClient(conn).GetOrganization(
		metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+token), &membershipv1.GetOrganizationRequest{Name: "organizations/zhiyuan-ai"})
	if err != nil {
		b.Fatal(err)
	}
	data, _ := proto.Marshal(org)
	if err := sys.Redis.Set(ctx, "bench:bare:organization", data, 0).Err(); err != nil {
		b.Fatal(err)
	}
	defer sys.Redis.Del(ctx, "bench:bare:organization")
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	bare := grpc.NewServer()
	membershipv1.RegisterMembershipServiceServer(bare, bareOrganizations{rdb: sys.Redis})
	go func() { _ = bare.Serve(lis) }()
	defer bare.Stop()
	bareConn, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		b.Fatal(err)
	}
	defer bareConn.Close()
	mux := runtime.NewServeMux()
	if err := membershipv1.RegisterMembershipServiceHandlerClient(ctx, mux, membershipv1.NewMembershipServiceClient(bareConn)); err != nil {
		b.Fatal(err)
	}
	bareHTTP := httptest.NewServer(mux)
	defer bareHTTP.Close()

	httpClient := &http.Client{Transport: &http.Transport{MaxIdleConns: clients * 2, MaxIdleConnsPerHost: clients * 2}}
	get := func(url string, auth bool) {
		req, _ := http.NewRequest(http.MethodGet, url, nil)
		if auth {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := httpClient.Do(req)
		if err != nil {
			b.Error(err)
			return
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			b.Errorf("%s: status %d", url, resp.StatusCode)
		}
	}
	system := func() { get(sys.GatewayURL+"/v1/organizations/zhiyuan-ai", true) }
	baseline := func() { get(bareHTTP.URL+"/v1/organizations/zhiyuan-ai", false) }
	// round runs perRound requests over 50 clients, returning the wall time
	// and every request's latency.
	round := func(call func()) (time.Duration, []time.Duration) {
		latencies := make([]time.Duration, perRound)
		var next atomic.Int64
		var wg sync.WaitGroup
		start := time.Now()
		for range clients {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := next.Add(1) - 1; i < perRound; i = next.Add(1) - 1 {
					t := time.Now()
					call()
					latencies[i] = time.Since(t)
				}
			}()
		}
		wg.Wait()
		return time.Since(start), latencies
	}
	round(system) // warm both
	round(baseline)
	b.ResetTimer()
	var systemWall, bareWall time.Duration
	var systemLat, bareLat []time.Duration
	for b.Loop() {
		w, l := round(system)
		systemWall, systemLat = systemWall+w, append(systemLat, l...)
		w, l = round(baseline)
		bareWall, bareLat = bareWall+w, append(bareLat, l...)
	}
	p99 := func(l []time.Duration) time.Duration {
		slices.Sort(l)
		return l[len(l)*99/100]
	}
	b.ReportMetric(float64(bareWall)/float64(systemWall), "system/bare")
	b.ReportMetric(float64(p99(systemLat))/float64(p99(bareLat)), "p99-system/bare")
	b.ReportMetric(float64(len(systemLat))/systemWall.Seconds(), "system-req/s")
	b.ReportMetric(float64(len(bareLat))/bareWall.Seconds(), "bare-req/s")
}
