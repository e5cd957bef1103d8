package domain

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/tjsia/chapterhouse/platform/apierr"
	"github.com/tjsia/chapterhouse/platform/auth"
	"github.com/tjsia/chapterhouse/platform/ids"
	"github.com/tjsia/chapterhouse/platform/retry"
	apiv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/api/v1"
	eventsv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/events/v1"
	standardsv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/standards/v1"
)

func periodClosed(name, why string) error {
	return apierr.New(codes.FailedPrecondition, apiv1.ErrorReason_COMMENT_PERIOD_CLOSED, name+" is not open for comment: "+why,
		map[string]string{"resource": name})
}

// OpenStandardComment: DRAFTING → PUBLIC_COMMENT on the latest draft,
// from now until end. Editors; needs a draft.
func (s *Service) OpenStandardComment(ctx context.Context, p auth.Principal, req *standardsv1.OpenStandardCommentRequest) (*standardsv1.Standard, error) {
	end := req.GetCommentEndTime()
	if end == nil || !end.AsTime().After(s.now()) {
		return nil, apierr.InvalidArgument(apierr.FieldViolation{Field: "comment_end_time", Description: "is required, in the future"})
	}
	return s.do(ctx, p, req.GetName(), step{action: ActOpenComment, etag: req.GetEtag(),
		reason: "public comment until " + end.AsTime().UTC().Format("2006-01-02T15:04:05Z"),
		allow:  s.editing(ctx, p, "open it for comment"),
		apply: func(cur, next *standardsv1.Standard, w *Write) error {
			if cur.GetLatestDraft() == "" {
				return apierr.New(codes.FailedPrecondition, apiv1.ErrorReason_DRAFT_REQUIRED,
					cur.GetName()+" has no draft to comment on: add one first", map[string]string{"resource": cur.GetName()})
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
	return s.do(ctx, p, req.GetName(), step{action: ActCloseComment, etag: req.GetEtag(), reason: "public comment closed",
		allow: s.editing(ctx, p, "close its comment period"),
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
				return apierr.New(codes.FailedPrecondition, apiv1.ErrorReason_COMMENTS_UNDISPOSED,
					fmt.Sprintf("%d comment(s) on %s have no disposition: %s", len(open), cur.GetCurrentDraft(), strings.Join(open, ", ")),
					map[string]string{"resource": cur.GetName(), "undisposed": fmt.Sprint(len(open)), "comments": strings.Join(open, ",")})
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
		v = append(v, apierr.FieldViolation{Field: "comment.text", Description: "is required"})
	}
	if strings.TrimSpace(in.GetClause()) == "" {
		v = append(v, apierr.FieldViolation{Field: "comment.clause", Description: "is required (a clause such as \"5.2.1\", or \"全文\" for the whole text)"})
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
			return nil, refuse(p, apiv1.ErrorReason_NOT_A_MEMBER, "only the branch's members comment on "+st.GetKind().String(),
				map[string]string{"resource": st.GetName()})
		}
	}
	if p.Subject == "" && strings.TrimSpace(in.GetCommenterName()) == "" {
		return nil, apierr.InvalidArgument(apierr.FieldViolation{Field: "comment.commenter_name", Description: "is required without a token (your name and organisation)"})
	}
	if _, err := transition(st, ActComment); err != nil {
		return nil, periodClosed(st.GetName(), "it is "+stateName(st.GetState()))
	}
	now := s.now()
	if !now.Before(st.GetCommentEndTime().AsTime()) {
		return nil, periodClosed(st.GetName(), "its period ended at "+st.GetCommentEndTime().AsTime().UTC().Format("2006-01-02T15:04:05Z"))
	}
	if id == "" {
		id = ids.Random()
	}
	c := &standardsv1.Comment{Name: parent + "/comments/" + id, Draft: st.GetCurrentDraft(), Clause: in.GetClause(), Text: in.GetText(),
		Author: p.Subject, CommenterName: in.GetCommenterName(), CreateTime: timestamppb.New(now), Etag: newEtag()}
	ev := s.envelope(ctx, p, c.GetName())
	ev.Payload = &eventsv1.Envelope_CommentSubmitted{CommentSubmitted: &eventsv1.CommentSubmitted{Comment: c}}
	err = s.repo.CreateComment(ctx, r.branch, c, ev)
	switch {
	case errors.Is(err, ErrClosed):
		return nil, periodClosed(st.GetName(), "its period was closed")
	case errors.Is(err, ErrExists):
		existing, gerr := s.repo.GetComment(ctx, r.branch, r.standard, id)
		if gerr == nil && existing.GetAuthor() == c.GetAuthor() && existing.GetText() == c.GetText() && existing.GetClause() == c.GetClause() {
			return existing, nil
		}
		return nil, apierr.AlreadyExists(c.GetName())
	case err != nil:
		return nil, err
	}
	return c, nil
}

// GetComment reads one comment.
func (s *Service) GetComment(ctx context.Context, p auth.Principal, name string) (*standardsv1.Comment, error) {
	r, err := s.parseUnder(ctx, name, "comments")
	if err != nil {
		return nil, err
	}
	st, err := s.standard(ctx, p, r)
	if err != nil {
		return nil, err
	}
	if err := commentsVisible(p, st); err != nil {
		return nil, err
	}
	c, err := s.repo.GetComment(ctx, r.branch, r.standard, r.child)
	return c, notFound(err, name)
}

// ListComments pages through a standard's comments by creation.
func (s *Service) ListComments(ctx context.Context, p auth.Principal, req *standardsv1.ListCommentsRequest) ([]*standardsv1.Comment, string, error) {
	r, err := s.parseUnder(ctx, req.GetParent(), "")
	if err != nil {
		return nil, "", err
	}
	st, err := s.standard(ctx, p, r)
	if err != nil {
		return nil, "", err
	}
	if err := commentsVisible(p, st); err != nil {
		return nil, "", err
	}
	pg, err := s.pages.Parse(req.GetPageSize(), req.GetPageToken(), "comments", req.GetParent(), req.GetDraft(), fmt.Sprint(req.GetUndisposedOnly()))
	if err != nil {
		return nil, "", err
	}
	page, err := s.repo.ListComments(ctx, r.branch, r.standard, pg.After, pg.Size, func(c *standardsv1.Comment) bool {
		return (req.GetDraft() == "" || c.GetDraft() == req.GetDraft()) &&
			(!req.GetUndisposedOnly() || c.GetDisposition() == standardsv1.Disposition_DISPOSITION_UNSPECIFIED)
	})
	if err != nil {
		return nil, "", err
	}
	return page.Items, pg.Next(page.Next), nil
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
		v = append(v, apierr.FieldViolation{Field: "disposition", Description: "is required (ACCEPTED, PARTIALLY_ACCEPTED or NOT_ACCEPTED)"})
	}
	if strings.TrimSpace(req.GetReason()) == "" {
		v = append(v, apierr.FieldViolation{Field: "reason", Description: "is required"})
	}
	if len(v) > 0 {
		return nil, apierr.InvalidArgument(v...)
	}
	c, err := retry.Write(ctx, req.GetName(), req.GetEtag(), IsStale, func() (*standardsv1.Comment, error) {
		st, err := s.standard(ctx, p, r)
		if err != nil {
			return nil, err
		}
		if err := s.mustEdit(ctx, p, r.branch, st, "dispose of comments"); err != nil {
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
			return nil, apierr.InvalidTransition(cur.GetName(), "dispose", "of an earlier comment period ("+cur.GetDraft()+")")
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
		return nil, periodClosed(r.standardName(), "its period was closed")
	}
	return c, err
}

// GetDispositionSummary is the 意见处理汇总 of a standard: every comment
// and how many were accepted, partly accepted, not accepted or not yet
// disposed.
func (s *Service) GetDispositionSummary(ctx context.Context, p auth.Principal, name string) (*standardsv1.DispositionSummary, error) {
	r, err := s.parseUnder(ctx, name, "")
	if err != nil {
		return nil, err
	}
	st, err := s.standard(ctx, p, r)
	if err != nil {
		return nil, err
	}
	if err := commentsVisible(p, st); err != nil {
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
