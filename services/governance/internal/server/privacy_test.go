package server_test

import (
	"strings"
	"testing"

	"google.golang.org/genproto/googleapis/type/date"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/tjsia/chapterhouse/platform/privacy"
	"github.com/tjsia/chapterhouse/platform/servicetest"
	governancev1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/governance/v1"
	membershipv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/membership/v1"

	"github.com/tjsia/chapterhouse/services/governance/internal/govtest"
)

// TestPrivacyMatrix: what governance derives from a birth date is private
// as the birth date is. The compliance report flags the chair, who passes
// the age limit within the term, to everyone who may read the report; the
// chair's age and the day the limit is passed (which give the birth date
// away) are shown, through the real gRPC server, only to the chair and to
// admins, and no finding's message states them. A G4 refusal of a
// nomination states the verdict, not the nominee's age.
func TestPrivacyMatrix(t *testing.T) {
	s := serve(t)
	people, svc, srv, c := s.people, s.svc, s.srv, s.c

	// The only method whose response holds a private field.
	methods := governancev1.File_chapterhouse_governance_v1_governance_proto.Services().Get(0).Methods()
	for i := 0; i < methods.Len(); i++ {
		if m := methods.Get(i); privacy.HoldsPrivate(m.Output()) && m.Name() != "GetComplianceReport" {
			t.Errorf("%s returns private fields; the matrix does not call it", m.Name())
		}
	}

	govtest.Branch(t, svc, people)
	// Zhang is 68 on the day he takes office and passes 70 on 2029-06-01,
	// within term 1.
	people.Add("zhang", "organizations/huiyun", membershipv1.Rank_RANK_PRESIDENT, &date.Date{Year: 1958, Month: 6, Day: 1})
	govtest.ElectChair(t, svc)
	govtest.Director(t, svc, people, "wang")
	people.Add("rep", "organizations/xinhe", membershipv1.Rank_RANK_VICE_PRESIDENT, &date.Date{Year: 1972, Month: 2, Day: 2})
	people.AddUnit("xinhe", "organizations/xinhe", "rep")

	ownData := []string{"age", "exceed_date"}
	for _, tc := range []struct {
		caller servicetest.Role
		// reads: the report is let through; sees: the chair's age and
		// exceed date are in it.
		reads, sees bool
	}{
		{anonymous, false, false},
		{servicetest.Role{Name: "the person (the chair)", Subject: "people/zhang"}, true, true},
		{servicetest.Role{Name: "another council member", Subject: "people/wang"}, true, false},
		{servicetest.Role{Name: "a unit representative", Subject: "people/rep"}, false, false},
		{admin, true, true},
		{generalSecretary, true, false},
		{generalCouncil, true, false},
		{servicetest.Role{Name: "standards, for a council member", Subject: "people/wang", Service: "standards"}, true, false},
		{servicetest.Role{Name: "activities, for a council member", Subject: "people/wang", Service: "activities"}, true, false},
	} {
		t.Run(tc.caller.Name, func(t *testing.T) {
			report, err := c.GetComplianceReport(srv.AsRole(t, tc.caller), &governancev1.GetComplianceReportRequest{Name: "branches/ai"})
			if (err == nil) != tc.reads {
				t.Fatalf("report: %v, want let through = %v", err, tc.reads)
			}
			if err != nil {
				return
			}
			if len(report.GetAgeLimitIssues()) != 1 {
				t.Fatalf("age limit issues %v, want the chair's", report.GetAgeLimitIssues())
			}
			issue := report.GetAgeLimitIssues()[0]
			if issue.GetPerson() != "people/zhang" || issue.GetMaxAge() != 70 || issue.GetPosition() != governancev1.Position_POSITION_CHAIR {
				t.Errorf("the flag itself is everyone's who reads the report: %v", issue)
			}
			for _, f := range ownData {
				shown := issue.ProtoReflect().Has(issue.ProtoReflect().Descriptor().Fields().ByName(protoreflect.Name(f)))
				if shown != tc.sees {
					t.Errorf("%s shown = %v, want %v", f, shown, tc.sees)
				}
			}
			for _, finding := range report.GetFindings() {
				if strings.Contains(finding.GetMessage(), "2029") || strings.Contains(finding.GetMessage(), "1958") {
					t.Errorf("a finding's message gives the birth date away: %s", finding.GetMessage())
				}
			}
		})
	}

	// A G4 refusal says the nominee would be over the limit on the day
	// office begins, not how old they are.
	people.Add("chen-lao", "organizations/xinhe", membershipv1.Rank_RANK_VICE_PRESIDENT, &date.Date{Year: 1950, Month: 4, Day: 1})
	check, err := c.CheckEligibility(srv.AsRole(t, admin), &governancev1.CheckEligibilityRequest{Parent: govtest.Term1,
		Nomination: &governancev1.Nomination{Position: governancev1.Position_POSITION_VICE_CHAIR, Nominee: "people/chen-lao"}})
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, v := range check.GetViolations() {
		if v.GetRule() != "G4" {
			continue
		}
		found = true
		if strings.Contains(v.GetMessage(), "76") || strings.Contains(v.GetMessage(), "1950") {
			t.Errorf("the G4 verdict states the nominee's age: %s", v.GetMessage())
		}
	}
	if !found {
		t.Fatalf("no G4 violation for a 76-year-old vice-chair nominee: %v", check.GetViolations())
	}
}
