package proctest

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"testing"

	"github.com/tjsia/chapterhouse/platform/auth"
)

// FirstAdmin is the person the system's membership makes its first admin
// (AUTH_FIRST_ADMIN): a token's roles claim grants nothing, so a test's
// admin token is this person's, and every other role is a binding it
// grants.
const FirstAdmin = "people/admin"

// Credentials are what every process of a system under test shares, as a
// deployment's Secrets give them: a signer whose tokens the processes
// accept, and the settings that say so (AUTH_JWT_PUBLIC_KEYS), that make
// FirstAdmin an admin (AUTH_FIRST_ADMIN, read by membership), that let
// every replica and restart read the others' page tokens
// (PAGE_TOKEN_KEYS), and with which the services vouch for their calls to
// each other (SERVICE_CALL_KEYS; the gateway ignores them). Pass env to
// each process.
func Credentials(t testing.TB) (signer *auth.Signer, env []string) {
	t.Helper()
	pub, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	pem, err := auth.PublicKeyPEM(pub)
	if err != nil {
		t.Fatal(err)
	}
	pageKey, callKey := make([]byte, 32), make([]byte, 32)
	if _, err := rand.Read(pageKey); err != nil {
		t.Fatal(err)
	}
	if _, err := rand.Read(callKey); err != nil {
		t.Fatal(err)
	}
	return auth.NewSigner(key, auth.DefaultIssuer, auth.DefaultAudience),
		[]string{"AUTH_JWT_PUBLIC_KEYS=" + string(pem), "AUTH_FIRST_ADMIN=" + FirstAdmin, "PAGE_TOKEN_KEYS=" + base64.StdEncoding.EncodeToString(pageKey),
			"SERVICE_CALL_KEYS=" + base64.StdEncoding.EncodeToString(callKey)}
}
