package domain

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/fieldmaskpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/tjsia/chapterhouse/platform/apierr"
	"github.com/tjsia/chapterhouse/platform/auth"
	"github.com/tjsia/chapterhouse/platform/fieldmask"
	apiv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/api/v1"
	eventsv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/events/v1"
	membershipv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/membership/v1"
)

// The use cases return whole person records: what a caller may read of
// one is declared on Person's fields (chapterhouse.api.v1.readers) and
// masked by the server on every response (platform/privacy), so no use
// case keeps its own list.

// publicPerson is a person as its events carry it: without the contact
// block, which no service needs (streams are internal, and every service
// reads them).
func publicPerson(p *membershipv1.Person) *membershipv1.Person {
	c := proto.Clone(p).(*membershipv1.Person)
	c.Contact = nil
	return c
}

// AttestedPaths are the facts of a person's record that the charter's rules
// judge (G3: organisation and rank; G4: birth date). Only admins set them,
// and each records who did and when; nobody vouches for themselves.
var AttestedPaths = []string{"birth_date", "organization", "rank"}

// attestedSet lists which attested facts a person record states.
func attestedSet(person *membershipv1.Person) []string {
	var set []string
	if person.GetBirthDate() != nil {
		set = append(set, "birth_date")
	}
	if person.GetOrganization() != "" {
		set = append(set, "organization")
	}
	if person.GetRank() != membershipv1.Rank_RANK_UNSPECIFIED {
		set = append(set, "rank")
	}
	return set
}

func requireAttester(p auth.Principal, fields []string) error {
	if len(fields) == 0 || p.IsAdmin() {
		return nil
	}
	return apierr.New(codes.PermissionDenied, apiv1.ErrorReason_PERMISSION_DENIED, map[string]string{"fields": strings.Join(fields, ",")},
		apierr.Text("denied.membership.attested", "fields", strings.Join(fields, ", ")))
}

// attest records p as the attester of fields of person, now.
func attest(person *membershipv1.Person, p auth.Principal, now time.Time, fields []string) {
	for _, f := range fields {
		a := &membershipv1.Attestation{Attester: p.Subject, AttestTime: timestamppb.New(now)}
		switch f {
		case "birth_date":
			person.BirthDateAttestation = a
		case "organization":
			person.OrganizationAttestation = a
		case "rank":
			person.RankAttestation = a
		}
	}
}

// CreatePerson registers a person: admins, or the caller themselves, who
// may not state the attested facts.
func (s *Service) CreatePerson(ctx context.Context, p auth.Principal, person *membershipv1.Person, personID string) (*membershipv1.Person, error) {
	if !p.IsAdmin() && p.PersonID() != personID {
		return nil, apierr.PermissionDenied("membership.register_others", "person_id", personID)
	}
	person, ev, err := s.newPerson(ctx, p, person, personID)
	if err != nil {
		return nil, err
	}
	err = s.repo.CreatePerson(ctx, person, ev)
	var conflict *ConflictError
	if errors.As(err, &conflict) {
		return nil, apierr.AlreadyExists(person.GetName())
	}
	if err != nil {
		return nil, err
	}
	return person, nil
}

// newPerson checks and completes a person record p registers as
// people/personID, with its PersonCreated event.
func (s *Service) newPerson(ctx context.Context, p auth.Principal, person *membershipv1.Person, personID string) (*membershipv1.Person, *eventsv1.Envelope, error) {
	now := s.now()
	person = proto.Clone(person).(*membershipv1.Person)
	attested := attestedSet(person)
	if err := requireAttester(p, attested); err != nil {
		return nil, nil, err
	}
	if v := ValidatePerson(person, now); len(v) > 0 {
		return nil, nil, apierr.InvalidArgument(v...)
	}
	person.BirthDateAttestation, person.OrganizationAttestation, person.RankAttestation = nil, nil, nil
	attest(person, p, now, attested)
	if err := s.checkOrganizationExists(ctx, person.GetOrganization(), "person.organization"); err != nil {
		return nil, nil, err
	}
	person.Name = "people/" + personID
	person.CreateTime, person.UpdateTime = timestamppb.New(now), timestamppb.New(now)
	person.Etag = newEtag()
	ev := s.envelope(ctx, p, person.GetName())
	ev.Payload = &eventsv1.Envelope_PersonCreated{PersonCreated: &eventsv1.PersonCreated{Person: publicPerson(person)}}
	return person, ev, nil
}

