// Command signinclient signs a person in the way a native app does (RFC
// 8252, RFC 9700): the authorization code flow with PKCE (S256) at the
// branch's OpenID Provider, with a loopback redirect URI on a port of its
// own. It then calls the API with the access token: who am I, claim an
// invitation if it was given one, and one call that needs a person.
//
// Environment: CH_ISSUER, CH_CLIENT_ID and CH_URL (the devstack's
// .devstack/tokens.env exports them); CH_INVITATION_CODE, an invitation's
// code to claim (optional); SIGNIN_AS, see below.
//
// A real app opens the system browser at the authorization URL and lets
// the person sign in there. This program prints the URL for you to open.
// For unattended runs (CI), SIGNIN_AS=<provider subject> makes it play the
// browser itself against the devstack's DEVELOPMENT login page, which
// lists the seeded people and has no passwords; no real provider can be
// driven that way, and no app should try.
package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/net/html"
	"golang.org/x/oauth2"
)

func main() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if err := run(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "signinclient:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context) error {
	issuer, clientID, api := os.Getenv("CH_ISSUER"), os.Getenv("CH_CLIENT_ID"), os.Getenv("CH_URL")
	if issuer == "" || clientID == "" || api == "" {
		return errors.New("set CH_ISSUER, CH_CLIENT_ID and CH_URL (source .devstack/tokens.env)")
	}

	// Discovery: every endpoint comes from the issuer's
	// /.well-known/openid-configuration (the URL /openapi.json names).
	provider, err := oidc.NewProvider(ctx, issuer)
	if err != nil {
		return fmt.Errorf("discovery: %w", err)
	}

	// The loopback redirect URI (RFC 8252 §7.3): the provider registered
	// http://127.0.0.1/callback and accepts it on any port, so the app
	// listens on a port the system picks.
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	defer lis.Close()
	endpoint := provider.Endpoint()
	endpoint.AuthStyle = oauth2.AuthStyleInParams // a public client: no secret
	conf := oauth2.Config{
		ClientID:    clientID,
		Endpoint:    endpoint,
		RedirectURL: "http://" + lis.Addr().String() + "/callback",
		Scopes:      []string{oidc.ScopeOpenID, "profile", "email"},
	}

	// One attempt's secrets: the PKCE verifier (its S256 challenge goes in
	// the URL), the state that ties the redirect to this attempt, and the
	// nonce that ties the ID token to it.
	verifier, state, nonce := oauth2.GenerateVerifier(), rand.Text(), rand.Text()
	authURL := conf.AuthCodeURL(state, oauth2.S256ChallengeOption(verifier), oidc.Nonce(nonce))

	codes := make(chan callback, 1)
	srv := &http.Server{ReadHeaderTimeout: 10 * time.Second, Handler: callbackHandler(state, codes)}
	go func() { _ = srv.Serve(lis) }()
	defer srv.Close()

	if subject := os.Getenv("SIGNIN_AS"); subject != "" {
		fmt.Println("signing in as", subject, "at the development login page")
		if err := devBrowser(ctx, authURL, subject); err != nil {
			return err
		}
	} else {
		fmt.Println("Open this URL in a browser and sign in:")
		fmt.Println(" ", authURL)
	}

	var cb callback
	select {
	case cb = <-codes:
	case <-ctx.Done():
		return errors.New("no redirect came back in time")
	}
	if cb.err != nil {
		return cb.err
	}

	// The code and the verifier for the tokens; only this app has the
	// verifier, so an intercepted code is worth nothing.
	tok, err := conf.Exchange(ctx, cb.code, oauth2.VerifierOption(verifier))
	if err != nil {
		return fmt.Errorf("exchange: %w", err)
	}
	rawID, _ := tok.Extra("id_token").(string)
	idt, err := provider.Verifier(&oidc.Config{ClientID: clientID}).Verify(ctx, rawID)
	if err != nil {
		return fmt.Errorf("ID token: %w", err)
	}
	if idt.Nonce != nonce {
		return errors.New("ID token: the nonce is not this attempt's")
	}
	fmt.Printf("signed in: subject %s, access token valid until %s\n", idt.Subject, tok.Expiry.UTC().Format(time.RFC3339))

	// The API takes the access token as a bearer token.
	c := &apiClient{base: strings.TrimRight(api, "/"), token: tok.AccessToken}
	var who caller
	if _, err := c.call(ctx, http.MethodGet, "/v1/caller:lookup", nil, &who); err != nil {
		return err
	}
	fmt.Printf("caller: issuer %s, subject %s, person %q\n", who.Issuer, who.Subject, who.Person)

	// A call that needs a person: 403 ACCOUNT_NOT_LINKED until the
	// identity is linked to one.
	if err := personCall(ctx, c); err != nil {
		return err
	}

	if code := os.Getenv("CH_INVITATION_CODE"); code != "" {
		if _, err := c.call(ctx, http.MethodPost, "/v1/invitations:claim", map[string]string{"code": code}, nil); err != nil {
			return fmt.Errorf("claim: %w", err)
		}
		if _, err := c.call(ctx, http.MethodGet, "/v1/caller:lookup", nil, &who); err != nil {
			return err
		}
		fmt.Printf("invitation claimed: linked to person %s, roles %v\n", who.Person, who.Roles)
		if err := personCall(ctx, c); err != nil {
			return err
		}
	}
	return nil
}

