package e2e

import (
	"context"
	"net/http"
	"testing"

	"github.com/tjsia/chapterhouse/cmd/devstack/signin"
	"github.com/tjsia/chapterhouse/cmd/devstack/stack"
	"github.com/tjsia/chapterhouse/platform/auth"
	"github.com/tjsia/chapterhouse/platform/redistest"
)

// TestLinkByVerifiedEmail: issue 18 (a signed-in identity linked to a
// person by a verified e-mail claim matching the person's e-mail, if the
// branch turns that on). On a branch that does (a stack of its own), 王伟
// signs in at the embedded provider, whose access token carries his
// verified e-mail, and his first call already acts as people/wang-wei,
// through an account linked by LINK_METHOD_VERIFIED_EMAIL; an expert
// whose verified e-mail is no person's stays unlinked; and once the
// secretariat unlinks 王伟's account, signing in again links him to no
// one. On the shared stack, where the option is off, the same sign-in
// links nothing.
func TestLinkByVerifiedEmail(t *testing.T) {
	srv := redistest.Start(t)
	s, err := stack.Start(context.Background(), stack.Options{RedisURL: srv.URL(), Getenv: func(string) string { return "" }, LinkVerifiedEmail: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Stop() })
	if err := s.Seed(context.Background()); err != nil {
		t.Fatal(err)
	}
	signIn := func(st *stack.Stack, person string) client {
		t.Helper()
		c, err := signin.New(t.Context(), signin.Config{Issuer: st.Issuer, ClientID: stack.AppClientID, RedirectURL: stack.AppRedirectURIs[0]})
		if err != nil {
			t.Fatal(err)
		}
		tok, err := c.SignIn(t.Context(), stack.IdentitySubject(person))
		if err != nil {
			t.Fatal(err)
		}
		return client{token: tok.AccessToken, base: st.GatewayURL}
	}

	// The option off (the shared stack): no link.
	if caller := signIn(sys, "wang-wei").ok(t, "GET", "/v1/caller:lookup", nil); caller["person"] != "" {
		t.Fatalf("with the option off the caller is %v, want linked to no one", caller)
	}

	wang := signIn(s, "wang-wei")
	person := wang.ok(t, "GET", "/v1/people/wang-wei", nil)
	if contact, _ := person["contact"].(map[string]any); contact["email"] != "wang.wei@example.com" {
		t.Fatalf("his first call did not act as people/wang-wei (his own contact hidden): %v", person)
	}
	caller := wang.ok(t, "GET", "/v1/caller:lookup", nil)
	if caller["person"] != "people/wang-wei" || caller["subject"] != stack.IdentitySubject("wang-wei") {
		t.Fatalf("the caller is %v, want people/wang-wei", caller)
	}
	admin := client{token: s.Token(stack.AdminSubject, auth.RoleAdmin), base: s.GatewayURL}
	accounts, _ := admin.ok(t, "GET", "/v1/people/wang-wei/accounts", nil)["accounts"].([]any)
	if len(accounts) != 1 {
		t.Fatalf("people/wang-wei accounts %v, want one", accounts)
	}
	account := accounts[0].(map[string]any)
	if account["linkMethod"] != "LINK_METHOD_VERIFIED_EMAIL" || account["name"] != caller["account"] || account["issuer"] != s.Issuer {
		t.Fatalf("the account %v, want linked by verified e-mail as the caller's %v", account, caller["account"])
	}
	// Governance asks membership who the token is: the same person.
	wang.ok(t, "GET", "/v1/branches/ai/terms", nil)

	// 周敏's verified e-mail is no person's: she stays unlinked.
	zhou := signIn(s, stack.GuestExpert)
	if r := zhou.do(t, "GET", "/v1/people", nil); r.status != http.StatusForbidden || r.errorBody(t)["reason"] != "ACCOUNT_NOT_LINKED" {
		t.Fatalf("an identity whose e-mail is no person's = %d %s, want 403 ACCOUNT_NOT_LINKED", r.status, r.raw)
	}

	// The secretariat unlinks him: the unlink holds.
	admin.ok(t, "POST", "/v1/"+account["name"].(string)+":unlink", map[string]any{"reason": "the mailbox is shared"})
	again := signIn(s, "wang-wei")
	if r := again.do(t, "GET", "/v1/people", nil); r.status != http.StatusForbidden || r.errorBody(t)["reason"] != "ACCOUNT_NOT_LINKED" {
		t.Fatalf("after the unlink, signing in again = %d %s, want 403 ACCOUNT_NOT_LINKED", r.status, r.raw)
	}
	if caller := again.ok(t, "GET", "/v1/caller:lookup", nil); caller["person"] != "" {
		t.Fatalf("after the unlink the caller is %v, want linked to no one", caller)
	}
	if accounts, _ := admin.ok(t, "GET", "/v1/people/wang-wei/accounts", nil)["accounts"].([]any); len(accounts) != 1 {
		t.Fatalf("after the unlink people/wang-wei has %d accounts, want the one unlinked", len(accounts))
	}
}
