package auth

import (
	"context"
	"crypto"
	"errors"
	"strings"
	"testing"
	"time"
)

// TestVerifiedTokensAreRemembered: a token that passed is answered from
// memory until its own expiry, and checked in full after; a failed token
// is never remembered; a token altered in its signature is another token.
func TestVerifiedTokensAreRemembered(t *testing.T) {
	signer := newSigner(t)
	v, err := NewVerifier([]crypto.PublicKey{signer.PublicKey()}, DefaultIssuer, DefaultAudience)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	v.now = func() time.Time { return now }
	good, _ := signer.Sign("people/alice", []string{RoleAdmin}, time.Minute)
	if _, err := v.Verify(context.Background(), good); err != nil {
		t.Fatal(err)
	}
	if v.verified.Len() != 1 {
		t.Fatalf("%d remembered after one good token", v.verified.Len())
	}
	p, err := v.Verify(context.Background(), good)
	if err != nil || p.Subject != "people/alice" || p.IsAdmin() || p.Token != good {
		t.Fatalf("remembered: %+v %v", p, err)
	}
	// A character inside the signature changed (not the last, whose low
	// bits are padding base64 ignores): not the remembered token, and it
	// fails.
	i := len(good) - 10
	swap := byte('A')
	if good[i] == 'A' {
		swap = 'B'
	}
	forged := good[:i] + string(swap) + good[i+1:]
	if _, err := v.Verify(context.Background(), forged); !errors.Is(err, ErrUnauthenticated) {
		t.Fatalf("forged signature: %v", err)
	}
	if _, err := v.Verify(context.Background(), strings.Repeat("x", 40)); err == nil {
		t.Fatal("garbage accepted")
	}
	if v.verified.Len() != 1 {
		t.Fatalf("failed tokens remembered: %d entries", v.verified.Len())
	}
	// Past its expiry the token is checked in full again, and refused
	// (beyond the leeway), and forgotten.
	now = now.Add(2 * time.Minute)
	if _, err := v.Verify(context.Background(), good); !errors.Is(err, ErrUnauthenticated) {
		t.Fatalf("an expired token: %v, want refused", err)
	}
	if v.verified.Len() != 0 {
		t.Fatalf("an expired token still remembered: %d entries", v.verified.Len())
	}
}

// BenchmarkVerify: the same token, verified in full every time (the
// baseline, as before the cache) and as the cache answers it; the
// benchmark's own ratio is the speed-up.
func BenchmarkVerify(b *testing.B) {
	signer := newSigner(&testing.T{})
	v, err := NewVerifier([]crypto.PublicKey{signer.PublicKey()}, DefaultIssuer, DefaultAudience)
	if err != nil {
		b.Fatal(err)
	}
	token, _ := signer.Sign("people/alice", []string{RoleAdmin}, time.Hour)
	b.Run("full", func(b *testing.B) {
		for b.Loop() {
			if _, err := v.verify(context.Background(), token); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("remembered", func(b *testing.B) {
		for b.Loop() {
			if _, err := v.Verify(context.Background(), token); err != nil {
				b.Fatal(err)
			}
		}
	})
}
