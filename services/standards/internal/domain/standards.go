package domain

import (
	"context"
	"errors"
	"fmt"
	"path"
	"slices"
	"strings"

	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/fieldmaskpb"

	"github.com/tjsia/chapterhouse/platform/apierr"
	"github.com/tjsia/chapterhouse/platform/auth"
	"github.com/tjsia/chapterhouse/platform/fieldmask"
	"github.com/tjsia/chapterhouse/platform/ids"
	"github.com/tjsia/chapterhouse/platform/resourcename"
	"github.com/tjsia/chapterhouse/platform/retry"
	apiv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/api/v1"
	eventsv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/events/v1"
	governancev1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/governance/v1"
	membershipv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/membership/v1"
	standardsv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/standards/v1"
)

// RuleS1 is the charter rule the standards' units answer to: the branch
// drafts standards with its member units.
const RuleS1 = "S1"

// unitRefs checks the form of the unit names (members of branch) and the
// working group's people; bad ones are INVALID_ARGUMENT.
func unitRefs(branch string, st *standardsv1.Standard, field string) []apierr.FieldViolation {
	var v []apierr.FieldViolation
	member := func(f, name string) {
		parts, err := resourcename.Parse(name, "branches", "members")
		if err != nil || parts[0] != branch {
			v = append(v, notBranchMember(f, name, branch))
		}
	}
	if st.GetLeadUnit() == "" {
		v = append(v, apierr.Field(field+".lead_unit", "required"))
	} else {
		member(field+".lead_unit", st.GetLeadUnit())
	}
	for i, u := range st.GetParticipatingUnits() {
		f := fmt.Sprintf("%s.participating_units[%d]", field, i)
		member(f, u)
		if u == st.GetLeadUnit() {
			v = append(v, apierr.Field(f, "standards.is_lead_unit", "name", u))
		}
	}
	for i, person := range st.GetWorkingGroup() {
		if _, err := resourcename.Parse(person, "people"); err != nil {
			v = append(v, apierr.Field(fmt.Sprintf("%s.working_group[%d]", field, i), "standards.not_a_person", "name", person, "pattern", "people/{person}"))
		}
	}
	if strings.TrimSpace(st.GetTitle()) == "" {
		v = append(v, apierr.Field(field+".title", "standards.title_required"))
	}
	if st.GetKind() == standardsv1.StandardKind_STANDARD_KIND_UNSPECIFIED {
		v = append(v, oneOf(field+".kind", standardsv1.StandardKind(0).Descriptor()))
	}
	return v
}

// notBranchMember: name, given in field, is not a member of branch.
func notBranchMember(field, name, branch string) apierr.FieldViolation {
	return apierr.Field(field, "standards.not_branch_member", "name", name, "branch", "branches/"+branch,
		"pattern", "branches/"+branch+"/members/{member}")
}

// oneOf: the enum field is required, and its text lists the values it
// takes (every one but the zero value), each shown through its term.
func oneOf(field string, enum protoreflect.EnumDescriptor) apierr.FieldViolation {
	var values []string
	for i := range enum.Values().Len() {
		if v := enum.Values().Get(i); v.Number() != 0 {
			values = append(values, string(v.Name()))
		}
	}
	return apierr.Field(field, "standards.one_of", "values", strings.Join(values, ","))
}

// activeUnits judges S1 for units: each is an ACTIVE unit member of the
// branch, asked of membership. Every unit that is not is listed, with
// what it is.
func (s *Service) activeUnits(ctx context.Context, units []string) error {
	var violations []apierr.Violation
	for _, u := range units {
		m, err := s.members.Member(ctx, u)
		v := apierr.Violation{Rule: RuleS1, Reason: apiv1.ErrorReason_UNIT_NOT_ACTIVE_MEMBER, Args: map[string]string{"unit": u}}
		switch {
		case errors.Is(err, ErrNotFound):
			v.Key = "violation.standards.unit_not_a_member"
		case err != nil:
			return err
		case m.GetKind() != membershipv1.ApplicationKind_APPLICATION_KIND_UNIT:
			v.Key = "violation.standards.unit_is_individual"
		case m.GetState() != membershipv1.MemberState_MEMBER_STATE_ACTIVE:
			v.Key = "violation.standards.unit_not_active"
			v.Args["state"] = m.GetState().String()
		default:
			continue
		}
		violations = append(violations, v)
	}
	if len(violations) > 0 {
		return apierr.Charter(violations)
	}
	return nil
}

