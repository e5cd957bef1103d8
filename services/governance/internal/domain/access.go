package domain

import (
	"context"
	"slices"
	"strings"

	"google.golang.org/grpc/codes"

	"github.com/tjsia/chapterhouse/platform/apierr"
	"github.com/tjsia/chapterhouse/platform/auth"
	apiv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/api/v1"
	governancev1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/governance/v1"
	membershipv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/membership/v1"
)

// Who may do what in governance (here), and who sees what (seen.go): the
// use cases ask these rules, and decide neither themselves. Every
// signed-in caller reads the branch, its terms, officers, meetings,
// resolutions, votes and work plans; past that, method by method (the
// rules in seen.go marked so):
//
//	CreateBranch, UpdateBranch          managesBranches
//	CreateTerm, UpdateTerm              managesTerms
//	CheckEligibility                    checksEligibility
//	CreateNomination                    proposes, hiddenIDTaken (seen.go)
//	every method naming a nomination    seenNomination (seen.go)
//	UpdateNomination                    amendsNomination
//	ConfirmNominationQualification      confirmsDirector
//	DecideNomination                    decidesChair
//	AppointNomination                   appoints
//	WithdrawNomination                  withdrawsNomination
//	EndOffice                           endsOffice
//	CreateMeeting, UpdateMeeting        runsMeetings
//	CreateResolution                    draftsResolution
//	UpdateResolution                    amendsResolution
//	OpenResolutionVoting                opensVoting
//	CastResolutionVote                  mayVote
//	RecordResolutionBallots             recordsBallots (each voter: voterRefusal)
//	CloseResolutionVoting               closesVoting
//	WithdrawResolution                  withdrawsResolution
//	CreateWorkPlan                      createsWorkPlan
//	UpdateWorkPlan                      runsWorkPlans
//	CreateWorkItem                      addsWorkItem
//	UpdateWorkItem                      tracksWorkItem
//	GetComplianceReport                 readsCompliance
//	answers naming a nomination         ResolutionsAsSeen, OfficersAsSeen (seen.go)

// refuse is the answer to a caller no rule lets through: PERMISSION_DENIED
// with the catalog's text "denied.governance.<what>" and its facts
// (alternating names and values).
func refuse(what string, args ...string) error {
	return apierr.PermissionDenied("governance."+what, args...)
}

// denyUnless lets the caller through when ok, and refuses it (refuse)
// otherwise.
func denyUnless(ok bool, what string, args ...string) error {
	if ok {
		return nil
	}
	return refuse(what, args...)
}

// rule is one method's answer to whether p may act in a branch whose
// council, as it stands today, is c: nil, or the refusal.
type rule func(p auth.Principal, c *council) error

// authorise reads branch's council and asks may whether p may act in it;
// the council is the use case's to go on with.
func (s *Service) authorise(ctx context.Context, p auth.Principal, branch string, may rule) (*council, error) {
	c, err := s.council(ctx, branch)
	if err != nil {
		return nil, err
	}
	if err := may(p, c); err != nil {
		return nil, err
	}
	return c, nil
}

// --- who p is to the branch ---

// runs reports whether p may run the branch's business: admins, the
// current chair and the serving secretary-general (the chair's unit runs
// day-to-day business).
func (c *council) runs(p auth.Principal) bool {
	return p.IsAdmin() || c.isCurrentChair(p) || c.isCurrentSecretary(p)
}

// oversees reports whether p oversees the branch: admins, the general
// association's secretary-general and council, the current chair and the
// council members. They see every nomination and read the compliance
// report.
func (c *council) oversees(p auth.Principal) bool {
	return p.HasRole(auth.RoleAdmin, auth.RoleGeneralSecretary, auth.RoleGeneralCouncil) || c.isCurrentChair(p) || c.isCouncilMember(p)
}

// chairs reports whether p is term's serving chair.
func (c *council) chairs(p auth.Principal, term int32) bool {
	chair := c.chairOf(term)
	return chair != nil && chair.GetPerson() == p.Subject
}

// represents reports whether p is m's person (nil: no member).
func represents(p auth.Principal, m *membershipv1.Member) bool {
	return m != nil && m.GetPerson() == p.Subject
}

// isGeneralSecretary: the general association's secretary-general, who
// assigns the branch its tasks (G9) and nothing more here.
func isGeneralSecretary(p auth.Principal) bool { return p.HasRole(auth.RoleGeneralSecretary) }

// --- branches and terms ---

// managesBranches: branches are admins' to create and change.
func managesBranches(p auth.Principal) error {
	return denyUnless(p.IsAdmin(), "branches")
}

// managesTerms: admins and the general association's council set a
// branch's terms, since their dates follow the general association's.
func managesTerms(p auth.Principal) error {
	return denyUnless(p.HasRole(auth.RoleAdmin, auth.RoleGeneralCouncil), "manage_terms")
}

