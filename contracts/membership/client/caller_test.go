package client_test

import (
	"context"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	membershipv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/membership/v1"

	"github.com/tjsia/chapterhouse/contracts/membership/client"
)

// lookups answers LookupCaller from the bearer token it is sent: a token
// "people/<id>" is linked to that person, any other is refused.
type lookups struct {
	membershipv1.UnimplementedMembershipServiceServer
	calls atomic.Int32
}

func (l *lookups) LookupCaller(ctx context.Context, _ *membershipv1.LookupCallerRequest) (*membershipv1.LookupCallerResponse, error) {
	l.calls.Add(1)
	md, _ := metadata.FromIncomingContext(ctx)
	tok, _ := strings.CutPrefix(strings.Join(md.Get("authorization"), ""), "Bearer ")
	if !strings.HasPrefix(tok, "people/") {
		return nil, status.Error(codes.Unauthenticated, "no")
	}
	return &membershipv1.LookupCallerResponse{Issuer: "https://idp.example.org", Subject: tok, Person: tok, Roles: []string{"admin"}}, nil
}

// TestCallersRemembersEachTokenForItsTTL: a token is resolved with itself
// as the credential, once per TTL; another token is its own question, and
// a refusal is never remembered.
func TestCallersRemembersEachTokenForItsTTL(t *testing.T) {
	srv := grpc.NewServer()
	l := &lookups{}
	membershipv1.RegisterMembershipServiceServer(srv, l)
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(srv.Stop)
	conn, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })

	const ttl = 300 * time.Millisecond
	callers := client.NewCallers(client.New(conn, 5*time.Second), ttl)
	ctx := context.Background()
	lookup := func(tok string) client.Caller {
		t.Helper()
		c, err := callers.Lookup(ctx, tok)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	if c := lookup("people/ann"); c.Person != "people/ann" || len(c.Roles) != 1 || c.Roles[0] != "admin" {
		t.Fatalf("ann: %+v", c)
	}
	lookup("people/ann")
	if n := l.calls.Load(); n != 1 {
		t.Fatalf("%d lookups for one token within its TTL, want 1", n)
	}
	if c := lookup("people/bo"); c.Person != "people/bo" || l.calls.Load() != 2 {
		t.Fatalf("another token: %+v after %d lookups", c, l.calls.Load())
	}
	for range 2 {
		if _, err := callers.Lookup(ctx, "forged"); status.Code(err) != codes.Unauthenticated {
			t.Fatalf("a refused token: %v", err)
		}
	}
	if n := l.calls.Load(); n != 4 {
		t.Fatalf("%d lookups, want 4: a refusal is asked again", n)
	}
	if _, err := callers.Lookup(ctx, ""); err == nil {
		t.Fatal("no token resolved")
	}
	time.Sleep(ttl + 100*time.Millisecond)
	lookup("people/ann")
	if n := l.calls.Load(); n != 5 {
		t.Fatalf("%d lookups after the TTL, want 5", n)
	}
}
