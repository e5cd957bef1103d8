// Package pagetoken encodes the opaque page tokens of List methods. A token
// records where the previous page ended, and is authenticated with a server
// key over that position and the request's filters: a client can neither
// forge a position nor replay a token with other filters (AIP-158), and
// gets INVALID_PAGE_TOKEN for either.
//
// A token is base64url (unpadded) of
//
//	version (1 byte) | key id (4 bytes) | after (the store's key) | tag (16 bytes)
//
// where tag is HMAC-SHA256, truncated to 128 bits (RFC 2104, section 5),
// under the key named by the key id, of version | key id | SHA-256 of the
// filters | after. The filters are not in the token: the request restates
// them, and only the same ones reproduce the tag.
package pagetoken

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"

	"github.com/tjsia/chapterhouse/platform/apierr"
)

// ErrInvalid is returned for a token that was not issued for this request.
var ErrInvalid = errors.New("invalid page token")

// Default and maximum page sizes.
const (
	DefaultSize = 20
	MaxSize     = 100
)

// MinKeySize is the shortest key a Codec takes: HMAC-SHA256's block of
// security, 256 bits.
const MinKeySize = 32

const (
	version  = 1
	idSize   = 4
	tagSize  = 16
	headSize = 1 + idSize
)

// encoding is strict so that every token has one spelling: a token is
// accepted only as the codec wrote it (a second spelling of the same bytes
// is refused, see decode).
var encoding = base64.RawURLEncoding.Strict()

type key struct {
	id     [idSize]byte
	secret []byte
}

// Codec signs and verifies page tokens with a key set: the first key signs,
// every key verifies. An operator rotates by putting a new key first and
// removing the old one once the tokens it signed have aged out (clients
// hold a token for as long as they page through a list).
type Codec struct {
	signer key
	keys   map[[idSize]byte][]byte
}

// NewCodec returns a codec for keys, the signing key first. Each key must
// have at least MinKeySize bytes, and no two may be the same.
func NewCodec(keys ...[]byte) (*Codec, error) {
	if len(keys) == 0 {
		return nil, errors.New("pagetoken: no keys")
	}
	c := &Codec{keys: make(map[[idSize]byte][]byte, len(keys))}
	for i, k := range keys {
		if len(k) < MinKeySize {
			return nil, fmt.Errorf("pagetoken: key %d has %d bytes, want at least %d", i+1, len(k), MinKeySize)
		}
		id := keyID(k)
		if _, dup := c.keys[id]; dup {
			// The same key twice, or (once in 2^32) two keys sharing an
			// id: either way a token could not say which key is meant.
			return nil, fmt.Errorf("pagetoken: key %d repeats an earlier key (or shares its id); use distinct keys", i+1)
		}
		secret := bytes.Clone(k)
		c.keys[id] = secret
		if i == 0 {
			c.signer = key{id: id, secret: secret}
		}
	}
	return c, nil
}

// NewEphemeral returns a codec with one fresh random key, for a system in
// one process (the devstack, tests): its tokens are valid nowhere else and
// not after a restart, so a deployment with replicas sets its keys instead.
func NewEphemeral() *Codec {
	k := make([]byte, MinKeySize)
	_, _ = rand.Read(k) // never fails (crypto/rand since Go 1.24)
	c, err := NewCodec(k)
	if err != nil {
		panic(err) // unreachable: one key of the minimum size
	}
	return c
}

// ParseKeys reads a key set as the PAGE_TOKEN_KEYS setting spells it:
// comma-separated base64 keys (standard or URL alphabet, padded or not),
// the signing key first; space around each key is ignored. Errors name a
// key by its position, never its value.
func ParseKeys(s string) ([][]byte, error) {
	if strings.TrimSpace(s) == "" {
		return nil, errors.New("no keys")
	}
	var keys [][]byte
	for i, field := range strings.Split(s, ",") {
		field = strings.TrimSpace(field)
		if field == "" {
			return nil, fmt.Errorf("key %d is empty", i+1)
		}
		norm := strings.NewReplacer("-", "+", "_", "/").Replace(strings.TrimRight(field, "="))
		k, err := base64.RawStdEncoding.DecodeString(norm)
		if err != nil {
			return nil, fmt.Errorf("key %d is not base64", i+1)
		}
		if len(k) < MinKeySize {
			return nil, fmt.Errorf("key %d has %d bytes, want at least %d (e.g. `openssl rand -base64 32`)", i+1, len(k), MinKeySize)
		}
		keys = append(keys, k)
	}
	return keys, nil
}