func (s *Service) record(next *standardsv1.Standard, from State, action, actor, reason string) {
	name, _, _ := strings.Cut(action, ":")
	next.History = append(next.History, &standardsv1.StateChange{
		FromState: from, ToState: next.GetState(), Action: name, Actor: actor, Time: s.stamp(), Reason: reason,
	})
	next.StateReason = reason
}

// CreateStandard proposes a standard (S1). Admins, the branch's leaders,
// or the proposed lead unit's representative; every unit must be an
// ACTIVE unit member.
func (s *Service) CreateStandard(ctx context.Context, p auth.Principal, parent string, in *standardsv1.Standard, id string) (*standardsv1.Standard, error) {
	branch, err := s.branchOf(ctx, parent)
	if err != nil {
		return nil, err
	}
	if v := unitRefs(branch, in, "standard"); len(v) > 0 {
		return nil, apierr.InvalidArgument(v...)
	}
	runs, err := s.runs(ctx, p, branch)
	if err != nil {
		return nil, err
	}
	if !runs {
		represents, err := s.represents(ctx, p, branch, in.GetLeadUnit())
		if err := s.denyUnless(ctx, p, branch, represents, err, leads,
			denial{"propose", []string{"branch", "branches/" + branch, "leadUnit", in.GetLeadUnit()}}); err != nil {
			return nil, err
		}
	}
	if err := s.activeUnits(ctx, append([]string{in.GetLeadUnit()}, in.GetParticipatingUnits()...)); err != nil {
		return nil, err
	}
	if id == "" {
		id = ids.Random()
	}
	now := s.stamp()
	st := &standardsv1.Standard{
		Name: standardName(branch, id), Kind: in.GetKind(), Title: in.GetTitle(), TitleEn: in.GetTitleEn(), Scope: in.GetScope(),
		LeadUnit: in.GetLeadUnit(), ParticipatingUnits: in.GetParticipatingUnits(), WorkingGroup: in.GetWorkingGroup(),
		State: Proposed, Proposer: p.Subject, CreateTime: now, UpdateTime: now, Etag: newEtag(),
	}
	s.record(st, 0, "propose", p.Subject, "")
	ev := s.envelope(ctx, p, st.GetName())
	ev.Payload = &eventsv1.Envelope_StandardProposed{StandardProposed: &eventsv1.StandardProposed{Standard: st}}
	err = s.repo.SaveStandard(ctx, branch, Write{Standard: st, Events: []*eventsv1.Envelope{ev}})
	if errors.Is(err, ErrExists) {
		existing, gerr := s.repo.GetStandard(ctx, branch, id)
		if gerr == nil && existing.GetProposer() == p.Subject && existing.GetTitle() == st.GetTitle() &&
			existing.GetKind() == st.GetKind() && existing.GetLeadUnit() == st.GetLeadUnit() {
			return existing, nil
		}
		return nil, apierr.AlreadyExists(st.GetName())
	}
	if err != nil {
		return nil, err
	}
	return st, nil
}

// GetStandard: without a token, only public standards.
func (s *Service) GetStandard(ctx context.Context, p auth.Principal, name string) (*standardsv1.Standard, error) {
	r, st, err := s.readStandard(ctx, p, name, "", nil)
	if err != nil {
		return nil, err
	}
	return s.shown(ctx, p, r.branch, st)
}