// RegisterSelf registers the person of an identity linked to no one, and
// links the identity to it (LINK_METHOD_SELF_REGISTRATION): what a
// signed-in expert does before applying as an individual member. It is
// the caller's self-registration, with its rules (no attested fact).
//
// The person and the account live in different slots, so they are written
// in two steps, the person first, with the identity that registered it:
// nothing is linked to a person that is not there, and a retry of the
// same request (a failure between the steps) finds its own person and
// links it. An identity linked meanwhile (it claimed an invitation at the
// same moment) is IDENTITY_ALREADY_LINKED and leaves the new person
// unlinked, for the admins to see.
func (s *Service) RegisterSelf(ctx context.Context, id auth.Identity, person *membershipv1.Person, personID string) (*membershipv1.Person, error) {
	if id.Issuer == "" || id.Subject == "" {
		return nil, apierr.Unauthenticated("token_required")
	}
	if linked, err := s.repo.AccountByIdentity(ctx, id); err == nil {
		return nil, refusal(codes.FailedPrecondition, apiv1.ErrorReason_IDENTITY_ALREADY_LINKED, "identity_linked", map[string]string{"account": linked.GetName()})
	} else if !errors.Is(err, ErrNotFound) {
		return nil, err
	}
	// An identity the admins unlinked links itself to nothing again: an
	// invitation is the way back.
	if unlinked, err := s.repo.IdentityUnlinked(ctx, id); err != nil {
		return nil, err
	} else if unlinked {
		return nil, apierr.PermissionDenied("membership.identity_unlinked")
	}
	self := auth.Principal{Identity: id, Subject: "people/" + personID}
	created, ev, err := s.newPerson(ctx, self, person, personID)
	if err != nil {
		return nil, err
	}
	err = s.repo.RegisterPerson(ctx, created, ev, id)
	var conflict *ConflictError
	if errors.As(err, &conflict) {
		// Taken: by this identity's own earlier try that failed before
		// its link, or by someone else. Only a person this identity
		// registered and that no identity was ever linked to (an
		// admin's unlink of this very identity included) is its own.
		if registrant, rerr := s.repo.PersonRegistrant(ctx, personID); rerr != nil || registrant != id {
			return nil, apierr.AlreadyExists(created.GetName())
		}
		if accounts, aerr := s.repo.ListAccounts(ctx, personID, "", 1); aerr != nil {
			return nil, aerr
		} else if len(accounts.Items) > 0 {
			return nil, apierr.AlreadyExists(created.GetName())
		}
		if created, err = s.repo.GetPerson(ctx, personID); err != nil {
			return nil, err
		}
	} else if err != nil {
		return nil, err
	}
	acct := newAccount(created.GetName(), id, membershipv1.LinkMethod_LINK_METHOD_SELF_REGISTRATION, s.now())
	// Never an identity an admin unlinked: it registers no way back.
	if err := s.repo.LinkAccountFirstTime(ctx, acct, s.linkedEvent(ctx, self.Subject, acct)); err != nil {
		return nil, linkRefusal(err, created.GetName(), id)
	}
	return created, nil
}

func (s *Service) checkOrganizationExists(ctx context.Context, name, field string) error {
	if name == "" {
		return nil
	}
	id, err := ParseOrganizationName(name)
	if err != nil {
		return apierr.InvalidArgument(nameForm(field, name, organizationPattern))
	}
	if _, err := s.repo.GetOrganization(ctx, id); err != nil {
		if errors.Is(err, ErrNotFound) {
			return apierr.ReferenceNotFound(field, name)
		}
		return err
	}
	return nil
}

// GetPerson reads a person.
func (s *Service) GetPerson(ctx context.Context, name string) (*membershipv1.Person, error) {
	id, err := ParsePersonName(name)
	if err != nil {
		return nil, err
	}
	person, err := s.repo.GetPerson(ctx, id)
	if err != nil {
		return nil, notFound(err, name)
	}
	return person, nil
}

// ListPeople pages through people, optionally of one organisation.
func (s *Service) ListPeople(ctx context.Context, organization string, size int32, token string) ([]*membershipv1.Person, string, error) {
	if organization != "" {
		if _, err := ParseOrganizationName(organization); err != nil {
			return nil, "", apierr.InvalidArgument(nameForm("organization", organization, organizationPattern))
		}
	}
	pg, err := s.pages.Parse(size, token, "people", organization)
	if err != nil {
		return nil, "", err
	}
	page, err := s.repo.ListPeople(ctx, organization, pg.After, pg.Size)
	if err != nil {
		return nil, "", err
	}
	return page.Items, pg.Next(page.Next), nil
}

var personPaths = []string{"display_name", "birth_date", "organization", "rank", "title", "expertise", "academic_credentials", "contact", "contact.email", "contact.phone"}

// UpdatePerson changes the fields named in mask: admins or the person.
func (s *Service) UpdatePerson(ctx context.Context, p auth.Principal, patch *membershipv1.Person, mask *fieldmaskpb.FieldMask) (*membershipv1.Person, error) {
	id, err := ParsePersonName(patch.GetName())
	if err != nil {
		return nil, err
	}
	if !p.IsAdmin() && p.PersonID() != id {
		return nil, apierr.PermissionDenied("membership.update_others")
	}
	paths, err := fieldmask.Paths(mask, personPaths, map[string]string{"name": "immutable", "create_time": "output_only", "update_time": "output_only",
		"birth_date_attestation": "output_only", "organization_attestation": "output_only", "rank_attestation": "output_only"})
	if err != nil {
		return nil, err
	}
	var attested []string
	for _, path := range paths {
		if slices.Contains(AttestedPaths, path) {
			attested = append(attested, path)
		}
	}
	if err := requireAttester(p, attested); err != nil {
		return nil, err
	}
	if slices.Contains(paths, "organization") {
		if err := s.checkOrganizationExists(ctx, patch.GetOrganization(), "person.organization"); err != nil {
			return nil, err
		}
	}
	load := func() (*membershipv1.Person, error) { return s.repo.GetPerson(ctx, id) }
	out, err := mutate(ctx, patch.GetName(), patch.GetEtag(), load, nil, func(cur *membershipv1.Person) (*membershipv1.Person, error) {
		next := proto.Clone(cur).(*membershipv1.Person)
		fieldmask.Apply(next, patch, paths)
		now := s.now()
		if v := ValidatePerson(next, now); len(v) > 0 {
			return nil, apierr.InvalidArgument(v...)
		}
		attest(next, p, now, attested)
		next.UpdateTime, next.Etag = timestamppb.New(now), newEtag()
		ev := s.envelope(ctx, p, next.GetName())
		ev.Payload = &eventsv1.Envelope_PersonUpdated{PersonUpdated: &eventsv1.PersonUpdated{Person: publicPerson(next)}}
		if err := s.repo.UpdatePerson(ctx, next, cur.GetEtag(), cur.GetOrganization(), cur.GetContact().GetEmail(), ev); err != nil {
			return nil, err
		}
		return next, nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
