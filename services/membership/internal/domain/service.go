package domain

import (
	"context"
	"errors"
	"time"

	"google.golang.org/grpc/codes"

	"github.com/tjsia/chapterhouse/contracts/governance/branches"
	"github.com/tjsia/chapterhouse/platform/apierr"
	"github.com/tjsia/chapterhouse/platform/auth"
	"github.com/tjsia/chapterhouse/platform/events"
	"github.com/tjsia/chapterhouse/platform/ids"
	"github.com/tjsia/chapterhouse/platform/pagetoken"
	"github.com/tjsia/chapterhouse/platform/retry"
	apiv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/api/v1"
	eventsv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/events/v1"
)

// Source is the events' source name.
const Source = "membership"

// Service is the membership use cases.
type Service struct {
	repo     Repository
	branches branches.Lookup
	pages    *pagetoken.Codec
	now      func() time.Time
	// linkVerifiedEmail links an OpenID Connect identity linked to no one
	// to the one person whose e-mail its verified email claim names
	// (Resolve; AUTH_LINK_VERIFIED_EMAIL). Off unless the branch says so.
	linkVerifiedEmail bool
}

// Option changes a Service's defaults.
type Option func(*Service)

// LinkVerifiedEmail turns on (or off) linking an identity by its verified
// e-mail (LINK_METHOD_VERIFIED_EMAIL, see Resolve).
func LinkVerifiedEmail(on bool) Option {
	return func(s *Service) { s.linkVerifiedEmail = on }
}

// NewService returns the use cases over repo. The branches are
// governance's: a register is kept for each branch governance has created.
// pages signs the lists' page tokens.
func NewService(repo Repository, known branches.Lookup, pages *pagetoken.Codec, now func() time.Time, opts ...Option) *Service {
	if now == nil {
		now = time.Now
	}
	s := &Service{repo: repo, branches: known, pages: pages, now: now}
	for _, opt := range opts {
		opt(s)
	}
	return s
}

func newEtag() string { return ids.Random()[:16] }

func (s *Service) envelope(ctx context.Context, p auth.Principal, subject string) *eventsv1.Envelope {
	return events.NewEnvelope(ctx, Source, subject, p.Subject, s.now())
}

func isStale(err error) bool { return errors.Is(err, ErrStale) }

type etagged interface{ GetEtag() string }

// mutate is one optimistic read-modify-write: load the record, let
// authorize refuse the caller (before the etag check, so a caller who may
// not act learns nothing, not even that the record changed), check the
// client's etag, then apply. It is retried when the record changed
// underneath, unless the client pinned an etag.
func mutate[T etagged](ctx context.Context, name, clientEtag string, load func() (T, error), authorize func(T) error, apply func(T) (T, error)) (T, error) {
	return retry.Write(ctx, name, clientEtag, isStale, func() (T, error) {
		var zero T
		cur, err := load()
		if err != nil {
			return zero, notFound(err, name)
		}
		if authorize != nil {
			if err := authorize(cur); err != nil {
				return zero, err
			}
		}
		if err := checkEtag(name, cur.GetEtag(), clientEtag); err != nil {
			return zero, err
		}
		return apply(cur)
	})
}

func notFound(err error, name string) error {
	if errors.Is(err, ErrNotFound) {
		return apierr.NotFound(name)
	}
	return err
}

// requireAdmin refuses anyone but admins; the text
// "denied.membership.<what>" (args as alternating names and values) says
// that only admins may.
func requireAdmin(p auth.Principal, what string, args ...string) error {
	if p.IsAdmin() {
		return nil
	}
	return apierr.PermissionDenied("membership."+what, args...)
}

// refusal is an error whose reason's common text cannot show its facts:
// its text is the catalog's "error.membership.<what>", filled from the
// metadata, so every fact a person reads is one a client reads too.
func refusal(code codes.Code, reason apiv1.ErrorReason, what string, md map[string]string) error {
	args := make([]string, 0, 2*len(md))
	for k, v := range md {
		args = append(args, k, v)
	}
	return apierr.New(code, reason, md, apierr.Text("error.membership."+what, args...))
}

// nameForm is a field naming a resource that is not of the form pattern
// (organizations/{id}, people/{id}).
func nameForm(field, name, pattern string) apierr.FieldViolation {
	return apierr.Field(field, "name_form", "name", name, "pattern", pattern)
}

func checkEtag(name, have, want string) error {
	if want != "" && want != have {
		return apierr.EtagMismatch(name)
	}
	return nil
}
