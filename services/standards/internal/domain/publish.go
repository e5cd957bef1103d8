package domain

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"google.golang.org/genproto/googleapis/type/date"
	"google.golang.org/grpc/codes"

	"github.com/tjsia/chapterhouse/platform/apierr"
	"github.com/tjsia/chapterhouse/platform/auth"
	apiv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/api/v1"
	eventsv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/events/v1"
	governancev1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/governance/v1"
	standardsv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/standards/v1"

	"github.com/tjsia/chapterhouse/contracts/governance/branches"
)

// publishAttempts bounds the retries of a publication that lost the race
// for its kind's next number. Publications are rare (a branch publishes a
// few standards a year), so outlasting a burst of them is cheap; and a
// number is only ever taken by the publication that commits with it, so
// the sequence has no gaps.
const publishAttempts = 64

func (s *Service) today() time.Time { return branches.Today(s.now()) }

func dayOf(d *date.Date) (time.Time, bool) { return branches.DayOf(d) }

func dateOf(d time.Time) *date.Date { return branches.DateOf(d) }

// dayFrom is the day d, given in field, which must be a valid date, today
// or later.
func dayFrom(field string, d *date.Date, today time.Time) (time.Time, error) {
	day, ok := dayOf(d)
	given := fmt.Sprintf("%04d-%02d-%02d", d.GetYear(), d.GetMonth(), d.GetDay())
	switch {
	case !ok:
		return day, apierr.InvalidArgument(apierr.Field(field, "standards.invalid_date", "date", given))
	case day.Before(today):
		return day, apierr.InvalidArgument(apierr.Field(field, "standards.not_before_today", "date", given, "today", today.Format(time.DateOnly)))
	}
	return day, nil
}

// FormatFor is the branch's code format for a kind ("" when the branch
// does not number it).
func FormatFor(f *governancev1.StandardCodeFormats, kind standardsv1.StandardKind) string {
	switch kind {
	case standardsv1.StandardKind_STANDARD_KIND_GROUP_STANDARD:
		return f.GetGroupStandard()
	case standardsv1.StandardKind_STANDARD_KIND_LOCAL_INDUSTRY_STANDARD:
		return f.GetLocalIndustryStandard()
	case standardsv1.StandardKind_STANDARD_KIND_SELF_DISCIPLINE_CONVENTION:
		return f.GetSelfDisciplineConvention()
	case standardsv1.StandardKind_STANDARD_KIND_AGREEMENT:
		return f.GetAgreement()
	}
	return ""
}

// codeNotAllowed refuses a code for kind with the text
// "error.standards.<what>"; facts are the metadata beyond the kind (the
// code given, its normal form, the character or format at fault), which
// the text shows.
func codeNotAllowed(kind standardsv1.StandardKind, what string, facts map[string]string) error {
	md := map[string]string{"kind": kind.String()}
	for k, v := range facts {
		if v != "" {
			md[k] = v
		}
	}
	return apierr.New(codes.InvalidArgument, apiv1.ErrorReason_STANDARD_CODE_NOT_ALLOWED, md, text("error.standards."+what, md))
}

// codeTaken refuses code, which holder holds ("" when the holder could
// not be read).
func codeTaken(code, holder string) error {
	if holder == "" {
		md := map[string]string{"code": code}
		return apierr.New(codes.AlreadyExists, apiv1.ErrorReason_STANDARD_CODE_TAKEN, md, text("error.standards.code_taken_unknown_holder", md))
	}
	return apierr.New(codes.AlreadyExists, apiv1.ErrorReason_STANDARD_CODE_TAKEN, map[string]string{"code": code, "standard": holder})
}

