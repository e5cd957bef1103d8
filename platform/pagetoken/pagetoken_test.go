package pagetoken

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/tjsia/chapterhouse/platform/apierr"
	apiv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/api/v1"
)

// Fixed test keys, so the fuzz corpus's tokens stay valid.
var (
	keyOld = bytes.Repeat([]byte("o"), MinKeySize)
	keyNew = bytes.Repeat([]byte("n"), MinKeySize)
	keyOut = bytes.Repeat([]byte("x"), MinKeySize)
)

func codec(t testing.TB, keys ...[]byte) *Codec {
	t.Helper()
	c, err := NewCodec(keys...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// issue returns the token a List bound to filters hands out after key after.
func issue(t *testing.T, c *Codec, after string, filters ...string) string {
	t.Helper()
	pg, err := c.Parse(0, "", filters...)
	if err != nil {
		t.Fatal(err)
	}
	return pg.Next(after)
}

// wantInvalid checks that token is refused with INVALID_PAGE_TOKEN.
func wantInvalid(t *testing.T, c *Codec, token string, filters ...string) {
	t.Helper()
	pg, err := c.Parse(0, token, filters...)
	if err == nil {
		t.Fatalf("token %q accepted for %v (after %q); want INVALID_PAGE_TOKEN", token, filters, pg.After)
	}
	if status.Code(err) != codes.InvalidArgument || !apierr.Is(err, apiv1.ErrorReason_INVALID_PAGE_TOKEN) {
		t.Fatalf("token %q: err = %v, want INVALID_ARGUMENT INVALID_PAGE_TOKEN", token, err)
	}
}

func TestRoundTrip(t *testing.T) {
	c := codec(t, keyNew)
	filters := []string{"members", "branches/ai", "ACTIVE"}
	tok := issue(t, c, "r0123", filters...)
	pg, err := c.Parse(5, tok, filters...)
	if err != nil || pg.After != "r0123" || pg.Size != 5 {
		t.Fatalf("Parse = %+v, %v", pg, err)
	}
	if next := pg.Next(""); next != "" {
		t.Errorf("the last page's token = %q, want empty", next)
	}
	if pg, err := c.Parse(0, "", filters...); err != nil || pg.After != "" || pg.Size != DefaultSize {
		t.Errorf("first page = %+v, %v", pg, err)
	}
}

// TestForgedTokens: whatever the client makes up, it gets
// INVALID_PAGE_TOKEN, including the unsigned format the service used to
// issue with another position in it.
func TestForgedTokens(t *testing.T) {
	c := codec(t, keyNew)
	filters := []string{"people", "organizations/acme"}
	tok := issue(t, c, "people/p100", filters...)
	raw, _ := encoding.DecodeString(tok)

	oldFormat, _ := json.Marshal(map[string]string{"a": "people/p999", "f": "0011223344556677"})
	flip := func(i int) string {
		b := bytes.Clone(raw)
		b[i] ^= 1
		return encoding.EncodeToString(b)
	}
	// The same position, other key id and tag: what a forger can build
	// without the key.
	other := append(append([]byte{version}, raw[1:headSize]...), []byte("people/p999")...)
	other = append(other, make([]byte, tagSize)...)
	for name, forged := range map[string]string{
		"old unsigned JSON, other position": base64.RawURLEncoding.EncodeToString(oldFormat),
		"garbage":                           "!!!",
		"not json":                          "bm90IGpzb24",
		"position changed":                  encoding.EncodeToString(other),
		"version changed":                   flip(0),
		"key id changed":                    flip(1),
		"position bit flipped":              flip(headSize),
		"tag bit flipped":                   flip(len(raw) - 1),
		"tag truncated":                     encoding.EncodeToString(raw[:len(raw)-1]),
		"no position":                       encoding.EncodeToString(append(bytes.Clone(raw[:headSize]), raw[len(raw)-tagSize:]...)),
		"padded":                            tok + strings.Repeat("=", (4-len(tok)%4)%4) + "====",
		"line break":                        tok[:4] + "\n" + tok[4:],
		"standard alphabet":                 base64.RawStdEncoding.EncodeToString(raw) + "+/",
	} {
		t.Run(name, func(t *testing.T) { wantInvalid(t, c, forged, filters...) })
	}
}

// TestBoundToCollectionAndFilters: a token from one collection or filter
// is refused on another.
func TestBoundToCollectionAndFilters(t *testing.T) {
	c := codec(t, keyNew)
	tok := issue(t, c, "r0123", "members", "branches/ai", "ACTIVE")
	for name, filters := range map[string][]string{
		"other collection":     {"applications", "branches/ai", "ACTIVE"},
		"other filter value":   {"members", "branches/ai", "SUSPENDED"},
		"other parent":         {"members", "branches/robotics", "ACTIVE"},
		"filters run together": {"members", "branches/aiACTIVE"},
		"filter moved":         {"members", "branches/ai", "", "ACTIVE"},
		"extra filter":         {"members", "branches/ai", "ACTIVE", "people/p1"},
		"no filters":           nil,
	} {
		t.Run(name, func(t *testing.T) { wantInvalid(t, c, tok, filters...) })
	}
	if _, err := c.Parse(0, tok, "members", "branches/ai", "ACTIVE"); err != nil {
		t.Fatalf("the issuing request's own filters: %v", err)
	}
}

// TestRotation: with a new key put first, tokens the old key signed still
// page; new tokens are signed with the new key; once the old key is
// removed, its tokens are refused.
func TestRotation(t *testing.T) {
	filters := []string{"activities", "branches/ai"}
	before := codec(t, keyOld)
	held := issue(t, before, "a0042", filters...)

	rotated := codec(t, keyNew, keyOld)
	pg, err := rotated.Parse(0, held, filters...)
	if err != nil || pg.After != "a0042" {
		t.Fatalf("a token of the previous key after rotation: %+v, %v", pg, err)
	}
	fresh := pg.Next("a0063")
	if _, err := before.Parse(0, fresh, filters...); err == nil {
		t.Fatal("a token issued after rotation verifies under the old key alone: not signed with the new key")
	}

	retired := codec(t, keyNew)
	wantInvalid(t, retired, held, filters...)
	if pg, err := retired.Parse(0, fresh, filters...); err != nil || pg.After != "a0063" {
		t.Fatalf("a token of the new key once the old is removed: %+v, %v", pg, err)
	}
	// A key the server never had.
	wantInvalid(t, codec(t, keyOut), fresh, filters...)
}

func TestNewCodecRefusals(t *testing.T) {
	for name, keys := range map[string][][]byte{
		"no keys":   nil,
		"short key": {keyNew, keyOld[:MinKeySize-1]},
		"duplicate": {keyNew, keyOld, bytes.Clone(keyNew)},
	} {
		if _, err := NewCodec(keys...); err == nil {
			t.Errorf("%s: NewCodec succeeded", name)
		}
	}
	// The codec keeps its own copy of the keys.
	k := bytes.Clone(keyNew)
	c := codec(t, k)
	tok := issue(t, c, "r1", "c")
	k[0] ^= 1
	if _, err := c.Parse(0, tok, "c"); err != nil {
		t.Fatalf("changing the caller's key slice changed the codec: %v", err)
	}
}

func TestParseKeys(t *testing.T) {
	std := base64.StdEncoding.EncodeToString(keyNew)
	url := base64.RawURLEncoding.EncodeToString(append(bytes.Clone(keyOld), 0xfb, 0xff))
	keys, err := ParseKeys(" " + std + " ,\n" + url + "\n")
	if err != nil || len(keys) != 2 || !bytes.Equal(keys[0], keyNew) || !bytes.Equal(keys[1], append(bytes.Clone(keyOld), 0xfb, 0xff)) {
		t.Fatalf("ParseKeys = %x, %v", keys, err)
	}
	short := base64.StdEncoding.EncodeToString(keyNew[:MinKeySize-1])
	for name, in := range map[string]string{
		"empty":          "",
		"blank":          " \n",
		"empty entry":    std + ",," + url,
		"trailing comma": std + ",",
		"not base64":     std + ",not*base64",
		"short":          std + "," + short,
	} {
		_, err := ParseKeys(in)
		if err == nil {
			t.Errorf("%s: ParseKeys(%q) succeeded", name, in)
			continue
		}
		if strings.Contains(err.Error(), std) {
			t.Errorf("%s: the error names a key's value: %v", name, err)
		}
	}
}

func TestEphemeral(t *testing.T) {
	a, b := NewEphemeral(), NewEphemeral()
	tok := issue(t, a, "r1", "c")
	if _, err := a.Parse(0, tok, "c"); err != nil {
		t.Fatal(err)
	}
	wantInvalid(t, b, tok, "c")
}

func TestSize(t *testing.T) {
	for in, want := range map[int32]int{0: DefaultSize, 5: 5, 1000: MaxSize} {
		if got, err := Size(in); err != nil || got != want {
			t.Errorf("Size(%d) = %d, %v", in, got, err)
		}
	}
	if _, err := Size(-1); err == nil {
		t.Error("Size(-1) should fail")
	}
	if _, err := codec(t, keyNew).Parse(-1, "", "c"); status.Code(err) != codes.InvalidArgument || errors.Is(err, ErrInvalid) {
		t.Errorf("Parse(-1) = %v, want INVALID_ARGUMENT on page_size", err)
	}
}
