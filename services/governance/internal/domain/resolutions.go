package domain

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"strings"

	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/types/known/fieldmaskpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/tjsia/chapterhouse/platform/apierr"
	"github.com/tjsia/chapterhouse/platform/auth"
	"github.com/tjsia/chapterhouse/platform/fieldmask"
	"github.com/tjsia/chapterhouse/platform/ids"
	"github.com/tjsia/chapterhouse/platform/resourcename"
	"github.com/tjsia/chapterhouse/platform/retry"
	apiv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/api/v1"
	eventsv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/events/v1"
	governancev1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/governance/v1"
)

// resolutionAllows are the actions (the methods' verbs) a resolution's
// state allows: a DRAFT is amended, put to the vote or withdrawn; while
// VOTING it is voted on (its voters' own ballots and those the
// secretariat records for them), closed or withdrawn; the rest are final.
func resolutionAllows(s governancev1.ResolutionState) []string {
	switch s {
	case governancev1.ResolutionState_RESOLUTION_STATE_DRAFT:
		return []string{"update", "openVoting", "withdraw"}
	case governancev1.ResolutionState_RESOLUTION_STATE_VOTING:
		return []string{"vote", "recordBallots", "closeVoting", "withdraw"}
	}
	return nil
}

// resolutionTransition refuses action on r in state.
func resolutionTransition(r *governancev1.Resolution, action string, state governancev1.ResolutionState) error {
	return apierr.InvalidTransition(r.GetName(), action, state.String(), resolutionAllows(state)...)
}

// checkResolution checks a resolution's fields and what they name: its
// meeting, the vice-chair nominations it appoints (PROPOSED, of its term),
// the work plan it adopts, the standard it approves (its form and branch
// only: the standards service judges the standard when an approval cites
// the resolution, and governance calls no service that calls it back).
func (s *Service) checkResolution(ctx context.Context, branch string, r *governancev1.Resolution) error {
	v := required("resolution.title", strings.TrimSpace(r.GetTitle()) == "")
	v = append(v, required("resolution.text", strings.TrimSpace(r.GetText()) == "")...)
	v = append(v, required("resolution.kind", r.GetKind() == governancev1.ResolutionKind_RESOLUTION_KIND_UNSPECIFIED)...)
	appoints := r.GetKind() == governancev1.ResolutionKind_RESOLUTION_KIND_VICE_CHAIR_APPOINTMENT
	adopts := r.GetKind() == governancev1.ResolutionKind_RESOLUTION_KIND_WORK_PLAN_ADOPTION
	approves := r.GetKind() == governancev1.ResolutionKind_RESOLUTION_KIND_STANDARD_APPROVAL
	// Each kind names what it acts on, and no other kind names it: the
	// texts name the kind that does ({kind|term}).
	kindNames := func(field string, kind governancev1.ResolutionKind, is bool, named bool) {
		switch {
		case is && !named:
			v = append(v, apierr.Field(field, "governance.kind_names_it", "kind", kind.String()))
		case !is && named:
			v = append(v, apierr.Field(field, "governance.only_kind_names_it", "kind", kind.String()))
		}
	}
	kindNames("resolution.nominations", governancev1.ResolutionKind_RESOLUTION_KIND_VICE_CHAIR_APPOINTMENT, appoints, len(r.GetNominations()) > 0)
	kindNames("resolution.work_plan", governancev1.ResolutionKind_RESOLUTION_KIND_WORK_PLAN_ADOPTION, adopts, r.GetWorkPlan() != "")
	kindNames("resolution.standard", governancev1.ResolutionKind_RESOLUTION_KIND_STANDARD_APPROVAL, approves, r.GetStandard() != "")
	if std := r.GetStandard(); approves && std != "" {
		if ids, err := resourcename.Parse(std, "branches", "standards"); err != nil || ids[0] != branch {
			v = append(v, nameForm("resolution.standard", std, "branches/"+branch+"/standards/{standard}"))
		}
	}
	if len(v) > 0 {
		return apierr.InvalidArgument(v...)
	}
	if m := r.GetMeeting(); m != "" {
		if _, err := referenced("resolution.meeting", m, branch, "meetings", "meeting", func(id string) (*governancev1.Meeting, error) {
			return s.repo.GetMeeting(ctx, branch, id)
		}); err != nil {
			return err
		}
	}
	term := TermNumberOf(r.GetTerm())
	for i, name := range r.GetNominations() {
		field := fmt.Sprintf("resolution.nominations[%d]", i)
		ids, err := resourcename.Parse(name, "branches", "terms", "nominations")
		if n, ok := termNumber(safe(ids, 1)); err != nil || ids[0] != branch || !ok || n != term {
			return apierr.InvalidArgument(nameForm(field, name, r.GetTerm()+"/nominations/{nomination}"))
		}
		n, err := s.repo.GetNomination(ctx, branch, term, ids[2])
		if errors.Is(err, ErrNotFound) {
			return apierr.ReferenceNotFound(field, name)
		}
		if err != nil {
			return err
		}
		if n.GetPosition() != governancev1.Position_POSITION_VICE_CHAIR || n.GetState() != governancev1.NominationState_NOMINATION_STATE_PROPOSED {
			return apierr.InvalidArgument(apierr.Field(field, "governance.not_proposed_vice_chair", "nomination", name,
				"position", n.GetPosition().String(), "state", n.GetState().String()))
		}
	}
	if w := r.GetWorkPlan(); w != "" {
		if _, err := referenced("resolution.work_plan", w, branch, "workPlans", "work_plan", func(id string) (*governancev1.WorkPlan, error) {
			return s.repo.GetWorkPlan(ctx, branch, id)
		}); err != nil {
			return err
		}
	}
	return nil
}