// shown is st as p is shown it: a standard it names (revises,
// revised_by) that p may not see (sees: without a token, a revision not
// yet public) is left out, the field empty, so it answers p as a missing
// one. Only the reads apply it: every other method needs a token, and a
// signed-in caller sees every standard.
func (s *Service) shown(ctx context.Context, p auth.Principal, branch string, st *standardsv1.Standard) (*standardsv1.Standard, error) {
	out := st
	for _, field := range []func(*standardsv1.Standard) *string{
		func(x *standardsv1.Standard) *string { return &x.Revises },
		func(x *standardsv1.Standard) *string { return &x.RevisedBy },
	} {
		name := *field(st)
		if name == "" {
			continue
		}
		other, err := s.repo.GetStandard(ctx, branch, path.Base(name))
		if err != nil && !errors.Is(err, ErrNotFound) {
			return nil, err
		}
		if err == nil && sees(p, other) {
			continue
		}
		if out == st {
			out = clone(st)
		}
		*field(out) = ""
	}
	return out, nil
}

// ListStandards pages by creation; without a token, only public ones.
func (s *Service) ListStandards(ctx context.Context, p auth.Principal, req *standardsv1.ListStandardsRequest) ([]*standardsv1.Standard, string, error) {
	branch, err := s.branchOf(ctx, req.GetParent())
	if err != nil {
		return nil, "", err
	}
	anonymous := p.Subject == ""
	pg, err := s.pages.Parse(req.GetPageSize(), req.GetPageToken(), "standards", req.GetParent(), req.GetKind().String(),
		req.GetState().String(), req.GetUnit(), fmt.Sprint(anonymous))
	if err != nil {
		return nil, "", err
	}
	page, err := s.repo.ListStandards(ctx, branch, pg.After, pg.Size, func(st *standardsv1.Standard) bool {
		return (req.GetKind() == 0 || st.GetKind() == req.GetKind()) && (req.GetState() == 0 || st.GetState() == req.GetState()) &&
			(req.GetUnit() == "" || st.GetLeadUnit() == req.GetUnit() || slices.Contains(st.GetParticipatingUnits(), req.GetUnit())) &&
			sees(p, st)
	})
	if err != nil {
		return nil, "", err
	}
	for i, st := range page.Items {
		if page.Items[i], err = s.shown(ctx, p, branch, st); err != nil {
			return nil, "", err
		}
	}
	return page.Items, pg.Next(page.Next), nil
}

var standardPaths = []string{"title", "title_en", "scope", "participating_units", "working_group", "lead_unit", "kind"}

// UpdateStandard changes a standard's details. Editors, in any open
// state; kind and lead unit only while PROPOSED, or by those who run the
// branch (a lead unit whose membership ended is replaced).
func (s *Service) UpdateStandard(ctx context.Context, p auth.Principal, patch *standardsv1.Standard, mask *fieldmaskpb.FieldMask) (*standardsv1.Standard, error) {
	paths, err := fieldmask.Paths(mask, standardPaths, map[string]string{"name": "immutable", "state": "standards.state_by_actions",
		"code": "standards.code_at_publication"})
	if err != nil {
		return nil, err
	}
	r, err := s.parseUnder(ctx, patch.GetName(), "")
	if err != nil {
		return nil, err
	}
	return retry.Write(ctx, patch.GetName(), patch.GetEtag(), IsStale, func() (*standardsv1.Standard, error) {
		cur, err := s.standard(ctx, p, r)
		if err != nil {
			return nil, err
		}
		if err := s.mustEdit(ctx, p, r.branch, cur, ActUpdate); err != nil {
			return nil, err
		}
		if patch.GetEtag() != "" && patch.GetEtag() != cur.GetEtag() {
			return nil, apierr.EtagMismatch(cur.GetName())
		}
		if _, err := transition(cur, ActUpdate); err != nil {
			return nil, err
		}
		next := clone(cur)
		fieldmask.Apply(next, patch, paths)
		if (next.GetKind() != cur.GetKind() || next.GetLeadUnit() != cur.GetLeadUnit()) && cur.GetState() != Proposed {
			if err := s.mustRunFor(ctx, p, r.branch, denial{"kind_or_lead", []string{"standard", cur.GetName(), "state", cur.GetState().String()}}); err != nil {
				return nil, err
			}
		}
		if v := unitRefs(r.branch, next, "standard"); len(v) > 0 {
			return nil, apierr.InvalidArgument(v...)
		}
		var added []string
		if next.GetLeadUnit() != cur.GetLeadUnit() {
			added = append(added, next.GetLeadUnit())
		}
		for _, u := range next.GetParticipatingUnits() {
			if !slices.Contains(cur.GetParticipatingUnits(), u) {
				added = append(added, u)
			}
		}
		if err := s.activeUnits(ctx, added); err != nil {
			return nil, err
		}
		next.UpdateTime, next.Etag = s.stamp(), newEtag()
		ev := s.envelope(ctx, p, next.GetName())
		ev.Payload = &eventsv1.Envelope_StandardUpdated{StandardUpdated: &eventsv1.StandardUpdated{Standard: next, Reason: "updated: " + strings.Join(paths, ", ")}}
		if err := s.repo.SaveStandard(ctx, r.branch, Write{Standard: next, PrevEtag: cur.GetEtag(), Events: []*eventsv1.Envelope{ev}}); err != nil {
			return nil, err
		}
		return next, nil
	})
}

