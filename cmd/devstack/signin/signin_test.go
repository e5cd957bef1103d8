package signin_test

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/tjsia/chapterhouse/cmd/devstack/idp"
	"github.com/tjsia/chapterhouse/cmd/devstack/signin"
	"github.com/tjsia/chapterhouse/platform/auth"
)

const (
	appID    = "chapterhouse-app"
	loopback = "http://127.0.0.1/callback"
	custom   = "org.chapterhouse.app:/callback"
)

var users = []idp.User{
	{Subject: "u8Jq2mX4", Name: "王伟", Email: "wang.wei@example.com", EmailVerified: true},
	{Subject: "k3Pz9rT1", Name: "李娜"},
}

// provider starts the embedded provider on a real HTTP server and returns
// its issuer URL.
func provider(t *testing.T) string {
	t.Helper()
	ts := httptest.NewUnstartedServer(nil)
	issuer := "http://" + ts.Listener.Addr().String()
	p, err := idp.New(t.Context(), idp.Config{Issuer: issuer, Users: users,
		Clients: []idp.Client{{ID: appID, RedirectURIs: []string{loopback, custom}}}})
	if err != nil {
		t.Fatal(err)
	}
	ts.Config.Handler = p
	ts.Start()
	t.Cleanup(ts.Close)
	return issuer
}

