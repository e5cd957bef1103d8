package domain

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/tjsia/chapterhouse/platform/apierr"
	"github.com/tjsia/chapterhouse/platform/auth"
	"github.com/tjsia/chapterhouse/platform/ids"
	"github.com/tjsia/chapterhouse/platform/page"
	"github.com/tjsia/chapterhouse/platform/retry"
	apiv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/api/v1"
	eventsv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/events/v1"
	standardsv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/standards/v1"

	"github.com/tjsia/chapterhouse/contracts/governance/branches"
)

// periodClosed refuses a comment, or a disposition, on name outside its
// public-comment period; the text "error.standards.<why>" says why, from
// facts (alternating names and values), which are the metadata too.
func periodClosed(name, why string, facts ...string) error {
	md := map[string]string{"resource": name}
	for i := 0; i+1 < len(facts); i += 2 {
		md[facts[i]] = facts[i+1]
	}
	return apierr.New(codes.FailedPrecondition, apiv1.ErrorReason_COMMENT_PERIOD_CLOSED, md, text("error.standards."+why, md))
}

// instant is a time as the texts (and their metadata) show it: RFC 3339,
// in the time zone the branch's days are judged in (branches.TimeZone).
func instant(t time.Time) string {
	loc, err := time.LoadLocation(branches.TimeZone)
	if err != nil {
		loc = time.FixedZone("CST", 8*3600)
	}
	return t.In(loc).Format(time.RFC3339)
}

// OpenStandardComment: DRAFTING → PUBLIC_COMMENT on the latest draft,
// from now until end. Editors; needs a draft.
func (s *Service) OpenStandardComment(ctx context.Context, p auth.Principal, req *standardsv1.OpenStandardCommentRequest) (*standardsv1.Standard, error) {
	end := req.GetCommentEndTime()
	switch {
	case end == nil:
		return nil, apierr.InvalidArgument(apierr.Field("comment_end_time", "required"))
	case !end.AsTime().After(s.now()):
		return nil, apierr.InvalidArgument(apierr.Field("comment_end_time", "standards.in_the_future", "given", instant(end.AsTime()), "now", instant(s.now())))
	}
	// The record says what was done (the action) and no more: the period's
	// end is the standard's comment_end_time.
	return s.do(ctx, p, req.GetName(), step{action: ActOpenComment, etag: req.GetEtag(),
		allow: s.editing(ctx, p, ActOpenComment),
		apply: func(cur, next *standardsv1.Standard, w *Write) error {
			if cur.GetLatestDraft() == "" {
				md := map[string]string{"resource": cur.GetName()}
				return apierr.New(codes.FailedPrecondition, apiv1.ErrorReason_DRAFT_REQUIRED, md, text("error.standards.draft_required", md))
			}
			next.CurrentDraft = cur.GetLatestDraft()
			next.CommentStartTime, next.CommentEndTime, next.CommentCloseTime = s.stamp(), end, nil
			w.OpenComments = next.GetCurrentDraft()
			return nil
		}})
}

// CloseStandardComment: PUBLIC_COMMENT → DRAFTING, refused while any
// comment of the period has no disposition. Editors. The store holds the
// close on the period's count of comments without one, so a comment that
// comes in after they were read refuses the write (ErrUndisposed); the
// step then reads them again, and the refusal names it.
func (s *Service) CloseStandardComment(ctx context.Context, p auth.Principal, req *standardsv1.CloseStandardCommentRequest) (*standardsv1.Standard, error) {
	return s.do(ctx, p, req.GetName(), step{action: ActCloseComment, etag: req.GetEtag(),
		allow: s.editing(ctx, p, ActCloseComment),
		apply: func(cur, next *standardsv1.Standard, w *Write) error {
			r := ref{branch: branchOfName(cur.GetName()), standard: lastSegment(cur.GetName())}
			comments, _, err := s.repo.Comments(ctx, r.branch, r.standard)
			if err != nil {
				return err
			}
			var open []string
			for _, c := range comments {
				if c.GetDraft() == cur.GetCurrentDraft() && c.GetDisposition() == standardsv1.Disposition_DISPOSITION_UNSPECIFIED {
					open = append(open, c.GetName())
				}
			}
			if len(open) > 0 {
				md := map[string]string{"resource": cur.GetName(), "undisposed": fmt.Sprint(len(open)), "comments": strings.Join(open, ","),
					"draft": cur.GetCurrentDraft()}
				return apierr.New(codes.FailedPrecondition, apiv1.ErrorReason_COMMENTS_UNDISPOSED, md, text("error.standards.comments_undisposed", md))
			}
			next.CommentCloseTime = s.stamp()
			w.CloseComments = true
			return nil
		}})
}

