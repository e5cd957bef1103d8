package domain

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/types/known/fieldmaskpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/tjsia/chapterhouse/platform/apierr"
	"github.com/tjsia/chapterhouse/platform/auth"
	"github.com/tjsia/chapterhouse/platform/fieldmask"
	"github.com/tjsia/chapterhouse/platform/page"
	"github.com/tjsia/chapterhouse/platform/retry"
	apiv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/api/v1"
	eventsv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/events/v1"
	governancev1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/governance/v1"

	"github.com/tjsia/chapterhouse/contracts/governance/branches"
)

// checkTermDates: both dates are calendar dates and the term ends after it
// starts.
func checkTermDates(t *governancev1.Term) []apierr.FieldViolation {
	var v []apierr.FieldViolation
	first, okFirst := branches.DayOf(t.GetStartDate())
	last, okLast := branches.DayOf(t.GetEndDate())
	if !okFirst {
		v = append(v, apierr.Field("term.start_date", "governance.required_date"))
	}
	if !okLast {
		v = append(v, apierr.Field("term.end_date", "governance.required_date"))
	}
	if okFirst && okLast && !last.After(first) {
		v = append(v, apierr.Field("term.end_date", "governance.after", "other", "start_date"))
	}
	return v
}

// overlapping returns the first of terms other than t that shares a day
// with it, or nil.
func overlapping(terms []*governancev1.Term, t *governancev1.Term) *governancev1.Term {
	for _, o := range terms {
		if o.GetNumber() != t.GetNumber() && Overlaps(o, t) {
			return o
		}
	}
	return nil
}

func termsOverlap(t, other *governancev1.Term) error {
	first, last := TermDays(other)
	return refusal(codes.FailedPrecondition, apiv1.ErrorReason_TERMS_OVERLAP, "terms_overlap",
		map[string]string{"term": other.GetName(), "resource": other.GetName(), "proposed_term": t.GetName(),
			"start_date": first.Format(time.DateOnly), "end_date": last.Format(time.DateOnly)})
}

// CreateTerm adds a term; its id is its number. It takes the branch's next
// number and starts after the last term ends (TermFits), and the check
// holds against concurrent creates because the write is conditioned on
// the terms it was judged against.
func (s *Service) CreateTerm(ctx context.Context, p auth.Principal, parent string, in *governancev1.Term) (*governancev1.Term, error) {
	if err := managesTerms(p); err != nil {
		return nil, err
	}
	_, branch, err := s.branchOf(ctx, parent)
	if err != nil {
		return nil, err
	}
	v := checkTermDates(in)
	if in.GetNumber() < 1 {
		v = append(v, apierr.Field("term.number", "governance.at_least", "min", "1"))
	}
	if len(v) > 0 {
		return nil, apierr.InvalidArgument(v...)
	}
	now := s.now()
	t := &governancev1.Term{
		Name: termName(branch, in.GetNumber()), Number: in.GetNumber(), StartDate: in.GetStartDate(), EndDate: in.GetEndDate(),
		CreateTime: timestamppb.New(now), UpdateTime: timestamppb.New(now), Etag: newEtag(),
	}
	out, err := retry.Conflicts(ctx, IsStale, func() (*governancev1.Term, error) {
		terms, err := s.repo.Terms(ctx, branch)
		if err != nil {
			return nil, err
		}
		for _, o := range terms.Items {
			if o.GetNumber() != t.GetNumber() {
				continue
			}
			// Repeating the same create returns the term.
			if DatesEqual(o.GetStartDate(), t.GetStartDate()) && DatesEqual(o.GetEndDate(), t.GetEndDate()) {
				return presentTerm(o, s.today()), nil
			}
			return nil, apierr.AlreadyExists(t.GetName())
		}
		if err := TermFits(terms.Items, t, true); err != nil {
			return nil, err
		}
		ev := s.envelope(ctx, p, t.GetName())
		ev.Payload = &eventsv1.Envelope_TermCreated{TermCreated: &eventsv1.TermCreated{Term: t}}
		err = s.repo.CreateTerm(ctx, branch, t, terms.Version, ev)
		if errors.Is(err, ErrExists) {
			return nil, ErrStale // created meanwhile: read the terms again
		}
		if err != nil {
			return nil, err
		}
		return presentTerm(t, s.today()), nil
	})
	if errors.Is(err, retry.ErrExhausted) {
		return nil, apierr.TooContended(parent)
	}
	return out, err
}

// DatesEqual compares two calendar dates.
func DatesEqual(a, b interface {
	GetYear() int32
	GetMonth() int32
	GetDay() int32
}) bool {
	return a.GetYear() == b.GetYear() && a.GetMonth() == b.GetMonth() && a.GetDay() == b.GetDay()
}

// termOf reads a term by name (branches/{b}/terms/{n}).
func (s *Service) termOf(ctx context.Context, name string) (branch string, t *governancev1.Term, terms Versioned[*governancev1.Term], err error) {
	_, ids, err := s.inBranch(ctx, name, false, "terms")
	if err != nil {
		return "", nil, terms, err
	}
	n, ok := termNumber(ids[1])
	if !ok {
		return "", nil, terms, apierr.NotFound(name)
	}
	terms, err = s.repo.Terms(ctx, ids[0])
	if err != nil {
		return "", nil, terms, err
	}
	for _, o := range terms.Items {
		if o.GetNumber() == n {
			return ids[0], o, terms, nil
		}
	}
	return "", nil, terms, apierr.NotFound(name)
}