func client(t *testing.T, issuer, clientID, redirect string) *signin.Client {
	t.Helper()
	c, err := signin.New(t.Context(), signin.Config{Issuer: issuer, ClientID: clientID, RedirectURL: redirect})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestSignInGivesAccessTokenAnotherLibraryVerifies: issue 18 (an identity
// provider in the embedded default; tokens verified by a library other
// than the provider's). The PKCE flow over HTTP gives an access token that
// coreos/go-oidc verifies from discovery and the remote JWKS, for the
// Chapterhouse audience, with the provider's subject and no role claims.
func TestSignInGivesAccessTokenAnotherLibraryVerifies(t *testing.T) {
	issuer := provider(t)
	for _, redirect := range []string{loopback, "http://127.0.0.1:49152/callback", custom} {
		t.Run(redirect, func(t *testing.T) {
			tok, err := client(t, issuer, appID, redirect).SignIn(t.Context(), users[0].Subject)
			if err != nil {
				t.Fatal(err)
			}
			if tok.Subject != users[0].Subject || tok.RefreshToken == "" {
				t.Fatalf("tokens: %+v", tok)
			}
			ctx := t.Context()
			p, err := oidc.NewProvider(ctx, issuer)
			if err != nil {
				t.Fatal(err)
			}
			at, err := p.Verifier(&oidc.Config{ClientID: auth.DefaultAudience}).Verify(ctx, tok.AccessToken)
			if err != nil {
				t.Fatalf("access token: %v", err)
			}
			if at.Issuer != issuer || at.Subject != users[0].Subject {
				t.Errorf("iss %q sub %q", at.Issuer, at.Subject)
			}
			var claims map[string]any
			if err := at.Claims(&claims); err != nil {
				t.Fatal(err)
			}
			for _, k := range []string{"roles", "role", "groups"} {
				if _, ok := claims[k]; ok {
					t.Errorf("access token has a %q claim: %v", k, claims)
				}
			}
			// exp is set when the token is recorded and iat when it is
			// signed, a moment later: they may straddle a second.
			if exp, iat := claims["exp"].(float64), claims["iat"].(float64); exp-iat > 15*60 || exp-iat < 15*60-5 {
				t.Errorf("access token lives %v s, want 900", exp-iat)
			}
			header := strings.Split(tok.AccessToken, ".")[0]
			raw, _ := base64.RawURLEncoding.DecodeString(header)
			var h struct{ Alg, Kid string }
			_ = json.Unmarshal(raw, &h)
			if h.Kid == "" || h.Alg != "ES256" {
				t.Errorf("header %s", raw)
			}
			// The userinfo endpoint answers the access token.
			info, err := p.UserInfo(ctx, oauth2.StaticTokenSource(&oauth2.Token{AccessToken: tok.AccessToken}))
			if err != nil {
				t.Fatal(err)
			}
			if info.Subject != users[0].Subject || info.Email != users[0].Email {
				t.Errorf("userinfo %+v", info)
			}
		})
	}
}

// TestExchangeNeedsTheVerifier: PKCE (RFC 7636): a code exchanged without
// the verifier or with another is refused, and the failed try spends the
// code, so the right verifier cannot follow.
func TestExchangeNeedsTheVerifier(t *testing.T) {
	issuer := provider(t)
	c := client(t, issuer, appID, loopback)
	for name, verifier := range map[string]string{"none": "", "wrong": oauth2.GenerateVerifier()} {
		t.Run(name, func(t *testing.T) {
			a := signin.NewAttempt()
			code, err := c.Code(t.Context(), users[1].Subject, a)
			if err != nil {
				t.Fatal(err)
			}
			bad := a
			bad.Verifier = verifier
			if _, err := c.Exchange(t.Context(), code, bad); err == nil {
				t.Fatal("exchange without the right verifier succeeded")
			} else {
				t.Log(err)
			}
			if _, err := c.Exchange(t.Context(), code, a); err == nil {
				t.Fatal("a code survived a failed exchange")
			}
		})
	}
}

// TestCodeIsSingleUse: a code is exchanged once; presented again it is
// refused and revokes the grant it was exchanged for (RFC 6749 §4.1.2).
func TestCodeIsSingleUse(t *testing.T) {
	issuer := provider(t)
	c := client(t, issuer, appID, loopback)
	a := signin.NewAttempt()
	code, err := c.Code(t.Context(), users[0].Subject, a)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := c.Exchange(t.Context(), code, a)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Exchange(t.Context(), code, a); err == nil {
		t.Fatal("a code was exchanged twice")
	}
	if _, err := c.Refresh(t.Context(), tok.RefreshToken); err == nil {
		t.Fatal("the grant of a replayed code still refreshes")
	}
}

// TestRefreshRotates: a refresh gives a new access token and a new refresh
// token; the old refresh token is spent, and presenting it again revokes
// the grant (RFC 9700 §4.14.2).
func TestRefreshRotates(t *testing.T) {
	issuer := provider(t)
	c := client(t, issuer, appID, loopback)
	first, err := c.SignIn(t.Context(), users[0].Subject)
	if err != nil {
		t.Fatal(err)
	}
	second, err := c.Refresh(t.Context(), first.RefreshToken)
	if err != nil {
		t.Fatal(err)
	}
	if second.AccessToken == first.AccessToken || second.RefreshToken == first.RefreshToken || second.Subject != users[0].Subject {
		t.Fatalf("refresh gave %+v", second)
	}
	if _, err := c.Refresh(t.Context(), first.RefreshToken); err == nil {
		t.Fatal("a rotated refresh token still works")
	}
	if _, err := c.Refresh(t.Context(), second.RefreshToken); err == nil {
		t.Fatal("the grant survived its refresh token's replay")
	}
}

// TestSignOutEndsTheGrant: after sign-out (revocation and end_session) the
// refresh token no longer works; another sign-in of the same person is
// ended by end_session too.
func TestSignOutEndsTheGrant(t *testing.T) {
	issuer := provider(t)
	c := client(t, issuer, appID, loopback)
	other, err := c.SignIn(t.Context(), users[0].Subject)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := c.SignIn(t.Context(), users[0].Subject)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.SignOut(t.Context(), tok); err != nil {
		t.Fatal(err)
	}
	for name, rt := range map[string]string{"signed out": tok.RefreshToken, "same person, same app": other.RefreshToken} {
		if _, err := c.Refresh(t.Context(), rt); err == nil {
			t.Errorf("%s: refresh token still works", name)
		}
	}
	// Signing out again is harmless (revoking an unknown token succeeds).
	if err := c.SignOut(t.Context(), tok); err != nil {
		t.Fatal(err)
	}
}

// TestRefusesUnregisteredClientsAndRedirects: an unknown client, a
// redirect URI the client did not register, and a person the page does
// not list get no code.
func TestRefusesUnregisteredClientsAndRedirects(t *testing.T) {
	issuer := provider(t)
	for _, tt := range []struct{ name, clientID, redirect, subject string }{
		{"unknown client", "someone-else", loopback, users[0].Subject},
		{"unregistered loopback path", appID, "http://127.0.0.1/elsewhere", users[0].Subject},
		{"unregistered scheme", appID, "com.evil.app:/callback", users[0].Subject},
		{"non-loopback http", appID, "http://evil.example/callback", users[0].Subject},
		{"unknown person", appID, loopback, "nobody"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := client(t, issuer, tt.clientID, tt.redirect).SignIn(t.Context(), tt.subject)
			if err == nil {
				t.Fatal("signed in")
			}
			t.Log(err)
			var pe *signin.ProviderError
			if errors.As(err, &pe) {
				t.Fatalf("the error went to the unregistered redirect URI: %v", err)
			}
		})
	}
}