// step is one life-cycle action on a standard.
type step struct {
	action string
	reason string
	etag   string
	// allow checks who may, once the standard is read; nil when the
	// caller was judged before (a branch-level right, checked before a
	// peer was asked anything).
	allow func(cur *standardsv1.Standard) error
	// apply completes the write; next already has its new state, history
	// and etag. It may add events (a StandardStateChanged is added for a
	// state change unless apply set the standard's own event).
	apply func(cur, next *standardsv1.Standard, w *Write) error
	// ownEvent: apply emits the standard's event itself.
	ownEvent bool
	// attempts bounds the retries of a lost race (retry.Attempts when 0).
	attempts uint
}

// do runs a step on the standard name, retried when it races another
// write (unless the caller pinned an etag).
func (s *Service) do(ctx context.Context, p auth.Principal, name string, st step) (*standardsv1.Standard, error) {
	r, err := s.parseUnder(ctx, name, "")
	if err != nil {
		return nil, err
	}
	if st.attempts == 0 {
		st.attempts = retry.Attempts
	}
	// The write is retried whatever etag the client pinned: a pinned
	// etag is checked against each read below (ETAG_MISMATCH when the
	// standard changed), and what else the write is conditioned on (the
	// kind's sequence, a related standard, the comments of a period being
	// closed) is read again and judged again, so a refusal names its rule
	// instead of a race the client did not lose.
	retried := func(err error) bool { return IsStale(err) || errors.Is(err, ErrUndisposed) }
	return retry.WriteUpTo(ctx, st.attempts, name, "", retried, func() (*standardsv1.Standard, error) {
		cur, err := s.standard(ctx, p, r)
		if err != nil {
			return nil, err
		}
		if st.allow != nil {
			if err := st.allow(cur); err != nil {
				return nil, err
			}
		}
		if st.etag != "" && st.etag != cur.GetEtag() {
			return nil, apierr.EtagMismatch(cur.GetName())
		}
		to, err := transition(cur, st.action)
		if err != nil {
			return nil, err
		}
		next := clone(cur)
		next.State = to
		if to != cur.GetState() {
			s.record(next, cur.GetState(), st.action, p.Subject, st.reason)
		}
		next.UpdateTime, next.Etag = s.stamp(), newEtag()
		w := Write{Standard: next, PrevEtag: cur.GetEtag()}
		if st.apply != nil {
			if err := st.apply(cur, next, &w); err != nil {
				return nil, err
			}
		}
		if to != cur.GetState() && !st.ownEvent {
			w.Events = append([]*eventsv1.Envelope{s.stateChanged(ctx, p, next, cur.GetState(), st.reason)}, w.Events...)
		}
		if err := s.repo.SaveStandard(ctx, r.branch, w); err != nil {
			return nil, err
		}
		return next, nil
	})
}

func (s *Service) stateChanged(ctx context.Context, p auth.Principal, st *standardsv1.Standard, prev State, reason string) *eventsv1.Envelope {
	ev := s.envelope(ctx, p, st.GetName())
	ev.Payload = &eventsv1.Envelope_StandardStateChanged{StandardStateChanged: &eventsv1.StandardStateChanged{Standard: st, PreviousState: prev, Reason: reason}}
	return ev
}

