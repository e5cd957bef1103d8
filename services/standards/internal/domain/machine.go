package domain

import (
	"slices"
	"strings"

	"github.com/tjsia/chapterhouse/platform/apierr"
	standardsv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/standards/v1"
)

// State is a standard's life-cycle state.
type State = standardsv1.StandardState

// The states, short.
const (
	Proposed      = standardsv1.StandardState_STANDARD_STATE_PROPOSED
	Drafting      = standardsv1.StandardState_STANDARD_STATE_DRAFTING
	PublicComment = standardsv1.StandardState_STANDARD_STATE_PUBLIC_COMMENT
	Review        = standardsv1.StandardState_STANDARD_STATE_REVIEW
	Approved      = standardsv1.StandardState_STANDARD_STATE_APPROVED
	Published     = standardsv1.StandardState_STANDARD_STATE_PUBLISHED
	UnderRevision = standardsv1.StandardState_STANDARD_STATE_UNDER_REVISION
	Withdrawn     = standardsv1.StandardState_STANDARD_STATE_WITHDRAWN
	Rejected      = standardsv1.StandardState_STANDARD_STATE_REJECTED
)

// Actions, named as the API names them. The ones that keep the state
// (adding a draft, commenting, signing…) are in the table too, so one
// table says everything a state allows.
const (
	ActUpdate            = "update"
	ActApproveProposal   = "approveProposal"
	ActReject            = "reject"
	ActCreateDraft       = "createDraft"
	ActOpenComment       = "openComment"
	ActComment           = "comment"
	ActDisposeComment    = "disposeComment"
	ActCloseComment      = "closeComment"
	ActSubmitForReview   = "submitForReview"
	ActPassReview        = "concludeReview:PASS"
	ActReturnForRevision = "concludeReview:REVISE"
	ActApprove           = "approve"
	ActPublish           = "publish"
	ActRevise            = "revise"
	ActWithdraw          = "withdraw"
	ActSign              = "sign"
	ActSchedulePromotion = "schedulePromotion"
	// The changes a revision makes to the standard it revises: superseded
	// when the revision is published, reinstated when it is rejected or
	// withdrawn.
	ActSupersede = "supersede"
	ActReinstate = "reinstate"
)

// Transition is one allowed action: from a state, to a state.
type Transition struct {
	Action   string
	From, To State
}

// inForce are the states in which a published version is in force.
var inForce = []State{Published, UnderRevision}

// open are the states a standard can still leave.
var open = []State{Proposed, Drafting, PublicComment, Review, Approved, Published, UnderRevision}

// Transitions is the life cycle, the one table the use cases and the
// documentation in standards.proto follow.
var Transitions = func() []Transition {
	t := []Transition{
		{ActApproveProposal, Proposed, Drafting},
		{ActReject, Proposed, Rejected},
		{ActReject, Review, Rejected},
		{ActCreateDraft, Drafting, Drafting},
		{ActOpenComment, Drafting, PublicComment},
		{ActComment, PublicComment, PublicComment},
		{ActDisposeComment, PublicComment, PublicComment},
		{ActCloseComment, PublicComment, Drafting},
		{ActSubmitForReview, Drafting, Review},
		{ActPassReview, Review, Review},
		{ActReturnForRevision, Review, Drafting},
		{ActApprove, Review, Approved},
		{ActPublish, Approved, Published},
		{ActRevise, Published, UnderRevision},
		{ActSupersede, UnderRevision, Withdrawn},
		{ActReinstate, UnderRevision, Published},
	}
	for _, s := range open {
		t = append(t, Transition{ActUpdate, s, s}, Transition{ActWithdraw, s, Withdrawn})
	}
	for _, s := range inForce {
		t = append(t, Transition{ActSign, s, s}, Transition{ActSchedulePromotion, s, s})
	}
	return t
}()

// Next is where action leads from state, and whether it is allowed.
func Next(state State, action string) (State, bool) {
	for _, t := range Transitions {
		if t.From == state && t.Action == action {
			return t.To, true
		}
	}
	return state, false
}

// Allowed lists the actions state allows, each as the API's verb for it
// (Verb), once.
func Allowed(state State) []string {
	out := []string{}
	for _, t := range Transitions {
		verb := Verb(t.Action)
		if t.From == state && t.Action != ActSupersede && t.Action != ActReinstate && !slices.Contains(out, verb) {
			out = append(out, verb)
		}
	}
	return out
}

// Verb is the API's verb for an action, as a refusal names it and the
// catalog has its term ("term.<verb>"): the custom method's verb
// (":approveProposal", ":dispose", "promotions:schedule"), "createDraft"
// and "comment" for what is created under the standard, and "sign" for a
// signatory.
func Verb(action string) string {
	switch action {
	case ActDisposeComment:
		return "dispose"
	case ActSchedulePromotion:
		return "schedule"
	}
	name, _, _ := strings.Cut(action, ":")
	return name
}

// transition checks that action is allowed from s's state and returns the
// state it leads to; a refusal names the state (its enum value name) and
// the verbs it allows.
func transition(s *standardsv1.Standard, action string) (State, error) {
	to, ok := Next(s.GetState(), action)
	if !ok {
		return 0, apierr.InvalidTransition(s.GetName(), Verb(action), s.GetState().String(), Allowed(s.GetState())...)
	}
	return to, nil
}

// IsInForce: a published version of it is in force.
func IsInForce(s State) bool { return slices.Contains(inForce, s) }

// wasPublished: it has been in force (a withdrawn standard that was
// published keeps its code and stays public).
func wasPublished(s *standardsv1.Standard) bool { return s.GetCode() != "" }
