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
	eventsv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/events/v1"
	membershipv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/membership/v1"

	"github.com/tjsia/chapterhouse/services/membership/internal/domain"
)

func appKey(branch, id string) string    { return redistx.Key(BranchTag(branch), "app", id) }
func appIndexKey(branch string) string   { return redistx.Key(BranchTag(branch), "idx", "apps") }
func memberKey(branch, id string) string { return redistx.Key(BranchTag(branch), "member", id) }
func memberIndexKey(branch string) string {
	return redistx.Key(BranchTag(branch), "idx", "members")
}

// openKey claims an applicant's one open application.
func openKey(branch, applicant string) string {
	return redistx.Key(BranchTag(branch), "open", applicant)
}

// membershipKey claims an organisation's or person's one membership.
func membershipKey(branch, subject string) string {
	return redistx.Key(BranchTag(branch), "memberof", subject)
}

// byPersonKey indexes the members a person is (or represents).
func byPersonKey(branch, person string) string {
	return redistx.Key(BranchTag(branch), "byperson", person)
}

// CreateApplication stores app, claiming the applicant's open application;
// it fails if the applicant already has one or is already a member.
func (s *Store) CreateApplication(ctx context.Context, branch string, app *membershipv1.Application, applicant string, ev *eventsv1.Envelope) error {
	tag := BranchTag(branch)
	id := path.Base(app.GetName())
	tx := newTx(tag).
		ExpectAbsent("open_application", openKey(branch, applicant)).
		ExpectAbsent("membership", membershipKey(branch, applicant)).
		ExpectEtag("application_id", appKey(branch, id), "")
	if err := tx.PutMessage(appKey(branch, id), app, app.GetEtag()); err != nil {
		return err
	}
	tx.Set(openKey(branch, applicant), id).ZAdd(appIndexKey(branch), 0, id)
	if err := eventstream.Append(tx, tag, ev); err != nil {
		return err
	}
	return s.commit(ctx, tx)
}

// GetApplication reads one application.
func (s *Store) GetApplication(ctx context.Context, branch, id string) (*membershipv1.Application, error) {
	return get(ctx, s.client, appKey(branch, id), &membershipv1.Application{})
}

// GetApplications reads the applications with ids in one round trip;
// missing ones are left out.
func (s *Store) GetApplications(ctx context.Context, branch string, ids []string) ([]*membershipv1.Application, error) {
	keys := make([]string, len(ids))
	for i, id := range ids {
		keys[i] = appKey(branch, id)
	}
	return redistx.LoadAll(ctx, s.client, keys, func() *membershipv1.Application { return &membershipv1.Application{} })
}

// SaveApplication writes a state change; closed releases the open claim.
func (s *Store) SaveApplication(ctx context.Context, branch string, app *membershipv1.Application, prevEtag, applicant string, closed bool, evs ...*eventsv1.Envelope) error {
	tag := BranchTag(branch)
	id := path.Base(app.GetName())
	tx := newTx(tag).ExpectEtag("etag", appKey(branch, id), prevEtag)
	if err := tx.PutMessage(appKey(branch, id), app, app.GetEtag()); err != nil {
		return err
	}
	if closed {
		tx.Del(openKey(branch, applicant))
	}
	if err := eventstream.Append(tx, tag, evs...); err != nil {
		return err
	}
	return s.commit(ctx, tx)
}

// ApproveApplication closes app and admits member atomically, claiming the
// applicant's membership.
func (s *Store) ApproveApplication(ctx context.Context, branch string, app *membershipv1.Application, prevEtag, applicant string, member *membershipv1.Member, evs ...*eventsv1.Envelope) error {
	tag := BranchTag(branch)
	appID, memberID := path.Base(app.GetName()), path.Base(member.GetName())
	tx := newTx(tag).
		ExpectEtag("etag", appKey(branch, appID), prevEtag).
		ExpectAbsent("membership", membershipKey(branch, applicant))
	if err := tx.PutMessage(appKey(branch, appID), app, app.GetEtag()); err != nil {
		return err
	}
	if err := tx.PutMessage(memberKey(branch, memberID), member, member.GetEtag()); err != nil {
		return err
	}
	tx.Del(openKey(branch, applicant)).
		Set(membershipKey(branch, applicant), memberID).
		ZAdd(memberIndexKey(branch), 0, memberID).
		ZAdd(byPersonKey(branch, member.GetPerson()), 0, memberID)
	if err := eventstream.Append(tx, tag, evs...); err != nil {
		return err
	}
	return s.commit(ctx, tx)
}

// ListApplications pages in creation order, optionally by state.
func (s *Store) ListApplications(ctx context.Context, branch string, state membershipv1.ApplicationState, after string, size int) (page.Page[*membershipv1.Application], error) {
	var keep func(*membershipv1.Application) bool
	if state != membershipv1.ApplicationState_APPLICATION_STATE_UNSPECIFIED {
		keep = func(a *membershipv1.Application) bool { return a.GetState() == state }
	}
	return redistx.ScanPage(ctx, s.client, appIndexKey(branch), after, size,
		func(id string) string { return appKey(branch, id) },
		func() *membershipv1.Application { return &membershipv1.Application{} }, keep)
}

// OpenApplication returns the applicant's open application id, or "".
func (s *Store) OpenApplication(ctx context.Context, branch, applicant string) (string, error) {
	id, err := s.client.Get(ctx, openKey(branch, applicant)).Result()
	if errors.Is(err, redis.Nil) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("store: open application: %w", err)
	}
	return id, nil
}

// GetMember reads one member.
func (s *Store) GetMember(ctx context.Context, branch, id string) (*membershipv1.Member, error) {
	return get(ctx, s.client, memberKey(branch, id), &membershipv1.Member{})
}

// SaveMember writes a member change and its index changes.
func (s *Store) SaveMember(ctx context.Context, branch string, m *membershipv1.Member, prevEtag string, change domain.MemberIndexChange, evs ...*eventsv1.Envelope) error {
	tag := BranchTag(branch)
	id := path.Base(m.GetName())
	tx := newTx(tag).ExpectEtag("etag", memberKey(branch, id), prevEtag)
	if err := tx.PutMessage(memberKey(branch, id), m, m.GetEtag()); err != nil {
		return err
	}
	if change.ReleaseSubject != "" {
		tx.Del(membershipKey(branch, change.ReleaseSubject))
	}
	if change.RemovePerson != "" {
		tx.ZRem(byPersonKey(branch, change.RemovePerson), id)
	}
	if change.AddPerson != "" {
		tx.ZAdd(byPersonKey(branch, change.AddPerson), 0, id)
	}
	if err := eventstream.Append(tx, tag, evs...); err != nil {
		return err
	}
	return s.commit(ctx, tx)
}

// ListMembers pages through members. A person or organisation filter reads
// a small index instead of the whole register.
func (s *Store) ListMembers(ctx context.Context, branch string, f domain.MemberFilter, after string, size int) (page.Page[*membershipv1.Member], error) {
	index := memberIndexKey(branch)
	if f.Person != "" {
		index = byPersonKey(branch, f.Person)
	}
	keep := func(m *membershipv1.Member) bool {
		return (f.State == 0 || m.GetState() == f.State) &&
			(f.Person == "" || m.GetPerson() == f.Person) &&
			(f.Organization == "" || m.GetOrganization() == f.Organization)
	}
	return redistx.ScanPage(ctx, s.client, index, after, size,
		func(id string) string { return memberKey(branch, id) },
		func() *membershipv1.Member { return &membershipv1.Member{} }, keep)
}