func safe(ids []string, i int) string {
	if i < len(ids) {
		return ids[i]
	}
	return ""
}

// CreateResolution drafts a council resolution: admins, the current chair,
// council members, the serving secretary-general.
func (s *Service) CreateResolution(ctx context.Context, p auth.Principal, parent string, in *governancev1.Resolution, id string) (*governancev1.Resolution, error) {
	_, branch, err := s.branchOf(ctx, parent)
	if err != nil {
		return nil, err
	}
	c, err := s.authorise(ctx, p, branch, draftsResolution)
	if err != nil {
		return nil, err
	}
	t, err := termOrCurrent(c, branch, in.GetTerm(), "resolution.term")
	if err != nil {
		return nil, err
	}
	if id == "" {
		id = ids.Random()
	}
	now := s.now()
	r := &governancev1.Resolution{
		Name: fmt.Sprintf("branches/%s/resolutions/%s", branch, id), Title: in.GetTitle(), Text: in.GetText(), Kind: in.GetKind(),
		Term: t.GetName(), Meeting: in.GetMeeting(), Nominations: in.GetNominations(), WorkPlan: in.GetWorkPlan(), Standard: in.GetStandard(),
		State: governancev1.ResolutionState_RESOLUTION_STATE_DRAFT, Proposer: p.Subject,
		CreateTime: timestamppb.New(now), UpdateTime: timestamppb.New(now), Etag: newEtag(),
	}
	if err := s.checkResolution(ctx, branch, r); err != nil {
		return nil, err
	}
	ev := s.envelope(ctx, p, r.GetName())
	ev.Payload = &eventsv1.Envelope_ResolutionCreated{ResolutionCreated: &eventsv1.ResolutionCreated{Resolution: r}}
	err = s.repo.CreateResolution(ctx, branch, r, ev)
	if errors.Is(err, ErrExists) {
		existing, gerr := s.repo.GetResolution(ctx, branch, id)
		if gerr == nil && existing.GetTitle() == r.GetTitle() && existing.GetText() == r.GetText() && existing.GetProposer() == r.GetProposer() {
			return s.withTally(ctx, branch, existing)
		}
		return nil, apierr.AlreadyExists(r.GetName())
	}
	if err != nil {
		return nil, err
	}
	return r, nil
}