// related changes the standard a revision revises (action ActSupersede or
// ActReinstate) in w, when it still stands where the action applies. Its
// record keeps what was done as its action (supersede, reinstate) and the
// words the person gave for ending the revision (reason) as they are: a
// record is read in every language, so the service writes no prose into
// it.
func (s *Service) related(ctx context.Context, p auth.Principal, branch, name, action, reason string, w *Write) error {
	if name == "" {
		return nil
	}
	cur, err := s.repo.GetStandard(ctx, branch, path.Base(name))
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	to, ok := Next(cur.GetState(), action)
	if !ok {
		// Withdrawn meanwhile: nothing to supersede or reinstate.
		return nil
	}
	next := clone(cur)
	next.State = to
	s.record(next, cur.GetState(), action, p.Subject, reason)
	if action == ActReinstate {
		next.RevisedBy = ""
	} else {
		next.WithdrawEffectiveDate = w.Standard.GetEffectiveDate()
	}
	next.UpdateTime, next.Etag = s.stamp(), newEtag()
	w.Related, w.RelatedEtag = next, cur.GetEtag()
	w.Events = append(w.Events, s.stateChanged(ctx, p, next, cur.GetState(), reason))
	return nil
}

// resolutionOf checks that name is a resolution of branch and reads it
// from governance.
func (s *Service) resolutionOf(ctx context.Context, branch, name string) (*governancev1.Resolution, error) {
	parts, err := resourcename.Parse(name, "branches", "resolutions")
	if err != nil || parts[0] != branch {
		return nil, apierr.InvalidArgument(apierr.Field("resolution", "standards.not_branch_resolution", "name", name, "branch", "branches/"+branch))
	}
	res, err := s.resolutions.Resolution(ctx, name)
	if errors.Is(err, ErrNotFound) {
		return nil, apierr.ReferenceNotFound("resolution", name)
	}
	return res, err
}

// passedResolution checks that name is a PASSED council resolution of the
// branch, asked of governance: what taking standard's project on cites.
func (s *Service) passedResolution(ctx context.Context, branch, standard, name string) error {
	res, err := s.resolutionOf(ctx, branch, name)
	if err != nil {
		return err
	}
	if res.GetState() != governancev1.ResolutionState_RESOLUTION_STATE_PASSED {
		md := map[string]string{"resolution": name, "state": res.GetState().String(), "standard": standard}
		return apierr.New(codes.FailedPrecondition, apiv1.ErrorReason_RESOLUTION_NOT_PASSED, md, text("error.standards.resolution_not_passed", md))
	}
	return nil
}

// approvingResolution checks that name is the council's resolution
// approving standard: a PASSED STANDARD_APPROVAL resolution of the branch
// that names it, asked of governance. A resolution names one standard,
// and a standard is approved once, so one resolution approves one
// standard; any other, however passed, is RESOLUTION_NOT_PASSED with what
// it is in the metadata.
func (s *Service) approvingResolution(ctx context.Context, branch, standard, name string) error {
	res, err := s.resolutionOf(ctx, branch, name)
	if err != nil {
		return err
	}
	passed := res.GetState() == governancev1.ResolutionState_RESOLUTION_STATE_PASSED
	approval := res.GetKind() == governancev1.ResolutionKind_RESOLUTION_KIND_STANDARD_APPROVAL
	if passed && approval && res.GetStandard() == standard {
		return nil
	}
	md := map[string]string{"resolution": name, "state": res.GetState().String(), "kind": res.GetKind().String(), "standard": standard}
	if res.GetStandard() != "" {
		md["approves"] = res.GetStandard()
	}
	return apierr.New(codes.FailedPrecondition, apiv1.ErrorReason_RESOLUTION_NOT_PASSED, md, text("error.standards.not_the_approving_resolution", md))
}

func (s *Service) running(ctx context.Context, p auth.Principal, action string) func(*standardsv1.Standard) error {
	return func(cur *standardsv1.Standard) error {
		return s.mustRun(ctx, p, branchOfName(cur.GetName()), cur.GetName(), action)
	}
}

