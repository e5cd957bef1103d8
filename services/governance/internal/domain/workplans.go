package domain

import (
	"context"
	"errors"
	"fmt"
	"path"
	"strings"

	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/types/known/fieldmaskpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/tjsia/chapterhouse/platform/apierr"
	"github.com/tjsia/chapterhouse/platform/auth"
	"github.com/tjsia/chapterhouse/platform/fieldmask"
	"github.com/tjsia/chapterhouse/platform/ids"
	"github.com/tjsia/chapterhouse/platform/retry"
	apiv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/api/v1"
	eventsv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/events/v1"
	governancev1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/governance/v1"

	"github.com/tjsia/chapterhouse/contracts/governance/branches"
)

const assigned = governancev1.WorkItemSource_WORK_ITEM_SOURCE_GENERAL_ASSOCIATION

// CreateWorkPlan creates the year's plan; a year has one. Admins, the
// current chair, the serving secretary-general, and `general_secretary`
// (to hold the tasks the general association assigns, G9).
func (s *Service) CreateWorkPlan(ctx context.Context, p auth.Principal, parent string, in *governancev1.WorkPlan, id string) (*governancev1.WorkPlan, error) {
	_, branch, err := s.branchOf(ctx, parent)
	if err != nil {
		return nil, err
	}
	if _, err := s.authorise(ctx, p, branch, createsWorkPlan); err != nil {
		return nil, err
	}
	v := required("work_plan.title", strings.TrimSpace(in.GetTitle()) == "")
	v = append(v, required("work_plan.year", in.GetYear() < 1)...)
	if in.GetAdoptingResolution() != "" {
		v = append(v, apierr.Field("work_plan.adopting_resolution", "governance.adopted_later"))
	}
	if len(v) > 0 {
		return nil, apierr.InvalidArgument(v...)
	}
	if id == "" {
		id = ids.Random()
	}
	now := s.now()
	w := &governancev1.WorkPlan{
		Name: fmt.Sprintf("branches/%s/workPlans/%s", branch, id), Year: in.GetYear(), Title: in.GetTitle(),
		CreateTime: timestamppb.New(now), UpdateTime: timestamppb.New(now), Etag: newEtag(),
	}
	ev := s.envelope(ctx, p, w.GetName())
	ev.Payload = &eventsv1.Envelope_WorkPlanCreated{WorkPlanCreated: &eventsv1.WorkPlanCreated{WorkPlan: w}}
	err = s.repo.CreateWorkPlan(ctx, branch, w, ev)
	if errors.Is(err, ErrExists) {
		if existing, gerr := s.repo.GetWorkPlan(ctx, branch, id); gerr == nil {
			if existing.GetYear() == w.GetYear() && existing.GetTitle() == w.GetTitle() {
				return s.withProgress(ctx, branch, existing)
			}
			return nil, apierr.AlreadyExists(w.GetName())
		}
		// The year's plan by its name, which a client can read (the store
		// keeps its id).
		md := map[string]string{"branch": "branches/" + branch, "year": itoa(w.GetYear())}
		if other, _ := s.repo.WorkPlanOfYear(ctx, branch, w.GetYear()); other != "" {
			md["resource"] = fmt.Sprintf("branches/%s/workPlans/%s", branch, other)
			md["work_plan"] = md["resource"]
		}
		return nil, refusal(codes.AlreadyExists, apiv1.ErrorReason_WORK_PLAN_YEAR_TAKEN, "work_plan_year_taken", md)
	}
	if err != nil {
		return nil, err
	}
	return s.withProgress(ctx, branch, w)
}

func (s *Service) workPlanOf(ctx context.Context, name string) (string, *governancev1.WorkPlan, error) {
	_, branch, w, err := lookup(ctx, s, name, func(ids []string) (*governancev1.WorkPlan, error) {
		return s.repo.GetWorkPlan(ctx, ids[0], ids[1])
	}, "workPlans")
	return branch, w, err
}

