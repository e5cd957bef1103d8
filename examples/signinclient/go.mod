// A native app's sign-in (README, "Signing in"): the authorization code
// flow with PKCE at the branch's OpenID Provider, then the API with the
// access token. Outside go.work on purpose: it uses only what a client
// developer would, golang.org/x/oauth2 and coreos/go-oidc.
module github.com/tjsia/chapterhouse/examples/signinclient

go 1.26.0

require (
	github.com/coreos/go-oidc/v3 v3.21.0
	golang.org/x/net v0.62.0
	golang.org/x/oauth2 v0.38.0
)

require github.com/go-jose/go-jose/v4 v4.1.9 // indirect
