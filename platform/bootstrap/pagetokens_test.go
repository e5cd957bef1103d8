package bootstrap

import (
	"bytes"
	"context"
	"encoding/base64"
	"strings"
	"testing"
)

// TestPageTokensFromEnv: a binary that serves lists does not start without
// PAGE_TOKEN_KEYS, nor with a key that is short, malformed or repeated; the
// error names the setting, never a key. With keys, the first signs and the
// rest verify, so a token signed before a rotation still pages after it.
func TestPageTokensFromEnv(t *testing.T) {
	ctx := context.Background()
	oldKey := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{1}, 32))
	newKey := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{2}, 48))
	short := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{3}, 31))
	env := func(keys string) func(string) string {
		return func(k string) string { return map[string]string{"PAGE_TOKEN_KEYS": keys}[k] }
	}
	needs := Needs{PageTokens: true}
	for name, keys := range map[string]string{
		"unset":      "",
		"short":      newKey + "," + short,
		"not base64": "not a key",
		"repeated":   newKey + "," + oldKey + "," + newKey,
	} {
		_, _, err := FromEnv(ctx, env(keys), "membership", needs)
		if err == nil || !strings.Contains(err.Error(), "PAGE_TOKEN_KEYS") {
			t.Errorf("%s: err = %v, want one naming PAGE_TOKEN_KEYS", name, err)
		}
		if err != nil && (strings.Contains(err.Error(), newKey) || strings.Contains(err.Error(), oldKey)) {
			t.Errorf("%s: the error shows a key: %v", name, err)
		}
	}

	deps := func(keys string) Deps {
		t.Helper()
		d, closeAll, err := FromEnv(ctx, env(keys), "membership", needs)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = closeAll(ctx) })
		if d.PageTokens == nil {
			t.Fatal("no page token codec")
		}
		return d
	}
	before := deps(oldKey).PageTokens
	first, err := before.Parse(0, "", "members", "branches/ai")
	if err != nil {
		t.Fatal(err)
	}
	held := first.Next("m0042")
	if pg, err := deps(newKey+", "+oldKey).PageTokens.Parse(0, held, "members", "branches/ai"); err != nil || pg.After != "m0042" {
		t.Fatalf("after rotation (new key first): %+v, %v", pg, err)
	}
	if _, err := deps(newKey).PageTokens.Parse(0, held, "members", "branches/ai"); err == nil {
		t.Fatal("a token of a removed key was accepted")
	}

	// A binary that serves no lists (the gateway) needs no keys.
	d, closeAll, err := FromEnv(ctx, env(""), "gateway", Needs{})
	if err != nil || d.PageTokens != nil {
		t.Fatalf("without Needs.PageTokens: %v, %v", d.PageTokens, err)
	}
	_ = closeAll(ctx)
}