// --- nominations and offices ---

// checksEligibility: whether n would be eligible is asked by the
// overseers, its nominee and the person of the member it represents
// (member, nil when none).
func checksEligibility(n *governancev1.Nomination, member *membershipv1.Member) rule {
	return func(p auth.Principal, c *council) error {
		return denyUnless(c.oversees(p) || p.Subject == n.GetNominee() || represents(p, member), "check_eligibility")
	}
}

// proposes is who may put n's nominee forward for its position. The
// chair's route (G5) and the secretary-general's appointer (G7) are
// charter rules, so breaking them is reported with the other violations;
// for vice-chairs and directors it is a plain permission. member is the
// member n represents (nil when none).
func proposes(n *governancev1.Nomination, member *membershipv1.Member) rule {
	return func(p auth.Principal, c *council) error {
		switch n.GetPosition() {
		case governancev1.Position_POSITION_VICE_CHAIR:
			return denyUnless(p.IsAdmin() || c.isCurrentChair(p) || c.isCouncilMember(p), "propose_vice_chair")
		case governancev1.Position_POSITION_DIRECTOR:
			self := n.GetRepresentedMember() == "" && p.Subject == n.GetNominee()
			return denyUnless(p.IsAdmin() || self || represents(p, member), "propose_director")
		}
		return nil
	}
}

// amendsNomination: its proposer, or admins, amend a nomination's
// statements.
func amendsNomination(p auth.Principal, n *governancev1.Nomination) error {
	return denyUnless(p.IsAdmin() || p.Subject == n.GetProposer(), "amend_nomination")
}

// confirmsDirector is the branch chair's decision on a director (G6): the
// chair of the nomination's term, or the current chair while that term
// has none yet. The charter gives it to the chair alone, so admins cannot
// stand in.
func confirmsDirector(term int32) rule {
	return func(p auth.Principal, c *council) error {
		chair := c.chairOf(term)
		if chair == nil && c.current != nil {
			chair = c.chairOf(c.current.GetNumber())
		}
		return denyUnless(chair != nil && chair.GetPerson() == p.Subject, "confirm_director")
	}
}

// decidesChair: the general association's council decides on a chair
// candidate (G5).
func decidesChair(p auth.Principal, _ *council) error {
	return denyUnless(p.HasRole(auth.RoleGeneralCouncil), "decide_chair")
}

// appoints is who appoints n to its position in term. Admins record the
// appointment of a chair the general association's council decided, and
// of a director the chair confirmed; the secretary-general is the chair's
// own appointment (G7), which nobody else makes.
func appoints(n *governancev1.Nomination, term int32) rule {
	return func(p auth.Principal, c *council) error {
		termChair := c.chairs(p, term)
		if n.GetPosition() == governancev1.Position_POSITION_SECRETARY_GENERAL {
			return denyUnless(termChair, "appoint_secretary")
		}
		if p.IsAdmin() {
			return nil
		}
		switch n.GetPosition() {
		case governancev1.Position_POSITION_CHAIR:
			return denyUnless(p.HasRole(auth.RoleGeneralCouncil), "appoint_chair")
		case governancev1.Position_POSITION_VICE_CHAIR:
			return denyUnless(c.isCurrentChair(p) || termChair, "appoint_vice_chair")
		}
		return denyUnless(termChair, "appoint_director")
	}
}

// withdrawsNomination: its nominee, its proposer, or admins, withdraw an
// open nomination.
func withdrawsNomination(p auth.Principal, n *governancev1.Nomination) error {
	return denyUnless(p.IsAdmin() || p.Subject == n.GetNominee() || p.Subject == n.GetProposer(), "withdraw_nomination")
}

// endsOffice: admins end an office early, and an officer their own
// (resignation); asked, the kind of end the request names, is a removal
// only admins make.
func endsOffice(p auth.Principal, o *governancev1.Officer, asked governancev1.OfficeEndKind) error {
	switch {
	case !p.IsAdmin() && p.Subject != o.GetPerson():
		return refuse("end_office")
	case asked == governancev1.OfficeEndKind_OFFICE_END_KIND_REMOVAL && !p.IsAdmin():
		return refuse("remove_officer")
	}
	return nil
}

// --- the branch's business ---

// runsMeetings: meetings are the business of those who run the branch.
func runsMeetings(p auth.Principal, c *council) error {
	return denyUnless(c.runs(p), "meetings")
}

// draftsResolution: those who run the branch, and the council members,
// draft a council resolution.
func draftsResolution(p auth.Principal, c *council) error {
	return denyUnless(c.runs(p) || c.isCouncilMember(p), "draft_resolution")
}

