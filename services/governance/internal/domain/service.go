package domain

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"google.golang.org/grpc/codes"

	"github.com/tjsia/chapterhouse/platform/apierr"
	"github.com/tjsia/chapterhouse/platform/auth"
	"github.com/tjsia/chapterhouse/platform/events"
	"github.com/tjsia/chapterhouse/platform/ids"
	"github.com/tjsia/chapterhouse/platform/page"
	"github.com/tjsia/chapterhouse/platform/pagetoken"
	"github.com/tjsia/chapterhouse/platform/resourcename"
	apiv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/api/v1"
	eventsv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/events/v1"
	governancev1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/governance/v1"

	"github.com/tjsia/chapterhouse/contracts/governance/branches"
)

// Source is the events' source name.
const Source = "governance"

// Service is the governance use cases.
type Service struct {
	repo       Repository
	people     People
	activities Activities
	pages      *pagetoken.Codec
	now        func() time.Time
}

// NewService returns the use cases; pages signs the lists' page tokens; now
// nil means time.Now.
func NewService(repo Repository, people People, activities Activities, pages *pagetoken.Codec, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	return &Service{repo: repo, people: people, activities: activities, pages: pages, now: now}
}

func newEtag() string { return ids.Random()[:16] }

func (s *Service) envelope(ctx context.Context, p auth.Principal, subject string) *eventsv1.Envelope {
	return events.NewEnvelope(ctx, Source, subject, p.Subject, s.now())
}

func (s *Service) today() Day { return branches.Today(s.now()) }

func notFound(err error, name string) error {
	if errors.Is(err, ErrNotFound) {
		return apierr.NotFound(name)
	}
	return err
}

func required(field string, missing bool) []apierr.FieldViolation {
	if missing {
		return []apierr.FieldViolation{apierr.Field(field, "required")}
	}
	return nil
}

// listed is a List's answer: the page's items, and the token of the next
// page bound as pg was; err, the page's read, is the answer when not nil.
func listed[T any](pg pagetoken.Request, p page.Page[T], err error) ([]T, string, error) {
	if err != nil {
		return nil, "", err
	}
	return p.Items, pg.Next(p.Next), nil
}

// refusal is an error whose reason's common text cannot show its facts:
// its text is the catalog's "error.governance.<what>", filled from the
// metadata, so every fact the text names is in the metadata too.
func refusal(code codes.Code, reason apiv1.ErrorReason, what string, md map[string]string) error {
	args := make([]string, 0, 2*len(md))
	for k, v := range md {
		args = append(args, k, v)
	}
	return apierr.New(code, reason, md, apierr.Text("error.governance."+what, args...))
}

// nameForm is a field naming a resource that is not one of the kind
// pattern names (a person, this branch's term, ...).
func nameForm(field, name, pattern string) apierr.FieldViolation {
	return apierr.Field(field, "name_form", "name", name, "pattern", pattern)
}

// --- names ---

// branchOf parses branches/{b} and checks the branch exists.
func (s *Service) branchOf(ctx context.Context, name string) (*governancev1.Branch, string, error) {
	ids, err := resourcename.Parse(name, "branches")
	if err != nil {
		return nil, "", err
	}
	b, err := s.repo.GetBranch(ctx, ids[0])
	if errors.Is(err, ErrNotFound) {
		return nil, "", refusal(codes.NotFound, apiv1.ErrorReason_UNKNOWN_BRANCH, "unknown_branch", map[string]string{"resource": name})
	}
	if err != nil {
		return nil, "", err
	}
	return b, ids[0], nil
}

// inBranch parses a name under a branch (branches/{b}/<collections>) and
// checks the branch exists; it returns the branch and the other ids.
func (s *Service) inBranch(ctx context.Context, name string, wildcard bool, collections ...string) (*governancev1.Branch, []string, error) {
	parse := resourcename.Parse
	if wildcard {
		parse = resourcename.ParseWithWildcard
	}
	ids, err := parse(name, append([]string{"branches"}, collections...)...)
	if err != nil {
		return nil, nil, err
	}
	b, err := s.repo.GetBranch(ctx, ids[0])
	if errors.Is(err, ErrNotFound) {
		return nil, nil, apierr.NotFound(name)
	}
	if err != nil {
		return nil, nil, err
	}
	return b, ids, nil
}

// lookup reads the resource name names under a branch
// (branches/{b}/<collections>, the branch checked by inBranch): get reads
// it by the name's ids, and what get does not find (ErrNotFound) is
// NOT_FOUND naming name. It returns the branch and its id with it.
func lookup[T any](ctx context.Context, s *Service, name string, get func(ids []string) (T, error), collections ...string) (*governancev1.Branch, string, T, error) {
	var none T
	b, ids, err := s.inBranch(ctx, name, false, collections...)
	if err != nil {
		return nil, "", none, err
	}
	x, err := get(ids)
	if err != nil {
		return nil, "", none, notFound(err, name)
	}
	return b, ids[0], x, nil
}

// referenced reads the resource a request field names, one of branch's
// collection (branches/{b}/<collection>/{<variable>}), by its id: a name
// of another form or branch is INVALID_ARGUMENT, one get does not find
// (ErrNotFound) REFERENCE_NOT_FOUND.
func referenced[T any](field, name, branch, collection, variable string, get func(id string) (T, error)) (T, error) {
	var none T
	ids, err := resourcename.Parse(name, "branches", collection)
	if err != nil || ids[0] != branch {
		return none, apierr.InvalidArgument(nameForm(field, name, "branches/"+branch+"/"+collection+"/{"+variable+"}"))
	}
	x, err := get(ids[1])
	if errors.Is(err, ErrNotFound) {
		return none, apierr.ReferenceNotFound(field, name)
	}
	return x, err
}

// termNumber reads a term id (its number).
func termNumber(id string) (int32, bool) {
	n, err := strconv.ParseInt(id, 10, 32)
	if err != nil || n < 1 || strconv.FormatInt(n, 10) != id {
		return 0, false
	}
	return int32(n), true
}

func termName(branch string, n int32) string { return fmt.Sprintf("branches/%s/terms/%d", branch, n) }
