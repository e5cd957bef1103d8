package auth

import (
	"context"
	"crypto"
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// testNow is the verifiers' clock in these tests, so hand-made tokens keep
// their meaning whenever the test runs.
var testNow = time.Unix(1_800_000_000, 0)

// testKey is a fixed Ed25519 key, so fuzz corpus entries signed with it
// stay signed.
var testKey = ed25519.NewKeyFromSeed([]byte("chapterhouse-auth-test-key-seed!"))

// signRaw signs header.payload, both JSON text as given, with key: a token
// no well-behaved signer would make, to see what the verifier makes of it.
func signRaw(t testing.TB, key ed25519.PrivateKey, header, payload string) string {
	t.Helper()
	enc := base64.RawURLEncoding
	signing := enc.EncodeToString([]byte(header)) + "." + enc.EncodeToString([]byte(payload))
	sig, err := jwt.SigningMethodEdDSA.Sign(signing, key)
	if err != nil {
		t.Fatal(err)
	}
	return signing + "." + enc.EncodeToString(sig)
}

func newTestVerifier(t testing.TB, opts ...VerifierOption) *Verifier {
	t.Helper()
	v, err := NewVerifier([]crypto.PublicKey{testKey.Public()}, DefaultIssuer, DefaultAudience, opts...)
	if err != nil {
		t.Fatal(err)
	}
	v.now = func() time.Time { return testNow }
	return v
}

// at is testNow moved by d, as a JSON NumericDate.
func at(d time.Duration) string { return fmt.Sprint(testNow.Add(d).Unix()) }

// payload is a good claim set with the members in extra replacing or adding
// to its own (a value "" drops the member); values are JSON text.
func payload(extra map[string]string) string {
	members := map[string]string{
		"iss": `"chapterhouse"`, "aud": `["chapterhouse"]`, "sub": `"people/alice"`, "roles": `["admin"]`,
		"iat": at(-time.Minute), "nbf": at(-time.Minute), "exp": at(time.Hour),
	}
	order := []string{"iss", "aud", "sub", "roles", "iat", "nbf", "exp"}
	for k, v := range extra {
		if _, ok := members[k]; !ok {
			order = append(order, k)
		}
		members[k] = v
	}
	var b strings.Builder
	b.WriteString("{")
	for _, k := range order {
		if members[k] == "" {
			continue
		}
		if b.Len() > 1 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, "%q:%s", k, members[k])
	}
	b.WriteString("}")
	return b.String()
}

const goodHeader = `{"alg":"EdDSA","typ":"JWT"}`

// TestVerifyRefuses: each claim or header a hardened verifier refuses, next
// to the closest token it accepts; every refusal is ErrUnauthenticated and
// none is remembered.
func TestVerifyRefuses(t *testing.T) {
	tests := []struct {
		name    string
		header  string
		claims  map[string]string
		opts    []VerifierOption
		ok      bool
		subject string
	}{
		{name: "good", ok: true},
		{name: "good with a kid", header: `{"alg":"EdDSA","typ":"JWT","kid":"k1"}`, ok: true},

		// sub: people/<id>, the id by resourcename's rule.
		{name: "subject with a longest id", claims: map[string]string{"sub": `"people/` + strings.Repeat("a", 63) + `"`}, ok: true},
		{name: "subject id with a colon", claims: map[string]string{"sub": `"people/a:b"`}},
		{name: "subject id climbing out", claims: map[string]string{"sub": `"people/../admin"`}},
		{name: "subject with two ids", claims: map[string]string{"sub": `"people/alice/x"`}},
		{name: "subject id upper case", claims: map[string]string{"sub": `"people/Alice"`}},
		{name: "subject id of 5000 characters", claims: map[string]string{"sub": `"people/` + strings.Repeat("a", 5000) + `"`}},
		{name: "subject id empty", claims: map[string]string{"sub": `"people/"`}},
		{name: "subject missing", claims: map[string]string{"sub": ""}},
		{name: "subject not a person", claims: map[string]string{"sub": `"robots/r2"`}},

		// crit: no extension is understood, so any critical one is unknown.
		{name: "crit header", header: `{"alg":"EdDSA","typ":"JWT","crit":["exp"],"exp":1}`},
		{name: "crit header naming an unknown extension", header: `{"alg":"EdDSA","crit":["http://example.com/x"],"http://example.com/x":true}`},
		{name: "empty crit header", header: `{"alg":"EdDSA","crit":[]}`},

		// iat: not in the future beyond the leeway (30 s).
		{name: "issued within the leeway ahead", claims: map[string]string{"iat": at(20 * time.Second)}, ok: true},
		{name: "issued in the future", claims: map[string]string{"iat": at(time.Minute)}},
		{name: "issued next year", claims: map[string]string{"iat": at(365 * 24 * time.Hour), "exp": at(365*24*time.Hour + time.Hour)}},

		// lifetime: exp - iat (exp - now without iat) within the cap.
		{name: "lifetime exactly the default cap", claims: map[string]string{"iat": at(0), "exp": at(DefaultMaxLifetime)}, ok: true},
		{name: "lifetime a second over the default cap", claims: map[string]string{"iat": at(0), "exp": at(DefaultMaxLifetime + time.Second)}},
		{name: "issued long ago, valid a little longer", claims: map[string]string{"iat": at(-48 * time.Hour), "exp": at(time.Hour)}},
		{name: "no iat, exp within the cap", claims: map[string]string{"iat": "", "exp": at(23 * time.Hour)}, ok: true},
		{name: "no iat, exp beyond the cap", claims: map[string]string{"iat": "", "exp": at(25 * time.Hour)}},
		{name: "no iat, exp in a century", claims: map[string]string{"iat": "", "exp": at(100 * 365 * 24 * time.Hour)}},
		{name: "a shorter cap", claims: map[string]string{"iat": at(0), "exp": at(2 * time.Hour)}, opts: []VerifierOption{WithMaxLifetime(time.Hour)}},
		{name: "within a shorter cap", claims: map[string]string{"iat": at(0), "exp": at(time.Hour)}, opts: []VerifierOption{WithMaxLifetime(time.Hour)}, ok: true},

		// NumericDate: a JSON number, not a string jwt would read as one.
		{name: "fractional exp", claims: map[string]string{"exp": at(time.Hour) + ".5"}, ok: true},
		{name: "exp a numeric string", claims: map[string]string{"exp": `"` + at(time.Hour) + `"`}},
		{name: "iat a numeric string", claims: map[string]string{"iat": `"` + at(-time.Minute) + `"`}},
		{name: "nbf a numeric string", claims: map[string]string{"nbf": `"` + at(-time.Minute) + `"`}},
		{name: "exp null", claims: map[string]string{"exp": "null"}},
		{name: "iat null", claims: map[string]string{"iat": "null"}},
		{name: "exp missing", claims: map[string]string{"exp": ""}},
		// encoding/json matches member names to fields case-insensitively:
		// "Exp" would be read as exp, past a check that looks for "exp".
		{name: "exp spelt Exp, a string", claims: map[string]string{"exp": "", "Exp": `"` + at(time.Hour) + `"`}},
		{name: "exp spelt EXP", claims: map[string]string{"exp": "", "EXP": at(time.Hour)}},
		{name: "sub spelt SUB after sub", claims: map[string]string{"SUB": `"people/admin"`}},
		{name: "roles spelt Roles", claims: map[string]string{"roles": "", "Roles": `["admin"]`}},
		{name: "an unrelated member", claims: map[string]string{"jti": `"x1"`, "EXPIRES": `"soon"`}, ok: true},
		// email and email_verified are read too (from OpenID Connect
		// issuers' tokens): another spelling would be read as them.
		{name: "email spelt Email", claims: map[string]string{"Email": `"mallory@example.com"`}},
		{name: "email_verified spelt EMAIL_VERIFIED", claims: map[string]string{"email": `"a@example.com"`, "EMAIL_VERIFIED": "true"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := newTestVerifier(t, tt.opts...)
			header := tt.header
			if header == "" {
				header = goodHeader
			}
			token := signRaw(t, testKey, header, payload(tt.claims))
			for range 2 { // the second time, a remembered answer would show
				p, err := v.Verify(context.Background(), token)
				if tt.ok {
					if err != nil {
						t.Fatalf("Verify: %v", err)
					}
					if !strings.HasPrefix(p.Subject, "people/") || p.Token != token {
						t.Fatalf("principal = %+v", p)
					}
					continue
				}
				if err == nil {
					t.Fatalf("accepted %s as %+v", payload(tt.claims), p)
				}
				if !errors.Is(err, ErrUnauthenticated) {
					t.Fatalf("err = %v, want ErrUnauthenticated", err)
				}
				if v.verified.Len() != 0 {
					t.Fatalf("a refused token was remembered")
				}
			}
		})
	}
}