func (s *Service) resolutionOf(ctx context.Context, name string) (*governancev1.Branch, string, *governancev1.Resolution, error) {
	return lookup(ctx, s, name, func(ids []string) (*governancev1.Resolution, error) {
		return s.repo.GetResolution(ctx, ids[0], ids[1])
	}, "resolutions")
}

// citation is a resolution a write cites as the council's decision (a
// vice-chair's appointment, a work plan's adoption): the request field and
// the resolution it names, the kind the resolution must be, and the
// refusals' text, "error.governance.<text>.<why>", and facts (beyond the
// field and the resolution).
type citation struct {
	field, name string
	kind        governancev1.ResolutionKind
	text        string
	facts       map[string]string
}

// notPassed refuses the citation for why, RESOLUTION_NOT_PASSED, naming
// facts (alternating names and values) besides the citation's own.
func (c citation) notPassed(why string, facts ...string) error {
	md := map[string]string{"field": c.field}
	if c.name != "" {
		md["resource"], md["resolution"] = c.name, c.name
	}
	maps.Copy(md, c.facts)
	for i := 0; i+1 < len(facts); i += 2 {
		md[facts[i]] = facts[i+1]
	}
	return refusal(codes.FailedPrecondition, apiv1.ErrorReason_RESOLUTION_NOT_PASSED, c.text+"."+why, md)
}

// cited reads the resolution c names, of branch, and checks that it
// PASSED and is of c's kind.
func (s *Service) cited(ctx context.Context, branch string, c citation) (*governancev1.Resolution, error) {
	r, err := referenced(c.field, c.name, branch, "resolutions", "resolution", func(id string) (*governancev1.Resolution, error) {
		return s.repo.GetResolution(ctx, branch, id)
	})
	if err != nil {
		return nil, err
	}
	switch {
	case r.GetState() != governancev1.ResolutionState_RESOLUTION_STATE_PASSED:
		return nil, c.notPassed("state", "state", r.GetState().String())
	case r.GetKind() != c.kind:
		return nil, c.notPassed("kind", "kind", r.GetKind().String())
	}
	return r, nil
}

// GetResolution returns a resolution, with its running tally while voting.
func (s *Service) GetResolution(ctx context.Context, name string) (*governancev1.Resolution, error) {
	_, branch, r, err := s.resolutionOf(ctx, name)
	if err != nil {
		return nil, err
	}
	return s.withTally(ctx, branch, r)
}

// ListResolutions pages through a branch's resolutions by creation.
func (s *Service) ListResolutions(ctx context.Context, req *governancev1.ListResolutionsRequest) ([]*governancev1.Resolution, string, error) {
	_, branch, err := s.branchOf(ctx, req.GetParent())
	if err != nil {
		return nil, "", err
	}
	pg, err := s.pages.Parse(req.GetPageSize(), req.GetPageToken(), "resolutions", req.GetParent(), req.GetState().String(), req.GetTerm())
	if err != nil {
		return nil, "", err
	}
	page, err := s.repo.ListResolutions(ctx, branch, pg.After, pg.Size, func(r *governancev1.Resolution) bool {
		return (req.GetState() == 0 || r.GetState() == req.GetState()) && (req.GetTerm() == "" || r.GetTerm() == req.GetTerm())
	})
	if err != nil {
		return nil, "", err
	}
	for i, r := range page.Items {
		if page.Items[i], err = s.withTally(ctx, branch, r); err != nil {
			return nil, "", err
		}
	}
	return page.Items, pg.Next(page.Next), nil
}

var resolutionPaths = []string{"title", "text", "kind", "meeting", "nominations", "work_plan", "standard"}

