package servicetest

import (
	"slices"
	"testing"

	"github.com/tjsia/chapterhouse/platform/apierr"
	apiv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/api/v1"
	governancev1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/governance/v1"
)

// TestNamesIn: the names a response holds are the references to the
// resources its service serves, nested ones included, and the resources'
// own names; references to another service's resources (a person) are
// not the service's to judge.
func TestNamesIn(t *testing.T) {
	n, err := NamesOf(governancev1.GovernanceService_ServiceDesc.ServiceName)
	if err != nil {
		t.Fatal(err)
	}
	if !n.Served("chapterhouse.tjsia.org/Nomination") || n.Served("chapterhouse.tjsia.org/Person") {
		t.Fatalf("served: nomination %v, person %v", n.Served("chapterhouse.tjsia.org/Nomination"), n.Served("chapterhouse.tjsia.org/Person"))
	}
	got := n.In(&governancev1.ListOfficersResponse{Officers: []*governancev1.Officer{{
		Name: "branches/ai/terms/1/officers/c", Person: "people/zhang", Nomination: "branches/ai/terms/1/nominations/c",
	}, {
		Name: "branches/ai/terms/1/officers/v", AppointingResolution: "branches/ai/resolutions/r",
	}}, NextPageToken: "t"})
	want := []Name{
		{Field: "officers[0].name", Type: "chapterhouse.tjsia.org/Officer", Value: "branches/ai/terms/1/officers/c"},
		{Field: "officers[0].nomination", Type: "chapterhouse.tjsia.org/Nomination", Value: "branches/ai/terms/1/nominations/c"},
		{Field: "officers[1].name", Type: "chapterhouse.tjsia.org/Officer", Value: "branches/ai/terms/1/officers/v"},
		{Field: "officers[1].appointing_resolution", Type: "chapterhouse.tjsia.org/Resolution", Value: "branches/ai/resolutions/r"},
	}
	if !slices.Equal(got, want) {
		t.Fatalf("names\n got %v\nwant %v", got, want)
	}
	if got := n.In(&governancev1.Resolution{Nominations: []string{"branches/ai/terms/1/nominations/a", "branches/ai/terms/1/nominations/b"}}); len(got) != 2 || got[1].Field != "nominations[1]" {
		t.Fatalf("a list of references: %v", got)
	}
}

// TestDocumented reads the reasons a method's comment names: an
// ErrorReason written in the comment counts, a state written the same way
// (a meeting CANCELLED) does not.
func TestDocumented(t *testing.T) {
	doc, err := Documented(governancev1.GovernanceService_ServiceDesc)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(doc["CreateNomination"], apiv1.ErrorReason_OFFICE_ALREADY_FILLED.String()) {
		t.Errorf("CreateNomination documents %v, want OFFICE_ALREADY_FILLED among them", doc["CreateNomination"])
	}
	if slices.Contains(doc["UpdateMeeting"], apiv1.ErrorReason_CANCELLED.String()) {
		t.Errorf("UpdateMeeting documents %v: a CANCELLED meeting is a state, not the reason", doc["UpdateMeeting"])
	}
	if got := upperSnake("ResolutionState"); got != "RESOLUTION_STATE" {
		t.Errorf("upperSnake: %s", got)
	}
}

// TestReasonsRecord: an error's reason and each charter violation it
// lists are what the method was seen to answer.
func TestReasonsRecord(t *testing.T) {
	r := NewReasons()
	const m = "/chapterhouse.governance.v1.GovernanceService/CreateNomination"
	r.record(m, apierr.Charter([]apierr.Violation{{Rule: "G6", Reason: apiv1.ErrorReason_DIRECTOR_NOMINEE_LIMIT_EXCEEDED, Message: "x"}}))
	r.record(m, nil)
	for _, reason := range []apiv1.ErrorReason{apiv1.ErrorReason_CHARTER_VIOLATION, apiv1.ErrorReason_DIRECTOR_NOMINEE_LIMIT_EXCEEDED} {
		if !r.Seen(m, reason.String()) {
			t.Errorf("%s not recorded", reason)
		}
	}
	if r.Seen(m, apiv1.ErrorReason_NOT_FOUND.String()) || r.Seen("/x/Y", apiv1.ErrorReason_CHARTER_VIOLATION.String()) {
		t.Error("recorded what was not answered")
	}
}
