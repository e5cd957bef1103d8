package grpcserver_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/tjsia/chapterhouse/platform/apierr"
	"github.com/tjsia/chapterhouse/platform/grpcserver"
	"github.com/tjsia/chapterhouse/platform/idempotency"
	"github.com/tjsia/chapterhouse/platform/redistest"
	membershipv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/membership/v1"
	standardsv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/standards/v1"
)

// fakeStandards has the one public write of the API, CreateComment.
type fakeStandards struct {
	standardsv1.UnimplementedStandardsServiceServer

	mu      sync.Mutex
	creates int
}

func (f *fakeStandards) CreateComment(_ context.Context, req *standardsv1.CreateCommentRequest) (*standardsv1.Comment, error) {
	if req.GetComment().GetText() == "members only" {
		return nil, apierr.PermissionDenied("only members may comment on this convention")
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.creates++
	return &standardsv1.Comment{Name: req.GetParent() + "/comments/c" + string(rune('0'+f.creates)), Text: req.GetComment().GetText()}, nil
}

func (f *fakeStandards) createCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.creates
}

// TestAnonymousWriteHonoursIdempotencyKey: an anonymous write (a public
// comment) sent twice with one key is applied once and replayed; the
// same key with another body is refused; the key is scoped to the
// client's address, so another client's same key is its own.
func TestAnonymousWriteHonoursIdempotencyKey(t *testing.T) {
	rc := redistest.Start(t).Client()
	t.Cleanup(func() { _ = rc.Close() })
	h := start(t, func(c *grpcserver.Config) { c.Idempotency = idempotency.New(rc, time.Hour) })
	from := func(addr, key string) context.Context {
		return metadata.AppendToOutgoingContext(context.Background(), grpcserver.ClientAddressHeader, addr, grpcserver.IdempotencyKeyHeader, key)
	}
	comment := func(ctx context.Context, text string) (*standardsv1.Comment, metadata.MD, error) {
		var hdr metadata.MD
		c, err := h.standards.CreateComment(ctx, &standardsv1.CreateCommentRequest{Parent: "branches/ai/standards/s1",
			Comment: &standardsv1.Comment{Clause: "5.2", Text: text, CommenterName: "赵老师"}}, grpc.Header(&hdr))
		return c, hdr, err
	}
	first, _, err := comment(from("203.0.113.9", "k1"), "text")
	if err != nil {
		t.Fatal(err)
	}
	again, hdr, err := comment(from("203.0.113.9", "k1"), "text")
	if err != nil || again.GetName() != first.GetName() || len(hdr.Get("idempotent-replay")) == 0 {
		t.Fatalf("the same anonymous request again: %v %v (replay %v), want the first answer %v replayed", again.GetName(), err, hdr.Get("idempotent-replay"), first.GetName())
	}
	if _, _, err := comment(from("203.0.113.9", "k1"), "another text"); errorInfo(err).GetReason() != "IDEMPOTENCY_KEY_REUSED" {
		t.Fatalf("the key with another body: %v, want IDEMPOTENCY_KEY_REUSED", err)
	}
	if n := h.fakeStd.createCount(); n != 1 {
		t.Fatalf("comments filed: %d, want 1", n)
	}
	other, hdr, err := comment(from("198.51.100.4", "k1"), "another text")
	if err != nil || other.GetName() == first.GetName() || len(hdr.Get("idempotent-replay")) != 0 {
		t.Fatalf("another client's same key: %v %v, want its own new comment", other.GetName(), err)
	}
}

// TestRefusedRequestLeavesNothing: a write refused by the handler, with an
// Idempotency-Key, leaves nothing in Redis and does not count against the
// caller's bound of keys.
func TestRefusedRequestLeavesNothing(t *testing.T) {
	rc := redistest.Start(t).Client()
	t.Cleanup(func() { _ = rc.Close() })
	h := start(t, func(c *grpcserver.Config) {
		c.Idempotency = idempotency.New(rc, time.Hour, idempotency.WithMaxKeysPerCaller(1))
	})
	alice := withToken(context.Background(), h.tokenOf("people/alice"))
	create := func(id, key string) error {
		_, err := h.client.CreateOrganization(metadata.AppendToOutgoingContext(alice, grpcserver.IdempotencyKeyHeader, key),
			&membershipv1.CreateOrganizationRequest{OrganizationId: id, Organization: &membershipv1.Organization{DisplayName: id}})
		return err
	}
	for _, key := range []string{"r1", "r2", "r3"} {
		if err := create("fails", key); status.Code(err) != codes.FailedPrecondition {
			t.Fatalf("%s: %v, want the handler's refusal", key, err)
		}
	}
	if keys := rc.Keys(context.Background(), "*").Val(); len(keys) != 0 {
		t.Fatalf("refused requests left %v in Redis, want nothing", keys)
	}
	if err := create("ok", "k1"); err != nil {
		t.Fatalf("the caller's first admitted key after three refusals: %v", err)
	}
}

// TestAnonymousRefusalIsUnauthenticated: a public method that refuses an
// anonymous caller (PERMISSION_DENIED) answers UNAUTHENTICATED, since
// signing in is what would help; the same refusal to a signed-in caller
// stays PERMISSION_DENIED.
func TestAnonymousRefusalIsUnauthenticated(t *testing.T) {
	h := start(t, nil)
	req := &standardsv1.CreateCommentRequest{Parent: "branches/ai/standards/s1",
		Comment: &standardsv1.Comment{Clause: "1", Text: "members only", CommenterName: "x"}}
	_, err := h.standards.CreateComment(context.Background(), req)
	if status.Code(err) != codes.Unauthenticated || errorInfo(err).GetReason() != "UNAUTHENTICATED" {
		t.Fatalf("anonymous: %v, want Unauthenticated UNAUTHENTICATED", err)
	}
	_, err = h.standards.CreateComment(withToken(context.Background(), h.tokenOf("people/alice")), req)
	if status.Code(err) != codes.PermissionDenied {
		t.Fatalf("signed in: %v, want PermissionDenied", err)
	}
}