// PublishStandard: APPROVED → PUBLISHED, with its code assigned in the
// same atomic step (see standards.proto). A revision supersedes the
// standard it revises. Admins or leaders.
func (s *Service) PublishStandard(ctx context.Context, p auth.Principal, req *standardsv1.PublishStandardRequest) (*standardsv1.Standard, error) {
	r, err := s.parseUnder(ctx, req.GetName(), "")
	if err != nil {
		return nil, err
	}
	today := s.today()
	effective, err := dayFrom("effective_date", req.GetEffectiveDate(), today)
	if err != nil {
		return nil, err
	}
	b, err := s.branches.Branch(ctx, r.branch)
	if err != nil {
		return nil, err
	}
	formats := branches.CodeFormats(b)
	var claimed codeClaim
	published, err := s.do(ctx, p, req.GetName(), step{action: ActPublish, etag: req.GetEtag(), ownEvent: true, attempts: publishAttempts,
		allow: s.running(ctx, p, ActPublish),
		apply: func(cur, next *standardsv1.Standard, w *Write) error {
			claim, err := s.codeFor(ctx, r.branch, cur, formats, req.GetCode(), today.Year())
			if err != nil {
				return err
			}
			claimed = claim
			next.Code, next.CodeNumber = claim.Code, int32(claim.number)
			next.PublishedDraft, next.PublishTime, next.EffectiveDate = cur.GetCurrentDraft(), s.stamp(), dateOf(effective)
			w.Code = &claim.CodeClaim
			// The superseded standard's record: the action, by the
			// publisher; no words were given for it.
			if err := s.related(ctx, p, r.branch, cur.GetRevises(), ActSupersede, "", w); err != nil {
				return err
			}
			var draft *standardsv1.Draft
			if r2, err := s.parseUnder(ctx, next.GetPublishedDraft(), "drafts"); err == nil {
				draft, _ = s.repo.GetDraft(ctx, r2.branch, r2.standard, r2.child)
			}
			ev := s.envelope(ctx, p, next.GetName())
			ev.Payload = &eventsv1.Envelope_StandardPublished{StandardPublished: &eventsv1.StandardPublished{
				Standard: next, PublishedDraft: draft, Revision: cur.GetRevises() != ""}}
			w.Events = append([]*eventsv1.Envelope{ev}, w.Events...)
			return nil
		}})
	if errors.Is(err, ErrCodeTaken) {
		// Another publication claimed the code (or one keyed alike)
		// between the check and the write.
		holder, herr := s.repo.CodeHolder(ctx, r.branch, claimed.Key)
		if herr != nil {
			holder = ""
		}
		return nil, codeTaken(claimed.Code, holder)
	}
	return published, err
}

type codeClaim struct {
	CodeClaim
	number int64
}

// codeFor decides the code a publication takes: a revision keeps the
// number of the standard it revises, with the new year; a numbered kind
// takes the next number of its sequence; any other kind takes the code
// given, normalised (NormalizeCode). A code another standard holds, or
// one keyed alike (CodeKey), is refused.
func (s *Service) codeFor(ctx context.Context, branch string, cur *standardsv1.Standard, formats *governancev1.StandardCodeFormats, given string, year int) (codeClaim, error) {
	format := FormatFor(formats, cur.GetKind())
	kind := cur.GetKind()
	var c codeClaim
	var revised *standardsv1.Standard
	if cur.GetRevises() != "" {
		old, err := s.repo.GetStandard(ctx, branch, lastSegment(cur.GetRevises()))
		if err != nil && !errors.Is(err, ErrNotFound) {
			return c, err
		}
		revised = old
	}
	switch {
	case format != "" && given != "":
		return c, codeNotAllowed(kind, "code_numbered_by_branch", map[string]string{"code": given, "format": format})
	case format == "" && given == "":
		return c, codeNotAllowed(kind, "code_required", nil)
	case format == "":
		code, key, problem := NormalizeCode(given)
		if problem != nil {
			// An error's text and metadata must be UTF-8 themselves.
			shown := strings.ToValidUTF8(given, "\uFFFD")
			return c, codeNotAllowed(kind, "code_"+problem.What, map[string]string{"code": shown, "character": problem.Character,
				"glyph": problem.Glyph, "length": problem.Length, "max": problem.Max})
		}
		if f := NumberedForm(formats, code); f != "" {
			return c, codeNotAllowed(kind, "code_has_numbered_form", map[string]string{"code": given, "normalized": code, "format": f})
		}
		c.Code, c.Key = code, key
	case revised.GetCodeNumber() > 0:
		c.number = int64(revised.GetCodeNumber())
		c.Code = branches.FormatCode(format, c.number, year)
	default:
		last, err := s.repo.Sequence(ctx, branch, kind.String())
		if err != nil {
			return c, err
		}
		c.number = last + 1
		c.Code = branches.FormatCode(format, c.number, year)
		c.Kind, c.Number = kind.String(), c.number
	}
	if c.Key == "" {
		c.Key = CodeKey(c.Code)
	}
	holder, err := s.repo.CodeHolder(ctx, branch, c.Key)
	if err != nil {
		return c, err
	}
	switch {
	case holder == "":
	case c.Number > 0:
		// Either the sequence moved on since it was read (another
		// publication took this number: read it again), or a code given
		// by hand holds it (the branch must sort that out).
		last, err := s.repo.Sequence(ctx, branch, kind.String())
		if err != nil {
			return c, err
		}
		if last != c.Number-1 {
			return c, ErrStale
		}
		return c, codeTaken(c.Code, holder)
	case revised != nil && holder == revised.GetName():
		// A revision published in the year of the version it revises
		// takes the code over.
		c.Holder = holder
	default:
		return c, codeTaken(c.Code, holder)
	}
	return c, nil
}

func lastSegment(name string) string {
	for i := len(name) - 1; i >= 0; i-- {
		if name[i] == '/' {
			return name[i+1:]
		}
	}
	return name
}