// amendsResolution: its proposer, the current chair, or admins, amend a
// draft resolution.
func amendsResolution(r *governancev1.Resolution) rule {
	return func(p auth.Principal, c *council) error {
		return denyUnless(p.IsAdmin() || c.isCurrentChair(p) || p.Subject == r.GetProposer(), "amend_resolution")
	}
}

// withdrawsResolution: the same people take a resolution off the agenda.
func withdrawsResolution(r *governancev1.Resolution) rule {
	return func(p auth.Principal, c *council) error {
		return denyUnless(p.IsAdmin() || c.isCurrentChair(p) || p.Subject == r.GetProposer(), "withdraw_resolution")
	}
}

// opensVoting: those who run the branch put any draft to the vote.
func opensVoting(*governancev1.Resolution) rule {
	return func(p auth.Principal, c *council) error {
		return denyUnless(c.runs(p), "open_voting")
	}
}

// closesVoting: the current chair, or admins, close a vote.
func closesVoting(p auth.Principal, c *council) error {
	return denyUnless(p.IsAdmin() || c.isCurrentChair(p), "close_voting")
}

// mayVote: a ballot on r is cast by one of its voters (voterRefusal);
// the refusal is PERMISSION_DENIED, since the caller is the voter.
func (s *Service) mayVote(ctx context.Context, p auth.Principal, branch string, r *governancev1.Resolution) error {
	c, err := s.council(ctx, branch)
	if err != nil {
		return err
	}
	if v := voterRefusal(r, c.sitting(), p.Subject); v != nil {
		return refusal(codes.PermissionDenied, v.Reason, strings.TrimPrefix(v.Key, "error.governance."), v.Args)
	}
	return nil
}

// voterRefusal is why voter casts no ballot on r (nil: they may), the
// same for their own ballot and one recorded for them: a voter is one of
// the council snapshotted when its voting opened who still sits on the
// council (sitting, the current council): a member whose office has ended
// since no longer does, and casts no ballot (one cast before stays
// counted). Its text says which.
func voterRefusal(r *governancev1.Resolution, sitting []string, voter string) *apierr.Violation {
	switch {
	case voter == "" || !slices.Contains(r.GetEligibleVoters(), voter):
		return &apierr.Violation{Reason: apiv1.ErrorReason_NOT_AN_ELIGIBLE_VOTER, Key: "error.governance.not_eligible_voter",
			Args: map[string]string{"resource": r.GetName(), "term": r.GetTerm()}}
	case !slices.Contains(sitting, voter):
		return &apierr.Violation{Reason: apiv1.ErrorReason_NOT_AN_ELIGIBLE_VOTER, Key: "error.governance.voter_left_council",
			Args: map[string]string{"resource": r.GetName(), "voter": voter}}
	}
	return nil
}

// recordsBallots: ballots taken at a meeting are recorded by those who run
// the branch, who keep its meetings' record (attendance, minutes).
func recordsBallots(p auth.Principal, c *council) error {
	return denyUnless(c.runs(p), "record_ballots")
}

// createsWorkPlan: those who run the branch, and the general
// association's secretary-general, to hold the tasks it assigns (G9),
// create the year's plan.
func createsWorkPlan(p auth.Principal, c *council) error {
	return denyUnless(c.runs(p) || isGeneralSecretary(p), "create_work_plan")
}

// runsWorkPlans: a plan's title and adoption are the business of those
// who run the branch.
func runsWorkPlans(p auth.Principal, c *council) error {
	return denyUnless(c.runs(p), "work_plans")
}

// tracks reports whether p creates and changes the items of source: those
// who run the branch any; the general association's secretary-general its
// assigned tasks (G9).
func (c *council) tracks(p auth.Principal, source governancev1.WorkItemSource) bool {
	return c.runs(p) || (isGeneralSecretary(p) && source == assigned)
}

// addsWorkItem: those who track its source (tracks) add an item.
func addsWorkItem(source governancev1.WorkItemSource) rule {
	return func(p auth.Principal, c *council) error {
		return denyUnless(c.tracks(p, source), "add_work_item", "source", assigned.String())
	}
}

// ownerPaths are what an item's owner reports on it.
var ownerPaths = []string{"state", "progress_note"}

// tracksWorkItem: those who track i's source change any of it (paths);
// its owner reports on it (ownerPaths) and changes nothing else.
func tracksWorkItem(i *governancev1.WorkItem, paths []string) rule {
	return func(p auth.Principal, c *council) error {
		if c.tracks(p, i.GetSource()) {
			return nil
		}
		if p.Subject == "" || p.Subject != i.GetOwner() {
			return refuse("track_work_item")
		}
		for _, path := range paths {
			if !slices.Contains(ownerPaths, path) {
				return refuse("owner_reports")
			}
		}
		return nil
	}
}

// readsCompliance: the overseers read the branch's compliance report.
func readsCompliance(p auth.Principal, c *council) error {
	return denyUnless(c.oversees(p), "compliance_report")
}
