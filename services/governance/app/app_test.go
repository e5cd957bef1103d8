package app_test

import (
	"context"
	"net"
	"testing"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
	datepb "google.golang.org/genproto/googleapis/type/date"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/tjsia/chapterhouse/platform/bootstrap"
	"github.com/tjsia/chapterhouse/platform/servicetest"
	governancev1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/governance/v1"
	membershipv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/membership/v1"

	"github.com/tjsia/chapterhouse/services/governance/app"
)

func nowhere(t *testing.T) string {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := lis.Addr().String()
	lis.Close()
	return addr
}

// TestRun: the assembled service creates its initial branch from the
// settings, serves health, reflection and its API, verifies tokens except
// on the public methods, and reports a peer that is down as UNAVAILABLE.
func TestRun(t *testing.T) {
	mr := miniredis.RunT(t)
	rdb := redis.NewClient(&redis.Options{Addr: mr.Addr()})
	t.Cleanup(func() { rdb.Close() })
	env := map[string]string{"CHAIR_MAX_AGE": "68", "COUNCIL_QUORUM": "3/4"}
	params, err := app.CharterFromEnv(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	down := nowhere(t)
	svc := servicetest.Start(t, app.Name, rdb, func(ctx context.Context, cfg bootstrap.ServiceConfig) error {
		return app.Run(ctx, app.Config{ServiceConfig: cfg, MembershipAddr: down, ActivitiesAddr: down,
			InitialBranches: []app.InitialBranch{{ID: "ai", Branch: &governancev1.Branch{DisplayName: "人工智能分会", Parameters: params}}}})
	}, servicetest.CheckNames())
	svc.CheckHealthAndReflection(t, "chapterhouse.governance.v1.GovernanceService")
	c := governancev1.NewGovernanceServiceClient(svc.Conn)

	b, err := c.GetBranch(svc.As(t, ""), &governancev1.GetBranchRequest{Name: "branches/ai"})
	if err != nil {
		t.Fatalf("public GetBranch without a token: %v", err)
	}
	if got := b.GetParameters(); got.GetChairMaxAge() != 68 || got.GetQuorum().GetNumerator() != 3 || got.GetDirectorMaxAge() != 65 {
		t.Fatalf("initial branch parameters %v: want the settings over CHARTER.md's defaults", got)
	}
	if _, err := c.ListTerms(svc.As(t, ""), &governancev1.ListTermsRequest{Parent: "branches/ai"}); status.Code(err) != codes.Unauthenticated {
		t.Fatalf("without a token: %v, want UNAUTHENTICATED", err)
	}
	if _, err := c.CreateTerm(svc.Admin(t), &governancev1.CreateTermRequest{Parent: "branches/ai", Term: &governancev1.Term{
		Number: 1, StartDate: date(2026, 1, 1), EndDate: date(2030, 12, 31)}}); err != nil {
		t.Fatal(err)
	}
	// Membership is down: a nomination cannot be judged, and nothing is
	// stored.
	_, err = c.CreateNomination(svc.Admin(t), &governancev1.CreateNominationRequest{Parent: "branches/ai/terms/1", Nomination: &governancev1.Nomination{
		Position: governancev1.Position_POSITION_DIRECTOR, Nominee: "people/ann", QualificationStatement: "twenty years of applied machine learning"}})
	if status.Code(err) != codes.Unavailable {
		t.Fatalf("nomination with membership down: %v, want UNAVAILABLE", err)
	}
	list, err := c.ListNominations(svc.Admin(t), &governancev1.ListNominationsRequest{Parent: "branches/ai/terms/-"})
	if err != nil || len(list.GetNominations()) != 0 {
		t.Fatalf("after the refusal: %v %v, want no nominations", list, err)
	}
}

// TestCharterFromEnvRefusesNonsense: a bad setting stops the start with a
// message naming it, rather than creating a branch from it.
func TestCharterFromEnvRefusesNonsense(t *testing.T) {
	for _, env := range []map[string]string{
		{"CHAIR_MAX_AGE": "seventy"}, {"COUNCIL_QUORUM": "3/2"}, {"COUNCIL_MAJORITY": "1/0"}, {"MIN_REPRESENTATIVE_RANK": "BOSS"},
	} {
		if _, err := app.CharterFromEnv(func(k string) string { return env[k] }); err == nil {
			t.Errorf("%v: accepted", env)
		}
	}
	p, err := app.CharterFromEnv(func(k string) string { return map[string]string{"MIN_REPRESENTATIVE_RANK": "PRESIDENT"}[k] })
	if err != nil || p.GetMinRepresentativeRank() != membershipv1.Rank_RANK_PRESIDENT {
		t.Fatalf("rank: %v %v", p, err)
	}
}

func date(y, m, d int32) *datepb.Date { return &datepb.Date{Year: y, Month: m, Day: d} }
