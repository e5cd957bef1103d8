package app_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"

	"github.com/tjsia/chapterhouse/platform/auth"
	"github.com/tjsia/chapterhouse/platform/grpcserver"
	"github.com/tjsia/chapterhouse/platform/proctest"
	"github.com/tjsia/chapterhouse/platform/redistest"
	membershipv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/membership/v1"

	"github.com/tjsia/chapterhouse/services/membership/app"
	"github.com/tjsia/chapterhouse/services/membership/creditcode"
)

// TestKill9UnderWriteLoadWritesEachRequestOnce: the membership service's
// process is killed with SIGKILL up to six times while clients create organisations (the
// server chooses each id; the credit code is claimed), each request with
// its own Idempotency-Key and retried with it until it is answered. Every
// request ends with exactly one organisation, whatever instant the kills
// met: before its write, between its write and its stored answer, or
// after. The load is bounded (16 loopback clients, 25 requests each, up to
// 6 kills 100 ms apart) and stops by itself.
func TestKill9UnderWriteLoadWritesEachRequestOnce(t *testing.T) {
	store := redistest.Start(t, "--appendonly", "yes", "--appendfsync", "always")
	// Every incarnation accepts the same tokens and signs page tokens with
	// the same key, as replicas do.
	signer, credentials := proctest.Credentials(t)
	addr := proctest.FreeAddr(t, "127.0.0.1")
	// The service as its binary runs it (see TestMain), in a process of
	// its own.
	proc := proctest.Start(t, "membership", app.Name, append(credentials, "LISTEN_ADDR="+addr, "REDIS_URL="+store.URL(),
		"DRAIN_DELAY=0s", "LOG_LEVEL=error", "OTEL_TRACES_EXPORTER=none", "OTEL_METRICS_EXPORTER=none")...)
	waitServing := func() {
		if err := proctest.WaitServing(context.Background(), addr, 60*time.Second); err != nil {
			t.Fatal(err)
		}
	}
	waitServing()
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })

	token, err := signer.Sign("people/admin", []string{auth.RoleAdmin}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	client := membershipv1.NewMembershipServiceClient(conn)
	run := fmt.Sprintf("kill-%d", time.Now().UnixNano())
	const clients, perClient = 16, 25
	deadline := time.Now().Add(15 * time.Second)
	var wg sync.WaitGroup
	codes := map[string]string{}
	for c := range clients {
		for i := range perClient {
			codes[fmt.Sprintf("%s-%d-%02d", run, c, i)] = creditCode(t, fmt.Sprintf("91120116MA%07d", c*100+i))
		}
	}
	var answered sync.Map
	var firstErr atomic.Value
	var failures, replays atomic.Int64
	for c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range perClient {
				k := fmt.Sprintf("%s-%d-%02d", run, c, i)
				for time.Now().Before(deadline) {
					ctx := metadata.AppendToOutgoingContext(context.Background(),
						"authorization", "Bearer "+token, grpcserver.IdempotencyKeyHeader, k)
					ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
					var header metadata.MD
					p, err := client.CreateOrganization(ctx, &membershipv1.CreateOrganizationRequest{Organization: &membershipv1.Organization{
						DisplayName: k, CreditCode: codes[k]}}, grpc.Header(&header))
					cancel()
					if err == nil {
						answered.Store(k, p.GetName())
						if len(header.Get("idempotent-replay")) > 0 {
							replays.Add(1)
						}
						break
					}
					failures.Add(1)
					firstErr.CompareAndSwap(nil, err)
					time.Sleep(50 * time.Millisecond)
				}
				time.Sleep(5 * time.Millisecond) // a steady load, so the kills meet it
			}
		}()
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	kills := 0
	for kills < 6 {
		select {
		case <-done:
		case <-time.After(100 * time.Millisecond):
			if err := proc.Kill(); err != nil {
				t.Fatal(err)
			}
			if err := proc.Start(); err != nil {
				t.Fatal(err)
			}
			kills++
			continue
		}
		break
	}
	<-done
	waitServing()

	// Every request answered, and each has exactly one organisation.
	people := map[string][]string{}
	ctx := metadata.AppendToOutgoingContext(context.Background(), "authorization", "Bearer "+token)
	for page := ""; ; {
		resp, err := client.ListOrganizations(ctx, &membershipv1.ListOrganizationsRequest{PageSize: 1000, PageToken: page})
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range resp.GetOrganizations() {
			if strings.HasPrefix(p.GetDisplayName(), run) {
				people[p.GetDisplayName()] = append(people[p.GetDisplayName()], p.GetName())
			}
		}
		if page = resp.GetNextPageToken(); page == "" {
			break
		}
	}
	missing, duplicated := 0, 0
	for c := range clients {
		for i := range perClient {
			k := fmt.Sprintf("%s-%d-%02d", run, c, i)
			name, ok := answered.Load(k)
			switch {
			case !ok:
				missing++
			case len(people[k]) != 1:
				duplicated++
				t.Errorf("%s: %d organisations %v (answered %v)", k, len(people[k]), people[k], name)
			case people[k][0] != name:
				t.Errorf("%s: answered %v but stored %v", k, name, people[k][0])
			}
		}
	}
	t.Logf("%d requests, %d kills: %d failed tries retried, %d answered as replays, %d never answered, %d written more than once",
		clients*perClient, kills, failures.Load(), replays.Load(), missing, duplicated)
	if kills < 2 || failures.Load() == 0 {
		t.Fatalf("the kills did not meet the load (%d kills, %d failed tries): the test proved nothing", kills, failures.Load())
	}
	if missing > 0 {
		t.Fatalf("%d requests never answered within the deadline (first error: %v)", missing, firstErr.Load())
	}
}

// creditCode completes a unified social credit code with its GB 32100
// check character.
func creditCode(t *testing.T, first17 string) string {
	t.Helper()
	code, err := creditcode.Complete(first17)
	if err != nil {
		t.Fatal(err)
	}
	return code
}