// changeResolution is the read-check-write every change of a resolution
// shares: read it, check who may (may, given the resolution) and the
// etag, apply change, write.
func (s *Service) changeResolution(ctx context.Context, p auth.Principal, name, etag string, may func(*governancev1.Resolution) rule,
	change func(b *governancev1.Branch, branch string, c *council, cur, next *governancev1.Resolution) (*eventsv1.Envelope, error)) (*governancev1.Resolution, error) {
	return retry.Write(ctx, name, etag, IsStale, func() (*governancev1.Resolution, error) {
		b, branch, cur, err := s.resolutionOf(ctx, name)
		if err != nil {
			return nil, err
		}
		c, err := s.authorise(ctx, p, branch, may(cur))
		if err != nil {
			return nil, err
		}
		next := clone(cur)
		next.UpdateTime, next.Etag = timestamppb.New(s.now()), newEtag()
		ev, err := change(b, branch, c, cur, next)
		if err != nil {
			return nil, err
		}
		if etag != "" && etag != cur.GetEtag() {
			return nil, apierr.EtagMismatch(cur.GetName())
		}
		var evs []*eventsv1.Envelope
		if ev != nil {
			evs = append(evs, ev)
		}
		if err := s.repo.SaveResolution(ctx, branch, next, cur.GetEtag(), evs...); err != nil {
			return nil, err
		}
		return s.withTally(ctx, branch, next)
	})
}

// UpdateResolution amends a DRAFT: its proposer, the current chair, or
// admins.
func (s *Service) UpdateResolution(ctx context.Context, p auth.Principal, patch *governancev1.Resolution, mask *fieldmaskpb.FieldMask) (*governancev1.Resolution, error) {
	paths, err := fieldmask.Paths(mask, resolutionPaths, map[string]string{"name": "immutable", "term": "immutable", "state": "governance.resolution_state"})
	if err != nil {
		return nil, err
	}
	return s.changeResolution(ctx, p, patch.GetName(), patch.GetEtag(), amendsResolution, func(_ *governancev1.Branch, branch string, _ *council, cur, next *governancev1.Resolution) (*eventsv1.Envelope, error) {
		if cur.GetState() != governancev1.ResolutionState_RESOLUTION_STATE_DRAFT {
			return nil, resolutionTransition(cur, "update", cur.GetState())
		}
		fieldmask.Apply(next, patch, paths)
		return nil, s.checkResolution(ctx, branch, next)
	})
}

// WithdrawResolution takes a DRAFT or VOTING resolution off the agenda:
// its proposer, the current chair, or admins. Ballots cast stay on record
// but are never counted.
func (s *Service) WithdrawResolution(ctx context.Context, p auth.Principal, req *governancev1.WithdrawResolutionRequest) (*governancev1.Resolution, error) {
	if strings.TrimSpace(req.GetReason()) == "" {
		return nil, apierr.InvalidArgument(apierr.Field("reason", "required"))
	}
	return s.changeResolution(ctx, p, req.GetName(), req.GetEtag(), withdrawsResolution, func(_ *governancev1.Branch, _ string, _ *council, cur, next *governancev1.Resolution) (*eventsv1.Envelope, error) {
		if st := cur.GetState(); st != governancev1.ResolutionState_RESOLUTION_STATE_DRAFT && st != governancev1.ResolutionState_RESOLUTION_STATE_VOTING {
			return nil, resolutionTransition(cur, "withdraw", st)
		}
		next.State, next.StateReason, next.CloseTime = governancev1.ResolutionState_RESOLUTION_STATE_WITHDRAWN, req.GetReason(), next.GetUpdateTime()
		ev := s.envelope(ctx, p, next.GetName())
		ev.Payload = &eventsv1.Envelope_ResolutionWithdrawn{ResolutionWithdrawn: &eventsv1.ResolutionWithdrawn{Resolution: next, Reason: req.GetReason()}}
		return ev, nil
	})
}