// GetTerm returns a term with its state as of today.
func (s *Service) GetTerm(ctx context.Context, name string) (*governancev1.Term, error) {
	_, t, _, err := s.termOf(ctx, name)
	if err != nil {
		return nil, err
	}
	return presentTerm(t, s.today()), nil
}

// termKey orders terms by number in a page token.
func termKey(t *governancev1.Term) string { return fmt.Sprintf("%010d", t.GetNumber()) }

// ListTerms pages through a branch's terms by number.
func (s *Service) ListTerms(ctx context.Context, parent string, size int32, token string) ([]*governancev1.Term, string, error) {
	_, branch, err := s.branchOf(ctx, parent)
	if err != nil {
		return nil, "", err
	}
	pg, err := s.pages.Parse(size, token, "terms", parent)
	if err != nil {
		return nil, "", err
	}
	terms, err := s.repo.Terms(ctx, branch)
	if err != nil {
		return nil, "", err
	}
	sorted := slices.Clone(terms.Items)
	slices.SortFunc(sorted, func(a, b *governancev1.Term) int { return int(a.GetNumber() - b.GetNumber()) })
	out := page.Of(sorted, termKey, pg.After, pg.Size)
	today := s.today()
	for i, t := range out.Items {
		out.Items[i] = presentTerm(t, today)
	}
	return out.Items, pg.Next(out.Next), nil
}

var termPaths = []string{"start_date", "end_date"}

// UpdateTerm moves a term's dates. The term stays in its place in the
// chain (TermFits: after the term before it, before the term after it),
// and a term that has officers keeps its dates: their offices were judged
// (G4) and dated by them.
func (s *Service) UpdateTerm(ctx context.Context, p auth.Principal, patch *governancev1.Term, mask *fieldmaskpb.FieldMask) (*governancev1.Term, error) {
	if err := managesTerms(p); err != nil {
		return nil, err
	}
	paths, err := fieldmask.Paths(mask, termPaths, map[string]string{"name": "immutable", "number": "immutable", "state": "output_only"})
	if err != nil {
		return nil, err
	}
	// Judged again after a lost race even when the client pinned the
	// term's etag, which each try compares itself (see AppointNomination):
	// a term created or an officer appointed meanwhile gets the rules'
	// answer.
	return retry.Write(ctx, patch.GetName(), "", IsStale, func() (*governancev1.Term, error) {
		branch, cur, terms, err := s.termOf(ctx, patch.GetName())
		if err != nil {
			return nil, err
		}
		if patch.GetEtag() != "" && patch.GetEtag() != cur.GetEtag() {
			return nil, apierr.EtagMismatch(cur.GetName())
		}
		next := cloneTerm(cur)
		fieldmask.Apply(next, patch, paths)
		if v := checkTermDates(next); len(v) > 0 {
			return nil, apierr.InvalidArgument(v...)
		}
		if err := TermFits(terms.Items, next, false); err != nil {
			return nil, err
		}
		officers, err := s.repo.Officers(ctx, branch)
		if err != nil {
			return nil, err
		}
		for _, o := range officers.Items {
			if TermNumberOf(o.GetName()) == cur.GetNumber() {
				// Not its state but its officers hold the dates: the state
				// is the term's own, and the text says why.
				return nil, refusal(codes.FailedPrecondition, apiv1.ErrorReason_INVALID_STATE_TRANSITION, "term_has_officers",
					map[string]string{"resource": cur.GetName(), "action": "update", "state": TermState(cur, s.today()).String(),
						"allowed": "", "officer": o.GetName()})
			}
		}
		next.UpdateTime, next.Etag = timestamppb.New(s.now()), newEtag()
		ev := s.envelope(ctx, p, next.GetName())
		ev.Payload = &eventsv1.Envelope_TermUpdated{TermUpdated: &eventsv1.TermUpdated{Term: next, ChangedFields: paths}}
		if err := s.repo.SaveTerm(ctx, branch, next, cur.GetEtag(), terms.Version, officers.Version, ev); err != nil {
			return nil, err
		}
		return presentTerm(next, s.today()), nil
	})
}

// termParent parses branches/{b}/terms/{n} (or "-" when wildcard) into the
// branch and the term number (0 for "-").
func (s *Service) termParent(ctx context.Context, name string, wildcard bool) (*governancev1.Branch, string, int32, error) {
	b, ids, err := s.inBranch(ctx, name, wildcard, "terms")
	if err != nil {
		return nil, "", 0, err
	}
	if ids[1] == "-" {
		return b, ids[0], 0, nil
	}
	n, ok := termNumber(ids[1])
	if !ok {
		return nil, "", 0, apierr.NotFound(name)
	}
	return b, ids[0], n, nil
}

func itoa(n int32) string { return strconv.Itoa(int(n)) }
