package idp_test

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"github.com/tjsia/chapterhouse/cmd/devstack/idp"
	"github.com/tjsia/chapterhouse/cmd/devstack/signin"
)

const (
	appID    = "chapterhouse-app"
	loopback = "http://127.0.0.1/callback"
)

var users = []idp.User{
	{Subject: "u8Jq2mX4", Name: "王伟", Email: "wang.wei@example.com"},
	{Subject: "k3Pz9rT1", Name: "李娜"},
}

func start(t *testing.T) string {
	t.Helper()
	ts := httptest.NewUnstartedServer(nil)
	issuer := "http://" + ts.Listener.Addr().String()
	p, err := idp.New(t.Context(), idp.Config{Issuer: issuer, Users: users, Clients: []idp.Client{{ID: appID, RedirectURIs: []string{loopback}}}})
	if err != nil {
		t.Fatal(err)
	}
	if p.Issuer() != issuer || p.LoginURL() != issuer+"/login" {
		t.Fatalf("issuer %q login %q", p.Issuer(), p.LoginURL())
	}
	ts.Config.Handler = p
	ts.Start()
	t.Cleanup(ts.Close)
	return issuer
}

// noRedirects is a browser that reads each redirect instead of following it.
var noRedirects = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

func get(t *testing.T, target string, header http.Header) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, target, nil)
	if err != nil {
		t.Fatal(err)
	}
	maps(req.Header, header)
	return send(t, req)
}

func post(t *testing.T, target string, form url.Values, header http.Header) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, target, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	maps(req.Header, header)
	return send(t, req)
}

func maps(dst, src http.Header) {
	for k, v := range src {
		dst[k] = v
	}
}

func send(t *testing.T, req *http.Request) (*http.Response, string) {
	t.Helper()
	resp, err := noRedirects.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}

// authorize starts an authorization request and returns the redirect it
// answers with.
func authorize(t *testing.T, issuer string, q url.Values) *url.URL {
	t.Helper()
	base := url.Values{"client_id": {appID}, "redirect_uri": {loopback}, "response_type": {"code"}, "scope": {"openid offline_access"}, "state": {"s1"}}
	for k, v := range q {
		base[k] = v
	}
	resp, body := get(t, issuer+"/authorize?"+base.Encode(), nil)
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("authorize: %s: %s", resp.Status, body)
	}
	loc, err := resp.Location()
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func s256(verifier string) url.Values {
	return url.Values{"code_challenge": {oauth2.S256ChallengeFromVerifier(verifier)}, "code_challenge_method": {"S256"}}
}

func with(a url.Values, kv ...string) url.Values {
	out := url.Values{}
	for k, v := range a {
		out[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		out.Set(kv[i], kv[i+1])
	}
	return out
}

// TestPKCEWithS256IsRequired: RFC 9700 §2.1.1: a public client's request
// without a challenge, or with the plain method, is answered with an
// error at the app's redirect URI and never reaches the login page. A
// request with prompt=none gets login_required: the provider keeps no
// sessions, every sign-in goes through the login page.
func TestPKCEWithS256IsRequired(t *testing.T) {
	issuer := start(t)
	for _, tt := range []struct {
		name string
		q    url.Values
		want string
	}{
		{"no challenge", url.Values{}, "invalid_request"},
		{"plain", url.Values{"code_challenge": {oauth2.GenerateVerifier()}, "code_challenge_method": {"plain"}}, "invalid_request"},
		{"prompt none", with(s256(oauth2.GenerateVerifier()), "prompt", "none"), "login_required"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			loc := authorize(t, issuer, tt.q)
			if got := loc.Query().Get("error"); !strings.HasPrefix(loc.String(), loopback) || got != tt.want {
				t.Fatalf("redirect %s, want error %s", loc, tt.want)
			}
		})
	}
}

