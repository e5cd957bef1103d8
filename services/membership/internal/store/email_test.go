package store_test

import (
	"context"
	"slices"
	"sync"
	"testing"

	"google.golang.org/protobuf/types/known/fieldmaskpb"

	"github.com/tjsia/chapterhouse/platform/auth"
	membershipv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/membership/v1"

	"github.com/tjsia/chapterhouse/services/membership/internal/domain"
	"github.com/tjsia/chapterhouse/services/membership/internal/store"
)

const idp = "https://sso.example.org/realms/tjsia"

// personWithEmail registers people/id with contact.email email ("" none).
func (f *fixture) personWithEmail(t *testing.T, id, email string) {
	t.Helper()
	p := &membershipv1.Person{DisplayName: id}
	if email != "" {
		p.Contact = &membershipv1.ContactInfo{Email: email}
	}
	if _, err := f.svc.CreatePerson(context.Background(), admin, p, id); err != nil {
		t.Fatal(err)
	}
}

func (f *fixture) byEmail(t *testing.T, email string) []string {
	t.Helper()
	ids, err := f.st.PeopleByEmail(context.Background(), email)
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(ids)
	return ids
}

func (f *fixture) setEmail(t *testing.T, id, email string) {
	t.Helper()
	_, err := f.svc.UpdatePerson(context.Background(), admin, &membershipv1.Person{Name: "people/" + id, Contact: &membershipv1.ContactInfo{Email: email}},
		&fieldmaskpb.FieldMask{Paths: []string{"contact.email"}})
	if err != nil {
		t.Fatal(err)
	}
}

// TestEmailIndex: issue 18 (linking by a verified e-mail). The e-mail
// index follows each person's contact.email in the same step as the
// record, normalised (trimmed, lower-cased): on creation, self-registration
// and every update, the old address left and the new one taken; and the
// start's backfill adds the people stored before the index existed, once.
func TestEmailIndex(t *testing.T) { testEmailIndex(t, newFixture(t)) }

func testEmailIndex(t *testing.T, f *fixture) {
	ctx := context.Background()
	f.personWithEmail(t, "wang-wei", "Wang.Wei@Example.com")
	f.personWithEmail(t, "wang-wei-2", "wang.wei@example.com")
	f.personWithEmail(t, "li-na", "")
	if _, err := f.svc.RegisterSelf(ctx, auth.Identity{Issuer: idp, Subject: "u-zhou"},
		&membershipv1.Person{DisplayName: "周敏", Contact: &membershipv1.ContactInfo{Email: "zhou.min@example.com"}}, "zhou-min"); err != nil {
		t.Fatal(err)
	}
	if got := f.byEmail(t, " WANG.WEI@example.COM "); !slices.Equal(got, []string{"wang-wei", "wang-wei-2"}) {
		t.Fatalf("wang.wei@example.com: %v", got)
	}
	if got := f.byEmail(t, "zhou.min@example.com"); !slices.Equal(got, []string{"zhou-min"}) {
		t.Fatalf("a self-registered person: %v", got)
	}
	if got := f.byEmail(t, ""); len(got) != 0 {
		t.Fatalf("no e-mail: %v", got)
	}

	f.setEmail(t, "wang-wei-2", "wei.wang@example.com")
	if got := f.byEmail(t, "wang.wei@example.com"); !slices.Equal(got, []string{"wang-wei"}) {
		t.Fatalf("after a change, the old address: %v", got)
	}
	if got := f.byEmail(t, "wei.wang@example.com"); !slices.Equal(got, []string{"wang-wei-2"}) {
		t.Fatalf("after a change, the new address: %v", got)
	}
	f.setEmail(t, "li-na", "li.na@example.com")
	f.setEmail(t, "wang-wei-2", "")
	f.setEmail(t, "wang-wei", "WANG.wei@example.com") // the same address, spelt otherwise
	if got := f.byEmail(t, "wei.wang@example.com"); len(got) != 0 {
		t.Fatalf("an address removed: %v", got)
	}
	if got := f.byEmail(t, "li.na@example.com"); !slices.Equal(got, []string{"li-na"}) {
		t.Fatalf("an address added: %v", got)
	}
	if got := f.byEmail(t, "wang.wei@example.com"); !slices.Equal(got, []string{"wang-wei"}) {
		t.Fatalf("an address spelt otherwise: %v", got)
	}

	// People stored before the index: their entries gone, as if never
	// written. The backfill adds them back, and only them, once.
	emails := []string{"wang.wei@example.com", "li.na@example.com", "zhou.min@example.com"}
	for _, e := range emails {
		if n, err := f.rdb.Exists(ctx, store.EmailKey(e)).Result(); err != nil || n != 1 {
			t.Fatalf("the index of %s: %d %v", e, n, err)
		}
	}
	if err := f.rdb.Del(ctx, store.EmailKey(emails[0])).Err(); err != nil {
		t.Fatal(err)
	}
	if err := f.rdb.Del(ctx, store.EmailKey(emails[1])).Err(); err != nil {
		t.Fatal(err)
	}
	if err := f.rdb.Del(ctx, store.EmailKey(emails[2])).Err(); err != nil {
		t.Fatal(err)
	}
	if n, err := f.st.BackfillEmailIndex(ctx); err != nil || n != 3 {
		t.Fatalf("backfill added %d (%v), want 3", n, err)
	}
	if n, err := f.st.BackfillEmailIndex(ctx); err != nil || n != 0 {
		t.Fatalf("a second backfill added %d (%v), want 0", n, err)
	}
	for email, want := range map[string][]string{"wang.wei@example.com": {"wang-wei"}, "li.na@example.com": {"li-na"}, "zhou.min@example.com": {"zhou-min"}} {
		if got := f.byEmail(t, email); !slices.Equal(got, want) {
			t.Errorf("after the backfill, %s: %v, want %v", email, got, want)
		}
	}
}

