package domain

import (
	"context"
	"errors"
	"path"

	"google.golang.org/grpc/codes"

	"github.com/tjsia/chapterhouse/platform/apierr"
	"github.com/tjsia/chapterhouse/platform/auth"
	"github.com/tjsia/chapterhouse/platform/ids"
	"github.com/tjsia/chapterhouse/platform/retry"
	apiv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/api/v1"
	eventsv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/events/v1"
	standardsv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/standards/v1"
)

func draftName(standard, id string) string { return standard + "/drafts/" + id }

// CreateDraft adds the next version of the text. Editors, while
// DRAFTING; the version label is unique within the standard.
func (s *Service) CreateDraft(ctx context.Context, p auth.Principal, parent string, in *standardsv1.Draft, etag, id string) (*standardsv1.Draft, error) {
	r, err := s.parseUnder(ctx, parent, "")
	if err != nil {
		return nil, err
	}
	if id == "" {
		id = ids.Random()
	}
	name := draftName(parent, id)
	d, err := retry.Write(ctx, parent, etag, IsStale, func() (*standardsv1.Draft, error) {
		cur, err := s.standard(ctx, p, r)
		if err != nil {
			return nil, err
		}
		if err := s.mustEdit(ctx, p, r.branch, cur, ActCreateDraft); err != nil {
			return nil, err
		}
		if etag != "" && etag != cur.GetEtag() {
			return nil, apierr.EtagMismatch(cur.GetName())
		}
		if _, err := transition(cur, ActCreateDraft); err != nil {
			return nil, err
		}
		seq := int32(1)
		if cur.GetLatestDraft() != "" {
			latest, err := s.repo.GetDraft(ctx, r.branch, r.standard, path.Base(cur.GetLatestDraft()))
			if err != nil {
				return nil, err
			}
			seq = latest.GetSequence() + 1
		}
		d := &standardsv1.Draft{Name: name, Version: in.GetVersion(), ContentUri: in.GetContentUri(), Sha256: in.GetSha256(),
			ChangeSummary: in.GetChangeSummary(), Author: p.Subject, CreateTime: s.stamp(), Sequence: seq}
		next := clone(cur)
		next.LatestDraft, next.UpdateTime, next.Etag = name, s.stamp(), newEtag()
		ev := s.envelope(ctx, p, name)
		ev.Payload = &eventsv1.Envelope_DraftAdded{DraftAdded: &eventsv1.DraftAdded{Standard: next, Draft: d}}
		if err := s.repo.CreateDraft(ctx, r.branch, d, next, cur.GetEtag(), ev); err != nil {
			return nil, err
		}
		return d, nil
	})
	switch {
	case errors.Is(err, ErrExists):
		existing, gerr := s.repo.GetDraft(ctx, r.branch, r.standard, id)
		if gerr == nil && existing.GetSha256() == in.GetSha256() && existing.GetVersion() == in.GetVersion() {
			return existing, nil
		}
		return nil, apierr.AlreadyExists(name)
	case errors.Is(err, ErrVersionTaken):
		md := map[string]string{"version": in.GetVersion(), "standard": parent}
		return nil, apierr.New(codes.AlreadyExists, apiv1.ErrorReason_DRAFT_VERSION_TAKEN, md, text("error.standards.draft_version_taken", md))
	}
	return d, err
}

// GetDraft reads one draft.
func (s *Service) GetDraft(ctx context.Context, p auth.Principal, name string) (*standardsv1.Draft, error) {
	return getUnder(ctx, s, p, name, "drafts", nil, s.repo.GetDraft)
}

// ListDrafts pages through a standard's drafts, oldest first.
func (s *Service) ListDrafts(ctx context.Context, p auth.Principal, req *standardsv1.ListDraftsRequest) ([]*standardsv1.Draft, string, error) {
	return listUnder(ctx, s, p, req, nil, s.repo.ListDrafts, "drafts")
}
