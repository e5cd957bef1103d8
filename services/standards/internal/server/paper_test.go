package server_test

import (
	"context"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/tjsia/chapterhouse/platform/apierr"
	"github.com/tjsia/chapterhouse/platform/servicetest"
	apiv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/api/v1"
	eventsv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/events/v1"
	standardsv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/standards/v1"

	"github.com/tjsia/chapterhouse/contracts/standards/streams"
	"github.com/tjsia/chapterhouse/services/standards/internal/stdtest"
)

// TestPaperComments: the secretariat enters comments received on paper,
// over the real gRPC path, for a named person or a named outside
// commenter; each comment names its recorder and its commenter, and so
// does its CommentSubmitted event. A paper comment is judged as its
// commenter's own (the period; members only on a convention), and a
// refused one stores nothing.
func TestPaperComments(t *testing.T) {
	served := serve(t)
	f, srv, c := served.f, served.srv, served.c
	as := func(r servicetest.Role) context.Context { return srv.AsRole(t, r) }
	rdb := redis.NewClient(&redis.Options{Addr: served.mr.Addr()})
	t.Cleanup(func() { rdb.Close() })
	ctx, svc := context.Background(), f.Svc
	const sha = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
	open := func(id string, kind standardsv1.StandardKind, comment bool) string {
		name := must(svc.CreateStandard(ctx, stdtest.Ann, "branches/ai", &standardsv1.Standard{Kind: kind, Title: "标准 " + id,
			LeadUnit: stdtest.UnitA, ParticipatingUnits: []string{stdtest.UnitB}}, id))(t).GetName()
		must(svc.ApproveStandardProposal(ctx, stdtest.Chair, &standardsv1.ApproveStandardProposalRequest{Name: name}))(t)
		must(svc.CreateDraft(ctx, stdtest.Ann, name, &standardsv1.Draft{Version: "0.1", ContentUri: "https://x.example/d.pdf", Sha256: sha}, "", "d1"))(t)
		if comment {
			must(svc.OpenStandardComment(ctx, stdtest.Ann, &standardsv1.OpenStandardCommentRequest{Name: name,
				CommentEndTime: timestamppb.New(stdtest.Start.Add(30 * 24 * time.Hour))}))(t)
		}
		return name
	}
	group := open("group", standardsv1.StandardKind_STANDARD_KIND_GROUP_STANDARD, true)
	convention := open("convention", standardsv1.StandardKind_STANDARD_KIND_SELF_DISCIPLINE_CONVENTION, true)
	drafting := open("drafting", standardsv1.StandardKind_STANDARD_KIND_GROUP_STANDARD, false)
	events := func() []*eventsv1.Envelope {
		t.Helper()
		msgs, err := rdb.XRange(ctx, streams.Branch("ai"), "-", "+").Result()
		if err != nil {
			t.Fatal(err)
		}
		var out []*eventsv1.Envelope
		for _, m := range msgs {
			env := &eventsv1.Envelope{}
			if err := proto.Unmarshal([]byte(m.Values["env"].(string)), env); err != nil {
				t.Fatal(err)
			}
			out = append(out, env)
		}
		return out
	}

	// For a named member's person, and for an outside commenter with no
	// person record.
	member, err := c.RecordPaperComment(as(chair), &standardsv1.RecordPaperCommentRequest{Parent: group, CommentId: "paper-bob",
		Clause: "5.2", Text: "纸质意见：建议补充计算方法。", Person: stdtest.Bob.Subject})
	if err != nil {
		t.Fatal(err)
	}
	if member.GetAuthor() != stdtest.Bob.Subject || member.GetRecorder() != chair.Subject || member.GetCommenterName() != "" {
		t.Fatalf("a member's paper comment: %v", member)
	}
	outside, err := c.RecordPaperComment(as(admin), &standardsv1.RecordPaperCommentRequest{Parent: group, CommentId: "paper-zhao",
		Clause: "全文", Text: "来函意见。", CommenterName: "赵老师", CommenterOrganization: "天津某高校"})
	if err != nil {
		t.Fatal(err)
	}
	if outside.GetAuthor() != "" || outside.GetRecorder() != admin.Subject || outside.GetCommenterName() != "赵老师" || outside.GetCommenterOrganization() != "天津某高校" {
		t.Fatalf("an outside commenter's paper comment: %v", outside)
	}
	// Read back by anyone, as every comment on a group standard is.
	if got, err := c.GetComment(ctx, &standardsv1.GetCommentRequest{Name: outside.GetName()}); err != nil || !proto.Equal(got, outside) {
		t.Fatalf("read back %v (%v), want %v", got, err, outside)
	}
	recorded := map[string]string{}
	for _, ev := range events() {
		if sub := ev.GetCommentSubmitted(); sub != nil && sub.GetComment().GetRecorder() != "" {
			if ev.GetActor() != sub.GetComment().GetRecorder() {
				t.Errorf("event of %s: actor %s, recorder %s", sub.GetComment().GetName(), ev.GetActor(), sub.GetComment().GetRecorder())
			}
			recorded[sub.GetComment().GetName()] = sub.GetComment().GetRecorder()
		}
	}
	if recorded[member.GetName()] != chair.Subject || recorded[outside.GetName()] != admin.Subject {
		t.Fatalf("CommentSubmitted recorders %v", recorded)
	}

	before := len(events())
	for _, bad := range []struct {
		name   string
		as     servicetest.Role
		req    *standardsv1.RecordPaperCommentRequest
		code   codes.Code
		reason apiv1.ErrorReason
	}{
		{"by a member, not the secretariat", leadRep, &standardsv1.RecordPaperCommentRequest{Parent: group, Clause: "1", Text: "x", Person: stdtest.Bob.Subject},
			codes.PermissionDenied, apiv1.ErrorReason_PERMISSION_DENIED},
		{"naming nobody", chair, &standardsv1.RecordPaperCommentRequest{Parent: group, Clause: "1", Text: "x"},
			codes.InvalidArgument, apiv1.ErrorReason_INVALID_ARGUMENT},
		{"naming a person and an outside commenter", chair, &standardsv1.RecordPaperCommentRequest{Parent: group, Clause: "1", Text: "x",
			Person: stdtest.Bob.Subject, CommenterName: "赵老师"}, codes.InvalidArgument, apiv1.ErrorReason_INVALID_ARGUMENT},
		{"on a convention, for a person in no member", chair, &standardsv1.RecordPaperCommentRequest{Parent: convention, Clause: "1", Text: "x",
			Person: stdtest.Dan.Subject}, codes.PermissionDenied, apiv1.ErrorReason_NOT_A_MEMBER},
		{"on a convention, for an outside commenter", chair, &standardsv1.RecordPaperCommentRequest{Parent: convention, Clause: "1", Text: "x",
			CommenterName: "赵老师"}, codes.PermissionDenied, apiv1.ErrorReason_NOT_A_MEMBER},
		{"outside a comment period", chair, &standardsv1.RecordPaperCommentRequest{Parent: drafting, Clause: "1", Text: "x",
			Person: stdtest.Bob.Subject}, codes.FailedPrecondition, apiv1.ErrorReason_COMMENT_PERIOD_CLOSED},
	} {
		_, err := c.RecordPaperComment(as(bad.as), bad.req)
		if status.Code(err) != bad.code || apierr.ReasonOf(err) != bad.reason {
			t.Errorf("%s: %v, want %v %v", bad.name, err, bad.code, bad.reason)
		}
	}
	if after := len(events()); after != before {
		t.Fatalf("refused paper comments wrote %d events", after-before)
	}
	// A member's paper comment on a convention is theirs.
	if got, err := c.RecordPaperComment(as(chair), &standardsv1.RecordPaperCommentRequest{Parent: convention, Clause: "1", Text: "会员来函",
		Person: stdtest.Ivy.Subject}); err != nil || got.GetAuthor() != stdtest.Ivy.Subject {
		t.Fatalf("a member's paper comment on a convention: %v %v", got, err)
	}
}
