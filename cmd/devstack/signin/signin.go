// Package signin signs a person in at an OpenID Provider the way a mobile
// app does: the authorization code flow with PKCE (S256) over real HTTP
// (RFC 9700, RFC 8252). Where the app would open a browser, it drives the
// embedded provider's development login page itself (cmd/devstack/idp):
// it follows the authorize redirect to the login page, picks the person
// with the page's form, and captures the code at the loopback redirect URI
// instead of following the last redirect. The code is exchanged with the
// verifier, and the ID token is verified (issuer, audience, nonce).
//
// The devstack uses it to obtain the tokens it prints, the end-to-end tests
// to sign in, and the example client to show the flow.
package signin

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/net/html"
	"golang.org/x/oauth2"
)

// DefaultScopes ask for an ID token with the person's name and e-mail and
// for a refresh token.
var DefaultScopes = []string{oidc.ScopeOpenID, "profile", "email", oidc.ScopeOfflineAccess}

// Config names the provider and the app.
type Config struct {
	// Issuer is the provider's issuer URL; its discovery document gives
	// every endpoint.
	Issuer string
	// ClientID of the public client (the app); no secret.
	ClientID string
	// RedirectURL is the app's registered redirect URI, e.g. the loopback
	// http://127.0.0.1/callback (RFC 8252 §7.3). Nothing listens there: the
	// client reads the code from the redirect.
	RedirectURL string
	// Scopes; default DefaultScopes.
	Scopes []string
	// HTTPClient for every request; default a client with a 30 s timeout.
	HTTPClient *http.Client
}

// Client signs people in at one provider for one app.
type Client struct {
	oauth      oauth2.Config
	http       *http.Client
	browser    *http.Client
	verifier   *oidc.IDTokenVerifier
	redirect   *url.URL
	revocation string
	endSession string
}

// Tokens are what a sign-in or a refresh returns.
type Tokens struct {
	AccessToken  string
	RefreshToken string
	// IDToken is the raw ID token, verified; Subject is its sub.
	IDToken string
	Subject string
	// Expiry of the access token.
	Expiry time.Time
}

// New reads the provider's discovery document and returns a client.
func New(ctx context.Context, cfg Config) (*Client, error) {
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 30 * time.Second}
	}
	if len(cfg.Scopes) == 0 {
		cfg.Scopes = DefaultScopes
	}
	redirect, err := url.Parse(cfg.RedirectURL)
	if err != nil || redirect.Scheme == "" {
		return nil, fmt.Errorf("signin: redirect URL %q: want an absolute URI", cfg.RedirectURL)
	}
	ctx = oidc.ClientContext(ctx, cfg.HTTPClient)
	provider, err := oidc.NewProvider(ctx, cfg.Issuer)
	if err != nil {
		return nil, fmt.Errorf("signin: discovery: %w", err)
	}
	var extra struct {
		Revocation string `json:"revocation_endpoint"`
		EndSession string `json:"end_session_endpoint"`
	}
	if err := provider.Claims(&extra); err != nil {
		return nil, fmt.Errorf("signin: discovery: %w", err)
	}
	endpoint := provider.Endpoint()
	// A public client: client_id in the form, no secret, no Basic auth.
	endpoint.AuthStyle = oauth2.AuthStyleInParams
	// The browser does not follow redirects on its own: each hop is read,
	// so the last one (to the app's redirect URI) can be captured.
	browser := *cfg.HTTPClient
	browser.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &Client{
		oauth:      oauth2.Config{ClientID: cfg.ClientID, Endpoint: endpoint, RedirectURL: cfg.RedirectURL, Scopes: cfg.Scopes},
		http:       cfg.HTTPClient,
		browser:    &browser,
		verifier:   provider.Verifier(&oidc.Config{ClientID: cfg.ClientID}),
		redirect:   redirect,
		revocation: extra.Revocation,
		endSession: extra.EndSession,
	}, nil
}

// Attempt is one sign-in's secrets: the PKCE verifier, the state and the
// nonce. NewAttempt makes fresh ones.
type Attempt struct {
	Verifier, State, Nonce string
}

