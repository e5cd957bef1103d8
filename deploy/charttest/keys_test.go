package charttest

import (
	"bytes"
	"encoding/base64"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

// serviceKeys is a set of keys every service of the system shares and the
// gateway never holds: its setting, the values block that gives it, and
// the annotation that rolls the pods when the block changes.
type serviceKeys struct {
	env, values, checksum, secretSuffix string
}

var (
	// The services sign their lists' page tokens, and every replica must
	// verify what any other signed; the gateway issues none.
	pageTokens = serviceKeys{env: "PAGE_TOKEN_KEYS", values: "pageTokens", checksum: "checksum/page-tokens", secretSuffix: "-page-tokens"}
	// The services vouch for their calls to each other; the gateway, which
	// any client reaches, must not be able to.
	serviceCalls = serviceKeys{env: "SERVICE_CALL_KEYS", values: "serviceCalls", checksum: "checksum/service-calls", secretSuffix: "-service-calls"}
)

// sharedKeys checks the wiring of one key set in one render and returns
// the keys the services get: every service reads k.env from one Secret
// key; the gateway gets no keys; a change of k's values rolls the services
// (k.checksum). The keys are read from the rendered Secret, nil when the
// Secret is the operator's (existingSecret).
func sharedKeys(t *testing.T, r *rendered, k serviceKeys) (ref *corev1.SecretKeySelector, keys [][]byte) {
	t.Helper()
	for _, d := range r.deployments {
		c := d.Spec.Template.Spec.Containers[0]
		e, ok := envOf(c)[k.env]
		if component(d.Spec.Template.Labels) == "gateway" {
			if ok {
				t.Errorf("%s: the gateway must not hold %s", d.Name, k.env)
			}
			continue
		}
		if !ok || e.Value != "" || e.ValueFrom == nil || e.ValueFrom.SecretKeyRef == nil {
			t.Errorf("%s: %s must come from a Secret, got %+v", d.Name, k.env, e)
			continue
		}
		if d.Spec.Template.Annotations[k.checksum] == "" {
			t.Errorf("%s: no %s annotation: new keys would not roll the pods", d.Name, k.checksum)
		}
		got := e.ValueFrom.SecretKeyRef
		if ref == nil {
			ref = got
		} else if got.Name != ref.Name || got.Key != ref.Key {
			t.Errorf("%s: %s from %s/%s, another service's from %s/%s: the services of the system must share the keys", d.Name, k.env, got.Name, got.Key, ref.Name, ref.Key)
		}
	}
	if ref == nil {
		t.Fatalf("no service reads %s", k.env)
	}
	s, ok := r.secrets[ref.Name]
	if !ok {
		return ref, nil
	}
	raw, ok := s.Data[ref.Key]
	if !ok {
		t.Fatalf("Secret %s has no key %s", ref.Name, ref.Key)
	}
	for i, key := range strings.Split(string(raw), ",") {
		b, err := base64.StdEncoding.DecodeString(key)
		if err != nil || len(b) < 32 {
			t.Errorf("Secret %s: key %d is not base64 of at least 32 bytes (%d bytes, %v)", ref.Name, i+1, len(b), err)
		}
		keys = append(keys, b)
	}
	return ref, keys
}

// TestPageTokenKeys and TestServiceCallKeys: by default the chart
// generates one key per install (a fresh random one each render without a
// cluster, never a key shipped with the chart); given keys are given to
// the services in their order (the first signs); an existingSecret is read
// instead of a Secret of the chart's; a malformed key is refused.
func TestPageTokenKeys(t *testing.T) { checkKeys(t, pageTokens) }

func TestServiceCallKeys(t *testing.T) { checkKeys(t, serviceCalls) }

func checkKeys(t *testing.T, k serviceKeys) {
	sets := valuesSets(t)
	for _, name := range sortedKeys(sets) {
		t.Run(name, func(t *testing.T) {
			if _, keys := sharedKeys(t, renderSet(t, sets[name]), k); len(keys) != 1 {
				t.Errorf("want one generated key, got %d", len(keys))
			}
		})
	}
	def := sets["default"]
	_, first := sharedKeys(t, renderSet(t, def), k)
	_, second := sharedKeys(t, renderSet(t, def), k)
	if len(first) == 1 && len(second) == 1 && bytes.Equal(first[0], second[0]) {
		t.Error("two installs got the same generated key: it must be random")
	}

	newKey, oldKey := bytes.Repeat([]byte{1}, 32), bytes.Repeat([]byte{2}, 48)
	given := base64.StdEncoding.EncodeToString(newKey) + "," + base64.StdEncoding.EncodeToString(oldKey)
	if _, keys := sharedKeys(t, renderSet(t, def, k.values+".keys={"+given+"}"), k); len(keys) != 2 || !bytes.Equal(keys[0], newKey) || !bytes.Equal(keys[1], oldKey) {
		t.Errorf("given keys [new, old]: the services get %x", keys)
	}

	r := renderSet(t, def, k.values+".existingSecret=ops-keys", k.values+".existingSecretKey=keys")
	ref, _ := sharedKeys(t, r, k)
	if ref.Name != "ops-keys" || ref.Key != "keys" {
		t.Errorf("existingSecret: %s from %s/%s, want ops-keys/keys", k.env, ref.Name, ref.Key)
	}
	for n := range r.secrets {
		if strings.HasSuffix(n, k.secretSuffix) {
			t.Errorf("existingSecret: the chart still renders Secret %s", n)
		}
	}

	short := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{3}, 31))
	for name, set := range map[string]string{
		"short key":      k.values + ".keys={" + short + "}",
		"not base64":     k.values + ".keys={not*a*key*but*long*enough*to*pass*a*length*check}",
		"a string":       k.values + ".keys=" + base64.StdEncoding.EncodeToString(oldKey),
		"a short second": k.values + ".keys={" + base64.StdEncoding.EncodeToString(newKey) + "," + short + "}",
	} {
		if _, err := helmTemplate(t, []string{def}, set); err == nil {
			t.Errorf("%s: render succeeded; want a refusal", name)
		}
	}
}