// CreateComment files a comment on the draft under comment, inside the
// period. Anyone, without a token, on kinds open to public comment;
// members only on conventions and agreements.
func (s *Service) CreateComment(ctx context.Context, p auth.Principal, parent string, in *standardsv1.Comment, id string) (*standardsv1.Comment, error) {
	r, err := s.parseUnder(ctx, parent, "")
	if err != nil {
		return nil, err
	}
	var v []apierr.FieldViolation
	if strings.TrimSpace(in.GetText()) == "" {
		v = append(v, apierr.Field("comment.text", "required"))
	}
	if strings.TrimSpace(in.GetClause()) == "" {
		v = append(v, apierr.Field("comment.clause", "standards.clause_required"))
	}
	if len(v) > 0 {
		return nil, apierr.InvalidArgument(v...)
	}
	st, err := s.standard(ctx, p, r)
	if err != nil {
		return nil, err
	}
	if !OpenToPublicComment(st.GetKind()) {
		var members []string
		if p.Subject != "" {
			if members, err = s.members.Represented(ctx, r.branch, p.Subject); err != nil {
				return nil, err
			}
		}
		if len(members) == 0 {
			return nil, membersComment(p, st)
		}
	}
	if p.Subject == "" && strings.TrimSpace(in.GetCommenterName()) == "" {
		return nil, apierr.InvalidArgument(apierr.Field("comment.commenter_name", "standards.commenter_name_required"))
	}
	return s.file(ctx, p, r, st, id, &standardsv1.Comment{Clause: in.GetClause(), Text: in.GetText(),
		Author: p.Subject, CommenterName: in.GetCommenterName()})
}

// file stores c, a comment on st under r, as id (random when empty),
// inside the comment period: on the draft under comment, before its end.
// A repeat of the same comment under the same id returns the stored one.
func (s *Service) file(ctx context.Context, p auth.Principal, r ref, st *standardsv1.Standard, id string, c *standardsv1.Comment) (*standardsv1.Comment, error) {
	if _, err := transition(st, ActComment); err != nil {
		return nil, periodClosed(st.GetName(), "not_open_for_comment", "state", st.GetState().String())
	}
	now := s.now()
	if !now.Before(st.GetCommentEndTime().AsTime()) {
		return nil, periodClosed(st.GetName(), "comment_period_ended", "commentEndTime", instant(st.GetCommentEndTime().AsTime()))
	}
	if id == "" {
		id = ids.Random()
	}
	c.Name, c.Draft, c.CreateTime, c.Etag = st.GetName()+"/comments/"+id, st.GetCurrentDraft(), timestamppb.New(now), newEtag()
	ev := s.envelope(ctx, p, c.GetName())
	ev.Payload = &eventsv1.Envelope_CommentSubmitted{CommentSubmitted: &eventsv1.CommentSubmitted{Comment: c}}
	err := s.repo.CreateComment(ctx, r.branch, c, ev)
	switch {
	case errors.Is(err, ErrClosed):
		return nil, periodClosed(st.GetName(), "comment_period_was_closed")
	case errors.Is(err, ErrExists):
		existing, gerr := s.repo.GetComment(ctx, r.branch, r.standard, id)
		if gerr == nil && existing.GetAuthor() == c.GetAuthor() && existing.GetRecorder() == c.GetRecorder() &&
			existing.GetText() == c.GetText() && existing.GetClause() == c.GetClause() {
			return existing, nil
		}
		return nil, apierr.AlreadyExists(c.GetName())
	case err != nil:
		return nil, err
	}
	return c, nil
}

