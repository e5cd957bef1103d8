package idp

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// How long the steps of a sign-in may take. An authorization request waits
// for the person at the login page; its code is exchanged at once by the
// app (RFC 6749 §4.1.2 recommends at most ten minutes for both).
const (
	authRequestLifetime = 10 * time.Minute
	codeLifetime        = time.Minute
)

// errNotFound is a lookup of something the storage does not hold (or no
// longer does); op answers it as the grant or request being invalid.
var errNotFound = errors.New("idp: not found")

// storage is the provider's op.Storage: every authorization request, code,
// refresh token and access token id in memory, under one lock. It is a
// development provider's storage, so it forgets everything at a restart
// (the apps then sign in again), but it answers every question op asks as
// a real one must.
type storage struct {
	cfg     Config
	key     *signingKey
	users   map[string]User    // by subject
	clients map[string]*client // by client id
	now     func() time.Time

	mu       sync.Mutex
	requests map[string]*authRequest // by id
	codes    map[string]string       // code -> request id
	// spent are codes presented once, with their request: a code
	// presented again revokes what it was exchanged for (RFC 6749 §4.1.2).
	spent   map[string]*authRequest
	refresh map[string]*refreshToken // by token value
	// rotated are refresh tokens replaced by a newer one, by value, with
	// their family: one presented again means it leaked, and the whole
	// family is revoked (RFC 9700 §4.14.2).
	rotated map[string]string
	access  map[string]*accessToken // by id (the JWT's jti)
}

type authRequest struct {
	id        string
	req       oidc.AuthRequest
	created   time.Time
	subject   string
	authTime  time.Time
	done      bool
	code      string
	codeIssue time.Time
	audience  []string
	family    string // of the refresh tokens its code was exchanged for
}

func (a *authRequest) GetID() string         { return a.id }
func (a *authRequest) GetACR() string        { return "" }
func (a *authRequest) GetAMR() []string      { return nil }
func (a *authRequest) GetAudience() []string { return a.audience }
func (a *authRequest) GetAuthTime() time.Time {
	return a.authTime
}
func (a *authRequest) GetClientID() string { return a.req.ClientID }
func (a *authRequest) GetCodeChallenge() *oidc.CodeChallenge {
	return &oidc.CodeChallenge{Challenge: a.req.CodeChallenge, Method: a.req.CodeChallengeMethod}
}
func (a *authRequest) GetNonce() string                   { return a.req.Nonce }
func (a *authRequest) GetRedirectURI() string             { return a.req.RedirectURI }
func (a *authRequest) GetResponseType() oidc.ResponseType { return a.req.ResponseType }
func (a *authRequest) GetResponseMode() oidc.ResponseMode { return a.req.ResponseMode }
func (a *authRequest) GetScopes() []string                { return a.req.Scopes }
func (a *authRequest) GetState() string                   { return a.req.State }
func (a *authRequest) GetSubject() string                 { return a.subject }
func (a *authRequest) Done() bool                         { return a.done }

// refreshToken is one refresh token and the grant it continues.
type refreshToken struct {
	token    string
	family   string
	subject  string
	clientID string
	scopes   []string
	audience []string
	authTime time.Time
	expires  time.Time
}

func (r *refreshToken) GetAMR() []string            { return nil }
func (r *refreshToken) GetAudience() []string       { return r.audience }
func (r *refreshToken) GetAuthTime() time.Time      { return r.authTime }
func (r *refreshToken) GetClientID() string         { return r.clientID }
func (r *refreshToken) GetScopes() []string         { return r.scopes }
func (r *refreshToken) GetSubject() string          { return r.subject }
func (r *refreshToken) SetCurrentScopes(s []string) { r.scopes = s }

// accessToken is what the provider remembers of an access token it
// signed: enough for userinfo and revocation. The services never ask: they
// verify the JWT offline, so a revoked access token still works for them
// until it expires (AccessTokenLifetime bounds that).
type accessToken struct {
	subject  string
	clientID string
	scopes   []string
	family   string // of the refresh token issued with it, if any
	expires  time.Time
}

func newStorage(cfg Config, key *signingKey) *storage {
	s := &storage{
		cfg: cfg, key: key, users: map[string]User{}, clients: map[string]*client{}, now: cfg.Now,
		requests: map[string]*authRequest{}, codes: map[string]string{}, spent: map[string]*authRequest{}, refresh: map[string]*refreshToken{},
		rotated: map[string]string{}, access: map[string]*accessToken{},
	}
	for _, u := range cfg.Users {
		s.users[u.Subject] = u
	}
	for _, c := range cfg.Clients {
		s.clients[c.ID] = &client{Client: c, loginURL: cfg.loginURL, idTokenLifetime: cfg.IDTokenLifetime}
	}
	return s
}