// TestVerifiedEmailLink: issue 18 (an identity linked by a verified e-mail
// claim matching the person's e-mail, if the branch turns that on). Only
// an OpenID Connect identity linked to no one, whose verified e-mail is
// exactly one person's, and that person linked to no identity of the
// issuer, is linked (LINK_METHOD_VERIFIED_EMAIL, an AccountLinked event);
// every other case resolves to no one and writes nothing.
func TestVerifiedEmailLink(t *testing.T) {
	tests := []struct {
		name string
		on   bool
		// setup runs on the fixture before the identity u-1 of idp
		// resolves with p.
		setup func(t *testing.T, f *fixture)
		p     auth.Principal
		want  string
	}{
		{name: "off", on: false, p: verified("wang.wei@example.com")},
		{name: "on, one match", on: true, p: verified("wang.wei@example.com"), want: "people/wang-wei"},
		{name: "on, one match spelt otherwise", on: true, p: verified("  Wang.Wei@EXAMPLE.com"), want: "people/wang-wei"},
		{name: "on, unverified", on: true, p: func() auth.Principal { p := verified("wang.wei@example.com"); p.EmailVerified = false; return p }()},
		{name: "on, no e-mail", on: true, p: verified("")},
		{name: "on, no match", on: true, p: verified("nobody@example.com")},
		{name: "on, two matches", on: true, p: verified("shared@example.com")},
		{name: "on, a static-key principal naming its person", on: true, p: func() auth.Principal {
			p := verified("wang.wei@example.com")
			p.Identity, p.Subject = auth.Identity{Issuer: auth.DefaultIssuer, Subject: "people/li-na"}, "people/li-na"
			return p
		}(), want: "people/li-na"},
		{name: "on, the person linked at the issuer already", on: true, p: verified("wang.wei@example.com"), setup: func(t *testing.T, f *fixture) {
			inv, err := f.svc.CreateInvitation(context.Background(), admin, &membershipv1.Invitation{Person: "people/wang-wei"})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := f.svc.ClaimInvitation(context.Background(), auth.Identity{Issuer: idp, Subject: "u-other"}, inv.GetCode()); err != nil {
				t.Fatal(err)
			}
		}},
		{name: "on, the person linked at another issuer", on: true, p: verified("wang.wei@example.com"), want: "people/wang-wei", setup: func(t *testing.T, f *fixture) {
			inv, err := f.svc.CreateInvitation(context.Background(), admin, &membershipv1.Invitation{Person: "people/wang-wei"})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := f.svc.ClaimInvitation(context.Background(), auth.Identity{Issuer: "https://other.example.org", Subject: "u-1"}, inv.GetCode()); err != nil {
				t.Fatal(err)
			}
		}},
		{name: "on, the identity unlinked before", on: true, p: verified("wang.wei@example.com"), setup: func(t *testing.T, f *fixture) {
			unlinkEarlier(t, f, "people/li-na")
		}},
		{name: "on, the identity unlinked from the same person before the mark existed", on: true, p: verified("wang.wei@example.com"), setup: func(t *testing.T, f *fixture) {
			unlinkEarlier(t, f, "people/wang-wei")
			if n, err := f.rdb.Del(context.Background(), store.UnlinkedKey(auth.Identity{Issuer: idp, Subject: "u-1"})).Result(); err != nil || n != 1 {
				t.Fatalf("removing the unlinked mark: %d %v", n, err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, domain.LinkVerifiedEmail(tt.on))
			f.personWithEmail(t, "wang-wei", "wang.wei@example.com")
			f.personWithEmail(t, "li-na", "li.na@example.com")
			f.personWithEmail(t, "shared-1", "shared@example.com")
			f.personWithEmail(t, "shared-2", "Shared@example.com")
			if tt.setup != nil {
				tt.setup(t, f)
			}
			events := len(f.outbox(t, store.AccessTag))
			r, err := f.svc.Resolve(context.Background(), tt.p)
			if err != nil {
				t.Fatal(err)
			}
			if r.Person != tt.want {
				t.Fatalf("resolved to %q, want %q", r.Person, tt.want)
			}
			evs := f.outbox(t, store.AccessTag)[events:]
			if tt.want == "" || tt.p.Subject != "" {
				if len(evs) != 0 {
					t.Fatalf("no link, yet %d events: %v", len(evs), evs)
				}
				return
			}
			acct, err := f.st.AccountByIdentity(context.Background(), tt.p.Identity)
			if err != nil || acct.GetName() != r.Account || acct.GetLinkMethod() != membershipv1.LinkMethod_LINK_METHOD_VERIFIED_EMAIL ||
				acct.GetState() != membershipv1.AccountState_ACCOUNT_STATE_LINKED {
				t.Fatalf("the account %v (%v), resolved %+v", acct, err, r)
			}
			if len(evs) != 1 || evs[0].GetAccountLinked().GetAccount().GetName() != acct.GetName() || evs[0].GetActor() != tt.want {
				t.Fatalf("the access stream: %v", evs)
			}
			// Resolved again: the same link, no other.
			if again, err := f.svc.Resolve(context.Background(), tt.p); err != nil || again.Account != r.Account || len(f.outbox(t, store.AccessTag)) != events+1 {
				t.Fatalf("resolved again: %+v %v", again, err)
			}
		})
	}
}

// verified is an OpenID Connect principal of idp's u-1 with a verified
// e-mail.
func verified(email string) auth.Principal {
	return auth.Principal{Identity: auth.Identity{Issuer: idp, Subject: "u-1"}, Email: email, EmailVerified: true}
}

// unlinkEarlier links idp's u-1 to person by invitation, and the person's
// admin unlinks it.
func unlinkEarlier(t *testing.T, f *fixture, person string) {
	t.Helper()
	ctx := context.Background()
	inv, err := f.svc.CreateInvitation(ctx, admin, &membershipv1.Invitation{Person: person})
	if err != nil {
		t.Fatal(err)
	}
	acct, err := f.svc.ClaimInvitation(ctx, auth.Identity{Issuer: idp, Subject: "u-1"}, inv.GetCode())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.UnlinkAccount(ctx, admin, &membershipv1.UnlinkAccountRequest{Name: acct.GetName(), Reason: "not theirs"}); err != nil {
		t.Fatal(err)
	}
}

// TestVerifiedEmailLinkOnce: first calls at once end with one link. The
// same identity's calls all resolve to the one account they made between
// them; different identities of one issuer, each with the person's
// verified e-mail, get one link between them, the others none; and an
// admin's unlink of the linked identity holds at its next call.
func TestVerifiedEmailLinkOnce(t *testing.T) { testVerifiedEmailLinkOnce(t, newFixture(t)) }

func testVerifiedEmailLinkOnce(t *testing.T, f *fixture) {
	ctx := context.Background()
	f = fixtureOn(f.rdb, domain.LinkVerifiedEmail(true))
	f.personWithEmail(t, "wang-wei", "wang.wei@example.com")
	f.personWithEmail(t, "li-na", "li.na@example.com")

	const n = 6
	var wg sync.WaitGroup
	same := make([]domain.Resolved, n)
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() { same[i], errs[i] = f.svc.Resolve(ctx, verified("wang.wei@example.com")) })
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil || same[i].Person != "people/wang-wei" || same[i].Account != same[0].Account {
			t.Fatalf("call %d: %+v %v; the first %+v", i, same[i], errs[i], same[0])
		}
	}

	others := make([]domain.Resolved, n)
	for i := range n {
		wg.Go(func() {
			p := auth.Principal{Identity: auth.Identity{Issuer: idp, Subject: "li-" + string(rune('a'+i))}, Email: "li.na@example.com", EmailVerified: true}
			others[i], errs[i] = f.svc.Resolve(ctx, p)
		})
	}
	wg.Wait()
	won := 0
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("identity %d: %v", i, errs[i])
		}
		if others[i].Person != "" {
			won++
		}
	}
	if won != 1 {
		t.Fatalf("%d identities linked to people/li-na, want 1: %+v", won, others)
	}
	for _, person := range []string{"wang-wei", "li-na"} {
		accts, _, err := f.svc.ListAccounts(ctx, admin, &membershipv1.ListAccountsRequest{Parent: "people/" + person})
		if err != nil || len(accts) != 1 {
			t.Fatalf("people/%s accounts: %v %v, want one", person, accts, err)
		}
	}
	if evs := f.outbox(t, store.AccessTag); len(evs) != 2 {
		t.Fatalf("%d events, want two AccountLinked", len(evs))
	}

	// The admins unlink Wang Wei's identity: it stays unlinked.
	if _, err := f.svc.UnlinkAccount(ctx, admin, &membershipv1.UnlinkAccountRequest{Name: same[0].Account, Reason: "a shared mailbox"}); err != nil {
		t.Fatal(err)
	}
	if r, err := f.svc.Resolve(ctx, verified("wang.wei@example.com")); err != nil || r.Person != "" {
		t.Fatalf("after the unlink: %+v %v, want no one", r, err)
	}
}