func (s *Service) deciding(ctx context.Context, p auth.Principal, action string) func(*standardsv1.Standard) error {
	return func(cur *standardsv1.Standard) error {
		return s.mustDecide(ctx, p, branchOfName(cur.GetName()), cur.GetName(), action)
	}
}

func (s *Service) editing(ctx context.Context, p auth.Principal, action string) func(*standardsv1.Standard) error {
	return func(cur *standardsv1.Standard) error {
		return s.mustEdit(ctx, p, branchOfName(cur.GetName()), cur, action)
	}
}

// branchOfName is the branch id of a name under branches/{b}.
func branchOfName(name string) string {
	parts := strings.SplitN(name, "/", 3)
	if len(parts) < 2 {
		return ""
	}
	return parts[1]
}

// ApproveStandardProposal: PROPOSED → DRAFTING. Admins, leaders or
// council members; a resolution, when cited, must have passed.
func (s *Service) ApproveStandardProposal(ctx context.Context, p auth.Principal, req *standardsv1.ApproveStandardProposalRequest) (*standardsv1.Standard, error) {
	allow := s.deciding(ctx, p, ActApproveProposal)
	if req.GetResolution() != "" {
		allow = nil // judged here, before governance is asked
		branch := branchOfName(req.GetName())
		if _, err := s.parseUnder(ctx, req.GetName(), ""); err != nil {
			return nil, err
		}
		if err := s.mustDecide(ctx, p, branch, req.GetName(), ActApproveProposal); err != nil {
			return nil, err
		}
		if err := s.passedResolution(ctx, branch, req.GetName(), req.GetResolution()); err != nil {
			return nil, err
		}
	}
	return s.do(ctx, p, req.GetName(), step{action: ActApproveProposal, reason: req.GetReason(), etag: req.GetEtag(),
		allow: allow,
		apply: func(_, next *standardsv1.Standard, _ *Write) error {
			if req.GetResolution() != "" && !slices.Contains(next.GetResolutions(), req.GetResolution()) {
				next.Resolutions = append(next.Resolutions, req.GetResolution())
			}
			return nil
		}})
}

// RejectStandard: PROPOSED or REVIEW → REJECTED. Admins, leaders or
// council members. A
// rejected revision puts the standard it revises back in force.
func (s *Service) RejectStandard(ctx context.Context, p auth.Principal, req *standardsv1.RejectStandardRequest) (*standardsv1.Standard, error) {
	return s.do(ctx, p, req.GetName(), step{action: ActReject, reason: req.GetReason(), etag: req.GetEtag(),
		allow: s.deciding(ctx, p, ActReject),
		apply: func(_, next *standardsv1.Standard, w *Write) error {
			return s.related(ctx, p, branchOfName(next.GetName()), next.GetRevises(), ActReinstate, req.GetReason(), w)
		}})
}

// SubmitStandardForReview: DRAFTING → REVIEW on the latest draft, once a
// comment period has closed. Editors.
func (s *Service) SubmitStandardForReview(ctx context.Context, p auth.Principal, req *standardsv1.SubmitStandardForReviewRequest) (*standardsv1.Standard, error) {
	return s.do(ctx, p, req.GetName(), step{action: ActSubmitForReview, reason: req.GetReason(), etag: req.GetEtag(),
		allow: s.editing(ctx, p, ActSubmitForReview),
		apply: func(cur, next *standardsv1.Standard, _ *Write) error {
			if cur.GetCommentCloseTime() == nil {
				md := map[string]string{"resource": cur.GetName()}
				return apierr.New(codes.FailedPrecondition, apiv1.ErrorReason_COMMENT_PERIOD_REQUIRED, md, text("error.standards.comment_period_required", md))
			}
			next.CurrentDraft = cur.GetLatestDraft()
			return nil
		}})
}

