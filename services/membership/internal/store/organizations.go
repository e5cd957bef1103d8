package store

import (
	"context"
	"path"

	"github.com/tjsia/chapterhouse/platform/auth"
	"github.com/tjsia/chapterhouse/platform/eventstream"
	"github.com/tjsia/chapterhouse/platform/page"
	"github.com/tjsia/chapterhouse/platform/redistx"
	eventsv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/events/v1"
	membershipv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/membership/v1"

	"github.com/tjsia/chapterhouse/services/membership/internal/domain"
)

func orgKey(id string) string        { return redistx.Key(OrgsTag, "org", id) }
func creditCodeKey(cc string) string { return redistx.Key(OrgsTag, "cc", cc) }
func orgIndexKey() string            { return redistx.Key(OrgsTag, "idx") }

func personKey(id string) string { return redistx.Key(PeopleTag, "person", id) }
func peopleIndexKey() string     { return redistx.Key(PeopleTag, "idx") }

// registrantKey holds the identity that registered a person itself.
func registrantKey(id string) string { return redistx.Key(PeopleTag, "registrant", id) }
func peopleByOrgKey(org string) string {
	return redistx.Key(PeopleTag, "byorg", path.Base(org))
}

// CreateOrganization stores org, claiming its credit code.
func (s *Store) CreateOrganization(ctx context.Context, org *membershipv1.Organization, ev *eventsv1.Envelope) error {
	id := path.Base(org.GetName())
	tx := newTx(OrgsTag).
		ExpectAbsent("credit_code", creditCodeKey(org.GetCreditCode())).
		ExpectEtag("organization_id", orgKey(id), "")
	if err := tx.PutMessage(orgKey(id), org, org.GetEtag()); err != nil {
		return err
	}
	tx.Set(creditCodeKey(org.GetCreditCode()), org.GetName()).ZAdd(orgIndexKey(), 0, id)
	if err := eventstream.Append(tx, OrgsTag, ev); err != nil {
		return err
	}
	return s.commit(ctx, tx)
}

// GetOrganization reads one organisation.
func (s *Store) GetOrganization(ctx context.Context, id string) (*membershipv1.Organization, error) {
	return get(ctx, s.client, orgKey(id), &membershipv1.Organization{})
}

// UpdateOrganization replaces org if its etag is still prevEtag.
func (s *Store) UpdateOrganization(ctx context.Context, org *membershipv1.Organization, prevEtag string, ev *eventsv1.Envelope) error {
	key := orgKey(path.Base(org.GetName()))
	tx := newTx(OrgsTag).ExpectEtag("etag", key, prevEtag)
	if err := tx.PutMessage(key, org, org.GetEtag()); err != nil {
		return err
	}
	if err := eventstream.Append(tx, OrgsTag, ev); err != nil {
		return err
	}
	return s.commit(ctx, tx)
}

// ListOrganizations pages in creation order.
func (s *Store) ListOrganizations(ctx context.Context, after string, size int) (page.Page[*membershipv1.Organization], error) {
	return redistx.ScanPage(ctx, s.client, orgIndexKey(), after, size, orgKey,
		func() *membershipv1.Organization { return &membershipv1.Organization{} }, nil)
}

// CreatePerson stores p; its id is the claim.
func (s *Store) CreatePerson(ctx context.Context, p *membershipv1.Person, ev *eventsv1.Envelope) error {
	return s.createPerson(ctx, p, ev, auth.Identity{})
}

// RegisterPerson stores p, registered by registrant itself, keeping
// registrant beside it in the same step.
func (s *Store) RegisterPerson(ctx context.Context, p *membershipv1.Person, ev *eventsv1.Envelope, registrant auth.Identity) error {
	return s.createPerson(ctx, p, ev, registrant)
}

func (s *Store) createPerson(ctx context.Context, p *membershipv1.Person, ev *eventsv1.Envelope, registrant auth.Identity) error {
	id := path.Base(p.GetName())
	tx := newTx(PeopleTag).ExpectEtag("person_id", personKey(id), "")
	if err := tx.PutMessage(personKey(id), p, p.GetEtag()); err != nil {
		return err
	}
	tx.ZAdd(peopleIndexKey(), 0, id)
	if p.GetOrganization() != "" {
		tx.ZAdd(peopleByOrgKey(p.GetOrganization()), 0, id)
	}
	if registrant.Issuer != "" {
		tx.HSet(registrantKey(id), "issuer", registrant.Issuer, "subject", registrant.Subject)
	}
	if err := eventstream.Append(tx, PeopleTag, ev); err != nil {
		return err
	}
	err := s.commit(ctx, tx)
	if conflict, ok := err.(*domain.ConflictError); ok {
		conflict.Owner = p.GetName()
	}
	return err
}

// PersonRegistrant reads the identity that registered the person itself.
func (s *Store) PersonRegistrant(ctx context.Context, personID string) (auth.Identity, error) {
	v, err := s.client.HGetAll(ctx, registrantKey(personID)).Result()
	if err != nil {
		return auth.Identity{}, err
	}
	if v["issuer"] == "" {
		return auth.Identity{}, domain.ErrNotFound
	}
	return auth.Identity{Issuer: v["issuer"], Subject: v["subject"]}, nil
}

// GetPerson reads one person.
func (s *Store) GetPerson(ctx context.Context, id string) (*membershipv1.Person, error) {
	return get(ctx, s.client, personKey(id), &membershipv1.Person{})
}

// UpdatePerson replaces p if its etag is still prevEtag, moving it between
// organisation indexes.
func (s *Store) UpdatePerson(ctx context.Context, p *membershipv1.Person, prevEtag, prevOrganization string, ev *eventsv1.Envelope) error {
	id := path.Base(p.GetName())
	tx := newTx(PeopleTag).ExpectEtag("etag", personKey(id), prevEtag)
	if err := tx.PutMessage(personKey(id), p, p.GetEtag()); err != nil {
		return err
	}
	if prevOrganization != p.GetOrganization() {
		if prevOrganization != "" {
			tx.ZRem(peopleByOrgKey(prevOrganization), id)
		}
		if p.GetOrganization() != "" {
			tx.ZAdd(peopleByOrgKey(p.GetOrganization()), 0, id)
		}
	}
	if err := eventstream.Append(tx, PeopleTag, ev); err != nil {
		return err
	}
	return s.commit(ctx, tx)
}

// ListPeople pages in creation order, optionally within one organisation.
func (s *Store) ListPeople(ctx context.Context, organization, after string, size int) (page.Page[*membershipv1.Person], error) {
	index := peopleIndexKey()
	if organization != "" {
		index = peopleByOrgKey(organization)
	}
	return redistx.ScanPage(ctx, s.client, index, after, size, personKey,
		func() *membershipv1.Person { return &membershipv1.Person{} }, nil)
}
