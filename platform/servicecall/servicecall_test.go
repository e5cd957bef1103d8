package servicecall

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/metadata"
)

const (
	method = "/chapterhouse.membership.v1.MembershipService/GetPerson"
	header = "Bearer token-of-li-na"
)

func keys(t *testing.T, ks ...[]byte) *Keys {
	t.Helper()
	k, err := NewKeys(ks...)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// TestCredential: a credential names its service only for the method, the
// authorization header and the minute it was made for, under the keys that
// made it; any other use is ErrInvalid.
func TestCredential(t *testing.T) {
	now := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	oldKey, newKey := bytes.Repeat([]byte{1}, 32), bytes.Repeat([]byte{2}, 32)
	signed := keys(t, oldKey).Sign("governance", method, header, now.Add(5*time.Second))

	if got, err := keys(t, oldKey).Verify(signed, method, header, now); err != nil || got != "governance" {
		t.Fatalf("Verify = %q, %v", got, err)
	}
	// After a rotation the old key still verifies, as the second.
	if got, err := keys(t, newKey, oldKey).Verify(signed, method, header, now); err != nil || got != "governance" {
		t.Fatalf("after rotation: %q, %v", got, err)
	}
	forged := strings.Replace(signed, "governance", "activities", 1)
	for name, c := range map[string]struct {
		credential, method, header string
		keys                       *Keys
		now                        time.Time
	}{
		"another service's name":      {forged, method, header, keys(t, oldKey), now},
		"another method":              {signed, "/chapterhouse.membership.v1.MembershipService/ListPeople", header, keys(t, oldKey), now},
		"another caller's token":      {signed, method, "Bearer token-of-wang-wei", keys(t, oldKey), now},
		"no token":                    {signed, method, "", keys(t, oldKey), now},
		"other keys":                  {signed, method, header, keys(t, newKey), now},
		"expired":                     {signed, method, header, keys(t, oldKey), now.Add(5*time.Second + Leeway + time.Second)},
		"empty":                       {"", method, header, keys(t, oldKey), now},
		"not three parts":             {"governance." + signed, method, header, keys(t, oldKey), now},
		"a name that is not a name":   {"Governance" + signed[len("governance"):], method, header, keys(t, oldKey), now},
		"expiry spelled another way":  {strings.Replace(signed, ".", ".0", 1), method, header, keys(t, oldKey), now},
		"good for more than a minute": {keys(t, oldKey).Sign("governance", method, header, now.Add(MaxLifetime+Leeway+time.Second)), method, header, keys(t, oldKey), now},
	} {
		if got, err := c.keys.Verify(c.credential, c.method, c.header, c.now); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: Verify = %q, %v; want ErrInvalid", name, got, err)
		}
	}
}

// TestKeys: keys are at least 32 bytes and distinct; SERVICE_CALL_KEYS is
// spelled as PAGE_TOKEN_KEYS.
func TestKeys(t *testing.T) {
	if _, err := NewKeys(); err == nil {
		t.Error("no keys accepted")
	}
	if _, err := NewKeys(bytes.Repeat([]byte{1}, 31)); err == nil {
		t.Error("a short key accepted")
	}
	if _, err := NewKeys(bytes.Repeat([]byte{1}, 32), bytes.Repeat([]byte{1}, 32)); err == nil {
		t.Error("a repeated key accepted")
	}
	if _, err := ParseKeys("AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=, AgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgI="); err != nil {
		t.Errorf("ParseKeys: %v", err)
	}
	a, b := NewEphemeral(), NewEphemeral()
	now := time.Now()
	if _, err := b.Verify(a.Sign("governance", method, header, now.Add(time.Second)), method, header, now); err == nil {
		t.Error("two ephemeral key sets agree")
	}
}

// TestCallerAttaches: the client interceptor binds the credential to the
// call's method and the authorization header it carries, and makes it good
// until the call's deadline.
func TestCallerAttaches(t *testing.T) {
	k := NewEphemeral()
	now := time.Now()
	caller := Caller{Service: "governance", Keys: k, Now: func() time.Time { return now }}
	ctx, cancel := context.WithDeadline(context.Background(), now.Add(3*time.Second))
	defer cancel()
	ctx = metadata.AppendToOutgoingContext(ctx, "authorization", header)
	md, _ := metadata.FromOutgoingContext(caller.attach(ctx, method))
	creds := md.Get(Header)
	if len(creds) != 1 {
		t.Fatalf("credentials attached: %v", creds)
	}
	if got, err := k.Verify(creds[0], method, header, now); err != nil || got != "governance" {
		t.Fatalf("attached credential: %q, %v", got, err)
	}
	if _, err := k.Verify(creds[0], method, header, now.Add(3*time.Second+Leeway+time.Second)); err == nil {
		t.Fatal("the credential outlives the call's deadline")
	}
	// A context that carries one call's credential gets the next call's in
	// its place.
	const list = "/chapterhouse.membership.v1.MembershipService/ListPeople"
	md, _ = metadata.FromOutgoingContext(caller.attach(caller.attach(ctx, method), list))
	if creds := md.Get(Header); len(creds) != 1 {
		t.Fatalf("credentials after two calls: %v", creds)
	} else if _, err := k.Verify(creds[0], list, header, now); err != nil {
		t.Fatalf("the second call's credential: %v", err)
	}
	if got := md.Get("authorization"); len(got) != 1 || got[0] != header {
		t.Fatalf("the caller's token after two calls: %v", got)
	}
}