// NewAttempt is a sign-in attempt with fresh random secrets.
func NewAttempt() Attempt {
	return Attempt{Verifier: oauth2.GenerateVerifier(), State: rand.Text(), Nonce: rand.Text()}
}

// SignIn signs in as the user with the given subject at the provider's
// development login page and returns their tokens.
func (c *Client) SignIn(ctx context.Context, subject string) (*Tokens, error) {
	a := NewAttempt()
	code, err := c.Code(ctx, subject, a)
	if err != nil {
		return nil, err
	}
	return c.Exchange(ctx, code, a)
}

// maxHops bounds the redirects of one sign-in (authorize → login page →
// callback → app: three).
const maxHops = 8

// Code runs the browser's part of the flow for attempt a: the authorization
// request with its S256 challenge, the login page where subject is picked,
// and the redirect to the app, whose code it returns after checking the
// state.
func (c *Client) Code(ctx context.Context, subject string, a Attempt) (string, error) {
	next := c.oauth.AuthCodeURL(a.State, oauth2.S256ChallengeOption(a.Verifier), oidc.Nonce(a.Nonce))
	method, form := http.MethodGet, url.Values(nil)
	for range maxHops {
		resp, err := c.do(ctx, method, next, form)
		if err != nil {
			return "", err
		}
		body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		resp.Body.Close()
		if err != nil {
			return "", fmt.Errorf("signin: %s: %w", next, err)
		}
		base := resp.Request.URL
		switch {
		case resp.StatusCode >= 300 && resp.StatusCode < 400:
			loc, err := resp.Location()
			if err != nil {
				return "", fmt.Errorf("signin: %s: redirect without a location: %w", next, err)
			}
			if c.isRedirect(loc) {
				return c.codeFrom(loc, a.State)
			}
			method, form, next = http.MethodGet, nil, loc.String()
		case resp.StatusCode == http.StatusOK && strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html"):
			action, fields, err := pick(body, subject)
			if err != nil {
				return "", fmt.Errorf("signin: login page %s: %w", next, err)
			}
			target, err := base.Parse(action)
			if err != nil {
				return "", fmt.Errorf("signin: login page %s: form action: %w", next, err)
			}
			method, form, next = http.MethodPost, fields, target.String()
		default:
			return "", fmt.Errorf("signin: %s %s: %s: %s", method, base.Redacted(), resp.Status, strings.TrimSpace(string(body)))
		}
	}
	return "", errors.New("signin: too many redirects")
}