// randomID is 130 random bits (crypto/rand.Text): ids, codes and refresh
// tokens are all unguessable.
func randomID() string {
	return rand.Text()
}

// ---- authorization requests ----

// CreateAuthRequest stores a validated authorization request. op has
// checked the client, redirect URI, scopes and response type; PKCE with
// S256 is this provider's own rule (RFC 9700 §2.1.1: public clients must
// use PKCE; plain is refused since it protects nothing on a leaked request).
func (s *storage) CreateAuthRequest(_ context.Context, req *oidc.AuthRequest, _ string) (op.AuthRequest, error) {
	if req.CodeChallenge == "" || req.CodeChallengeMethod != oidc.CodeChallengeMethodS256 {
		return nil, oidc.ErrInvalidRequest().WithDescription("PKCE with code_challenge_method S256 is required")
	}
	if slices.Contains(req.Prompt, oidc.PromptNone) {
		// No sessions are kept: every sign-in goes through the login page.
		return nil, oidc.ErrLoginRequired()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sweep()
	a := &authRequest{id: randomID(), req: *req, created: s.now(), audience: []string{req.ClientID, s.cfg.Audience}}
	s.requests[a.id] = a
	return a, nil
}

// sweep drops what has expired, so the maps do not grow without bound on
// a long-running devstack. Callers hold mu.
func (s *storage) sweep() {
	now := s.now()
	for id, a := range s.requests {
		if now.Sub(a.created) > authRequestLifetime {
			delete(s.requests, id)
			delete(s.codes, a.code)
		}
	}
	for code, a := range s.spent {
		// A code older than its request's lifetime is refused anyway.
		if now.Sub(a.created) > authRequestLifetime {
			delete(s.spent, code)
		}
	}
	for tok, r := range s.refresh {
		if now.After(r.expires) {
			delete(s.refresh, tok)
		}
	}
	for id, a := range s.access {
		if now.After(a.expires) {
			delete(s.access, id)
		}
	}
}

// request is the live authorization request id; callers hold mu.
func (s *storage) request(id string) (*authRequest, error) {
	a, ok := s.requests[id]
	if !ok || s.now().Sub(a.created) > authRequestLifetime {
		return nil, fmt.Errorf("authorization request %w", errNotFound)
	}
	return a, nil
}

func (s *storage) AuthRequestByID(_ context.Context, id string) (op.AuthRequest, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.request(id)
}

// AuthRequestByCode is the request a code was issued for. A code is spent
// the first time it is presented, whether the exchange then succeeds or
// not (a wrong code_verifier cannot be retried), and a spent code
// presented again revokes the grant it was exchanged for.
func (s *storage) AuthRequestByCode(_ context.Context, code string) (op.AuthRequest, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if a, ok := s.spent[code]; ok {
		if a.family != "" {
			s.revokeFamily(a.family)
		}
		return nil, errors.New("idp: code already used")
	}
	id, ok := s.codes[code]
	if !ok {
		return nil, fmt.Errorf("code %w", errNotFound)
	}
	delete(s.codes, code)
	a, err := s.request(id)
	if err == nil {
		s.spent[code] = a
	}
	if err != nil || s.now().Sub(a.codeIssue) > codeLifetime {
		return nil, fmt.Errorf("code %w", errNotFound)
	}
	return a, nil
}

func (s *storage) SaveAuthCode(_ context.Context, id, code string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, err := s.request(id)
	if err != nil {
		return err
	}
	if !a.done {
		return oidc.ErrInteractionRequired()
	}
	if a.code != "" {
		// One code per request: the callback replayed must not mint a
		// second one for the same sign-in.
		return oidc.ErrInvalidRequest().WithDescription("authorization request already answered")
	}
	a.code, a.codeIssue = code, s.now()
	s.codes[code] = id
	return nil
}

func (s *storage) DeleteAuthRequest(_ context.Context, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if a, ok := s.requests[id]; ok {
		delete(s.codes, a.code)
		delete(s.requests, id)
	}
	return nil
}

// complete marks the request as signed in by subject: what the login
// page does when a person is picked. A request completes once.
func (s *storage) complete(id, subject string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, err := s.request(id)
	if err != nil {
		return err
	}
	if a.done {
		return errors.New("idp: authorization request already signed in")
	}
	if _, ok := s.users[subject]; !ok {
		return fmt.Errorf("user %w", errNotFound)
	}
	a.subject, a.authTime, a.done = subject, s.now(), true
	return nil
}

// ---- tokens ----

func (s *storage) CreateAccessToken(_ context.Context, req op.TokenRequest) (string, time.Time, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	id, exp := s.newAccess(req, "")
	return id, exp, nil
}

// newAccess records an access token for req; callers hold mu.
func (s *storage) newAccess(req op.TokenRequest, family string) (string, time.Time) {
	id := randomID()
	exp := s.now().Add(s.cfg.AccessTokenLifetime)
	a := &accessToken{subject: req.GetSubject(), scopes: req.GetScopes(), family: family, expires: exp}
	if c, ok := req.(interface{ GetClientID() string }); ok {
		a.clientID = c.GetClientID()
	}
	s.access[id] = a
	return id, exp
}

// CreateAccessAndRefreshTokens issues an access token and a new refresh
// token. On the refresh grant the presented token is rotated out: it can
// be used once (RFC 9700 §4.14.2 for public clients).
func (s *storage) CreateAccessAndRefreshTokens(_ context.Context, req op.TokenRequest, current string) (string, string, time.Time, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rt := &refreshToken{token: randomID(), subject: req.GetSubject(), scopes: req.GetScopes(), audience: req.GetAudience(),
		expires: s.now().Add(s.cfg.RefreshTokenLifetime)}
	switch r := req.(type) {
	case *authRequest:
		rt.family, rt.clientID, rt.authTime = randomID(), r.GetClientID(), r.authTime
		r.family = rt.family
	case *refreshToken:
		old, ok := s.refresh[current]
		if !ok || old.family != r.family {
			// Rotated or revoked between lookup and now (two refreshes
			// racing with one token): only one of them wins.
			return "", "", time.Time{}, oidc.ErrInvalidGrant().WithDescription("refresh token no longer valid")
		}
		delete(s.refresh, current)
		s.rotated[current] = old.family
		rt.family, rt.clientID, rt.authTime = old.family, old.clientID, old.authTime
	default:
		return "", "", time.Time{}, oidc.ErrUnsupportedGrantType()
	}
	s.refresh[rt.token] = rt
	id, exp := s.newAccess(req, rt.family)
	return id, rt.token, exp, nil
}

func (s *storage) TokenRequestByRefreshToken(_ context.Context, token string) (op.RefreshTokenRequest, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if family, reused := s.rotated[token]; reused {
		s.revokeFamily(family)
		return nil, oidc.ErrInvalidGrant().WithDescription("refresh token already used")
	}
	rt, ok := s.refresh[token]
	if !ok || s.now().After(rt.expires) {
		return nil, oidc.ErrInvalidGrant().WithDescription("refresh token invalid or expired")
	}
	// A copy: op may narrow its scopes (SetCurrentScopes) for this one
	// exchange without changing the stored grant.
	c := *rt
	c.scopes = slices.Clone(rt.scopes)
	return &c, nil
}

// revokeFamily revokes every refresh token of a grant and forgets its
// access tokens; callers hold mu.
func (s *storage) revokeFamily(family string) {
	for tok, r := range s.refresh {
		if r.family == family {
			delete(s.refresh, tok)
		}
	}
	for id, a := range s.access {
		if a.family == family {
			delete(s.access, id)
		}
	}
}

// TerminateSession is the end_session endpoint: the person signs out of
// the client, so every grant the client holds for them ends.
func (s *storage) TerminateSession(_ context.Context, subject, clientID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range s.refresh {
		if r.subject == subject && r.clientID == clientID {
			s.revokeFamily(r.family)
		}
	}
	return nil
}

// GetRefreshTokenInfo lets op tell a refresh token from an access token
// at the revocation endpoint; the token value is its own id.
func (s *storage) GetRefreshTokenInfo(_ context.Context, clientID, token string) (string, string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rt, ok := s.refresh[token]
	if !ok {
		return "", "", op.ErrInvalidRefreshToken
	}
	return rt.subject, rt.token, nil
}

// RevokeToken revokes a refresh token (and its grant) or an access token
// id. An unknown token is success, as RFC 7009 §2.2 asks; a token of
// another client is refused.
func (s *storage) RevokeToken(_ context.Context, tokenOrID, _ string, clientID string) *oidc.Error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if rt, ok := s.refresh[tokenOrID]; ok {
		if rt.clientID != clientID {
			return oidc.ErrInvalidClient().WithDescription("token was not issued to this client")
		}
		s.revokeFamily(rt.family)
		return nil
	}
	if a, ok := s.access[tokenOrID]; ok {
		if a.clientID != clientID {
			return oidc.ErrInvalidClient().WithDescription("token was not issued to this client")
		}
		delete(s.access, tokenOrID)
	}
	return nil
}

