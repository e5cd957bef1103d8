package stack

import (
	"context"
	"fmt"
	"time"

	"google.golang.org/genproto/googleapis/type/date"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/tjsia/chapterhouse/platform/apierr"
	"github.com/tjsia/chapterhouse/platform/auth"
	apiv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/api/v1"
	membershipv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/membership/v1"
)

// roleOf is the membership role of a static role name.
var roleOf = map[string]membershipv1.Role{
	auth.RoleAdmin:            membershipv1.Role_ROLE_ADMIN,
	auth.RoleGeneralSecretary: membershipv1.Role_ROLE_GENERAL_SECRETARY,
	auth.RoleGeneralCouncil:   membershipv1.Role_ROLE_GENERAL_COUNCIL,
}

// grant sees that person holds role, as a role binding granted by the
// first admin (AdminSubject, an admin by configuration: Start, or
// AUTH_FIRST_ADMIN for a system started elsewhere).
func (s *Stack) grant(person, role string) error {
	r, ok := roleOf[role]
	if !ok {
		return fmt.Errorf("no role %q", role)
	}
	if person == AdminSubject && r == membershipv1.Role_ROLE_ADMIN {
		return nil // the first admin, by configuration
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := grpc.NewClient(s.Addrs["membership"], grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return err
	}
	defer conn.Close()
	tok, err := s.signer.Sign(AdminSubject, nil, time.Minute)
	if err != nil {
		return err
	}
	ctx = metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+tok)
	m := membershipv1.NewMembershipServiceClient(conn)
	bind := func() error {
		_, err := m.CreateRoleBinding(ctx, &membershipv1.CreateRoleBindingRequest{RoleBinding: &membershipv1.RoleBinding{
			Person: person, Role: r, Reason: "granted for a test by the devstack"}})
		if apierr.Is(err, apiv1.ErrorReason_ROLE_ALREADY_GRANTED) {
			return nil
		}
		return err
	}
	err = bind()
	if apierr.Is(err, apiv1.ErrorReason_REFERENCED_RESOURCE_NOT_FOUND) {
		// A role needs a person: the seeded one when it is a demo
		// person, else one made up for the test.
		if err = createPerson(ctx, m, person); err == nil {
			err = bind()
		}
	}
	return err
}

// createPerson creates person as the seed would, or with a made-up
// record; one that exists already is fine.
func createPerson(ctx context.Context, m membershipv1.MembershipServiceClient, person string) error {
	id := personID(person)
	record := &membershipv1.Person{DisplayName: id, BirthDate: &date.Date{Year: 1980, Month: 1, Day: 1}}
	for _, p := range demoPeople() {
		if p.id == id {
			record = p.p
		}
	}
	_, err := m.CreatePerson(ctx, &membershipv1.CreatePersonRequest{PersonId: id, Person: record})
	if status.Code(err) == codes.AlreadyExists {
		return nil
	}
	return err
}