func (c *Client) do(ctx context.Context, method, target string, form url.Values) (*http.Response, error) {
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(ctx, method, target, body)
	if err != nil {
		return nil, fmt.Errorf("signin: %w", err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := c.browser.Do(req)
	if err != nil {
		return nil, fmt.Errorf("signin: %w", err)
	}
	return resp, nil
}

// isRedirect reports whether loc is the app's redirect URI. A loopback
// redirect URI matches on any port, as the provider matches it.
func (c *Client) isRedirect(loc *url.URL) bool {
	r := c.redirect
	if loc.Scheme != r.Scheme || loc.Path != r.Path || loc.Opaque != r.Opaque {
		return false
	}
	return loc.Host == r.Host || (r.Port() == "" && loc.Hostname() == r.Hostname())
}

// codeFrom is the code in the redirect to the app, or the provider's error.
func (c *Client) codeFrom(loc *url.URL, state string) (string, error) {
	q := loc.Query()
	if e := q.Get("error"); e != "" {
		return "", &ProviderError{Code: e, Description: q.Get("error_description")}
	}
	if q.Get("state") != state {
		return "", errors.New("signin: the redirect's state is not this attempt's")
	}
	code := q.Get("code")
	if code == "" {
		return "", errors.New("signin: the redirect carries no code")
	}
	return code, nil
}

// ProviderError is an OAuth error the provider answered with.
type ProviderError struct {
	Code, Description string
}

func (e *ProviderError) Error() string {
	return fmt.Sprintf("signin: provider refused: %s: %s", e.Code, e.Description)
}

// pick reads the login page's form and fills it as a person would who
// clicks the button for subject: the form's hidden fields and
// subject=<subject>.
func pick(page []byte, subject string) (action string, fields url.Values, err error) {
	doc, err := html.Parse(strings.NewReader(string(page)))
	if err != nil {
		return "", nil, err
	}
	fields = url.Values{}
	found, inForm := false, false
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

// Exchange trades a code for tokens with attempt a's verifier and verifies
// the ID token, its nonce included.
func (c *Client) Exchange(ctx context.Context, code string, a Attempt) (*Tokens, error) {
	ctx = context.WithValue(ctx, oauth2.HTTPClient, c.http)
	var opts []oauth2.AuthCodeOption
	if a.Verifier != "" {
		opts = append(opts, oauth2.VerifierOption(a.Verifier))
	}
	tok, err := c.oauth.Exchange(ctx, code, opts...)
	if err != nil {
		return nil, fmt.Errorf("signin: exchange: %w", err)
	}
	t, idt, err := c.tokens(ctx, tok)
	if err != nil {
		return nil, err
	}
	if idt.Nonce != a.Nonce {
		return nil, errors.New("signin: the ID token's nonce is not this attempt's")
	}
	return t, nil
}

// tokens verifies the ID token in tok and collects the tokens.
func (c *Client) tokens(ctx context.Context, tok *oauth2.Token) (*Tokens, *oidc.IDToken, error) {
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return nil, nil, errors.New("signin: no ID token in the answer")
	}
	idt, err := c.verifier.Verify(ctx, raw)
	if err != nil {
		return nil, nil, fmt.Errorf("signin: ID token: %w", err)
	}
	return &Tokens{AccessToken: tok.AccessToken, RefreshToken: tok.RefreshToken, IDToken: raw, Subject: idt.Subject, Expiry: tok.Expiry}, idt, nil
}

// Refresh trades a refresh token for new tokens. The provider rotates
// refresh tokens: the old one is spent, use the returned one.
func (c *Client) Refresh(ctx context.Context, refreshToken string) (*Tokens, error) {
	ctx = context.WithValue(ctx, oauth2.HTTPClient, c.http)
	// An empty access token makes the source refresh at once.
	tok, err := c.oauth.TokenSource(ctx, &oauth2.Token{RefreshToken: refreshToken}).Token()
	if err != nil {
		return nil, fmt.Errorf("signin: refresh: %w", err)
	}
	t, _, err := c.tokens(ctx, tok)
	return t, err
}

// SignOut ends the sign-in: it revokes the refresh token (RFC 7009), which
// ends its grant, and tells the provider's end_session endpoint, with the
// ID token as the hint, without following its redirect. Access tokens
// already issued keep working at the services until they expire: they are
// verified offline.
func (c *Client) SignOut(ctx context.Context, t *Tokens) error {
	if c.revocation == "" {
		return errors.New("signin: the provider has no revocation endpoint")
	}
	form := url.Values{"token": {t.RefreshToken}, "token_type_hint": {"refresh_token"}, "client_id": {c.oauth.ClientID}}
	resp, err := c.do(ctx, http.MethodPost, c.revocation, form)
	if err != nil {
		return err
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("signin: revoke: %s: %s", resp.Status, strings.TrimSpace(string(body)))
	}
	if c.endSession == "" || t.IDToken == "" {
		return nil
	}
	q := url.Values{"id_token_hint": {t.IDToken}, "client_id": {c.oauth.ClientID}}
	resp, err = c.do(ctx, http.MethodGet, c.endSession+"?"+q.Encode(), nil)
	if err != nil {
		return err
	}
	body, _ = io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	resp.Body.Close()
	if resp.StatusCode < 300 || resp.StatusCode >= 400 {
		return fmt.Errorf("signin: end session: %s: %s", resp.Status, strings.TrimSpace(string(body)))
	}
	return nil
}
