package domain

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/tjsia/chapterhouse/platform/apierr"
	"github.com/tjsia/chapterhouse/platform/auth"
	"github.com/tjsia/chapterhouse/platform/page"
	"github.com/tjsia/chapterhouse/platform/retry"
	eventsv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/events/v1"
	governancev1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/governance/v1"

	"github.com/tjsia/chapterhouse/contracts/governance/branches"
)

// officerOf reads branches/{b}/terms/{n}/officers/{id}.
func (s *Service) officerOf(ctx context.Context, name string) (*governancev1.Branch, string, *governancev1.Officer, error) {
	return lookup(ctx, s, name, func(ids []string) (*governancev1.Officer, error) {
		term, ok := termNumber(ids[1])
		if !ok {
			return nil, ErrNotFound
		}
		return s.repo.GetOfficer(ctx, ids[0], term, ids[2])
	}, "terms", "officers")
}

// GetOfficer returns an officer as of today (ENDED once its last day has
// passed).
func (s *Service) GetOfficer(ctx context.Context, name string) (*governancev1.Officer, error) {
	_, _, o, err := s.officerOf(ctx, name)
	if err != nil {
		return nil, err
	}
	return present(ctx, o, s.today()), nil
}

// officerKey orders officers by term, then appointment, then name.
func officerKey(o *governancev1.Officer) string {
	return fmt.Sprintf("%010d:%020d:%s", TermNumberOf(o.GetName()), o.GetAppointTime().AsTime().UnixNano(), o.GetName())
}

// ListOfficers pages through a term's officers, or every term's with "-"
// (how G1's history is read), in term then appointment order.
func (s *Service) ListOfficers(ctx context.Context, req *governancev1.ListOfficersRequest) ([]*governancev1.Officer, string, error) {
	_, branch, term, err := s.termParent(ctx, req.GetParent(), true)
	if err != nil {
		return nil, "", err
	}
	pg, err := s.pages.Parse(req.GetPageSize(), req.GetPageToken(), "officers", req.GetParent(), req.GetPosition().String(),
		req.GetState().String(), req.GetPerson(), req.GetRepresentedMember())
	if err != nil {
		return nil, "", err
	}
	officers, err := s.repo.Officers(ctx, branch)
	if err != nil {
		return nil, "", err
	}
	today := s.today()
	var kept []*governancev1.Officer
	for _, o := range officers.Items {
		o = present(ctx, o, today)
		switch {
		case term != 0 && TermNumberOf(o.GetName()) != term,
			req.GetPosition() != 0 && o.GetPosition() != req.GetPosition(),
			req.GetState() != 0 && o.GetState() != req.GetState(),
			req.GetPerson() != "" && o.GetPerson() != req.GetPerson(),
			req.GetRepresentedMember() != "" && o.GetRepresentedMember() != req.GetRepresentedMember():
			continue
		}
		kept = append(kept, o)
	}
	slices.SortFunc(kept, func(a, b *governancev1.Officer) int { return strings.Compare(officerKey(a), officerKey(b)) })
	out := page.Of(kept, officerKey, pg.After, pg.Size)
	return out.Items, pg.Next(out.Next), nil
}

// EndOffice ends a serving office early with a reason: admins, or the
// officer themselves (resignation). The office's place is given back, so
// it can be filled again.
func (s *Service) EndOffice(ctx context.Context, p auth.Principal, req *governancev1.EndOfficeRequest) (*governancev1.Officer, error) {
	if strings.TrimSpace(req.GetReason()) == "" {
		return nil, apierr.InvalidArgument(apierr.Field("reason", "required"))
	}
	var asked Day
	if req.GetEndDate() != nil {
		d, ok := branches.DayOf(req.GetEndDate())
		if !ok {
			return nil, apierr.InvalidArgument(apierr.Field("end_date", "governance.calendar_date"))
		}
		asked = d
	}
	return retry.Write(ctx, req.GetName(), req.GetEtag(), IsStale, func() (*governancev1.Officer, error) {
		b, branch, cur, err := s.officerOf(ctx, req.GetName())
		if err != nil {
			return nil, err
		}
		if err := endsOffice(p, cur, req.GetKind()); err != nil {
			return nil, err
		}
		if req.GetEtag() != "" && req.GetEtag() != cur.GetEtag() {
			return nil, apierr.EtagMismatch(cur.GetName())
		}
		last := asked
		if last.IsZero() {
			last = s.today()
		}
		return s.endOffice(ctx, p, b, branch, cur, last, endKind(p, cur, req.GetKind()), req.GetReason())
	})
}

// endKind is why p, whom endsOffice let through, ends cur's office: the
// kind asked; else the officer resigns, or an admin removes them.
func endKind(p auth.Principal, cur *governancev1.Officer, asked governancev1.OfficeEndKind) governancev1.OfficeEndKind {
	switch {
	case asked != governancev1.OfficeEndKind_OFFICE_END_KIND_UNSPECIFIED:
		return asked
	case p.Subject == cur.GetPerson():
		return governancev1.OfficeEndKind_OFFICE_END_KIND_RESIGNATION
	}
	return governancev1.OfficeEndKind_OFFICE_END_KIND_REMOVAL
}

// endOffice writes the end of a serving office on its last day.
func (s *Service) endOffice(ctx context.Context, p auth.Principal, b *governancev1.Branch, branch string, cur *governancev1.Officer, last Day, kind governancev1.OfficeEndKind, reason string) (*governancev1.Officer, error) {
	today := s.today()
	if now := present(ctx, cur, today); now.GetState() != governancev1.OfficerState_OFFICER_STATE_SERVING {
		return nil, apierr.InvalidTransition(cur.GetName(), "end", now.GetState().String())
	}
	first, _ := branches.DayOf(cur.GetStartDate())
	end, _ := branches.DayOf(cur.GetEndDate())
	if last.After(end) {
		return nil, apierr.InvalidArgument(apierr.Field("end_date", "governance.not_after_term_end", "date", end.Format(time.DateOnly)))
	}
	if last.Before(first) {
		// Ended before it began: the last day is the day before the first.
		last = first.AddDate(0, 0, -1)
	}
	now := s.now()
	next := cloneOfficer(cur)
	next.State, next.EndKind, next.EndReason, next.EndDate, next.EndTime, next.Etag =
		governancev1.OfficerState_OFFICER_STATE_ENDED, kind, reason, branches.DateOf(last), timestamppb.New(now), newEtag()
	claim, _ := claimOf(&governancev1.Nomination{Position: cur.GetPosition(), RepresentedMember: cur.GetRepresentedMember()}, b.GetParameters())
	ev := s.envelope(ctx, p, next.GetName())
	ev.Payload = &eventsv1.Envelope_OfficeEnded{OfficeEnded: &eventsv1.OfficeEnded{Officer: next, Reason: reason}}
	if err := s.repo.SaveOfficer(ctx, branch, next, cur.GetEtag(), claim, ev); err != nil {
		return nil, err
	}
	return next, nil
}