// keyID names a key in its tokens without revealing it: the first bytes of
// an HMAC under the key of a fixed label.
func keyID(secret []byte) [idSize]byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("chapterhouse page token key id"))
	var id [idSize]byte
	copy(id[:], m.Sum(nil))
	return id
}

// binding summarises the filters a token is bound to; each is length
// prefixed, so no two lists of filters run together into the same bytes.
func binding(filters []string) [sha256.Size]byte {
	h := sha256.New()
	var n [binary.MaxVarintLen64]byte
	for _, f := range filters {
		h.Write(n[:binary.PutUvarint(n[:], uint64(len(f)))])
		h.Write([]byte(f))
	}
	var b [sha256.Size]byte
	h.Sum(b[:0])
	return b
}

func tag(secret, head []byte, bound [sha256.Size]byte, after []byte) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write(head)
	m.Write(bound[:])
	m.Write(after)
	return m.Sum(nil)[:tagSize]
}

// encode returns the token continuing after key after, for the request
// bound to bound.
func (c *Codec) encode(after string, bound [sha256.Size]byte) string {
	b := make([]byte, 0, headSize+len(after)+tagSize)
	b = append(b, version)
	b = append(b, c.signer.id[:]...)
	b = append(b, after...)
	b = append(b, tag(c.signer.secret, b[:headSize], bound, b[headSize:])...)
	return encoding.EncodeToString(b)
}

// decode returns the key to continue after; "" for the first page (an
// empty token). Every refusal is ErrInvalid.
func (c *Codec) decode(raw string, bound [sha256.Size]byte) (string, error) {
	if raw == "" {
		return "", nil
	}
	b, err := encoding.DecodeString(raw)
	// The decoder skips CR and LF even when strict; a token with them is
	// not one the codec wrote.
	if err != nil || strings.ContainsAny(raw, "\r\n") {
		return "", fmt.Errorf("%w: not base64url", ErrInvalid)
	}
	if len(b) <= headSize+tagSize || b[0] != version {
		return "", fmt.Errorf("%w: malformed", ErrInvalid)
	}
	secret, ok := c.keys[[idSize]byte(b[1:headSize])]
	if !ok {
		// Signed with a key this server no longer (or never) had.
		return "", fmt.Errorf("%w: unknown key", ErrInvalid)
	}
	after, got := b[headSize:len(b)-tagSize], b[len(b)-tagSize:]
	if !hmac.Equal(got, tag(secret, b[:headSize], bound, after)) {
		return "", fmt.Errorf("%w: not issued for this request", ErrInvalid)
	}
	return string(after), nil
}

// Size applies the default and the maximum; a negative size is an error.
func Size(requested int32) (int, error) {
	switch {
	case requested < 0:
		return 0, errors.New("page_size must not be negative")
	case requested == 0:
		return DefaultSize, nil
	case requested > MaxSize:
		return MaxSize, nil
	}
	return int(requested), nil
}

// Request is a List request's paging, checked: up to Size items after the
// index key After, bound to the request's filters.
type Request struct {
	Size  int
	After string
	codec *Codec
	bound [sha256.Size]byte
}

// Parse checks a List request's page_size and page_token, the token bound
// to filters: the collection first, then everything that selects what is
// listed, the caller included when the listing depends on who asks. Its
// errors are the API's (INVALID_ARGUMENT, INVALID_PAGE_TOKEN).
func (c *Codec) Parse(size int32, token string, filters ...string) (Request, error) {
	n, err := Size(size)
	if err != nil {
		return Request{}, apierr.InvalidArgument(apierr.Field("page_size", "page_size_negative"))
	}
	bound := binding(filters)
	after, err := c.decode(token, bound)
	if err != nil {
		return Request{}, apierr.InvalidPageToken()
	}
	return Request{Size: n, After: after, codec: c, bound: bound}, nil
}

// Next is the page token continuing after the index key next, signed with
// the codec's first key; "" (the last page) when next is "".
func (r Request) Next(next string) string {
	if next == "" {
		return ""
	}
	return r.codec.encode(next, r.bound)
}