// ---- keys ----

func (s *storage) SigningKey(context.Context) (op.SigningKey, error) { return s.key, nil }

func (s *storage) SignatureAlgorithms(context.Context) ([]jose.SignatureAlgorithm, error) {
	return []jose.SignatureAlgorithm{s.key.alg}, nil
}

func (s *storage) KeySet(context.Context) ([]op.Key, error) { return []op.Key{s.key.public()}, nil }

// ---- clients and users ----

func (s *storage) GetClientByClientID(_ context.Context, id string) (op.Client, error) {
	c, ok := s.clients[id]
	if !ok {
		return nil, fmt.Errorf("client %w", errNotFound)
	}
	return c, nil
}

// AuthorizeClientIDSecret: every client here is public (no secret), so a
// secret is never right.
func (s *storage) AuthorizeClientIDSecret(context.Context, string, string) error {
	return errors.New("idp: no confidential clients")
}

// SetUserinfoFromScopes is deprecated in op in favour of
// SetUserinfoFromRequest, and left empty as op asks.
func (s *storage) SetUserinfoFromScopes(context.Context, *oidc.UserInfo, string, string, []string) error {
	return nil
}

// SetUserinfoFromRequest fills the ID token's claims.
func (s *storage) SetUserinfoFromRequest(_ context.Context, info *oidc.UserInfo, req op.IDTokenRequest, scopes []string) error {
	return s.userinfo(info, req.GetSubject(), scopes)
}

