package domain

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"path"
	"slices"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/tjsia/chapterhouse/platform/apierr"
	"github.com/tjsia/chapterhouse/platform/auth"
	governancev1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/governance/v1"

	"github.com/tjsia/chapterhouse/services/governance/branches"
)

// Finding reasons of the compliance report that are not error reasons.
const (
	findingExchangeBelowMinimum = "EXCHANGE_ACTIVITIES_BELOW_MINIMUM"
	findingAgeLimit             = "AGE_LIMIT_EXCEEDED"
	findingTermLimitExceeded    = "TERM_LIMIT_EXCEEDED"
	findingTermLimitReached     = "TERM_LIMIT_REACHED"
	findingAssignedTaskOverdue  = "ASSIGNED_TASK_OVERDUE"
	findingWorkItemOverdue      = "WORK_ITEM_OVERDUE"
	findingWorkPlanNotAdopted   = "WORK_PLAN_NOT_ADOPTED"
	findingWorkPlanMissing      = "WORK_PLAN_MISSING"
	findingOfficeVacant         = "OFFICE_VACANT"
	findingNoCurrentTerm        = "NO_CURRENT_TERM"
)

var (
	warning = governancev1.FindingSeverity_FINDING_SEVERITY_WARNING
	breach  = governancev1.FindingSeverity_FINDING_SEVERITY_BREACH
)

// GetComplianceReport is the branch's standing against its charter for a
// year, computed now: A1 from activities, the council's vacancies, G4 and
// G1 over the current term's officers, and the year's work plans (G9).
// Admins, the general association's secretary-general and council, the
// current chair and council members.
func (s *Service) GetComplianceReport(ctx context.Context, p auth.Principal, name string, year int32) (*governancev1.ComplianceReport, error) {
	b, branch, err := s.branchOf(ctx, name)
	if err != nil {
		return nil, err
	}
	c, err := s.council(ctx, branch)
	if err != nil {
		return nil, err
	}
	if !p.HasRole(auth.RoleAdmin, auth.RoleGeneralSecretary, auth.RoleGeneralCouncil) && !c.isCurrentChair(p) && !c.isCouncilMember(p) {
		return nil, apierr.PermissionDenied("only admins, the general association's secretary-general and council, the branch chair and council members may read the compliance report")
	}
	today := s.today()
	if year == 0 {
		year = int32(today.Year())
	}
	params := b.GetParameters()
	r := &governancev1.ComplianceReport{Branch: b.GetName(), Year: year, Parameters: params, GenerateTime: timestamppb.New(s.now())}
	add := func(rule, reason string, sev governancev1.FindingSeverity, subject, format string, args ...any) {
		r.Findings = append(r.Findings, &governancev1.Finding{Rule: rule, Reason: reason, Severity: sev, Subject: subject, Message: fmt.Sprintf(format, args...)})
	}

	if err := s.reportExchange(ctx, branch, year, today, params, r, add); err != nil {
		return nil, err
	}
	if c.current == nil {
		// Terms are G1's: "实行任期制，每届任期同总会理事会".
		add(RuleTermLimit, findingNoCurrentTerm, breach, b.GetName(), "the branch has no current term, so no council")
	} else {
		r.Term = c.current.GetName()
		if err := s.reportCouncil(ctx, c, params, r, add); err != nil {
			return nil, err
		}
	}
	if err := s.reportWorkPlans(ctx, branch, year, today, r, add); err != nil {
		return nil, err
	}

	slices.SortStableFunc(r.Findings, func(a, b *governancev1.Finding) int {
		return cmp.Or(cmp.Compare(a.GetRule(), b.GetRule()), cmp.Compare(a.GetReason(), b.GetReason()), cmp.Compare(a.GetSubject(), b.GetSubject()))
	})
	r.Compliant = !slices.ContainsFunc(r.Findings, func(f *governancev1.Finding) bool { return f.GetSeverity() == breach })
	return r, nil
}

type addFinding func(rule, reason string, sev governancev1.FindingSeverity, subject, format string, args ...any)

// reportExchange: A1, as activities counts it. A past year below the
// minimum is a breach; the current year is a warning while it is not on
// track, since activities may still be added.
func (s *Service) reportExchange(ctx context.Context, branch string, year int32, today Day, params *governancev1.CharterParameters, r *governancev1.ComplianceReport, add addFinding) error {
	q, err := s.activities.AnnualQuota(ctx, branch, year)
	if err != nil {
		return err
	}
	required := params.GetMinExchangeActivitiesPerYear()
	st := &governancev1.ExchangeActivityStatus{
		CompletedCount: q.GetCompletedCount(), ScheduledCount: q.GetScheduledCount(), RequiredCount: required,
		Met: q.GetCompletedCount() >= required, OnTrack: q.GetCompletedCount()+q.GetScheduledCount() >= required,
	}
	r.ExchangeActivities = st
	switch {
	case st.GetMet():
	case year < int32(today.Year()):
		add(RuleExchangeQuota, findingExchangeBelowMinimum, breach, r.GetBranch(),
			"%d exchange activities were completed in %d; the charter asks for at least %d", st.GetCompletedCount(), year, required)
	case !st.GetOnTrack():
		add(RuleExchangeQuota, findingExchangeBelowMinimum, warning, r.GetBranch(),
			"%d completed and %d scheduled exchange activities in %d; at least %d are needed", st.GetCompletedCount(), st.GetScheduledCount(), year, required)
	}
	return nil
}