// Progress counts a plan's items on day.
func Progress(items []*governancev1.WorkItem, day Day) *governancev1.WorkPlanProgress {
	pr := &governancev1.WorkPlanProgress{}
	for _, i := range items {
		pr.TotalCount++
		done := i.GetState() == governancev1.WorkItemState_WORK_ITEM_STATE_DONE
		switch {
		case done:
			pr.DoneCount++
		case i.GetState() == governancev1.WorkItemState_WORK_ITEM_STATE_CANCELLED:
			pr.CancelledCount++
		case Overdue(i, day):
			pr.OverdueCount++
		}
		if i.GetSource() == assigned {
			pr.AssignedCount++
			if done {
				pr.AssignedDoneCount++
			}
		}
	}
	return pr
}

// Overdue: not finished and past its due date.
func Overdue(i *governancev1.WorkItem, day Day) bool {
	if st := i.GetState(); st == governancev1.WorkItemState_WORK_ITEM_STATE_DONE || st == governancev1.WorkItemState_WORK_ITEM_STATE_CANCELLED {
		return false
	}
	due, ok := branches.DayOf(i.GetDueDate())
	return ok && day.After(due)
}

func (s *Service) withProgress(ctx context.Context, branch string, w *governancev1.WorkPlan) (*governancev1.WorkPlan, error) {
	items, err := s.repo.WorkItems(ctx, branch, path.Base(w.GetName()))
	if err != nil {
		return nil, err
	}
	out := clone(w)
	out.Progress = Progress(items, s.today())
	return out, nil
}

// GetWorkPlan returns a plan with its progress counted now.
func (s *Service) GetWorkPlan(ctx context.Context, name string) (*governancev1.WorkPlan, error) {
	branch, w, err := s.workPlanOf(ctx, name)
	if err != nil {
		return nil, err
	}
	return s.withProgress(ctx, branch, w)
}

// ListWorkPlans pages through a branch's plans by year.
func (s *Service) ListWorkPlans(ctx context.Context, req *governancev1.ListWorkPlansRequest) ([]*governancev1.WorkPlan, string, error) {
	_, branch, err := s.branchOf(ctx, req.GetParent())
	if err != nil {
		return nil, "", err
	}
	pg, err := s.pages.Parse(req.GetPageSize(), req.GetPageToken(), "workPlans", req.GetParent(), itoa(req.GetYear()))
	if err != nil {
		return nil, "", err
	}
	page, err := s.repo.ListWorkPlans(ctx, branch, pg.After, pg.Size, func(w *governancev1.WorkPlan) bool {
		return req.GetYear() == 0 || w.GetYear() == req.GetYear()
	})
	if err != nil {
		return nil, "", err
	}
	for i, w := range page.Items {
		if page.Items[i], err = s.withProgress(ctx, branch, w); err != nil {
			return nil, "", err
		}
	}
	return page.Items, pg.Next(page.Next), nil
}

// adoptingResolution checks that name is a PASSED WORK_PLAN_ADOPTION
// resolution naming plan: the council sets the work plan.
func (s *Service) adoptingResolution(ctx context.Context, branch, plan, name string) error {
	c := citation{field: "work_plan.adopting_resolution", name: name, kind: governancev1.ResolutionKind_RESOLUTION_KIND_WORK_PLAN_ADOPTION,
		text: "adoption_resolution", facts: map[string]string{"work_plan": plan}}
	r, err := s.cited(ctx, branch, c)
	if err != nil {
		return err
	}
	if r.GetWorkPlan() != plan {
		return c.notPassed("plan", "adopts", r.GetWorkPlan())
	}
	return nil
}

var workPlanPaths = []string{"title", "adopting_resolution"}