// TestLoginPage: the development login page lists the users in the
// browser's language (zh-CN or en, Chinese when it asks for neither),
// says there are no passwords, completes a request once, and refuses a
// cross-origin form post and an unknown request.
func TestLoginPage(t *testing.T) {
	issuer := start(t)
	loc := authorize(t, issuer, s256(oauth2.GenerateVerifier()))
	if loc.Path != idp.LoginPath {
		t.Fatalf("authorize sent the browser to %s", loc)
	}
	page := loc.String()
	id := loc.Query().Get("authRequestID")
	for _, tt := range []struct{ accept, lang, notice string }{
		{"zh-CN,zh;q=0.9", "zh-CN", "没有密码"},
		{"en-GB,en;q=0.8", "en", "no passwords"},
		{"fr", "zh-CN", "没有密码"},
	} {
		resp, body := get(t, page, http.Header{"Accept-Language": {tt.accept}})
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Language") != tt.lang || !strings.Contains(body, tt.notice) {
			t.Errorf("Accept-Language %s: %s %s:\n%s", tt.accept, resp.Status, resp.Header.Get("Content-Language"), body)
		}
		for _, u := range users {
			if !strings.Contains(body, u.Name) || !strings.Contains(body, `value="`+u.Subject+`"`) {
				t.Errorf("Accept-Language %s: %s is not listed", tt.accept, u.Name)
			}
		}
	}

	pick := url.Values{"authRequestID": {id}, "subject": {users[1].Subject}}
	if resp, _ := post(t, issuer+idp.LoginPath, pick, http.Header{"Sec-Fetch-Site": {"cross-site"}, "Origin": {"https://evil.example"}}); resp.StatusCode != http.StatusForbidden {
		t.Errorf("cross-origin post: %s", resp.Status)
	}
	if resp, body := post(t, issuer+idp.LoginPath, with(pick, "subject", "nobody"), nil); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("unknown person: %s: %s", resp.Status, body)
	}
	resp, body := post(t, issuer+idp.LoginPath, pick, http.Header{"Sec-Fetch-Site": {"same-origin"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("pick: %s: %s", resp.Status, body)
	}
	// The callback issues the code to the app's redirect URI.
	cb, _ := resp.Location()
	resp, body = get(t, cb.String(), nil)
	app, _ := resp.Location()
	if resp.StatusCode != http.StatusFound || app == nil || !strings.HasPrefix(app.String(), loopback) || app.Query().Get("code") == "" || app.Query().Get("state") != "s1" {
		t.Fatalf("callback: %s %v: %s", resp.Status, app, body)
	}
	// The request is answered: neither the page nor a second pick nor a
	// replayed callback works again.
	for name, resp := range map[string]*http.Response{
		"page":     first(get(t, page, nil)),
		"pick":     first(post(t, issuer+idp.LoginPath, pick, nil)),
		"callback": first(get(t, cb.String(), nil)),
	} {
		if loc, _ := resp.Location(); resp.StatusCode < 400 && (loc == nil || loc.Query().Get("code") != "") {
			t.Errorf("%s again: %s %v", name, resp.Status, loc)
		}
	}
	if resp, _ := get(t, issuer+idp.LoginPath+"?authRequestID=made-up", nil); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("unknown request: %s", resp.Status)
	}
}

func first(r *http.Response, _ string) *http.Response { return r }

// TestConfig: New refuses what would make a provider unsafe or unusable.
func TestConfig(t *testing.T) {
	ok := idp.Config{Issuer: "http://127.0.0.1:9999", Users: users, Clients: []idp.Client{{ID: appID, RedirectURIs: []string{loopback}}}}
	for _, tt := range []struct {
		name   string
		change func(*idp.Config)
	}{
		{"plain http off loopback", func(c *idp.Config) { c.Issuer = "http://idp.example" }},
		{"issuer with a path", func(c *idp.Config) { c.Issuer = "http://127.0.0.1:9999/idp" }},
		{"no users", func(c *idp.Config) { c.Users = nil }},
		{"repeated subject", func(c *idp.Config) { c.Users = []idp.User{users[0], users[0]} }},
		{"client without redirect", func(c *idp.Config) { c.Clients = []idp.Client{{ID: appID}} }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := ok
			tt.change(&c)
			if _, err := idp.New(t.Context(), c); err == nil {
				t.Fatal("accepted")
			}
		})
	}
	if _, err := idp.New(t.Context(), ok); err != nil {
		t.Fatal(err)
	}
}

// TestAccessTokenEmailClaims: issue 18 (linking by a verified e-mail). An
// access token granted with the email scope carries the user's email and
// email_verified, as the ID token does; without the scope, or for a user
// without an address, it carries neither.
func TestAccessTokenEmailClaims(t *testing.T) {
	issuer := start(t)
	for _, tc := range []struct {
		name     string
		subject  string
		scopes   []string
		email    any
		verified any
	}{
		{"email scope", "u8Jq2mX4", []string{"openid", "email"}, "wang.wei@example.com", false},
		{"no email scope", "u8Jq2mX4", []string{"openid", "profile"}, nil, nil},
		{"a user without an address", "k3Pz9rT1", []string{"openid", "email"}, nil, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := signin.New(t.Context(), signin.Config{Issuer: issuer, ClientID: appID, RedirectURL: loopback, Scopes: tc.scopes})
			if err != nil {
				t.Fatal(err)
			}
			tok, err := c.SignIn(t.Context(), tc.subject)
			if err != nil {
				t.Fatal(err)
			}
			parts := strings.Split(tok.AccessToken, ".")
			if len(parts) != 3 {
				t.Fatalf("the access token is no JWT: %q", tok.AccessToken)
			}
			body, err := base64.RawURLEncoding.DecodeString(parts[1])
			if err != nil {
				t.Fatal(err)
			}
			var claims map[string]any
			if err := json.Unmarshal(body, &claims); err != nil {
				t.Fatal(err)
			}
			if claims["sub"] != tc.subject || claims["email"] != tc.email || claims["email_verified"] != tc.verified {
				t.Fatalf("claims %v; want email %v, email_verified %v", claims, tc.email, tc.verified)
			}
		})
	}
}
