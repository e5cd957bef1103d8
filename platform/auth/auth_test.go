package auth

import (
	"context"
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"testing"
	"time"
)

func newSigner(t *testing.T) *Signer {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return NewSigner(priv, DefaultIssuer, DefaultAudience)
}

func TestVerify(t *testing.T) {
	signer := newSigner(t)
	other := newSigner(t)
	verifier, err := NewVerifier([]crypto.PublicKey{signer.PublicKey()}, DefaultIssuer, DefaultAudience)
	if err != nil {
		t.Fatal(err)
	}
	good, _ := signer.Sign("people/alice", []string{RoleAdmin}, time.Hour)
	expired, _ := signer.Sign("people/alice", nil, -time.Hour)
	foreign, _ := other.Sign("people/alice", nil, time.Hour)
	badSubject, _ := signer.Sign("robots/r2", nil, time.Hour)
	wrongAud, _ := NewSigner(signer.key, DefaultIssuer, "elsewhere").Sign("people/alice", nil, time.Hour)

	tests := []struct {
		name  string
		token string
		ok    bool
	}{
		{"valid", good, true},
		{"expired", expired, false},
		{"signed by another key", foreign, false},
		{"subject is not a person", badSubject, false},
		{"wrong audience", wrongAud, false},
		{"garbage", "not.a.token", false},
		{"empty", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := verifier.Verify(context.Background(), tt.token)
			if tt.ok {
				if err != nil {
					t.Fatalf("Verify: %v", err)
				}
				if p.Subject != "people/alice" || p.IsAdmin() || p.PersonID() != "alice" { // the admin roles claim grants nothing
					t.Fatalf("principal = %+v", p)
				}
				return
			}
			if !errors.Is(err, ErrUnauthenticated) {
				t.Fatalf("err = %v, want ErrUnauthenticated", err)
			}
		})
	}
}

func TestPublicKeyPEMRoundTrip(t *testing.T) {
	signer := newSigner(t)
	data, err := PublicKeyPEM(signer.PublicKey())
	if err != nil {
		t.Fatal(err)
	}
	keys, err := ParsePublicKeysPEM(data)
	if err != nil || len(keys) != 1 {
		t.Fatalf("keys=%v err=%v", keys, err)
	}
	if _, err := ParsePublicKeysPEM([]byte("nothing")); err == nil {
		t.Fatal("want error for no PEM blocks")
	}
}