// RecordPaperComment enters a comment received on paper for its
// commenter, a named person or a named outside commenter, in the
// recorder's name too. Those who run the branch (the secretariat). The
// comment is judged as the commenter's own: inside the period, and on a
// convention or agreement only for a member's person.
func (s *Service) RecordPaperComment(ctx context.Context, p auth.Principal, req *standardsv1.RecordPaperCommentRequest) (*standardsv1.Comment, error) {
	r, err := s.parseUnder(ctx, req.GetParent(), "")
	if err != nil {
		return nil, err
	}
	st, err := s.standard(ctx, p, r)
	if err != nil {
		return nil, err
	}
	if err := s.mustRunFor(ctx, p, r.branch, denial{"record_paper_comment", []string{"standard", st.GetName()}}); err != nil {
		return nil, err
	}
	var v []apierr.FieldViolation
	if strings.TrimSpace(req.GetText()) == "" {
		v = append(v, apierr.Field("text", "required"))
	}
	if strings.TrimSpace(req.GetClause()) == "" {
		v = append(v, apierr.Field("clause", "standards.clause_required"))
	}
	person, outside := req.GetPerson(), strings.TrimSpace(req.GetCommenterName())
	switch {
	case person == "" && outside == "":
		v = append(v, apierr.Field("person", "standards.person_or_commenter"))
	case person != "" && (outside != "" || req.GetCommenterOrganization() != ""):
		v = append(v, apierr.Field("commenter_name", "standards.person_or_commenter"))
	case person != "" && !isPersonName(person):
		v = append(v, apierr.Field("person", "standards.person_name", "name", person))
	}
	if len(v) > 0 {
		return nil, apierr.InvalidArgument(v...)
	}
	if !OpenToPublicComment(st.GetKind()) {
		var members []string
		if person != "" {
			if members, err = s.members.Represented(ctx, r.branch, person); err != nil {
				return nil, err
			}
		}
		if len(members) == 0 {
			md := map[string]string{"resource": st.GetName(), "kind": st.GetKind().String(), "commenter": firstOf(person, outside)}
			return nil, apierr.New(codes.PermissionDenied, apiv1.ErrorReason_NOT_A_MEMBER, md, text("error.standards.paper_members_comment", md))
		}
	}
	return s.file(ctx, p, r, st, req.GetCommentId(), &standardsv1.Comment{Clause: req.GetClause(), Text: req.GetText(),
		Author: person, CommenterName: outside, CommenterOrganization: strings.TrimSpace(req.GetCommenterOrganization()), Recorder: p.Subject})
}

// isPersonName: people/{person}, one id segment.
func isPersonName(name string) bool {
	id, ok := strings.CutPrefix(name, "people/")
	return ok && id != "" && !strings.Contains(id, "/")
}

