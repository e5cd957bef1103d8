package domain

import (
	"context"

	"github.com/tjsia/chapterhouse/platform/auth"
	"github.com/tjsia/chapterhouse/platform/page"
	standardsv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/standards/v1"
)

// The reads of a standard and of what it holds (drafts, comments,
// signatories, promotions) share one shape: parse the name, read the
// standard as the caller may see it, check what the caller may read of
// it, then read the record or the page. The standard comes first, so a
// hidden standard's records answer as missing ones (Service.standard).

// readRule says whether p, who sees st, may read what a method reads of
// it: nil, or an error saying why not (commentsVisible).
type readRule func(p auth.Principal, st *standardsv1.Standard) error

// readStandard parses name, a standard's or one of its records in
// collection ("" for the standard itself), and reads the standard as p
// may see it; may (nil: whoever sees the standard) then says whether p
// may read what is asked of it.
func (s *Service) readStandard(ctx context.Context, p auth.Principal, name, collection string, may readRule) (ref, *standardsv1.Standard, error) {
	r, err := s.parseUnder(ctx, name, collection)
	if err != nil {
		return ref{}, nil, err
	}
	st, err := s.standard(ctx, p, r)
	if err != nil {
		return ref{}, nil, err
	}
	if may != nil {
		if err := may(p, st); err != nil {
			return ref{}, nil, err
		}
	}
	return r, st, nil
}

// getUnder reads name, a record in collection under a standard p may see
// (readStandard), with get; a missing one is NOT_FOUND naming it.
func getUnder[T any](ctx context.Context, s *Service, p auth.Principal, name, collection string, may readRule,
	get func(ctx context.Context, branch, standard, id string) (T, error)) (T, error) {
	r, _, err := s.readStandard(ctx, p, name, collection, may)
	if err != nil {
		var zero T
		return zero, err
	}
	rec, err := get(ctx, r.branch, r.standard, r.child)
	return rec, notFound(err, name)
}

// pageRequest is a List request under a standard.
type pageRequest interface {
	GetParent() string
	GetPageSize() int32
	GetPageToken() string
}

// listUnder pages, with list, through the records of collection under the
// standard req's parent names, which p must see (readStandard). The page
// token is bound to the collection, the parent and filters: every value
// list filters by.
func listUnder[T any](ctx context.Context, s *Service, p auth.Principal, req pageRequest, may readRule,
	list func(ctx context.Context, branch, standard, after string, size int) (page.Page[T], error),
	collection string, filters ...string) ([]T, string, error) {
	r, _, err := s.readStandard(ctx, p, req.GetParent(), "", may)
	if err != nil {
		return nil, "", err
	}
	pg, err := s.pages.Parse(req.GetPageSize(), req.GetPageToken(), append([]string{collection, req.GetParent()}, filters...)...)
	if err != nil {
		return nil, "", err
	}
	items, err := list(ctx, r.branch, r.standard, pg.After, pg.Size)
	if err != nil {
		return nil, "", err
	}
	return items.Items, pg.Next(items.Next), nil
}
