// Package domain is the standards use cases (S1, S2): the life cycle of a
// standard and everything that hangs off it, who may do each step, and the
// rules each step enforces. It depends on a Repository for storage and on
// the other services' answers (membership, governance, activities) through
// small interfaces; it knows nothing of gRPC or Redis.
package domain

import (
	"context"
	"errors"
	"slices"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/tjsia/chapterhouse/platform/apierr"
	"github.com/tjsia/chapterhouse/platform/auth"
	"github.com/tjsia/chapterhouse/platform/events"
	"github.com/tjsia/chapterhouse/platform/ids"
	"github.com/tjsia/chapterhouse/platform/pagetoken"
	"github.com/tjsia/chapterhouse/platform/resourcename"
	apiv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/api/v1"
	eventsv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/events/v1"
	standardsv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/standards/v1"

	"github.com/tjsia/chapterhouse/contracts/governance/branches"
)

// Source is the events' source name.
const Source = "standards"

// Config are the use cases' collaborators.
type Config struct {
	Repo        Repository
	Branches    Branches
	Members     Members
	Resolutions Resolutions
	Activities  Activities
	// Pages signs the lists' page tokens.
	Pages *pagetoken.Codec
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Service is the standards use cases.
type Service struct {
	repo        Repository
	branches    Branches
	members     Members
	resolutions Resolutions
	activities  Activities
	pages       *pagetoken.Codec
	now         func() time.Time
}

// NewService returns the use cases.
func NewService(cfg Config) *Service {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Service{repo: cfg.Repo, branches: cfg.Branches, members: cfg.Members, resolutions: cfg.Resolutions,
		activities: cfg.Activities, pages: cfg.Pages, now: cfg.Now}
}

func clone[T proto.Message](m T) T { return proto.Clone(m).(T) }

func newEtag() string { return ids.Random()[:16] }

func (s *Service) envelope(ctx context.Context, p auth.Principal, subject string) *eventsv1.Envelope {
	return events.NewEnvelope(ctx, Source, subject, p.Subject, s.now())
}

func (s *Service) stamp() *timestamppb.Timestamp { return timestamppb.New(s.now()) }

// text is an error's precise text, key, filled from its metadata md: the
// facts a person reads are the ones a client reads.
func text(key string, md map[string]string) apierr.Option {
	args := make([]string, 0, 2*len(md))
	for k, v := range md {
		args = append(args, k, v)
	}
	return apierr.Text(key, args...)
}

func notFound(err error, name string) error {
	if errors.Is(err, ErrNotFound) {
		return apierr.NotFound(name)
	}
	return err
}

// --- names ---

// branchOf parses branches/{b} and checks governance has created it.
func (s *Service) branchOf(ctx context.Context, name string) (string, error) {
	parts, err := resourcename.Parse(name, "branches")
	if err != nil {
		return "", err
	}
	return parts[0], s.knownBranch(ctx, name, parts[0])
}

func (s *Service) knownBranch(ctx context.Context, name, branch string) error {
	known, err := branches.Known(ctx, s.branches, branch)
	if err != nil {
		return err
	}
	if !known {
		md := map[string]string{"resource": name, "branch": "branches/" + branch}
		return apierr.New(codes.NotFound, apiv1.ErrorReason_UNKNOWN_BRANCH, md, text("error.standards.unknown_branch", md))
	}
	return nil
}

// ref is a parsed name under a standard: its branch, its standard's id
// and, for a child, the child's id.
type ref struct {
	branch, standard, child string
}

func (r ref) standardName() string { return standardName(r.branch, r.standard) }

func standardName(branch, id string) string { return "branches/" + branch + "/standards/" + id }

// parseUnder parses branches/{b}/standards/{s}[/{collection}/{id}] and
// checks the branch.
func (s *Service) parseUnder(ctx context.Context, name string, collection string) (ref, error) {
	cols := []string{"branches", "standards"}
	if collection != "" {
		cols = append(cols, collection)
	}
	parts, err := resourcename.Parse(name, cols...)
	if err != nil {
		return ref{}, err
	}
	r := ref{branch: parts[0], standard: parts[1]}
	if collection != "" {
		r.child = parts[2]
	}
	return r, s.knownBranch(ctx, name, r.branch)
}

// standard reads the standard r names as p may see it (sees): NOT_FOUND,
// naming the standard, when it is missing or hidden from p, one answer
// for both. Every method that names a standard or anything under it
// (drafts, comments, signatories, promotions) reads it here, before any
// answer of its own, so whether a hidden standard exists cannot be told
// from a refusal, a state error or an empty list.
func (s *Service) standard(ctx context.Context, p auth.Principal, r ref) (*standardsv1.Standard, error) {
	st, err := s.repo.GetStandard(ctx, r.branch, r.standard)
	if err != nil {
		return nil, notFound(err, r.standardName())
	}
	if !sees(p, st) {
		return nil, apierr.NotFound(r.standardName())
	}
	return st, nil
}

// --- who may ---

// runs reports whether p runs the branch's business: admins, and the
// branch's serving chair and secretary-general.
func (s *Service) runs(ctx context.Context, p auth.Principal, branch string) (bool, error) {
	if p.IsAdmin() {
		return true, nil
	}
	if p.Subject == "" {
		return false, nil
	}
	leaders, err := s.branches.Leaders(ctx, branch)
	if err != nil {
		return false, err
	}
	return slices.Contains(leaders, p.Subject), nil
}

// decides reports whether p may take the council's decisions on a
// standard (to take a project on, to reject it, to approve it): those who
// run the branch, and the members of its council.
func (s *Service) decides(ctx context.Context, p auth.Principal, branch string) (bool, error) {
	if ok, err := s.runs(ctx, p, branch); ok || err != nil || p.Subject == "" {
		return ok, err
	}
	council, err := s.branches.Council(ctx, branch)
	if err != nil {
		return false, err
	}
	return slices.Contains(council, p.Subject), nil
}

// mustDecide lets through those who take the council's decisions on
// standard (decides); a refusal names the action (its verb, Verb).
func (s *Service) mustDecide(ctx context.Context, p auth.Principal, branch, standard, action string) error {
	ok, err := s.decides(ctx, p, branch)
	return s.denyUnless(ctx, p, branch, ok, err, leadsOrSits, denial{"decide", []string{"standard", standard, "action", Verb(action)}})
}

// The branch roles a refusal may be put to governance for.
func leads(st branches.Standing) bool       { return st.Leads }
func leadsOrSits(st branches.Standing) bool { return st.Leads || st.OnCouncil }

// denial says who may do what a caller was refused: the catalog's text
// "denied.standards.<what>", with its facts (alternating names and
// values).
type denial struct {
	what string
	args []string
}

// denyUnless refuses p unless ok. The branch directory answers every check
// and follows governance a moment behind, so a refusal that a branch role
// (role) would have lifted is put to governance first: a chair appointed a
// second ago who acts at once is not refused for the lag. Only a refusal
// costs that call.
func (s *Service) denyUnless(ctx context.Context, p auth.Principal, branch string, ok bool, err error, role func(branches.Standing) bool, d denial) error {
	if err == nil && !ok && p.Subject != "" {
		var st branches.Standing
		if st, err = s.branches.Standing(ctx, branch, p.Subject); err == nil {
			ok = role(st)
		}
	}
	return deny(p, ok, err, d)
}

// represents reports whether p is the current person of member.
func (s *Service) represents(ctx context.Context, p auth.Principal, branch, member string) (bool, error) {
	if p.Subject == "" || member == "" {
		return false, nil
	}
	members, err := s.members.Represented(ctx, branch, p.Subject)
	if err != nil {
		return false, err
	}
	return slices.Contains(members, member), nil
}

// edits reports whether p is one of st's editors: those who run the
// branch, its working group and its lead unit's representative.
func (s *Service) edits(ctx context.Context, p auth.Principal, branch string, st *standardsv1.Standard) (bool, error) {
	if ok, err := s.runs(ctx, p, branch); ok || err != nil {
		return ok, err
	}
	if p.Subject != "" && slices.Contains(st.GetWorkingGroup(), p.Subject) {
		return true, nil
	}
	return s.represents(ctx, p, branch, st.GetLeadUnit())
}

// deny is the one answer to a caller the rules do not let through. It
// comes once the standard was read as the caller may see it
// (Service.standard), so whatever is hidden from the caller has already
// been answered NOT_FOUND, exactly as if it were missing, token or none.
// Past that, a caller without a token is 401 UNAUTHENTICATED: the
// credential is what is missing, and signing in may lift the refusal (RFC
// 9110, 15.5.2); only the public methods get here without one, the others
// asking for a token first. A signed-in caller is 403 PERMISSION_DENIED,
// its text saying who may (d).
func deny(p auth.Principal, ok bool, err error, d denial) error {
	switch {
	case err != nil:
		return err
	case ok:
		return nil
	case p.Subject == "":
		return apierr.Unauthenticated("sign_in")
	}
	return apierr.PermissionDenied("standards."+d.what, d.args...)
}

// mustRun lets through those who run the branch (runs); a refusal names
// the action (its verb, Verb) on standard.
func (s *Service) mustRun(ctx context.Context, p auth.Principal, branch, standard, action string) error {
	ok, err := s.runs(ctx, p, branch)
	return s.denyUnless(ctx, p, branch, ok, err, leads, denial{"run", []string{"standard", standard, "action", Verb(action)}})
}

// mustRunFor is mustRun with a refusal of its own (d).
func (s *Service) mustRunFor(ctx context.Context, p auth.Principal, branch string, d denial) error {
	ok, err := s.runs(ctx, p, branch)
	return s.denyUnless(ctx, p, branch, ok, err, leads, d)
}

// mustEdit lets through st's editors (edits); a refusal names the action
// (its verb, Verb).
func (s *Service) mustEdit(ctx context.Context, p auth.Principal, branch string, st *standardsv1.Standard, action string) error {
	d := denial{"edit", []string{"standard", st.GetName(), "action", Verb(action)}}
	if action == ActCreateDraft {
		d = denial{"add_drafts", []string{"standard", st.GetName()}}
	}
	ok, err := s.edits(ctx, p, branch, st)
	return s.denyUnless(ctx, p, branch, ok, err, leads, d)
}

// --- who sees what without a token ---

// OpenToPublicComment: standards of the kind take comments from anyone;
// conventions and agreements bind the members, who alone comment on them.
func OpenToPublicComment(k standardsv1.StandardKind) bool {
	return k == standardsv1.StandardKind_STANDARD_KIND_GROUP_STANDARD || k == standardsv1.StandardKind_STANDARD_KIND_LOCAL_INDUSTRY_STANDARD
}

// Public: a caller without a token may see st: one that was published,
// or one of a kind open to public comment once a draft of it has gone out
// for comment (the comments and their dispositions stay public after the
// period, as the disposition summary answers the public).
func Public(st *standardsv1.Standard) bool {
	return IsInForce(st.GetState()) || wasPublished(st) ||
		(OpenToPublicComment(st.GetKind()) && st.GetCommentStartTime() != nil)
}

// sees is the one rule for who may see a standard, and so anything under
// it: every signed-in caller, and without a token only a public one
// (Public). Service.standard applies it.
func sees(p auth.Principal, st *standardsv1.Standard) bool {
	return p.Subject != "" || Public(st)
}

// commentsVisible: p, who sees st, may read its comments; those of a
// kind not open to public comment are for signed-in callers (401 without
// a token: signing in lets a member read them).
func commentsVisible(p auth.Principal, st *standardsv1.Standard) error {
	if p.Subject == "" && !OpenToPublicComment(st.GetKind()) {
		md := map[string]string{"resource": st.GetName(), "kind": st.GetKind().String()}
		return apierr.New(codes.Unauthenticated, apiv1.ErrorReason_UNAUTHENTICATED, md, text("error.standards.sign_in_to_read_comments", md))
	}
	return nil
}