// TestRememberedTokenStillExpires: a remembered token is answered only until
// its exp, however long it was remembered.
func TestRememberedTokenStillExpires(t *testing.T) {
	v := newTestVerifier(t)
	now := testNow
	v.now = func() time.Time { return now }
	token := signRaw(t, testKey, goodHeader, payload(map[string]string{"exp": at(time.Minute)}))
	if _, err := v.Verify(context.Background(), token); err != nil {
		t.Fatal(err)
	}
	now = now.Add(time.Minute) // at exp: no longer remembered, and within the leeway
	if _, err := v.Verify(context.Background(), token); err != nil {
		t.Fatalf("within the leeway: %v", err)
	}
	now = now.Add(time.Minute)
	if _, err := v.Verify(context.Background(), token); !errors.Is(err, ErrUnauthenticated) {
		t.Fatalf("past exp and leeway: %v", err)
	}
}

func TestNewVerifierRefusesNoLifetime(t *testing.T) {
	for _, d := range []time.Duration{0, -time.Hour} {
		if _, err := NewVerifier([]crypto.PublicKey{testKey.Public()}, DefaultIssuer, DefaultAudience, WithMaxLifetime(d)); err == nil {
			t.Errorf("WithMaxLifetime(%v) accepted", d)
		}
	}
}

// TestEmailClaimsStrict: the email claims, which may link an identity to a
// person, are refused given twice (a decoder would keep one or the other),
// and a static-key token never carries them into the principal: its
// subject names the person already.
func TestEmailClaimsStrict(t *testing.T) {
	v := newTestVerifier(t)
	body := strings.TrimSuffix(payload(map[string]string{"email": `"a@example.com"`, "email_verified": "false"}), "}")
	for name, p := range map[string]string{
		"email twice":          body + `,"email":"mallory@example.com"}`,
		"email_verified twice": body + `,"email_verified":true}`,
	} {
		if got, err := v.Verify(context.Background(), signRaw(t, testKey, goodHeader, p)); !errors.Is(err, ErrUnauthenticated) {
			t.Errorf("%s: %+v, %v; want ErrUnauthenticated", name, got, err)
		}
	}
	got, err := v.Verify(context.Background(), signRaw(t, testKey, goodHeader, payload(map[string]string{"email": `"alice@example.com"`, "email_verified": "true"})))
	if err != nil {
		t.Fatal(err)
	}
	if got.Email != "" || got.EmailVerified {
		t.Fatalf("a static-key token gave email %q verified %v; want none", got.Email, got.EmailVerified)
	}
}
