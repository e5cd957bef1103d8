package server_test

import (
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/tjsia/chapterhouse/platform/apierr"
	apiv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/api/v1"
	membershipv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/membership/v1"
)

// credentials are an individual applicant's, long enough for M3.
const credentials = "Professor of computer vision, Tianjin University; 40 papers on evaluation."

func individual(person string) *membershipv1.Application {
	return &membershipv1.Application{Applicant: &membershipv1.Application_Individual{Individual: &membershipv1.IndividualApplicant{
		Person: person, AcademicCredentials: credentials, Expertise: []string{"computer vision"}}}}
}

// TestCreateApplicationWithATakenID: an application whose client-chosen
// id another application holds is ALREADY_EXISTS naming it, and changes
// nothing; the same application again is its applicant's one open
// application (OPEN_APPLICATION_EXISTS, naming it), and changes nothing
// either.
func TestCreateApplicationWithATakenID(t *testing.T) {
	h := newHarness(t)
	h.seed(t)
	c, ctx := h.client, h.admin()
	create := func(person string) error {
		_, err := c.CreateApplication(ctx, &membershipv1.CreateApplicationRequest{Parent: "branches/ai", ApplicationId: "expert-2026", Application: individual(person)})
		return err
	}
	if err := create("people/stranger"); err != nil {
		t.Fatal(err)
	}
	const name = "branches/ai/applications/expert-2026"
	before := h.state()
	for _, tc := range []struct {
		label, person string
		reason        apiv1.ErrorReason
		key           string
	}{
		{"another applicant", "people/zhang-san", apiv1.ErrorReason_ALREADY_EXISTS, "resource"},
		{"the same applicant again", "people/stranger", apiv1.ErrorReason_OPEN_APPLICATION_EXISTS, "application"},
	} {
		err := create(tc.person)
		if status.Code(err) != codes.AlreadyExists || !apierr.Is(err, tc.reason) || apierr.Info(err).GetMetadata()[tc.key] != name {
			t.Errorf("%s with the id: %v, want ALREADY_EXISTS %s naming %s", tc.label, err, tc.reason, name)
		}
		if h.state() != before {
			t.Errorf("%s with the id changed the store", tc.label)
		}
	}
	got, err := c.GetApplication(ctx, &membershipv1.GetApplicationRequest{Name: name})
	if err != nil || got.GetIndividual().GetPerson() != "people/stranger" {
		t.Fatalf("after the refusals: %v %v, want the stranger's application unchanged", got, err)
	}
}