func firstOf(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// GetComment reads one comment.
func (s *Service) GetComment(ctx context.Context, p auth.Principal, name string) (*standardsv1.Comment, error) {
	return getUnder(ctx, s, p, name, "comments", commentsVisible, s.repo.GetComment)
}

// ListComments pages through a standard's comments by creation.
func (s *Service) ListComments(ctx context.Context, p auth.Principal, req *standardsv1.ListCommentsRequest) ([]*standardsv1.Comment, string, error) {
	keep := func(c *standardsv1.Comment) bool {
		return (req.GetDraft() == "" || c.GetDraft() == req.GetDraft()) &&
			(!req.GetUndisposedOnly() || c.GetDisposition() == standardsv1.Disposition_DISPOSITION_UNSPECIFIED)
	}
	return listUnder(ctx, s, p, req, commentsVisible,
		func(ctx context.Context, branch, standard, after string, size int) (page.Page[*standardsv1.Comment], error) {
			return s.repo.ListComments(ctx, branch, standard, after, size, keep)
		}, "comments", req.GetDraft(), fmt.Sprint(req.GetUndisposedOnly()))
}

// DisposeComment records how a comment of the open period was dealt
// with, with the reason. Editors.
func (s *Service) DisposeComment(ctx context.Context, p auth.Principal, req *standardsv1.DisposeCommentRequest) (*standardsv1.Comment, error) {
	r, err := s.parseUnder(ctx, req.GetName(), "comments")
	if err != nil {
		return nil, err
	}
	var v []apierr.FieldViolation
	if req.GetDisposition() == standardsv1.Disposition_DISPOSITION_UNSPECIFIED {
		v = append(v, oneOf("disposition", standardsv1.Disposition(0).Descriptor()))
	}
	if strings.TrimSpace(req.GetReason()) == "" {
		v = append(v, apierr.Field("reason", "required"))
	}
	if len(v) > 0 {
		return nil, apierr.InvalidArgument(v...)
	}
	c, err := retry.Write(ctx, req.GetName(), req.GetEtag(), IsStale, func() (*standardsv1.Comment, error) {
		st, err := s.standard(ctx, p, r)
		if err != nil {
			return nil, err
		}
		if err := s.mustEdit(ctx, p, r.branch, st, ActDisposeComment); err != nil {
			return nil, err
		}
		cur, err := s.repo.GetComment(ctx, r.branch, r.standard, r.child)
		if err != nil {
			return nil, notFound(err, req.GetName())
		}
		if req.GetEtag() != "" && req.GetEtag() != cur.GetEtag() {
			return nil, apierr.EtagMismatch(cur.GetName())
		}
		if _, err := transition(st, ActDisposeComment); err != nil {
			return nil, err
		}
		if cur.GetDraft() != st.GetCurrentDraft() {
			// Its period is over: the standard is out for comment again,
			// on a later draft.
			return nil, periodClosed(st.GetName(), "comment_of_earlier_period", "comment", cur.GetName(), "draft", cur.GetDraft(),
				"currentDraft", st.GetCurrentDraft())
		}
		next := clone(cur)
		next.Disposition, next.DispositionReason, next.Disposer, next.DisposeTime, next.Etag = req.GetDisposition(), req.GetReason(), p.Subject, s.stamp(), newEtag()
		ev := s.envelope(ctx, p, next.GetName())
		ev.Payload = &eventsv1.Envelope_CommentDisposed{CommentDisposed: &eventsv1.CommentDisposed{Comment: next}}
		first := cur.GetDisposition() == standardsv1.Disposition_DISPOSITION_UNSPECIFIED
		if err := s.repo.DisposeComment(ctx, r.branch, next, cur.GetEtag(), first, ev); err != nil {
			return nil, err
		}
		return next, nil
	})
	if errors.Is(err, ErrClosed) {
		return nil, periodClosed(r.standardName(), "comment_period_was_closed")
	}
	return c, err
}

// GetDispositionSummary is the 意见处理汇总 of a standard: every comment
// and how many were accepted, partly accepted, not accepted or not yet
// disposed.
func (s *Service) GetDispositionSummary(ctx context.Context, p auth.Principal, name string) (*standardsv1.DispositionSummary, error) {
	r, st, err := s.readStandard(ctx, p, name, "", commentsVisible)
	if err != nil {
		return nil, err
	}
	comments, counts, err := s.repo.Comments(ctx, r.branch, r.standard)
	if err != nil {
		return nil, err
	}
	sum := &standardsv1.DispositionSummary{Standard: st.GetName(), Draft: counts.Draft, Comments: comments, Total: int32(len(comments))}
	for _, c := range comments {
		switch c.GetDisposition() {
		case standardsv1.Disposition_DISPOSITION_ACCEPTED:
			sum.Accepted++
		case standardsv1.Disposition_DISPOSITION_PARTIALLY_ACCEPTED:
			sum.PartiallyAccepted++
		case standardsv1.Disposition_DISPOSITION_NOT_ACCEPTED:
			sum.NotAccepted++
		default:
			sum.Undisposed++
		}
	}
	return sum, nil
}

// membersComment refuses p a comment on st, a convention or agreement,
// which only the branch's members comment on: without a token, 401 (a
// member signs in to comment); with one that is no member's,
// NOT_A_MEMBER.
func membersComment(p auth.Principal, st *standardsv1.Standard) error {
	md := map[string]string{"resource": st.GetName(), "kind": st.GetKind().String()}
	if p.Subject == "" {
		return apierr.New(codes.Unauthenticated, apiv1.ErrorReason_UNAUTHENTICATED, md, text("error.standards.sign_in_to_comment", md))
	}
	return apierr.New(codes.PermissionDenied, apiv1.ErrorReason_NOT_A_MEMBER, md, text("error.standards.members_comment", md))
}
