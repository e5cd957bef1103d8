// Package servicecall lets a Chapterhouse service prove to another that a
// call comes from it. A call from one service to another carries the
// caller's own bearer token (grpcclient.OnBehalf), so the callee authorises
// the person; the calling service adds a credential of its own under the
// metadata key Header: an HMAC-SHA256, under keys only the services hold
// (SERVICE_CALL_KEYS; never the gateway), of the service's name, the
// method, an expiry and the authorization header the call carries. Nobody
// without the keys can make one, and one cannot be moved to another
// method, another caller's token or a later minute.
//
// The called service reads a valid credential into the principal
// (auth.Principal.Service). It grants no method: it only lets the service
// read the private fields whose readers name it
// (chapterhouse.api.v1.readers), such as governance reading a nominee's
// birth date to judge G4.
package servicecall

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"

	"github.com/tjsia/chapterhouse/platform/pagetoken"
)

// Header is the metadata key of the credential.
const Header = "chapterhouse-service"

// MaxLifetime is the longest a credential is good for: a call's deadline,
// at most this.
const MaxLifetime = time.Minute

// Leeway absorbs clock differences between the pods of two services.
const Leeway = 30 * time.Second

// MinKeySize is the shortest key: HMAC-SHA256's 256 bits.
const MinKeySize = 32

// ErrInvalid: the credential was not made by a service holding the keys for
// this call, or it has expired.
var ErrInvalid = errors.New("servicecall: invalid service credential")

var encoding = base64.RawURLEncoding.Strict()

// Keys sign and verify credentials: the first key signs, every key
// verifies. Rotate as page token keys: add the new key second everywhere,
// then put it first, then remove the old one.
type Keys struct {
	keys [][]byte
}

// NewKeys returns a key set, the signing key first; each has at least
// MinKeySize bytes.
func NewKeys(keys ...[]byte) (*Keys, error) {
	if len(keys) == 0 {
		return nil, errors.New("servicecall: no keys")
	}
	k := &Keys{}
	for i, key := range keys {
		if len(key) < MinKeySize {
			return nil, fmt.Errorf("servicecall: key %d has %d bytes, want at least %d", i+1, len(key), MinKeySize)
		}
		for _, earlier := range k.keys {
			if bytes.Equal(earlier, key) {
				return nil, fmt.Errorf("servicecall: key %d repeats an earlier key", i+1)
			}
		}
		k.keys = append(k.keys, bytes.Clone(key))
	}
	return k, nil
}

// ParseKeys reads SERVICE_CALL_KEYS, spelled as PAGE_TOKEN_KEYS are
// (pagetoken.ParseKeys): comma-separated base64 keys, the signing key first.
func ParseKeys(s string) (*Keys, error) {
	keys, err := pagetoken.ParseKeys(s)
	if err != nil {
		return nil, err
	}
	return NewKeys(keys...)
}

// NewEphemeral returns keys made up now, for a system in one process (the
// devstack, tests), whose services share them.
func NewEphemeral() *Keys {
	key := make([]byte, MinKeySize)
	_, _ = rand.Read(key) // never fails (crypto/rand since Go 1.24)
	k, err := NewKeys(key)
	if err != nil {
		panic(err) // unreachable: one key of the minimum size
	}
	return k
}

// tag is the HMAC of one credential's facts under key. The authorization
// header enters as its hash, so the credential never repeats the token.
func tag(key []byte, service, method, authorization string, expires int64) []byte {
	token := sha256.Sum256([]byte(authorization))
	m := hmac.New(sha256.New, key)
	fmt.Fprintf(m, "chapterhouse service call v1\n%s\n%s\n%d\n%x", service, method, expires, token)
	return m.Sum(nil)
}

// validService: a service name is lowercase letters, as app.Name spells it.
func validService(s string) bool {
	if s == "" || len(s) > 40 {
		return false
	}
	for _, r := range s {
		if r < 'a' || r > 'z' {
			return false
		}
	}
	return true
}

// Sign makes service's credential for one call of method (the full name,
// /pkg.Service/Method) carrying authorization (its authorization header,
// "" for none), good until expires.
func (k *Keys) Sign(service, method, authorization string, expires time.Time) string {
	exp := expires.Unix()
	return service + "." + strconv.FormatInt(exp, 10) + "." + encoding.EncodeToString(tag(k.keys[0], service, method, authorization, exp))
}

// Verify returns the service whose credential this is, if it was made by
// keys of this set for exactly this method and authorization header and
// has not expired at now; ErrInvalid otherwise.
func (k *Keys) Verify(credential, method, authorization string, now time.Time) (string, error) {
	parts := strings.Split(credential, ".")
	if len(parts) != 3 || !validService(parts[0]) {
		return "", ErrInvalid
	}
	exp, err := strconv.ParseInt(parts[1], 10, 64)
	if err != nil || strconv.FormatInt(exp, 10) != parts[1] {
		return "", ErrInvalid
	}
	expires := time.Unix(exp, 0)
	// Expired, or claiming a life longer than any service gives one.
	if now.After(expires.Add(Leeway)) || expires.After(now.Add(MaxLifetime+Leeway)) {
		return "", ErrInvalid
	}
	got, err := encoding.DecodeString(parts[2])
	if err != nil {
		return "", ErrInvalid
	}
	for _, key := range k.keys {
		if hmac.Equal(got, tag(key, parts[0], method, authorization, exp)) {
			return parts[0], nil
		}
	}
	return "", ErrInvalid
}

// Caller is the service a process is, vouching for the calls it makes.
type Caller struct {
	// Service is its name (app.Name): "governance".
	Service string
	Keys    *Keys
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// UnaryClientInterceptor adds c's credential to every call: bound to the
// call's method and to the authorization header it carries (the first,
// the one the callee reads), good until the call's deadline, at most
// MaxLifetime.
func (c Caller) UnaryClientInterceptor() grpc.UnaryClientInterceptor {
	return func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
		return invoker(c.attach(ctx, method), method, req, reply, cc, opts...)
	}
}

func (c Caller) attach(ctx context.Context, method string) context.Context {
	now := time.Now
	if c.Now != nil {
		now = c.Now
	}
	expires := now().Add(MaxLifetime)
	if d, ok := ctx.Deadline(); ok && d.Before(expires) {
		expires = d
	}
	md, _ := metadata.FromOutgoingContext(ctx)
	md = md.Copy()
	authorization := ""
	if v := md.Get("authorization"); len(v) > 0 {
		authorization = v[0]
	}
	// Set, not append: a context that carried a credential for an earlier
	// call (one made from within another's interceptor) gets this call's
	// in its place, as the callee reads only the first.
	md.Set(Header, c.Keys.Sign(c.Service, method, authorization, expires))
	return metadata.NewOutgoingContext(ctx, md)
}