// reportCouncil: vacancies of the one chair and secretary-general, and each
// serving officer against G4 (age during the term) and G1 (consecutive
// terms).
func (s *Service) reportCouncil(ctx context.Context, c *council, params *governancev1.CharterParameters, r *governancev1.ComplianceReport, add addFinding) error {
	term := c.current.GetNumber()
	// The one chair is filled by G5's route, the one secretary-general by
	// G7's appointment.
	for _, office := range []struct {
		pos  governancev1.Position
		rule string
	}{{governancev1.Position_POSITION_CHAIR, RuleChairRoute}, {governancev1.Position_POSITION_SECRETARY_GENERAL, RuleSecretaryAppointer}} {
		if len(c.serving(term, office.pos)) == 0 {
			add(office.rule, findingOfficeVacant, breach, c.current.GetName(), "%s has no serving %s", c.current.GetName(), positionName(office.pos))
		}
	}
	_, termEnd := TermDays(c.current)
	var serving []*governancev1.Officer
	for _, o := range c.officers.Items {
		if TermNumberOf(o.GetName()) == term && branches.ServingOn(o, c.day) {
			serving = append(serving, o)
		}
	}
	for _, o := range serving {
		if max := MaxAge(params, o.GetPosition()); max > 0 {
			person, err := s.people.Person(ctx, o.GetPerson())
			if err != nil && !errors.Is(err, ErrNotFound) {
				return err
			}
			birth, ok := branches.DayOf(person.GetBirthDate())
			if ok {
				if over := FirstDayOver(birth, max); !over.After(termEnd) {
					r.AgeLimitIssues = append(r.AgeLimitIssues, &governancev1.AgeLimitIssue{
						Officer: o.GetName(), Person: o.GetPerson(), Position: o.GetPosition(),
						Age: int32(AgeOn(birth, c.day)), MaxAge: int32(max), ExceedDate: branches.DateOf(over),
					})
					// The day stays out of the message: it gives the
					// birth date away, and is the issue's exceed_date,
					// masked for those who may not read it.
					add(RuleAgeLimit, findingAgeLimit, warning, o.GetName(), "%s passes the %s age limit of %d within the term (flagged, not removed)",
						o.GetPerson(), positionName(o.GetPosition()), max)
				}
			}
		}
		if o.GetPosition() != governancev1.Position_POSITION_CHAIR && o.GetPosition() != governancev1.Position_POSITION_VICE_CHAIR {
			continue
		}
		run := ConsecutiveTerms(c.terms.Items, c.officers.Items, o.GetPerson(), o.GetPosition(), c.current) + 1
		max := int(params.GetMaxConsecutiveTerms())
		if run < max {
			continue
		}
		r.TermLimitIssues = append(r.TermLimitIssues, &governancev1.TermLimitIssue{
			Officer: o.GetName(), Person: o.GetPerson(), Position: o.GetPosition(), ConsecutiveTerms: int32(run), MaxConsecutiveTerms: int32(max),
		})
		if run > max {
			add(RuleTermLimit, findingTermLimitExceeded, breach, o.GetName(), "%s serves a %d. consecutive term as %s; at most %d are allowed",
				o.GetPerson(), run, positionName(o.GetPosition()), max)
		} else {
			add(RuleTermLimit, findingTermLimitReached, warning, o.GetName(), "%s serves the last of %d consecutive terms allowed as %s, and cannot be nominated to it for the next term",
				o.GetPerson(), max, positionName(o.GetPosition()))
		}
	}
	return nil
}

// reportWorkPlans: the year's plans, their adoption and overdue items;
// an overdue task the general association assigned breaks G9.
func (s *Service) reportWorkPlans(ctx context.Context, branch string, year int32, today Day, r *governancev1.ComplianceReport, add addFinding) error {
	id, err := s.repo.WorkPlanOfYear(ctx, branch, year)
	if err != nil {
		return err
	}
	if id == "" {
		add(RuleAssignedTasks, findingWorkPlanMissing, warning, r.GetBranch(), "there is no work plan for %d", year)
		return nil
	}
	w, err := s.repo.GetWorkPlan(ctx, branch, id)
	if err != nil {
		return err
	}
	items, err := s.repo.WorkItems(ctx, branch, path.Base(w.GetName()))
	if err != nil {
		return err
	}
	r.WorkPlans = append(r.WorkPlans, &governancev1.WorkPlanStatus{
		WorkPlan: w.GetName(), Title: w.GetTitle(), Adopted: w.GetAdoptingResolution() != "", Progress: Progress(items, today),
	})
	if w.GetAdoptingResolution() == "" {
		add(RuleAssignedTasks, findingWorkPlanNotAdopted, warning, w.GetName(), "the %d work plan has not been adopted by a council resolution", year)
	}
	for _, i := range items {
		if !Overdue(i, today) {
			continue
		}
		due, _ := branches.DayOf(i.GetDueDate())
		if i.GetSource() == assigned {
			add(RuleAssignedTasks, findingAssignedTaskOverdue, breach, i.GetName(), "the general association's task %q was due on %s", i.GetTitle(), due.Format(time.DateOnly))
		} else {
			add(RuleAssignedTasks, findingWorkItemOverdue, warning, i.GetName(), "%q was due on %s", i.GetTitle(), due.Format(time.DateOnly))
		}
	}
	return nil
}
