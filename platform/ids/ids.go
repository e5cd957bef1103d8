// Package ids makes resource ids that sort by creation time, so a
// lexicographic index doubles as creation order for paging.
package ids

import (
	"crypto/rand"
	"encoding/base32"
	"encoding/binary"
	"strings"
	"time"
)

// Lowercase Crockford-like alphabet: sortable, no padding, valid in AIP
// resource ids.
var encoding = base32.NewEncoding("0123456789abcdefghjkmnpqrstvwxyz").WithPadding(base32.NoPadding)

// New returns a 20-character id: 48 bits of milliseconds then 52 random
// bits, prefixed with a letter so it is a valid AIP-122 id.
func New(now time.Time) string {
	var b [12]byte
	binary.BigEndian.PutUint64(b[:8], uint64(now.UnixMilli())<<16)
	_, _ = rand.Read(b[6:])
	return "r" + strings.ToLower(encoding.EncodeToString(b[:]))[:19]
}

// Random returns an unguessable 26-character token (130 bits).
func Random() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return encoding.EncodeToString(b[:])
}
