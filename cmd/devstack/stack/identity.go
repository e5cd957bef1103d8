package stack

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/tjsia/chapterhouse/cmd/devstack/idp"
)

// The app registered at the embedded identity provider: one public client
// for the mobile and web apps (and the devstack's own sign-ins), with the
// redirect URIs RFC 8252 gives native apps (a loopback one on any port and
// a private-use scheme) and the web app's on the gateway's default
// browser origin.
const AppClientID = "chapterhouse-app"

// AppRedirectURIs are the app's registered redirect URIs.
var AppRedirectURIs = []string{
	"http://127.0.0.1/callback",
	"http://[::1]/callback",
	"io.github.tjsia.chapterhouse:/callback",
	"http://localhost:3000/callback",
}

// IdentitySubject is the embedded provider's subject (the tokens' sub) for
// a seeded person: stable across restarts, so account links kept in a
// real Redis still hold, and deliberately not the person's name, as with
// any real provider, whose subjects know nothing of Chapterhouse's people.
func IdentitySubject(personID string) string {
	sum := sha256.Sum256([]byte("chapterhouse devstack identity\x00" + personID))
	return hex.EncodeToString(sum[:10])
}

// DemoUsers are the seeded people as the embedded provider's users.
func DemoUsers() []idp.User {
	var users []idp.User
	for _, p := range demoPeople() {
		email := p.p.GetContact().GetEmail()
		// The provider vouches for the seeded e-mail addresses, as an
		// enterprise directory would for its own.
		users = append(users, idp.User{Subject: IdentitySubject(p.id), Name: p.p.GetDisplayName(), Email: email, EmailVerified: email != ""})
	}
	// And one expert the branch does not know yet: she signs in,
	// registers her own person and applies (GuestExpert).
	return append(users, idp.User{Subject: IdentitySubject(GuestExpert), Name: "周敏 (not in Chapterhouse yet)", Email: "zhou.min@example.com", EmailVerified: true})
}

// GuestExpert names the provider user who is no seeded person: an expert
// who signs in and registers herself.
const GuestExpert = "guest-expert"

// startIdentityProvider serves the embedded OpenID Provider on addr and
// sets s.Issuer and s.LoginURL.
func (s *Stack) startIdentityProvider(ctx context.Context, addr string) error {
	lis, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("stack: identity provider listen on %s: %w", addr, err)
	}
	issuer := "http://" + lis.Addr().String()
	p, err := idp.New(ctx, idp.Config{Issuer: issuer, Users: DemoUsers(),
		Clients:             []idp.Client{{ID: AppClientID, RedirectURIs: AppRedirectURIs, PostLogoutRedirectURIs: AppRedirectURIs}},
		AccessTokenLifetime: DemoAccessTokenLifetime})
	if err != nil {
		_ = lis.Close()
		return fmt.Errorf("stack: %w", err)
	}
	srv := &http.Server{Handler: p, ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(lis) }()
	s.closes = append(s.closes, func() error {
		stop, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		err := srv.Shutdown(stop)
		if serr := <-served; !errors.Is(serr, http.ErrServerClosed) {
			err = errors.Join(err, serr)
		}
		return err
	})
	s.Issuer, s.LoginURL = p.Issuer(), p.LoginURL()
	return nil
}
