package charttest

import (
	"bytes"
	"encoding/base64"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

// pageTokenKeys checks the page token wiring of one render and returns the
// keys the services get: every service reads PAGE_TOKEN_KEYS from one
// Secret key (the services sign their lists' page tokens, and every replica
// must verify what any other signed); the gateway, which issues none, gets
// no keys; a change of pageTokens values rolls the services
// (checksum/page-tokens). The keys are read from the rendered Secret, nil
// when the Secret is the operator's (pageTokens.existingSecret).
func pageTokenKeys(t *testing.T, r *rendered) (ref *corev1.SecretKeySelector, keys [][]byte) {
	t.Helper()
	for _, d := range r.deployments {
		c := d.Spec.Template.Spec.Containers[0]
		e, ok := envOf(c)["PAGE_TOKEN_KEYS"]
		if component(d.Spec.Template.Labels) == "gateway" {
			if ok {
				t.Errorf("%s: the gateway signs no page tokens and must not hold their keys", d.Name)
			}
			continue
		}
		if !ok || e.Value != "" || e.ValueFrom == nil || e.ValueFrom.SecretKeyRef == nil {
			t.Errorf("%s: PAGE_TOKEN_KEYS must come from a Secret, got %+v", d.Name, e)
			continue
		}
		if d.Spec.Template.Annotations["checksum/page-tokens"] == "" {
			t.Errorf("%s: no checksum/page-tokens annotation: new keys would not roll the pods", d.Name)
		}
		got := e.ValueFrom.SecretKeyRef
		if ref == nil {
			ref = got
		} else if got.Name != ref.Name || got.Key != ref.Key {
			t.Errorf("%s: PAGE_TOKEN_KEYS from %s/%s, another service's from %s/%s: replicas of the system must share the keys", d.Name, got.Name, got.Key, ref.Name, ref.Key)
		}
	}
	if ref == nil {
		t.Fatal("no service reads PAGE_TOKEN_KEYS")
	}
	s, ok := r.secrets[ref.Name]
	if !ok {
		return ref, nil
	}
	raw, ok := s.Data[ref.Key]
	if !ok {
		t.Fatalf("Secret %s has no key %s", ref.Name, ref.Key)
	}
	for i, k := range strings.Split(string(raw), ",") {
		b, err := base64.StdEncoding.DecodeString(k)
		if err != nil || len(b) < 32 {
			t.Errorf("Secret %s: key %d is not base64 of at least 32 bytes (%d bytes, %v)", ref.Name, i+1, len(b), err)
		}
		keys = append(keys, b)
	}
	return ref, keys
}

// TestPageTokenKeys: by default the chart generates one key per install (a
// fresh random one each render without a cluster, never a key shipped with
// the chart); pageTokens.keys are given to the services in their order (the
// first signs); pageTokens.existingSecret is read instead of a Secret of
// the chart's.
func TestPageTokenKeys(t *testing.T) {
	sets := valuesSets(t)
	for _, name := range sortedKeys(sets) {
		t.Run(name, func(t *testing.T) {
			if _, keys := pageTokenKeys(t, renderSet(t, sets[name])); len(keys) != 1 {
				t.Errorf("want one generated key, got %d", len(keys))
			}
		})
	}
	def := sets["default"]
	_, first := pageTokenKeys(t, renderSet(t, def))
	_, second := pageTokenKeys(t, renderSet(t, def))
	if len(first) == 1 && len(second) == 1 && bytes.Equal(first[0], second[0]) {
		t.Error("two installs got the same generated key: it must be random")
	}

	newKey, oldKey := bytes.Repeat([]byte{1}, 32), bytes.Repeat([]byte{2}, 48)
	given := base64.StdEncoding.EncodeToString(newKey) + "," + base64.StdEncoding.EncodeToString(oldKey)
	if _, keys := pageTokenKeys(t, renderSet(t, def, "pageTokens.keys={"+given+"}")); len(keys) != 2 || !bytes.Equal(keys[0], newKey) || !bytes.Equal(keys[1], oldKey) {
		t.Errorf("given keys [new, old]: the services get %x", keys)
	}

	r := renderSet(t, def, "pageTokens.existingSecret=ops-page-tokens", "pageTokens.existingSecretKey=keys")
	ref, _ := pageTokenKeys(t, r)
	if ref.Name != "ops-page-tokens" || ref.Key != "keys" {
		t.Errorf("existingSecret: PAGE_TOKEN_KEYS from %s/%s, want ops-page-tokens/keys", ref.Name, ref.Key)
	}
	for n := range r.secrets {
		if strings.HasSuffix(n, "-page-tokens") {
			t.Errorf("existingSecret: the chart still renders Secret %s", n)
		}
	}

	short := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{3}, 31))
	for name, set := range map[string]string{
		"short key":      "pageTokens.keys={" + short + "}",
		"not base64":     "pageTokens.keys={not*a*key*but*long*enough*to*pass*a*length*check}",
		"a string":       "pageTokens.keys=" + base64.StdEncoding.EncodeToString(oldKey),
		"a short second": "pageTokens.keys={" + base64.StdEncoding.EncodeToString(newKey) + "," + short + "}",
	} {
		if _, err := helmTemplate(t, []string{def}, set); err == nil {
			t.Errorf("%s: render succeeded; want a refusal", name)
		}
	}
}
