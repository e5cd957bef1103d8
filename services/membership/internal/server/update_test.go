package server_test

import (
	"slices"
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/fieldmaskpb"

	membershipv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/membership/v1"
)

// TestUpdateMaskPaths: an update changes the fields its mask names and no
// other; a path inside the contact (contact.phone, contact.email) changes
// that one detail and keeps the other, a field the patch leaves out is
// cleared, and the organisation's mask works the same way.
func TestUpdateMaskPaths(t *testing.T) {
	h := newHarness(t)
	h.seed(t)
	c, ctx := h.client, h.admin()
	update := func(patch *membershipv1.Person, paths ...string) *membershipv1.Person {
		t.Helper()
		patch.Name = "people/wang-wei"
		p, err := c.UpdatePerson(ctx, &membershipv1.UpdatePersonRequest{Person: patch, UpdateMask: &fieldmaskpb.FieldMask{Paths: paths}})
		if err != nil {
			t.Fatalf("update %v: %v", paths, err)
		}
		return p
	}
	contact := func(email, phone string) *membershipv1.ContactInfo {
		return &membershipv1.ContactInfo{Email: email, Phone: phone}
	}
	steps := []struct {
		patch       *membershipv1.Person
		paths       []string
		title       string
		contact     *membershipv1.ContactInfo
		expertise   []string
		displayName string
	}{
		{&membershipv1.Person{Title: "Professor", DisplayName: "ignored", Contact: contact("x@example.com", "")}, []string{"title"},
			"Professor", contact("wang-wei@example.com", ""), nil, "wang-wei"},
		{&membershipv1.Person{Contact: contact("y@example.com", "+86 22 5555 0101")}, []string{"contact.phone"},
			"Professor", contact("wang-wei@example.com", "+86 22 5555 0101"), nil, "wang-wei"},
		{&membershipv1.Person{}, []string{"contact.email"},
			"Professor", contact("", "+86 22 5555 0101"), nil, "wang-wei"},
		{&membershipv1.Person{Expertise: []string{"robotics", "vision"}, DisplayName: "王伟"}, []string{"expertise", "displayName"},
			"Professor", contact("", "+86 22 5555 0101"), []string{"robotics", "vision"}, "王伟"},
		{&membershipv1.Person{Contact: contact("wang@example.com", "")}, []string{"contact"},
			"Professor", contact("wang@example.com", ""), []string{"robotics", "vision"}, "王伟"},
		{&membershipv1.Person{}, []string{"title", "contact"},
			"", nil, []string{"robotics", "vision"}, "王伟"},
		{&membershipv1.Person{Contact: contact("", "+86 22 5555 0102")}, []string{"contact.phone"},
			"", contact("", "+86 22 5555 0102"), []string{"robotics", "vision"}, "王伟"},
	}
	for i, s := range steps {
		p := update(s.patch, s.paths...)
		stored, err := c.GetPerson(ctx, &membershipv1.GetPersonRequest{Name: "people/wang-wei"})
		if err != nil {
			t.Fatal(err)
		}
		for _, got := range []*membershipv1.Person{p, stored} {
			if got.GetTitle() != s.title || !proto.Equal(got.GetContact(), s.contact) || !slices.Equal(got.GetExpertise(), s.expertise) ||
				got.GetDisplayName() != s.displayName || got.GetOrganization() != "organizations/zhiyuan" {
				t.Errorf("step %d (%v): got title %q, contact %v, expertise %v, name %q", i, s.paths, got.GetTitle(), got.GetContact(),
					got.GetExpertise(), got.GetDisplayName())
			}
		}
	}

	org, err := c.UpdateOrganization(ctx, &membershipv1.UpdateOrganizationRequest{
		Organization: &membershipv1.Organization{Name: "organizations/zhiyuan", Address: "天津市滨海新区", DisplayName: "ignored"},
		UpdateMask:   &fieldmaskpb.FieldMask{Paths: []string{"address"}}})
	if err != nil || org.GetAddress() != "天津市滨海新区" || org.GetDisplayName() != "Zhiyuan" || org.GetCreditCode() != "91120116MA05JR7Q0E" {
		t.Fatalf("organisation update: %v %v", org, err)
	}
}