// ConcludeStandardReview records the expert review: PASS keeps it in
// REVIEW for approval, REVISE returns it to DRAFTING. Admins or leaders.
func (s *Service) ConcludeStandardReview(ctx context.Context, p auth.Principal, req *standardsv1.ConcludeStandardReviewRequest) (*standardsv1.Standard, error) {
	action := ActPassReview
	if req.GetConclusion() == standardsv1.ReviewConclusion_REVIEW_CONCLUSION_REVISE {
		action = ActReturnForRevision
	}
	var v []apierr.FieldViolation
	if req.GetConclusion() == standardsv1.ReviewConclusion_REVIEW_CONCLUSION_UNSPECIFIED {
		v = append(v, oneOf("conclusion", standardsv1.ReviewConclusion(0).Descriptor()))
	}
	if len(req.GetExperts()) == 0 {
		v = append(v, apierr.Field("experts", "standards.experts_required"))
	}
	if strings.TrimSpace(req.GetSummary()) == "" {
		v = append(v, apierr.Field("summary", "required"))
	}
	if len(v) > 0 {
		return nil, apierr.InvalidArgument(v...)
	}
	return s.do(ctx, p, req.GetName(), step{action: action, reason: req.GetSummary(), etag: req.GetEtag(),
		allow: s.running(ctx, p, action),
		apply: func(cur, next *standardsv1.Standard, w *Write) error {
			next.Review = &standardsv1.Review{Draft: cur.GetCurrentDraft(), Experts: req.GetExperts(), Conclusion: req.GetConclusion(),
				Summary: req.GetSummary(), Recorder: p.Subject, Time: s.stamp()}
			ev := s.envelope(ctx, p, next.GetName())
			ev.Payload = &eventsv1.Envelope_StandardReviewed{StandardReviewed: &eventsv1.StandardReviewed{Standard: next}}
			w.Events = append(w.Events, ev)
			return nil
		}})
}

// ApproveStandard: REVIEW → APPROVED, on a PASS review of the draft under
// review and the council's passed resolution approving this standard
// (approvingResolution). Admins, leaders or council members.
func (s *Service) ApproveStandard(ctx context.Context, p auth.Principal, req *standardsv1.ApproveStandardRequest) (*standardsv1.Standard, error) {
	r, err := s.parseUnder(ctx, req.GetName(), "")
	if err != nil {
		return nil, err
	}
	if req.GetResolution() == "" {
		return nil, apierr.InvalidArgument(apierr.Field("resolution", "standards.resolution_required"))
	}
	if err := s.mustDecide(ctx, p, r.branch, r.standardName(), ActApprove); err != nil {
		return nil, err
	}
	if err := s.approvingResolution(ctx, r.branch, r.standardName(), req.GetResolution()); err != nil {
		return nil, err
	}
	return s.do(ctx, p, req.GetName(), step{action: ActApprove, reason: req.GetReason(), etag: req.GetEtag(),
		// Judged above, before governance was asked.
		allow: nil,
		apply: func(cur, next *standardsv1.Standard, _ *Write) error {
			rv := cur.GetReview()
			if rv.GetConclusion() != standardsv1.ReviewConclusion_REVIEW_CONCLUSION_PASS || rv.GetDraft() != cur.GetCurrentDraft() {
				return reviewNotPassed(cur)
			}
			if !slices.Contains(next.GetResolutions(), req.GetResolution()) {
				next.Resolutions = append(next.Resolutions, req.GetResolution())
			}
			return nil
		}})
}

