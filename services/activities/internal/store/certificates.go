package store

import (
	"context"
	"errors"
	"fmt"
	"path"

	"github.com/redis/go-redis/v9"

	"github.com/tjsia/chapterhouse/platform/eventstream"
	"github.com/tjsia/chapterhouse/platform/page"
	"github.com/tjsia/chapterhouse/platform/redistx"
	activitiesv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/activities/v1"
	eventsv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/events/v1"

	"github.com/tjsia/chapterhouse/services/activities/internal/domain"
)

// CreateCertificate stores c unless its registration already has one, in
// which case it returns that one and domain.ErrExists.
func (s *Store) CreateCertificate(ctx context.Context, c *activitiesv1.Certificate, ev *eventsv1.Envelope) (*activitiesv1.Certificate, error) {
	id := path.Base(c.GetName())
	code := domain.NormalizeVerificationCode(c.GetVerificationCode())
	tx := newTx(CertsTag).
		ExpectAbsent("registration", certByRegKey(c.GetRegistration())).
		ExpectAbsent("code", codeKey(code))
	if err := tx.PutMessage(certKey(id), c, c.GetEtag()); err != nil {
		return nil, err
	}
	tx.Set(certByRegKey(c.GetRegistration()), id).
		Set(codeKey(code), id).
		ZAdd(certIndexKey(), 0, id)
	if err := eventstream.Append(tx, CertsTag, ev); err != nil {
		return nil, err
	}
	err := tx.Commit(ctx, s.client)
	var failed *redistx.ConditionFailedError
	if errors.As(err, &failed) {
		if failed.Label == "code" {
			// 60 bits of randomness collided: let the caller draw again.
			return nil, domain.ErrStale
		}
		existing, gerr := s.GetCertificate(ctx, failed.Current)
		if gerr != nil {
			return nil, gerr
		}
		return existing, domain.ErrExists
	}
	if err != nil {
		return nil, err
	}
	return c, nil
}

// GetCertificate reads one certificate.
func (s *Store) GetCertificate(ctx context.Context, id string) (*activitiesv1.Certificate, error) {
	c, err := redistx.GetMessage(ctx, s.client, certKey(id), &activitiesv1.Certificate{}, domain.ErrNotFound)
	if err != nil {
		return nil, err
	}
	return c, nil
}

// CertificateByCode looks a certificate up by its normalised code.
func (s *Store) CertificateByCode(ctx context.Context, code string) (*activitiesv1.Certificate, error) {
	id, err := s.client.Get(ctx, codeKey(code)).Result()
	if errors.Is(err, redis.Nil) {
		return nil, domain.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("store: certificate by code: %w", err)
	}
	return s.GetCertificate(ctx, id)
}

// SaveCertificate writes a change if the etag is still prevEtag.
func (s *Store) SaveCertificate(ctx context.Context, c *activitiesv1.Certificate, prevEtag string, ev *eventsv1.Envelope) error {
	tx := newTx(CertsTag).ExpectEtag("etag", certKey(path.Base(c.GetName())), prevEtag)
	if err := tx.PutMessage(certKey(path.Base(c.GetName())), c, c.GetEtag()); err != nil {
		return err
	}
	if err := eventstream.Append(tx, CertsTag, ev); err != nil {
		return err
	}
	return s.commit(ctx, tx)
}

// ListCertificates pages in issue order.
func (s *Store) ListCertificates(ctx context.Context, after string, size int, keep func(*activitiesv1.Certificate) bool) (page.Page[*activitiesv1.Certificate], error) {
	return redistx.ScanPage(ctx, s.client, certIndexKey(), after, size, certKey,
		func() *activitiesv1.Certificate { return &activitiesv1.Certificate{} }, keep)
}
