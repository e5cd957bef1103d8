// Package pagetoken encodes the opaque page tokens of List methods. A token
// records where the previous page ended and a fingerprint of the request's
// filters, so a token replayed with other filters is rejected (AIP-158).
package pagetoken

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/tjsia/chapterhouse/platform/apierr"
)

// ErrInvalid is returned for a token that was not issued for this request.
var ErrInvalid = errors.New("invalid page token")

// Default and maximum page sizes.
const (
	DefaultSize = 20
	MaxSize     = 100
)

type token struct {
	After  string `json:"a"`
	Filter string `json:"f"`
}

// Fingerprint summarises the filters a token is bound to.
func Fingerprint(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil)[:8])
}

// Encode returns the token continuing after key.
func Encode(after, fingerprint string) string {
	b, _ := json.Marshal(token{After: after, Filter: fingerprint})
	return base64.RawURLEncoding.EncodeToString(b)
}

// Decode returns the key to continue after; "" for the first page.
func Decode(raw, fingerprint string) (string, error) {
	if raw == "" {
		return "", nil
	}
	b, err := base64.RawURLEncoding.DecodeString(raw)
	if err != nil {
		return "", fmt.Errorf("%w: not base64url", ErrInvalid)
	}
	var t token
	if err := json.Unmarshal(b, &t); err != nil || t.After == "" {
		return "", fmt.Errorf("%w: malformed", ErrInvalid)
	}
	if t.Filter != fingerprint {
		return "", fmt.Errorf("%w: issued for a different request", ErrInvalid)
	}
	return t.After, nil
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
	Size        int
	After       string
	fingerprint string
}

// Parse checks a List request's page_size and page_token, the token bound
// to filters (everything that selects what is listed, the caller
// included when the listing depends on who asks); its errors are the API's
// (INVALID_ARGUMENT, INVALID_PAGE_TOKEN).
func Parse(size int32, token string, filters ...string) (Request, error) {
	n, err := Size(size)
	if err != nil {
		return Request{}, apierr.InvalidArgument(apierr.FieldViolation{Field: "page_size", Description: err.Error()})
	}
	fp := Fingerprint(filters...)
	after, err := Decode(token, fp)
	if err != nil {
		return Request{}, apierr.InvalidPageToken()
	}
	return Request{Size: n, After: after, fingerprint: fp}, nil
}

// Next is the page token continuing after the index key next; "" (the
// last page) when next is "".
func (r Request) Next(next string) string {
	if next == "" {
		return ""
	}
	return Encode(next, r.fingerprint)
}
