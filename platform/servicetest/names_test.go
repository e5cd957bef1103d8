package servicetest

import (
	"slices"
	"testing"

	"google.golang.org/grpc/codes"

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
	names := func(method string) []string {
		var out []string
		for _, p := range doc[method] {
			out = append(out, p.String())
		}
		return out
	}
	if !slices.Contains(names("CreateNomination"), apiv1.ErrorReason_OFFICE_ALREADY_FILLED.String()) {
		t.Errorf("CreateNomination documents %v, want OFFICE_ALREADY_FILLED among them", names("CreateNomination"))
	}
	if slices.Contains(names("UpdateMeeting"), apiv1.ErrorReason_CANCELLED.String()) {
		t.Errorf("UpdateMeeting documents %v: a CANCELLED meeting is a state, not the reason", names("UpdateMeeting"))
	}
	// A reason given with its code promises the code too.
	if got := codedReason.FindStringSubmatch("refused (ALREADY_EXISTS, reason OFFICE_ALREADY_FILLED)."); len(got) != 3 ||
		got[1] != "ALREADY_EXISTS" || got[2] != "OFFICE_ALREADY_FILLED" {
		t.Errorf("a coded reason read as %v", got)
	}
	if c, ok := codeOf("ALREADY_EXISTS"); !ok || c != codes.AlreadyExists {
		t.Errorf("ALREADY_EXISTS read as %v", c)
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
	r.record(m, apierr.Charter([]apierr.Violation{{Rule: "G6", Reason: apiv1.ErrorReason_DIRECTOR_NOMINEE_LIMIT_EXCEEDED}}))
	r.record(m, nil)
	for _, p := range []Promise{{Reason: "CHARTER_VIOLATION"}, {Reason: "DIRECTOR_NOMINEE_LIMIT_EXCEEDED"},
		{Reason: "DIRECTOR_NOMINEE_LIMIT_EXCEEDED", Code: "FAILED_PRECONDITION"}} {
		if !r.Seen(m, p) {
			t.Errorf("%s not recorded", p)
		}
	}
	for _, p := range []Promise{{Reason: "NOT_FOUND"}, {Reason: "DIRECTOR_NOMINEE_LIMIT_EXCEEDED", Code: "ALREADY_EXISTS"}} {
		if r.Seen(m, p) {
			t.Errorf("recorded %s, which was not answered", p)
		}
	}
	if r.Seen("/x/Y", Promise{Reason: "CHARTER_VIOLATION"}) {
		t.Error("recorded another method's answer")
	}
}