// personCall reads the branch's terms, which needs a person, and prints
// the answer's status (and the refusal's reason); only a failure to reach
// the API is an error.
func personCall(ctx context.Context, c *apiClient) error {
	status, err := c.call(ctx, http.MethodGet, "/v1/branches/ai/terms", nil, nil)
	var refused *apiError
	switch {
	case errors.As(err, &refused):
		fmt.Printf("GET /v1/branches/ai/terms: HTTP %d %s\n", status, refused.Reason)
	case err != nil:
		return err
	default:
		fmt.Printf("GET /v1/branches/ai/terms: HTTP %d\n", status)
	}
	return nil
}

type callback struct {
	code string
	err  error
}

// callbackHandler takes the one redirect back from the provider: it checks
// the state, then hands over the code (or the provider's error).
func callbackHandler(state string, codes chan<- callback) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /callback", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		var cb callback
		switch {
		case q.Get("state") != state:
			cb.err = errors.New("the redirect's state is not this attempt's")
		case q.Get("error") != "":
			cb.err = fmt.Errorf("provider refused: %s: %s", q.Get("error"), q.Get("error_description"))
		case q.Get("code") == "":
			cb.err = errors.New("the redirect carries no code")
		default:
			cb.code = q.Get("code")
		}
		if cb.err != nil {
			http.Error(w, cb.err.Error(), http.StatusBadRequest)
		} else {
			fmt.Fprintln(w, "Signed in. You can close this window.")
		}
		select {
		case codes <- cb:
		default: // a second redirect: the first one counts
		}
	})
	return mux
}

// devBrowser plays the browser against the devstack's DEVELOPMENT login
// page only (a real app opens the system browser instead): it opens the
// authorization URL, which the provider redirects to its login page,
// submits the page's form with the button for subject, and follows the
// redirects to the loopback callback above.
func devBrowser(ctx context.Context, authURL, subject string) error {
	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar, Timeout: 30 * time.Second}
	page, err := browser.Get(authURL)
	if err != nil {
		return fmt.Errorf("authorize: %w", err)
	}
	body, err := io.ReadAll(io.LimitReader(page.Body, 1<<20))
	page.Body.Close()
	if err != nil {
		return err
	}
	if page.StatusCode != http.StatusOK {
		return fmt.Errorf("login page: %s", page.Status)
	}
	action, form, err := loginForm(body, subject)
	if err != nil {
		return fmt.Errorf("login page: %w", err)
	}
	target, err := page.Request.URL.Parse(action)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target.String(), strings.NewReader(form.Encode()))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := browser.Do(req)
	if err != nil {
		return fmt.Errorf("sign in: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return fmt.Errorf("sign in: %s: %s", resp.Status, strings.TrimSpace(string(msg)))
	}
	return nil
}

// loginForm reads the development login page: its POST form's action and
// hidden fields, plus subject=<subject>, as clicking that person's button
// would send.
func loginForm(page []byte, subject string) (string, url.Values, error) {
	doc, err := html.Parse(bytes.NewReader(page))
	if err != nil {
		return "", nil, err
	}
	var action string
	fields, inForm, found := url.Values{}, false, false
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode {
			attr := map[string]string{}
			for _, a := range n.Attr {
				attr[a.Key] = a.Val
			}
			switch {
			case n.Data == "form" && strings.EqualFold(attr["method"], "post"):
				action, inForm = attr["action"], true
			case inForm && n.Data == "input" && attr["type"] == "hidden":
				fields.Set(attr["name"], attr["value"])
			case inForm && n.Data == "button" && attr["name"] == "subject" && attr["value"] == subject:
				found = true
			}
		}
		for ch := n.FirstChild; ch != nil; ch = ch.NextSibling {
			walk(ch)
		}
	}
	walk(doc)
	if !inForm {
		return "", nil, errors.New("no sign-in form")
	}
	if !found {
		return "", nil, fmt.Errorf("no one to pick with subject %q", subject)
	}
	fields.Set("subject", subject)
	return action, fields, nil
}

type caller struct {
	Issuer  string   `json:"issuer"`
	Subject string   `json:"subject"`
	Person  string   `json:"person"`
	Roles   []string `json:"roles"`
}

type apiClient struct {
	base, token string
	http        http.Client
}

// apiError is the error in the gateway's error body ({"error": {…}},
// ErrorBody in /openapi.json).
type apiError struct {
	Code    int    `json:"code"`
	Reason  string `json:"reason"`
	Message string `json:"message"`
}

func (e *apiError) Error() string { return e.Reason + ": " + e.Message }

// call sends one request and decodes the answer into out; a refusal is the
// status and an *apiError.
func (c *apiClient) call(ctx context.Context, method, path string, in, out any) (int, error) {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return 0, err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return resp.StatusCode, err
	}
	if resp.StatusCode >= 300 {
		var body struct {
			Error apiError `json:"error"`
		}
		if json.Unmarshal(raw, &body) != nil || body.Error.Reason == "" {
			body.Error.Reason = resp.Status
		}
		return resp.StatusCode, &body.Error
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			return resp.StatusCode, fmt.Errorf("%s %s: %w", method, path, err)
		}
	}
	return resp.StatusCode, nil
}
