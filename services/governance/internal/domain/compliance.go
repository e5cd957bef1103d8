package domain

import (
	"cmp"
	"context"
	"errors"
	"path"
	"slices"
	"strconv"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/tjsia/chapterhouse/platform/auth"
	"github.com/tjsia/chapterhouse/platform/i18n"
	governancev1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/governance/v1"

	"github.com/tjsia/chapterhouse/contracts/governance/branches"
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
	c, err := s.authorise(ctx, p, branch, readsCompliance)
	if err != nil {
		return nil, err
	}
	today := s.today()
	if year == 0 {
		year = int32(today.Year())
	}
	params := b.GetParameters()
	r := &governancev1.ComplianceReport{Branch: b.GetName(), Year: year, Parameters: params, GenerateTime: timestamppb.New(s.now())}
	// A finding's message is its text "text.governance.finding.<what>",
	// with args as alternating names and values, in the caller's language.
	add := func(rule, reason string, sev governancev1.FindingSeverity, subject, what string, args ...string) {
		m := i18n.Message{Key: "text.governance.finding." + what, Args: map[string]string{}}
		for i := 0; i+1 < len(args); i += 2 {
			m.Args[args[i]] = args[i+1]
		}
		r.Findings = append(r.Findings, &governancev1.Finding{Rule: rule, Reason: reason, Severity: sev, Subject: subject, Message: i18n.In(ctx, m)})
	}

	if err := s.reportExchange(ctx, branch, year, today, params, r, add); err != nil {
		return nil, err
	}
	if c.current == nil {
		// Terms are G1's: "实行任期制，每届任期同总会理事会".
		add(RuleTermLimit, findingNoCurrentTerm, breach, b.GetName(), "no_current_term", "branch", b.GetName())
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

type addFinding func(rule, reason string, sev governancev1.FindingSeverity, subject, what string, args ...string)

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
		add(RuleExchangeQuota, findingExchangeBelowMinimum, breach, r.GetBranch(), "exchange_below_minimum",
			"completed", itoa(st.GetCompletedCount()), "year", itoa(year), "required", itoa(required))
	case !st.GetOnTrack():
		add(RuleExchangeQuota, findingExchangeBelowMinimum, warning, r.GetBranch(), "exchange_not_on_track",
			"completed", itoa(st.GetCompletedCount()), "scheduled", itoa(st.GetScheduledCount()), "year", itoa(year), "required", itoa(required))
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
			add(office.rule, findingOfficeVacant, breach, c.current.GetName(), "office_vacant", "term", c.current.GetName(), "position", office.pos.String())
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
					add(RuleAgeLimit, findingAgeLimit, warning, o.GetName(), "age_limit", "person", o.GetPerson(),
						"position", o.GetPosition().String(), "max", strconv.Itoa(max))
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
			add(RuleTermLimit, findingTermLimitExceeded, breach, o.GetName(), "term_limit_exceeded", "person", o.GetPerson(),
				"run", strconv.Itoa(run), "position", o.GetPosition().String(), "max", strconv.Itoa(max))
		} else {
			add(RuleTermLimit, findingTermLimitReached, warning, o.GetName(), "term_limit_reached", "person", o.GetPerson(),
				"max", strconv.Itoa(max), "position", o.GetPosition().String())
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
		add(RuleAssignedTasks, findingWorkPlanMissing, warning, r.GetBranch(), "work_plan_missing", "year", itoa(year))
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
		add(RuleAssignedTasks, findingWorkPlanNotAdopted, warning, w.GetName(), "work_plan_not_adopted", "year", itoa(year))
	}
	for _, i := range items {
		if !Overdue(i, today) {
			continue
		}
		due, _ := branches.DayOf(i.GetDueDate())
		if i.GetSource() == assigned {
			add(RuleAssignedTasks, findingAssignedTaskOverdue, breach, i.GetName(), "assigned_task_overdue", "title", i.GetTitle(), "date", due.Format(time.DateOnly))
		} else {
			add(RuleAssignedTasks, findingWorkItemOverdue, warning, i.GetName(), "work_item_overdue", "title", i.GetTitle(), "date", due.Format(time.DateOnly))
		}
	}
	return nil
}
