package privacy

import (
	"testing"

	"google.golang.org/genproto/googleapis/type/date"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/tjsia/chapterhouse/platform/auth"
	governancev1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/governance/v1"
	membershipv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/membership/v1"
)

func person(id string) *membershipv1.Person {
	return &membershipv1.Person{
		Name: "people/" + id, DisplayName: id, Organization: "organizations/zhiyuan", Rank: membershipv1.Rank_RANK_VICE_PRESIDENT,
		BirthDate:            &date.Date{Year: 1979, Month: 11, Day: 3},
		BirthDateAttestation: &membershipv1.Attestation{Attester: "people/admin", AttestTime: timestamppb.Now()},
		Contact:              &membershipv1.ContactInfo{Email: id + "@example.org", Phone: "+86 22 1234 5678"},
	}
}

// sees reports which private fields of p are set.
type sees struct{ birthDate, attestation, contact bool }

func seen(p *membershipv1.Person) sees {
	return sees{p.GetBirthDate() != nil, p.GetBirthDateAttestation() != nil, p.GetContact() != nil}
}

// TestMaskPerson: Person's readers as the proto declares them (birth date
// and its attestation: the person, admins, governance; contact: the person
// and admins), for each kind of viewer. The public fields stay.
func TestMaskPerson(t *testing.T) {
	all, dateOnly, none := sees{true, true, true}, sees{true, true, false}, sees{}
	for _, c := range []struct {
		name   string
		viewer auth.Principal
		want   sees
	}{
		{"anonymous", auth.Principal{}, none},
		{"the person", auth.Principal{Subject: "people/li-na"}, all},
		{"another person", auth.Principal{Subject: "people/wang-wei"}, none},
		{"admin", auth.Principal{Subject: "people/admin", Roles: []string{auth.RoleAdmin}}, all},
		{"general_secretary", auth.Principal{Subject: "people/gs", Roles: []string{auth.RoleGeneralSecretary}}, none},
		{"general_council", auth.Principal{Subject: "people/gc", Roles: []string{auth.RoleGeneralCouncil}}, none},
		{"governance for another person", auth.Principal{Subject: "people/wang-wei", Service: "governance"}, dateOnly},
		{"activities for another person", auth.Principal{Subject: "people/wang-wei", Service: "activities"}, none},
		{"governance for the person", auth.Principal{Subject: "people/li-na", Service: "governance"}, all},
		{"a service without a subject", auth.Principal{Service: "governance"}, dateOnly},
	} {
		in := person("li-na")
		before := proto.Clone(in)
		out := Mask(in, c.viewer).(*membershipv1.Person)
		if got := seen(out); got != c.want {
			t.Errorf("%s sees %+v, want %+v", c.name, got, c.want)
		}
		if !proto.Equal(in, before) {
			t.Errorf("%s: Mask changed its input", c.name)
		}
		if out.GetDisplayName() != "li-na" || out.GetOrganization() != "organizations/zhiyuan" || out.GetRank() != membershipv1.Rank_RANK_VICE_PRESIDENT {
			t.Errorf("%s: public fields lost: %v", c.name, out)
		}
		if (c.want == all) != (out == in) {
			t.Errorf("%s: a response with nothing to hide is passed as is, and only then (same message: %v)", c.name, out == in)
		}
	}
}

// TestMaskList: each element of a list is masked for its own person.
func TestMaskList(t *testing.T) {
	page := &membershipv1.ListPeopleResponse{People: []*membershipv1.Person{person("li-na"), person("wang-wei")}, NextPageToken: "next"}
	out := Mask(page, auth.Principal{Subject: "people/wang-wei"}).(*membershipv1.ListPeopleResponse)
	if got := seen(out.GetPeople()[0]); got != (sees{}) {
		t.Errorf("wang-wei sees li-na's %+v", got)
	}
	if got := seen(out.GetPeople()[1]); got != (sees{true, true, true}) {
		t.Errorf("wang-wei sees his own %+v", got)
	}
	if out.GetNextPageToken() != "next" || seen(page.GetPeople()[0]) != (sees{true, true, true}) {
		t.Error("the page token was lost or the input changed")
	}
}

// TestMaskDerived: what governance derives from a birth date (an
// officer's age and the day it passes the limit) is masked for its own
// person too, in a report that is otherwise everyone's who may read it.
func TestMaskDerived(t *testing.T) {
	report := &governancev1.ComplianceReport{Branch: "branches/ai", AgeLimitIssues: []*governancev1.AgeLimitIssue{
		{Officer: "branches/ai/terms/1/officers/chair", Person: "people/wang-wei", MaxAge: 70, Age: 69, ExceedDate: &date.Date{Year: 2027, Month: 9, Day: 20}},
	}}
	issue := func(v auth.Principal) *governancev1.AgeLimitIssue {
		return Mask(report, v).(*governancev1.ComplianceReport).GetAgeLimitIssues()[0]
	}
	if got := issue(auth.Principal{Subject: "people/sun-mei", Roles: []string{auth.RoleGeneralCouncil}}); got.GetAge() != 0 || got.GetExceedDate() != nil ||
		got.GetPerson() != "people/wang-wei" || got.GetMaxAge() != 70 {
		t.Errorf("the general council sees %v", got)
	}
	for _, v := range []auth.Principal{{Subject: "people/wang-wei"}, {Subject: "people/admin", Roles: []string{auth.RoleAdmin}}} {
		if got := issue(v); got.GetAge() != 69 || got.GetExceedDate() == nil {
			t.Errorf("%s sees %v", v.Subject, got)
		}
	}
}

// TestNothingPrivate: a message with no private field is passed as is.
func TestNothingPrivate(t *testing.T) {
	org := &membershipv1.Organization{Name: "organizations/zhiyuan"}
	if Mask(org, auth.Principal{}) != proto.Message(org) || HoldsPrivate(org.ProtoReflect().Descriptor()) {
		t.Error("an organisation was copied or counted as private")
	}
	if !HoldsPrivate((&membershipv1.ListPeopleResponse{}).ProtoReflect().Descriptor()) {
		t.Error("a page of people does not count as private")
	}
}
