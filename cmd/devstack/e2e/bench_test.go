package e2e

import (
	"context"
	"io"
	"net/http"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"

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
