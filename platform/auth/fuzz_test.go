package auth

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"math"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tjsia/chapterhouse/platform/resourcename"
)

// FuzzVerify: Verify never panics, and a token it accepts was signed by the
// key, has a subject people/<id> by the id rule, an exp still good, a
// lifetime within the cap and no crit header, and its principal is what its
// claim set says. With resign, header and payload are JSON text that the
// test encodes and signs with the verifier's key, so the fuzzer reaches the
// claim checks; without, header, payload and sig are a token's three
// segments as they stand.
func FuzzVerify(f *testing.F) {
	good := payload(nil)
	f.Add(goodHeader, good, "", true)
	f.Add(goodHeader, payload(map[string]string{"iat": ""}), "", true)
	f.Add(goodHeader, payload(map[string]string{"iat": at(0), "exp": at(DefaultMaxLifetime)}), "", true)
	f.Add(goodHeader, payload(map[string]string{"iat": at(0), "exp": at(DefaultMaxLifetime + time.Second)}), "", true)
	f.Add(goodHeader, payload(map[string]string{"iat": at(time.Minute)}), "", true)
	f.Add(goodHeader, payload(map[string]string{"exp": `"` + at(time.Hour) + `"`}), "", true)
	f.Add(goodHeader, payload(map[string]string{"exp": "", "Exp": at(time.Hour)}), "", true)
	f.Add(goodHeader, payload(map[string]string{"SUB": `"people/admin"`}), "", true)
	f.Add(goodHeader, payload(map[string]string{"sub": `"people/a:b"`}), "", true)
	f.Add(goodHeader, payload(map[string]string{"exp": "1e300"}), "", true)
	f.Add(goodHeader, payload(map[string]string{"aud": `"chapterhouse"`, "exp": at(time.Hour) + ".999"}), "", true)
	f.Add(`{"alg":"EdDSA","crit":["exp"]}`, good, "", true)
	f.Add(`{"alg":"none"}`, good, "", true)
	f.Add(`{"alg":"HS256"}`, good, "", true)
	// The good token's own segments, unsigned by the test: accepted as is,
	// and a start for mutations of the encoding.
	parts := strings.Split(signRaw(f, testKey, goodHeader, good), ".")
	f.Add(parts[0], parts[1], parts[2], false)
	f.Add(parts[0], parts[1], parts[2][:len(parts[2])-2]+"AA", false)
	f.Add("", "", "", false)
	f.Add("a", "b.c", "d", false)

	v := newTestVerifier(f)
	f.Fuzz(func(t *testing.T, header, body, sig string, resign bool) {
		token := header + "." + body + "." + sig
		if resign {
			token = signRaw(t, testKey, header, body)
		}
		p, err := v.Verify(context.Background(), token)
		if err != nil {
			if !errors.Is(err, ErrUnauthenticated) {
				t.Fatalf("refusal %v is not ErrUnauthenticated", err)
			}
			return
		}
		checkAccepted(t, v, token, p)
		if again, err := v.Verify(context.Background(), token); err != nil || again.Subject != p.Subject || !slices.Equal(again.Roles, p.Roles) {
			t.Fatalf("remembered: %+v, %v; first %+v", again, err, p)
		}
	})
}

// checkAccepted holds an accepted token to the properties Verify promises,
// reading the token with no help from jwt or the verifier.
func checkAccepted(t *testing.T, v *Verifier, token string, p Principal) {
	t.Helper()
	segs := strings.Split(token, ".")
	if len(segs) != 3 {
		t.Fatalf("accepted a token of %d segments", len(segs))
	}
	sig, err := base64.RawURLEncoding.DecodeString(segs[2])
	if err != nil || !ed25519.Verify(testKey.Public().(ed25519.PublicKey), []byte(segs[0]+"."+segs[1]), sig) {
		t.Fatalf("accepted a token the key did not sign (%v)", err)
	}
	var header map[string]any
	if err := decodeSegment(segs[0], &header); err != nil {
		t.Fatalf("accepted a header that is not a JSON object: %v", err)
	}
	if _, ok := header["crit"]; ok {
		t.Fatalf("accepted a crit header: %v", header)
	}
	var claims map[string]json.RawMessage
	if err := decodeSegment(segs[1], &claims); err != nil {
		t.Fatalf("accepted claims that are not a JSON object: %v", err)
	}
	var sub string
	if err := json.Unmarshal(claims["sub"], &sub); err != nil || sub != p.Subject {
		t.Fatalf("principal %q, claim set's sub %s (%v)", p.Subject, claims["sub"], err)
	}
	id, ok := strings.CutPrefix(p.Subject, "people/")
	// resourcename's own fuzz test holds ValidID to the id rule in words.
	if !ok || !resourcename.ValidID(id) {
		t.Fatalf("accepted subject %q", p.Subject)
	}
	var roles []string
	if raw, ok := claims["roles"]; ok {
		if err := json.Unmarshal(raw, &roles); err != nil {
			t.Fatalf("roles %s: %v", raw, err)
		}
	}
	// Whatever the roles claim says, it grants nothing: roles are
	// membership's role bindings.
	if len(p.Roles) != 0 {
		t.Fatalf("principal roles %q from a claim set's %q", p.Roles, roles)
	}
	now := float64(testNow.Unix())
	leeway, maxLifetime := v.leeway.Seconds(), v.maxLifetime.Seconds()
	exp, ok := seconds(t, claims, "exp")
	if !ok {
		t.Fatalf("accepted a token without exp: %s", segs[1])
	}
	if exp+leeway <= now {
		t.Fatalf("accepted exp %v, now %v", exp, now)
	}
	// jwt reads a NumericDate to the whole second below, hence the +1.
	if iat, ok := seconds(t, claims, "iat"); ok {
		if iat >= now+leeway+1 {
			t.Fatalf("accepted iat %v, now %v", iat, now)
		}
		if exp-iat >= maxLifetime+1 {
			t.Fatalf("accepted a lifetime of %vs (iat %v, exp %v)", exp-iat, iat, exp)
		}
	} else if exp-now >= maxLifetime+1 {
		t.Fatalf("accepted exp %v, %vs from now without iat", exp, exp-now)
	}
	if nbf, ok := seconds(t, claims, "nbf"); ok && nbf >= now+leeway+1 {
		t.Fatalf("accepted nbf %v, now %v", nbf, now)
	}
}

// decodeSegment decodes a token segment as jwt's default parser does (base64
// without padding, line breaks ignored) into v.
func decodeSegment(seg string, v any) error {
	b, err := base64.RawURLEncoding.DecodeString(seg)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}

// seconds reads claim name of an accepted token, which must be a finite
// JSON number if present.
func seconds(t *testing.T, claims map[string]json.RawMessage, name string) (float64, bool) {
	t.Helper()
	raw, ok := claims[name]
	if !ok {
		return 0, false
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("accepted %s %s: %v", name, raw, err)
	}
	n, ok := v.(json.Number)
	if !ok {
		t.Fatalf("accepted %s %s, not a JSON number", name, raw)
	}
	f, err := strconv.ParseFloat(string(n), 64)
	if err != nil || math.IsInf(f, 0) {
		t.Fatalf("accepted %s %s: %v", name, raw, err)
	}
	return f, true
}