// UpdateWorkPlan renames a plan or records its adoption.
func (s *Service) UpdateWorkPlan(ctx context.Context, p auth.Principal, patch *governancev1.WorkPlan, mask *fieldmaskpb.FieldMask) (*governancev1.WorkPlan, error) {
	paths, err := fieldmask.Paths(mask, workPlanPaths, map[string]string{"name": "immutable", "year": "immutable", "progress": "output_only"})
	if err != nil {
		return nil, err
	}
	return retry.Write(ctx, patch.GetName(), patch.GetEtag(), IsStale, func() (*governancev1.WorkPlan, error) {
		branch, cur, err := s.workPlanOf(ctx, patch.GetName())
		if err != nil {
			return nil, err
		}
		if _, err := s.authorise(ctx, p, branch, runsWorkPlans); err != nil {
			return nil, err
		}
		if patch.GetEtag() != "" && patch.GetEtag() != cur.GetEtag() {
			return nil, apierr.EtagMismatch(cur.GetName())
		}
		next := clone(cur)
		fieldmask.Apply(next, patch, paths)
		if strings.TrimSpace(next.GetTitle()) == "" {
			return nil, apierr.InvalidArgument(apierr.Field("work_plan.title", "required"))
		}
		if r := next.GetAdoptingResolution(); r != "" && r != cur.GetAdoptingResolution() {
			if err := s.adoptingResolution(ctx, branch, cur.GetName(), r); err != nil {
				return nil, err
			}
		}
		next.UpdateTime, next.Etag = timestamppb.New(s.now()), newEtag()
		ev := s.envelope(ctx, p, next.GetName())
		ev.Payload = &eventsv1.Envelope_WorkPlanUpdated{WorkPlanUpdated: &eventsv1.WorkPlanUpdated{WorkPlan: next, ChangedFields: paths}}
		if err := s.repo.SaveWorkPlan(ctx, branch, next, cur.GetEtag(), ev); err != nil {
			return nil, err
		}
		return s.withProgress(ctx, branch, next)
	})
}

func checkWorkItem(i *governancev1.WorkItem) []apierr.FieldViolation {
	v := required("work_item.title", strings.TrimSpace(i.GetTitle()) == "")
	v = append(v, required("work_item.source", i.GetSource() == governancev1.WorkItemSource_WORK_ITEM_SOURCE_UNSPECIFIED)...)
	if o := i.GetOwner(); o != "" {
		v = append(v, checkPeople("work_item.owner", []string{o})...)
	}
	if i.GetDueDate() != nil {
		if _, ok := branches.DayOf(i.GetDueDate()); !ok {
			v = append(v, apierr.Field("work_item.due_date", "governance.calendar_date"))
		}
	}
	if i.GetState() == governancev1.WorkItemState_WORK_ITEM_STATE_CANCELLED && strings.TrimSpace(i.GetProgressNote()) == "" {
		v = append(v, apierr.Field("work_item.progress_note", "governance.says_why", "state", i.GetState().String()))
	}
	return v
}

// CreateWorkItem adds an item to a plan.
func (s *Service) CreateWorkItem(ctx context.Context, p auth.Principal, parent string, in *governancev1.WorkItem, id string) (*governancev1.WorkItem, error) {
	branch, plan, err := s.workPlanOf(ctx, parent)
	if err != nil {
		return nil, err
	}
	if _, err := s.authorise(ctx, p, branch, addsWorkItem(in.GetSource())); err != nil {
		return nil, err
	}
	if v := checkWorkItem(in); len(v) > 0 {
		return nil, apierr.InvalidArgument(v...)
	}
	if st := in.GetState(); st != governancev1.WorkItemState_WORK_ITEM_STATE_UNSPECIFIED && st != governancev1.WorkItemState_WORK_ITEM_STATE_PLANNED {
		return nil, apierr.InvalidArgument(apierr.Field("work_item.state", "governance.new_state", "state", governancev1.WorkItemState_WORK_ITEM_STATE_PLANNED.String()))
	}
	if id == "" {
		id = ids.Random()
	}
	now := s.now()
	item := clone(in)
	item.Name, item.State = plan.GetName()+"/items/"+id, governancev1.WorkItemState_WORK_ITEM_STATE_PLANNED
	item.CompleteTime, item.CreateTime, item.UpdateTime, item.Etag = nil, timestamppb.New(now), timestamppb.New(now), newEtag()
	ev := s.envelope(ctx, p, item.GetName())
	ev.Payload = &eventsv1.Envelope_WorkItemCreated{WorkItemCreated: &eventsv1.WorkItemCreated{WorkItem: item}}
	err = s.repo.CreateWorkItem(ctx, branch, item, ev)
	if errors.Is(err, ErrExists) {
		existing, gerr := s.repo.GetWorkItem(ctx, branch, path.Base(plan.GetName()), id)
		if gerr == nil && existing.GetTitle() == item.GetTitle() && existing.GetSource() == item.GetSource() {
			return existing, nil
		}
		return nil, apierr.AlreadyExists(item.GetName())
	}
	if err != nil {
		return nil, err
	}
	return item, nil
}