func (s *storage) SetUserinfoFromToken(_ context.Context, info *oidc.UserInfo, tokenID, subject, _ string) error {
	s.mu.Lock()
	a, ok := s.access[tokenID]
	s.mu.Unlock()
	if !ok || a.subject != subject || s.now().After(a.expires) {
		return errors.New("idp: access token revoked or expired")
	}
	return s.userinfo(info, subject, a.scopes)
}

func (s *storage) userinfo(info *oidc.UserInfo, subject string, scopes []string) error {
	u, ok := s.users[subject]
	if !ok {
		return fmt.Errorf("user %w", errNotFound)
	}
	info.Subject = u.Subject
	if slices.Contains(scopes, oidc.ScopeProfile) {
		info.Name = u.Name
	}
	if slices.Contains(scopes, oidc.ScopeEmail) && u.Email != "" {
		info.Email, info.EmailVerified = u.Email, oidc.Bool(u.EmailVerified)
	}
	return nil
}

func (s *storage) SetIntrospectionFromToken(_ context.Context, resp *oidc.IntrospectionResponse, tokenID, subject, clientID string) error {
	s.mu.Lock()
	a, ok := s.access[tokenID]
	s.mu.Unlock()
	if !ok || a.subject != subject || s.now().After(a.expires) {
		return nil // inactive
	}
	info := new(oidc.UserInfo)
	if err := s.userinfo(info, subject, a.scopes); err != nil {
		return err
	}
	resp.SetUserInfo(info)
	resp.Active, resp.ClientID, resp.Scope = true, a.clientID, a.scopes
	return nil
}

// GetPrivateClaimsFromScopes adds nothing: op asks GetPrivateClaimsFromRequest
// instead, which this storage has.
func (s *storage) GetPrivateClaimsFromScopes(context.Context, string, string, []string) (map[string]any, error) {
	return nil, nil
}

// GetPrivateClaimsFromRequest fills the access token's own claims: email
// and email_verified when the grant's scopes hold email (op passes the
// scopes without the userinfo ones, so the request's are read), as
// Keycloak's and others' access tokens carry them, for membership's link
// by verified e-mail (AUTH_LINK_VERIFIED_EMAIL). No roles: Chapterhouse
// grants roles itself (issue 18).
func (s *storage) GetPrivateClaimsFromRequest(_ context.Context, req op.TokenRequest, _ []string) (map[string]any, error) {
	if !slices.Contains(req.GetScopes(), oidc.ScopeEmail) {
		return nil, nil
	}
	u, ok := s.users[req.GetSubject()]
	if !ok {
		return nil, fmt.Errorf("user %w", errNotFound)
	}
	if u.Email == "" {
		return nil, nil
	}
	return map[string]any{"email": u.Email, "email_verified": u.EmailVerified}, nil
}

// GetKeyByIDAndClientID serves the JWT profile grant and private_key_jwt,
// neither of which this provider offers.
func (s *storage) GetKeyByIDAndClientID(context.Context, string, string) (*jose.JSONWebKey, error) {
	return nil, errors.New("idp: no client keys")
}

func (s *storage) ValidateJWTProfileScopes(context.Context, string, []string) ([]string, error) {
	return nil, errors.New("idp: JWT profile grant not offered")
}

func (s *storage) Health(context.Context) error { return nil }
