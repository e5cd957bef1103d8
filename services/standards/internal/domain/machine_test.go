package domain_test

import (
	"slices"
	"testing"

	standardsv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/standards/v1"

	"github.com/tjsia/chapterhouse/services/standards/internal/domain"
)

// TestLifeCycle (S1): every state × every action, both sides: the allowed
// moves lead where the issue says, and every other pair is refused. The
// expected table is written out here, not derived from domain.Transitions,
// so a change to the life cycle must change both.
func TestLifeCycle(t *testing.T) {
	const (
		P  = domain.Proposed
		D  = domain.Drafting
		PC = domain.PublicComment
		R  = domain.Review
		A  = domain.Approved
		PB = domain.Published
		UR = domain.UnderRevision
		W  = domain.Withdrawn
		RJ = domain.Rejected
	)
	want := map[standardsv1.StandardState]map[string]standardsv1.StandardState{
		P:  {"update": P, "approveProposal": D, "reject": RJ, "withdraw": W},
		D:  {"update": D, "createDraft": D, "openComment": PC, "submitForReview": R, "withdraw": W},
		PC: {"update": PC, "comment": PC, "disposeComment": PC, "closeComment": D, "withdraw": W},
		R:  {"update": R, "concludeReview:PASS": R, "concludeReview:REVISE": D, "approve": A, "reject": RJ, "withdraw": W},
		A:  {"update": A, "publish": PB, "withdraw": W},
		PB: {"update": PB, "revise": UR, "sign": PB, "schedulePromotion": PB, "withdraw": W},
		UR: {"update": UR, "sign": UR, "schedulePromotion": UR, "withdraw": W, "supersede": W, "reinstate": PB},
		W:  {},
		RJ: {},
	}
	var actions []string
	for _, tr := range domain.Transitions {
		if !slices.Contains(actions, tr.Action) {
			actions = append(actions, tr.Action)
		}
	}
	for _, s := range []standardsv1.StandardState{P, D, PC, R, A, PB, UR, W, RJ} {
		for _, a := range actions {
			to, ok := domain.Next(s, a)
			exp, allowed := want[s][a]
			switch {
			case allowed && (!ok || to != exp):
				t.Errorf("%v --%s--> %v (allowed %v), want %v", s, a, to, ok, exp)
			case !allowed && ok:
				t.Errorf("%v --%s--> %v allowed, want refused", s, a, to)
			}
		}
		if len(want[s]) == 0 && len(domain.Allowed(s)) != 0 {
			t.Errorf("final state %v allows %v", s, domain.Allowed(s))
		}
	}
	if len(actions) != 19 {
		t.Errorf("%d actions in the table, want the 19 above: %v", len(actions), actions)
	}
}
