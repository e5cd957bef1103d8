package store_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/tjsia/chapterhouse/platform/redistest"
	activitiesv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/activities/v1"
)

// TestAcknowledgedRegistrationsSurviveKill9: with the production
// durability settings (AOF, appendfsync always), Redis is killed with
// SIGKILL while registrations stream in. Every registration acknowledged
// before the kill must still be there after the restart. The load is
// bounded (a few hundred registrations from 8 loopback clients) and stops
// by itself.
func TestAcknowledgedRegistrationsSurviveKill9(t *testing.T) {
	srv := redistest.Start(t, "--appendonly", "yes", "--appendfsync", "always")
	rdb := redis.NewClient(&redis.Options{Addr: srv.Addr, MaxRetries: 1, DialTimeout: 200 * time.Millisecond,
		ReadTimeout: 500 * time.Millisecond, WriteTimeout: 500 * time.Millisecond})
	t.Cleanup(func() { rdb.Close() })
	f := fixtureOn(rdb)
	a, err := f.svc.CreateActivity(context.Background(), admin, "branches/ai", &activitiesv1.Activity{
		Kind: activitiesv1.ActivityKind_ACTIVITY_KIND_MEETING, Title: "Crash test", Location: "Tianjin", Audience: activitiesv1.Audience_AUDIENCE_PUBLIC,
		StartTime: timestamppb.New(f.now.Add(time.Hour)), EndTime: timestamppb.New(f.now.Add(2 * time.Hour)),
	}, "crash-test")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.PublishActivity(context.Background(), admin, &activitiesv1.PublishActivityRequest{Name: a.GetName()}); err != nil {
		t.Fatal(err)
	}

	const clients, perClient = 8, 60
	var (
		mu      sync.Mutex
		acked   []string
		sent    atomic.Int64
		killed  = make(chan struct{})
		stopped atomic.Bool
	)
	var wg sync.WaitGroup
	for c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range perClient {
				if stopped.Load() {
					return
				}
				who := fmt.Sprintf("c%d-%03d", c, i)
				sent.Add(1)
				r, err := f.svc.Register(context.Background(), person(who), &activitiesv1.RegisterForActivityRequest{Name: a.GetName()})
				if err == nil {
					mu.Lock()
					acked = append(acked, r.GetName())
					mu.Unlock()
				}
			}
		}()
	}
	// Kill once a good share has been acknowledged, mid-stream.
	go func() {
		defer close(killed)
		for {
			mu.Lock()
			n := len(acked)
			mu.Unlock()
			if n >= clients*perClient/3 {
				break
			}
			time.Sleep(time.Millisecond)
		}
		if err := srv.Kill(); err != nil {
			t.Error(err)
		}
		// Let some requests fail against the dead server, then stop.
		time.Sleep(100 * time.Millisecond)
		stopped.Store(true)
	}()
	<-killed
	wg.Wait()
	if err := srv.Restart(); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	lost := 0
	var firstErr error
	for _, name := range acked {
		// A read may still meet the restart (a stale pooled connection, a
		// server finishing its load): only an answer counts, and a
		// registration missing from the answer is lost.
		var r *activitiesv1.Registration
		var err error
		for deadline := time.Now().Add(3 * time.Second); ; time.Sleep(20 * time.Millisecond) {
			r, err = f.svc.GetRegistration(context.Background(), admin, name)
			if err == nil || status.Code(err) == codes.NotFound || time.Now().After(deadline) {
				break
			}
		}
		if err != nil || r.GetState() != activitiesv1.RegistrationState_REGISTRATION_STATE_CONFIRMED {
			lost++
			if firstErr == nil {
				firstErr = fmt.Errorf("%s: %v (state %v)", name, err, r.GetState())
			}
		}
	}
	t.Logf("sent %d, acknowledged %d before and around the kill, lost %d (first: %v)", sent.Load(), len(acked), lost, firstErr)
	if len(acked) == 0 || lost != 0 {
		t.Fatalf("%d of %d acknowledged registrations lost after kill -9", lost, len(acked))
	}
}