func (s *Service) workItemOf(ctx context.Context, name string) (string, *governancev1.WorkItem, error) {
	_, branch, i, err := lookup(ctx, s, name, func(ids []string) (*governancev1.WorkItem, error) {
		return s.repo.GetWorkItem(ctx, ids[0], ids[1], ids[2])
	}, "workPlans", "items")
	return branch, i, err
}

// GetWorkItem returns an item.
func (s *Service) GetWorkItem(ctx context.Context, name string) (*governancev1.WorkItem, error) {
	_, i, err := s.workItemOf(ctx, name)
	return i, err
}

// ListWorkItems pages through a plan's items by creation.
func (s *Service) ListWorkItems(ctx context.Context, req *governancev1.ListWorkItemsRequest) ([]*governancev1.WorkItem, string, error) {
	branch, plan, err := s.workPlanOf(ctx, req.GetParent())
	if err != nil {
		return nil, "", err
	}
	pg, err := s.pages.Parse(req.GetPageSize(), req.GetPageToken(), "workItems", req.GetParent(), req.GetSource().String(), req.GetState().String())
	if err != nil {
		return nil, "", err
	}
	page, err := s.repo.ListWorkItems(ctx, branch, path.Base(plan.GetName()), pg.After, pg.Size, func(i *governancev1.WorkItem) bool {
		return (req.GetSource() == 0 || i.GetSource() == req.GetSource()) && (req.GetState() == 0 || i.GetState() == req.GetState())
	})
	return listed(pg, page, err)
}

var workItemPaths = []string{"title", "description", "assignment_reference", "owner", "due_date", "state", "progress_note", "related_resources"}

func finished(s governancev1.WorkItemState) bool {
	return s == governancev1.WorkItemState_WORK_ITEM_STATE_DONE || s == governancev1.WorkItemState_WORK_ITEM_STATE_CANCELLED
}

// UpdateWorkItem tracks an item. An item does not come back from DONE or
// CANCELLED.
func (s *Service) UpdateWorkItem(ctx context.Context, p auth.Principal, patch *governancev1.WorkItem, mask *fieldmaskpb.FieldMask) (*governancev1.WorkItem, error) {
	paths, err := fieldmask.Paths(mask, workItemPaths, map[string]string{"name": "immutable", "source": "immutable"})
	if err != nil {
		return nil, err
	}
	return retry.Write(ctx, patch.GetName(), patch.GetEtag(), IsStale, func() (*governancev1.WorkItem, error) {
		branch, cur, err := s.workItemOf(ctx, patch.GetName())
		if err != nil {
			return nil, err
		}
		if _, err := s.authorise(ctx, p, branch, tracksWorkItem(cur, paths)); err != nil {
			return nil, err
		}
		if patch.GetEtag() != "" && patch.GetEtag() != cur.GetEtag() {
			return nil, apierr.EtagMismatch(cur.GetName())
		}
		if finished(cur.GetState()) {
			return nil, apierr.InvalidTransition(cur.GetName(), "update", cur.GetState().String())
		}
		next := clone(cur)
		fieldmask.Apply(next, patch, paths)
		if next.GetState() == governancev1.WorkItemState_WORK_ITEM_STATE_UNSPECIFIED {
			return nil, apierr.InvalidArgument(apierr.Field("work_item.state", "required"))
		}
		if v := checkWorkItem(next); len(v) > 0 {
			return nil, apierr.InvalidArgument(v...)
		}
		now := s.now()
		if finished(next.GetState()) {
			next.CompleteTime = timestamppb.New(now)
		}
		next.UpdateTime, next.Etag = timestamppb.New(now), newEtag()
		ev := s.envelope(ctx, p, next.GetName())
		ev.Payload = &eventsv1.Envelope_WorkItemUpdated{WorkItemUpdated: &eventsv1.WorkItemUpdated{WorkItem: next, ChangedFields: paths}}
		if err := s.repo.SaveWorkItem(ctx, branch, next, cur.GetEtag(), ev); err != nil {
			return nil, err
		}
		return next, nil
	})
}
