package store

import (
	"context"
	"errors"
	"fmt"
	"path"

	"github.com/redis/go-redis/v9"

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

// emailKey is the e-mail index: a sorted set (all scores 0) of the ids of
// the people whose contact.email normalises (domain.NormalizeEmail) to
// email, keyed by its digest, so no address is spelt out in a key name. It
// is written in the same step as the person record (createPerson,
// UpdatePerson), so it never disagrees with the records written since it
// existed; people stored before are added by BackfillEmailIndex.
func emailKey(email string) string {
	return redistx.Key(PeopleTag, "email", digest(domain.NormalizeEmail(email)))
}

// indexEmail adds to tx the e-mail index writes of a person's e-mail
// changing from prev to next ("" for none): nothing when both normalise
// alike.
func indexEmail(tx *redistx.Tx, id, prev, next string) {
	if domain.NormalizeEmail(prev) == domain.NormalizeEmail(next) {
		return
	}
	if domain.NormalizeEmail(prev) != "" {
		tx.ZRem(emailKey(prev), id)
	}
	if domain.NormalizeEmail(next) != "" {
		tx.ZAdd(emailKey(next), 0, id)
	}
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
	indexEmail(tx, id, "", p.GetContact().GetEmail())
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
// organisation indexes and between e-mail index entries (prevEmail is the
// e-mail of the record at prevEtag).
func (s *Store) UpdatePerson(ctx context.Context, p *membershipv1.Person, prevEtag, prevOrganization, prevEmail string, ev *eventsv1.Envelope) error {
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
	indexEmail(tx, id, prevEmail, p.GetContact().GetEmail())
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

// PeopleByEmail reads the ids of the people whose e-mail normalises as
// email does, from the e-mail index.
func (s *Store) PeopleByEmail(ctx context.Context, email string) ([]string, error) {
	if domain.NormalizeEmail(email) == "" {
		return nil, nil
	}
	return s.client.ZRange(ctx, emailKey(email), 0, -1).Result()
}

// backfillBatch is how many people BackfillEmailIndex reads at a time.
const backfillBatch = 200

// BackfillEmailIndex adds to the e-mail index the people stored before it
// existed, and reports how many it added. Membership runs it at every
// start: it reads every person and writes only the entries missing, each
// in a step conditioned on the person's etag (a person changed meanwhile
// is read again), so it is idempotent and safe on every replica at once,
// and a start after a rolling upgrade also adds the people an older
// replica wrote in between. An entry an older replica left behind when it
// changed an e-mail is not removed here: the one reader (domain's
// verified e-mail link) checks each person's own e-mail anyway.
func (s *Store) BackfillEmailIndex(ctx context.Context) (int, error) {
	added, after := 0, ""
	for {
		pg, err := redistx.ScanPage(ctx, s.client, peopleIndexKey(), after, backfillBatch, personKey,
			func() *membershipv1.Person { return &membershipv1.Person{} }, nil)
		if err != nil {
			return added, fmt.Errorf("store: e-mail index backfill: %w", err)
		}
		pipe := s.client.Pipeline()
		scores := make([]*redis.FloatCmd, len(pg.Items))
		for i, p := range pg.Items {
			if domain.NormalizeEmail(p.GetContact().GetEmail()) != "" {
				scores[i] = pipe.ZScore(ctx, emailKey(p.GetContact().GetEmail()), path.Base(p.GetName()))
			}
		}
		if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
			return added, fmt.Errorf("store: e-mail index backfill: %w", err)
		}
		for i, p := range pg.Items {
			if scores[i] == nil || !errors.Is(scores[i].Err(), redis.Nil) {
				continue
			}
			n, err := s.indexPersonEmail(ctx, p)
			if err != nil {
				return added, err
			}
			added += n
		}
		if pg.Next == "" {
			return added, nil
		}
		after = pg.Next
	}
}

// indexPersonEmail adds p's e-mail index entry, conditioned on p's etag,
// reading p again while it changes underneath.
func (s *Store) indexPersonEmail(ctx context.Context, p *membershipv1.Person) (int, error) {
	id := path.Base(p.GetName())
	for {
		if domain.NormalizeEmail(p.GetContact().GetEmail()) == "" {
			return 0, nil
		}
		tx := newTx(PeopleTag).ExpectEtag("etag", personKey(id), p.GetEtag())
		tx.ZAdd(emailKey(p.GetContact().GetEmail()), 0, id)
		err := s.commit(ctx, tx)
		if !errors.Is(err, domain.ErrStale) {
			if err != nil {
				return 0, fmt.Errorf("store: e-mail index backfill of %s: %w", p.GetName(), err)
			}
			return 1, nil
		}
		if p, err = s.GetPerson(ctx, id); errors.Is(err, domain.ErrNotFound) {
			return 0, nil
		} else if err != nil {
			return 0, fmt.Errorf("store: e-mail index backfill of people/%s: %w", id, err)
		}
	}
}
