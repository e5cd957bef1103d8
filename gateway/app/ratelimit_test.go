package app_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/tjsia/chapterhouse/gateway/app"
	"github.com/tjsia/chapterhouse/platform/auth"
	membershipv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/membership/v1"
)

// linker is membership answering LookupCaller for the bearer token it is
// sent (the caller's own), and serving GetPerson.
type linker struct {
	membershipv1.UnimplementedMembershipServiceServer
	mu     sync.Mutex
	linked map[string]*membershipv1.LookupCallerResponse
	down   bool
	served int
}

func (l *linker) LookupCaller(ctx context.Context, _ *membershipv1.LookupCallerRequest) (*membershipv1.LookupCallerResponse, error) {
	md, _ := metadata.FromIncomingContext(ctx)
	token, _ := strings.CutPrefix(strings.Join(md.Get("authorization"), ""), "Bearer ")
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.down {
		return nil, status.Error(codes.Internal, "membership is failing")
	}
	if r, ok := l.linked[token]; ok {
		return r, nil
	}
	return &membershipv1.LookupCallerResponse{}, nil
}

func (l *linker) GetPerson(_ context.Context, req *membershipv1.GetPersonRequest) (*membershipv1.Person, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.served++
	return &membershipv1.Person{Name: req.GetName()}, nil
}

// TestBudgetFollowsMembershipsAnswer: the gateway asks membership, with
// the caller's own token, who the caller is, and the budget follows: the
// person's, the admin's for a person granted admin, the address's for an
// identity linked to no one, and the address's, with the request still
// served, when membership fails.
func TestBudgetFollowsMembershipsAnswer(t *testing.T) {
	backend := &linker{linked: map[string]*membershipv1.LookupCallerResponse{}}
	cfg, signer := gatewayConfig(t, backend)
	cfg.RateLimits = app.RateLimits{Anonymous: redis_rate.PerMinute(7), Authenticated: redis_rate.PerMinute(11),
		Admin: redis_rate.PerMinute(13), Verify: redis_rate.PerMinute(1)}
	h, err := app.NewHandler(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = h.Close() })
	token := func(subject string, person string, roles ...string) string {
		tok, err := signer.Sign(subject, nil, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		if person != "" {
			backend.mu.Lock()
			backend.linked[tok] = &membershipv1.LookupCallerResponse{Issuer: "chapterhouse", Subject: subject, Person: person, Roles: roles}
			backend.mu.Unlock()
		}
		return tok
	}
	limit := func(tok string) string {
		t.Helper()
		r := httptest.NewRequest(http.MethodGet, "/v1/people/li-na", nil)
		r.Header.Set("Authorization", "Bearer "+tok)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != http.StatusOK {
			t.Fatalf("status %d: %s", w.Code, w.Body.String())
		}
		return w.Header().Get("RateLimit-Limit")
	}
	if got := limit(token("people/li-na", "people/li-na")); got != "11" {
		t.Errorf("a linked caller: limit %s, want the person's 11", got)
	}
	if got := limit(token("people/admin", "people/admin", auth.RoleAdmin)); got != "13" {
		t.Errorf("a person granted admin: limit %s, want the admin's 13", got)
	}
	if got := limit(token("people/stranger", "")); got != "7" {
		t.Errorf("an identity linked to no one: limit %s, want the address's 7", got)
	}
	failing := token("people/wang-wei", "people/wang-wei")
	backend.mu.Lock()
	backend.down, backend.served = true, 0
	backend.mu.Unlock()
	if got := limit(failing); got != "7" {
		t.Errorf("membership failing: limit %s, want the address's 7", got)
	}
	backend.mu.Lock()
	defer backend.mu.Unlock()
	if backend.served != 1 {
		t.Errorf("membership failing: the request reached the backend %d times, want once", backend.served)
	}
}