// WithdrawStandard: any open state → WITHDRAWN (废止), with the date it
// takes effect (today or later). Admins or leaders; the lead unit's
// representative while PROPOSED or DRAFTING. A withdrawn revision puts the
// standard it revises back in force.
func (s *Service) WithdrawStandard(ctx context.Context, p auth.Principal, req *standardsv1.WithdrawStandardRequest) (*standardsv1.Standard, error) {
	today := s.today()
	effective := today
	if req.GetEffectiveDate() != nil {
		d, err := dayFrom("effective_date", req.GetEffectiveDate(), today)
		if err != nil {
			return nil, err
		}
		effective = d
	}
	return s.do(ctx, p, req.GetName(), step{action: ActWithdraw, reason: req.GetReason(), etag: req.GetEtag(),
		allow: func(cur *standardsv1.Standard) error {
			branch := branchOfName(cur.GetName())
			if cur.GetState() == Proposed || cur.GetState() == Drafting {
				ok, err := s.runs(ctx, p, branch)
				if err == nil && !ok {
					ok, err = s.represents(ctx, p, branch, cur.GetLeadUnit())
				}
				return s.denyUnless(ctx, p, branch, ok, err, leads, denial{"withdraw_early", []string{"standard", cur.GetName(), "state", cur.GetState().String()}})
			}
			return s.mustRunFor(ctx, p, branch, denial{"withdraw_past_drafting", []string{"standard", cur.GetName(), "state", cur.GetState().String()}})
		},
		apply: func(_, next *standardsv1.Standard, w *Write) error {
			next.WithdrawEffectiveDate = dateOf(effective)
			return s.related(ctx, p, branchOfName(next.GetName()), next.GetRevises(), ActReinstate, req.GetReason(), w)
		}})
}

// ReviseStandard: PUBLISHED → UNDER_REVISION, and the revision, a new
// standard in DRAFTING that revises it, created in the same step. Admins
// or leaders. Returns the revision.
func (s *Service) ReviseStandard(ctx context.Context, p auth.Principal, req *standardsv1.ReviseStandardRequest) (*standardsv1.Standard, error) {
	id := req.GetRevisionId()
	if id == "" {
		id = ids.Random()
	}
	var revision *standardsv1.Standard
	old, err := s.do(ctx, p, req.GetName(), step{action: ActRevise, reason: req.GetReason(), etag: req.GetEtag(),
		allow: s.running(ctx, p, ActRevise),
		apply: func(cur, next *standardsv1.Standard, w *Write) error {
			branch := branchOfName(cur.GetName())
			now := s.stamp()
			revision = &standardsv1.Standard{
				Name: standardName(branch, id), Kind: cur.GetKind(), Title: cur.GetTitle(), TitleEn: cur.GetTitleEn(), Scope: cur.GetScope(),
				LeadUnit: cur.GetLeadUnit(), ParticipatingUnits: cur.GetParticipatingUnits(), WorkingGroup: cur.GetWorkingGroup(),
				State: Drafting, Proposer: p.Subject, Revises: cur.GetName(), CreateTime: now, UpdateTime: now, Etag: newEtag(),
			}
			s.record(revision, 0, ActRevise, p.Subject, req.GetReason())
			next.RevisedBy = revision.GetName()
			w.Related = revision
			ev := s.envelope(ctx, p, revision.GetName())
			ev.Payload = &eventsv1.Envelope_StandardProposed{StandardProposed: &eventsv1.StandardProposed{Standard: revision}}
			w.Events = append(w.Events, ev)
			return nil
		}})
	if errors.Is(err, ErrExists) {
		return nil, apierr.AlreadyExists(standardName(branchOfName(req.GetName()), id))
	}
	if err != nil {
		// A repeat of a revise that happened: the standard is
		// UNDER_REVISION, revised by the requested revision.
		if apierr.Is(err, apiv1.ErrorReason_INVALID_STATE_TRANSITION) && req.GetRevisionId() != "" {
			if cur, gerr := s.GetStandard(ctx, p, req.GetName()); gerr == nil && cur.GetRevisedBy() == standardName(branchOfName(req.GetName()), id) {
				return s.GetStandard(ctx, p, cur.GetRevisedBy())
			}
		}
		return nil, err
	}
	_ = old
	return revision, nil
}

// reviewNotPassed refuses the approval of cur, whose draft under review
// has no PASS review: it names that draft and, when there is one, what
// the last review was of and what it concluded.
func reviewNotPassed(cur *standardsv1.Standard) error {
	md := map[string]string{"resource": cur.GetName(), "draft": cur.GetCurrentDraft()}
	if rv := cur.GetReview(); rv != nil {
		md["reviewedDraft"], md["conclusion"] = rv.GetDraft(), rv.GetConclusion().String()
	}
	return apierr.New(codes.FailedPrecondition, apiv1.ErrorReason_REVIEW_NOT_PASSED, md, text("error.standards.review_not_passed", md))
}
