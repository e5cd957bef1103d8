package charttest

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	k8slabels "k8s.io/apimachinery/pkg/labels"
	kjson "sigs.k8s.io/json"
	"sigs.k8s.io/yaml"
)

const (
	namespace   = "chapterhouse"
	release     = "ch"
	kubeVersion = "1.37.2"
)

// repoRoot is two levels up from this package (deploy/charttest).
func repoRoot(t *testing.T) string {
	t.Helper()
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Clean(filepath.Join(wd, "..", ".."))
}

func helmBin(t *testing.T) string {
	t.Helper()
	if h := os.Getenv("HELM"); h != "" {
		return h
	}
	h := filepath.Join(repoRoot(t), ".bin", "helm")
	if _, err := os.Stat(h); err != nil {
		t.Fatalf("helm not found at %s: run `make tools` or set HELM", h)
	}
	return h
}

// helmTemplate renders the chart with the given values files and --set flags.
func helmTemplate(t *testing.T, valuesFiles []string, sets ...string) ([]byte, error) {
	t.Helper()
	root := repoRoot(t)
	args := []string{"template", release, filepath.Join(root, "charts", "chapterhouse"),
		"--namespace", namespace, "--kube-version", kubeVersion}
	for _, f := range valuesFiles {
		args = append(args, "-f", f)
	}
	for _, s := range sets {
		args = append(args, "--set", s)
	}
	cmd := exec.Command(helmBin(t), args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("helm %s: %v: %s", strings.Join(args, " "), err, stderr.String())
	}
	return out, nil
}

// valuesSets are the chart's CI values sets (charts/chapterhouse/ci/*-values.yaml).
func valuesSets(t *testing.T) map[string]string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(repoRoot(t), "charts", "chapterhouse", "ci", "*-values.yaml"))
	if err != nil || len(files) < 3 {
		t.Fatalf("want at least three values sets in charts/chapterhouse/ci, got %v (%v)", files, err)
	}
	sets := map[string]string{}
	for _, f := range files {
		sets[strings.TrimSuffix(filepath.Base(f), "-values.yaml")] = f
	}
	return sets
}

// HTTPRoute is the subset of gateway.networking.k8s.io/v1 HTTPRoute the chart
// renders (k8s.io/api has no Gateway API types); decoding into it is strict
// too, so a misspelt or misplaced field fails.
type HTTPRoute struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`
	Spec              struct {
		ParentRefs []struct {
			Group       *string `json:"group,omitempty"`
			Kind        *string `json:"kind,omitempty"`
			Namespace   *string `json:"namespace,omitempty"`
			Name        string  `json:"name"`
			SectionName *string `json:"sectionName,omitempty"`
			Port        *int32  `json:"port,omitempty"`
		} `json:"parentRefs"`
		Hostnames []string `json:"hostnames,omitempty"`
		Rules     []struct {
			Matches []struct {
				Path *struct {
					Type  string `json:"type"`
					Value string `json:"value"`
				} `json:"path,omitempty"`
			} `json:"matches,omitempty"`
			BackendRefs []struct {
				Name string `json:"name"`
				Port *int32 `json:"port,omitempty"`
			} `json:"backendRefs,omitempty"`
		} `json:"rules"`
	} `json:"spec"`
}

var newObject = map[string]func() any{
	"v1/ConfigMap":                           func() any { return &corev1.ConfigMap{} },
	"v1/Secret":                              func() any { return &corev1.Secret{} },
	"v1/Service":                             func() any { return &corev1.Service{} },
	"v1/ServiceAccount":                      func() any { return &corev1.ServiceAccount{} },
	"apps/v1/Deployment":                     func() any { return &appsv1.Deployment{} },
	"apps/v1/StatefulSet":                    func() any { return &appsv1.StatefulSet{} },
	"autoscaling/v2/HorizontalPodAutoscaler": func() any { return &autoscalingv2.HorizontalPodAutoscaler{} },
	"policy/v1/PodDisruptionBudget":          func() any { return &policyv1.PodDisruptionBudget{} },
	"networking.k8s.io/v1/NetworkPolicy":     func() any { return &networkingv1.NetworkPolicy{} },
	"networking.k8s.io/v1/Ingress":           func() any { return &networkingv1.Ingress{} },
	"gateway.networking.k8s.io/v1/HTTPRoute": func() any { return &HTTPRoute{} },
}

// rendered is one values set's output, strictly decoded.
type rendered struct {
	deployments  []*appsv1.Deployment
	statefulSets []*appsv1.StatefulSet
	services     map[string]*corev1.Service
	accounts     map[string]*corev1.ServiceAccount
	hpas         []*autoscalingv2.HorizontalPodAutoscaler
	pdbs         []*policyv1.PodDisruptionBudget
	policies     []*networkingv1.NetworkPolicy
	configMaps   map[string]*corev1.ConfigMap
	secrets      map[string]*corev1.Secret
	ingresses    []*networkingv1.Ingress
	routes       []*HTTPRoute
	all          int
}

var docSep = regexp.MustCompile(`(?m)^---\s*$`)

// decodeStrict splits a multi-document YAML stream and decodes every
// document into its k8s.io/api type: unknown fields, duplicate fields,
// case-mismatched fields and unknown kinds all fail.
func decodeStrict(t *testing.T, out []byte) *rendered {
	t.Helper()
	r := &rendered{services: map[string]*corev1.Service{}, accounts: map[string]*corev1.ServiceAccount{},
		configMaps: map[string]*corev1.ConfigMap{}, secrets: map[string]*corev1.Secret{}}
	for i, doc := range docSep.Split(string(out), -1) {
		if strings.TrimSpace(stripComments(doc)) == "" {
			continue
		}
		js, err := yaml.YAMLToJSONStrict([]byte(doc))
		if err != nil {
			t.Fatalf("document %d is not strict YAML: %v\n%s", i, err, doc)
		}
		var tm metav1.TypeMeta
		if err := kjson.UnmarshalCaseSensitivePreserveInts(js, &tm); err != nil {
			t.Fatalf("document %d: %v", i, err)
		}
		mk, ok := newObject[tm.APIVersion+"/"+tm.Kind]
		if !ok {
			t.Fatalf("document %d: unexpected kind %s/%s", i, tm.APIVersion, tm.Kind)
		}
		obj := mk()
		strictErrs, err := kjson.UnmarshalStrict(js, obj)
		if err != nil {
			t.Fatalf("document %d (%s): %v", i, tm.Kind, err)
		}
		if len(strictErrs) > 0 {
			t.Fatalf("document %d (%s) does not decode strictly: %v\n%s", i, tm.Kind, strictErrs, doc)
		}
		r.all++
		switch o := obj.(type) {
		case *appsv1.Deployment:
			r.deployments = append(r.deployments, o)
		case *appsv1.StatefulSet:
			r.statefulSets = append(r.statefulSets, o)
		case *corev1.Service:
			r.services[o.Name] = o
		case *corev1.ServiceAccount:
			r.accounts[o.Name] = o
		case *autoscalingv2.HorizontalPodAutoscaler:
			r.hpas = append(r.hpas, o)
		case *policyv1.PodDisruptionBudget:
			r.pdbs = append(r.pdbs, o)
		case *networkingv1.NetworkPolicy:
			r.policies = append(r.policies, o)
		case *corev1.ConfigMap:
			r.configMaps[o.Name] = o
		case *corev1.Secret:
			r.secrets[o.Name] = o
		case *networkingv1.Ingress:
			r.ingresses = append(r.ingresses, o)
		case *HTTPRoute:
			r.routes = append(r.routes, o)
		}
	}
	return r
}

func stripComments(doc string) string {
	var b strings.Builder
	for _, l := range strings.Split(doc, "\n") {
		if !strings.HasPrefix(strings.TrimSpace(l), "#") {
			b.WriteString(l + "\n")
		}
	}
	return b.String()
}

func renderSet(t *testing.T, file string, sets ...string) *rendered {
	t.Helper()
	out, err := helmTemplate(t, []string{file}, sets...)
	if err != nil {
		t.Fatal(err)
	}
	return decodeStrict(t, out)
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// TestValuesSets renders every CI values set and checks every workload.
func TestValuesSets(t *testing.T) {
	sets := valuesSets(t)
	for _, name := range sortedKeys(sets) {
		t.Run(name, func(t *testing.T) {
			r := renderSet(t, sets[name])
			if len(r.deployments) == 0 {
				t.Fatal("no Deployments rendered")
			}
			checkDeployments(t, r)
			checkRedis(t, r)
			checkImages(t, r)
			checkCharter(t, r)
			checkNetworkPolicies(t, r)
		})
	}
}

// TestGatewayAPIRoute renders the Gateway API route on top of the defaults.
func TestGatewayAPIRoute(t *testing.T) {
	r := renderSet(t, valuesSets(t)["default"], "gatewayAPI.enabled=true",
		"gatewayAPI.parentRefs[0].name=public", "gatewayAPI.parentRefs[0].namespace=gateway-system",
		"gatewayAPI.hostnames[0]=chapterhouse.example.org")
	if len(r.routes) != 1 {
		t.Fatalf("want one HTTPRoute, got %d", len(r.routes))
	}
	be := r.routes[0].Spec.Rules[0].BackendRefs[0]
	if _, ok := r.services[be.Name]; !ok || be.Port == nil || *be.Port != r.services[be.Name].Spec.Ports[0].Port {
		t.Fatalf("HTTPRoute backend %s does not name the gateway Service and its port", be.Name)
	}
	checkNetworkPolicies(t, r)
}

// TestOIDCIssuers: with OpenID Connect issuers and no static keys, every
// component is given the issuers and the audience, mounts no key Secret,
// and may reach the issuers (HTTPS, or the port and peers configured).
func TestOIDCIssuers(t *testing.T) {
	const issuers = "https://sso.example.org/realms/ai,https://login.example.com"
	r := renderSet(t, valuesSets(t)["default"], "auth.jwtPublicKeys=", "auth.oidc.issuers={"+issuers+"}", "auth.audience=chapterhouse-api",
		"auth.oidc.networkPolicy.ports[0].port=8443", "auth.oidc.networkPolicy.to[0].ipBlock.cidr=203.0.113.0/24",
		"auth.firstAdmin=people/secretariat", "auth.firstAdminIdentity.issuer=https://login.example.com", "auth.firstAdminIdentity.subject=f4c1")
	checkDeployments(t, r)
	checkNetworkPolicies(t, r)
	for _, d := range r.deployments {
		env := envOf(d.Spec.Template.Spec.Containers[0])
		// Membership keeps the role bindings; no other component grants.
		first, granted := env["AUTH_FIRST_ADMIN"]
		if isMembership := component(d.Spec.Template.Labels) == "membership"; granted != isMembership || (granted && first.Value != "people/secretariat") {
			t.Errorf("%s: AUTH_FIRST_ADMIN %q (set: %v)", d.Name, first.Value, granted)
		}
		if issuer, linked := env["AUTH_FIRST_ADMIN_ISSUER"]; linked != granted || (linked && (issuer.Value != "https://login.example.com" || env["AUTH_FIRST_ADMIN_SUBJECT"].Value != "f4c1")) {
			t.Errorf("%s: AUTH_FIRST_ADMIN_ISSUER %q, AUTH_FIRST_ADMIN_SUBJECT %q", d.Name, issuer.Value, env["AUTH_FIRST_ADMIN_SUBJECT"].Value)
		}
		// Off unless turned on, and only membership links.
		if link, set := env["AUTH_LINK_VERIFIED_EMAIL"]; set != isMembershipDeployment(d) || (set && link.Value != "false") {
			t.Errorf("%s: AUTH_LINK_VERIFIED_EMAIL %q (set: %v), want false on membership only", d.Name, link.Value, set)
		}
		if env["AUTH_OIDC_ISSUERS"].Value != issuers || env["AUTH_AUDIENCE"].Value != "chapterhouse-api" {
			t.Errorf("%s: AUTH_OIDC_ISSUERS %q, AUTH_AUDIENCE %q", d.Name, env["AUTH_OIDC_ISSUERS"].Value, env["AUTH_AUDIENCE"].Value)
		}
		if _, ok := env["AUTH_JWT_PUBLIC_KEYS_FILE"]; ok || len(d.Spec.Template.Spec.Volumes) > 0 {
			t.Errorf("%s: a static key file or volume without static keys", d.Name)
		}
	}
	reaches := map[string]bool{}
	for _, np := range r.policies {
		for _, rule := range np.Spec.Egress {
			for _, port := range rule.Ports {
				if port.Port != nil && port.Port.IntValue() == 8443 && len(rule.To) == 1 && rule.To[0].IPBlock != nil && rule.To[0].IPBlock.CIDR == "203.0.113.0/24" {
					reaches[component(np.Spec.PodSelector.MatchLabels)] = true
				}
			}
		}
	}
	for _, d := range r.deployments {
		if comp := component(d.Spec.Template.Labels); !reaches[comp] {
			t.Errorf("%s: its NetworkPolicy does not let it reach the issuers", comp)
		}
	}
	// Without issuers, no such egress.
	for _, np := range renderSet(t, valuesSets(t)["default"]).policies {
		for _, rule := range np.Spec.Egress {
			for _, port := range rule.Ports {
				if port.Port != nil && port.Port.IntValue() == 443 {
					t.Errorf("%s: egress to 443 without OpenID Connect issuers", np.Name)
				}
			}
		}
	}
}

// TestLinkVerifiedEmail: auth.linkVerifiedEmail reaches membership, and
// only membership, as AUTH_LINK_VERIFIED_EMAIL.
func TestLinkVerifiedEmail(t *testing.T) {
	r := renderSet(t, valuesSets(t)["default"], "auth.oidc.issuers={https://sso.example.org}", "auth.linkVerifiedEmail=true")
	seen := 0
	for _, d := range r.deployments {
		link, set := envOf(d.Spec.Template.Spec.Containers[0])["AUTH_LINK_VERIFIED_EMAIL"]
		if set != isMembershipDeployment(d) || (set && link.Value != "true") {
			t.Errorf("%s: AUTH_LINK_VERIFIED_EMAIL %q (set: %v), want true on membership only", d.Name, link.Value, set)
		}
		if set {
			seen++
		}
	}
	if seen != 1 {
		t.Fatalf("AUTH_LINK_VERIFIED_EMAIL on %d deployments, want membership's", seen)
	}
}

// TestRefusals: values that would break a policy make the render fail.
func TestRefusals(t *testing.T) {
	def := valuesSets(t)["default"]
	cases := map[string][]string{
		"latest tag":               {"activities.image.tag=latest"},
		"grace shorter than drain": {"terminationGracePeriodSeconds=20"},
		"external redis, no url":   {"redis.mode=external"},
		"redis latest tag":         {"redis.internal.image.tag=latest"},
		"first admin identity without its person": {"auth.oidc.issuers={https://sso.example.org}",
			"auth.firstAdminIdentity.issuer=https://sso.example.org", "auth.firstAdminIdentity.subject=f4c1"},
		"first admin identity at an issuer not trusted": {"auth.oidc.issuers={https://sso.example.org}", "auth.firstAdmin=people/secretariat",
			"auth.firstAdminIdentity.issuer=https://other.example.org", "auth.firstAdminIdentity.subject=f4c1"},
		"first admin identity without a subject": {"auth.oidc.issuers={https://sso.example.org}", "auth.firstAdmin=people/secretariat",
			"auth.firstAdminIdentity.issuer=https://sso.example.org"},
		"link verified e-mail not a boolean": {"auth.oidc.issuers={https://sso.example.org}", "auth.linkVerifiedEmail=yes"},
	}
	for name, sets := range cases {
		t.Run(name, func(t *testing.T) {
			if _, err := helmTemplate(t, []string{def}, sets...); err == nil {
				t.Fatalf("render with %v succeeded; want a refusal", sets)
			}
		})
	}
	// No issuer at all.
	if _, err := helmTemplate(t, nil); err == nil {
		t.Fatal("render without auth.oidc.issuers, auth.jwtPublicKeys or auth.existingSecret succeeded")
	}
	// An issuer over plain HTTP.
	if _, err := helmTemplate(t, nil, "auth.oidc.issuers={http://sso.example.org}"); err == nil {
		t.Fatal("render with a plain-HTTP issuer succeeded")
	}
}

func component(labels map[string]string) string { return labels["app.kubernetes.io/component"] }

func envOf(c corev1.Container) map[string]corev1.EnvVar {
	m := map[string]corev1.EnvVar{}
	for _, e := range c.Env {
		m[e.Name] = e
	}
	return m
}

func checkPodSecurity(t *testing.T, what string, spec corev1.PodSpec) {
	t.Helper()
	psc := spec.SecurityContext
	if psc == nil || psc.RunAsNonRoot == nil || !*psc.RunAsNonRoot {
		t.Errorf("%s: pod securityContext.runAsNonRoot must be true", what)
	}
	if psc == nil || psc.RunAsUser == nil || *psc.RunAsUser == 0 {
		t.Errorf("%s: pod securityContext.runAsUser must be set and not 0", what)
	}
	podSeccomp := psc != nil && psc.SeccompProfile != nil && psc.SeccompProfile.Type == corev1.SeccompProfileTypeRuntimeDefault
	if spec.AutomountServiceAccountToken == nil || *spec.AutomountServiceAccountToken {
		t.Errorf("%s: automountServiceAccountToken must be false", what)
	}
	for _, c := range spec.Containers {
		sc := c.SecurityContext
		if sc == nil {
			t.Errorf("%s/%s: no securityContext", what, c.Name)
			continue
		}
		if sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot {
			t.Errorf("%s/%s: runAsNonRoot must be true", what, c.Name)
		}
		if sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem {
			t.Errorf("%s/%s: readOnlyRootFilesystem must be true", what, c.Name)
		}
		if sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
			t.Errorf("%s/%s: allowPrivilegeEscalation must be false", what, c.Name)
		}
		if sc.Privileged != nil && *sc.Privileged {
			t.Errorf("%s/%s: privileged", what, c.Name)
		}
		if sc.Capabilities == nil || len(sc.Capabilities.Add) > 0 || len(sc.Capabilities.Drop) != 1 || sc.Capabilities.Drop[0] != "ALL" {
			t.Errorf("%s/%s: capabilities must drop ALL and add none", what, c.Name)
		}
		cSeccomp := sc.SeccompProfile != nil && sc.SeccompProfile.Type == corev1.SeccompProfileTypeRuntimeDefault
		if !podSeccomp && !cSeccomp {
			t.Errorf("%s/%s: seccompProfile must be RuntimeDefault", what, c.Name)
		}
		if sc.SeccompProfile != nil && sc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
			t.Errorf("%s/%s: seccompProfile %s", what, c.Name, sc.SeccompProfile.Type)
		}
		req, lim := c.Resources.Requests, c.Resources.Limits
		if req.Cpu().IsZero() || req.Memory().IsZero() || lim.Memory().IsZero() {
			t.Errorf("%s/%s: resources need cpu and memory requests and a memory limit, got %+v", what, c.Name, c.Resources)
		}
	}
}

func selectorMatches(t *testing.T, sel *metav1.LabelSelector, labels map[string]string) bool {
	t.Helper()
	if sel == nil {
		return false
	}
	s, err := metav1.LabelSelectorAsSelector(sel)
	if err != nil {
		t.Fatalf("bad selector %v: %v", sel, err)
	}
	return s.Matches(k8slabels.Set(labels))
}

func checkDeployments(t *testing.T, r *rendered) {
	t.Helper()
	for _, d := range r.deployments {
		comp := component(d.Spec.Template.Labels)
		what := "Deployment " + d.Name
		if comp == "" {
			t.Errorf("%s: pod template has no app.kubernetes.io/component label", what)
		}
		spec := d.Spec.Template.Spec
		if len(spec.Containers) != 1 {
			t.Fatalf("%s: want one container, got %d", what, len(spec.Containers))
		}
		c := spec.Containers[0]
		checkPodSecurity(t, what, spec)
		if !selectorMatches(t, d.Spec.Selector, d.Spec.Template.Labels) {
			t.Errorf("%s: selector does not match its pod template", what)
		}

		// Probes: native gRPC for services, HTTP /healthz and /readyz for the gateway.
		if c.LivenessProbe == nil || c.ReadinessProbe == nil {
			t.Fatalf("%s: liveness and readiness probes are required", what)
		}
		if len(c.Ports) != 1 {
			t.Fatalf("%s: want one container port", what)
		}
		port := c.Ports[0]
		if comp == "gateway" {
			for probe, path := range map[*corev1.Probe]string{c.LivenessProbe: "/healthz", c.ReadinessProbe: "/readyz"} {
				if probe.HTTPGet == nil || probe.HTTPGet.Path != path || (probe.HTTPGet.Port.String() != port.Name && probe.HTTPGet.Port.IntValue() != int(port.ContainerPort)) {
					t.Errorf("%s: want an HTTP probe on %s at the container port, got %+v", what, path, probe.ProbeHandler)
				}
			}
		} else {
			// Liveness and startup ask the "liveness" health service (up while
			// the process runs); readiness asks "" (down while a dependency
			// is unreachable), so a Redis outage never restarts pods.
			for probe, service := range map[*corev1.Probe]string{c.LivenessProbe: "liveness", c.StartupProbe: "liveness", c.ReadinessProbe: ""} {
				if probe == nil || probe.GRPC == nil || probe.GRPC.Port != port.ContainerPort || probe.GRPC.Service == nil || *probe.GRPC.Service != service {
					t.Errorf("%s: want a native grpc probe of service %q on port %d, got %+v", what, service, port.ContainerPort, probe)
				}
			}
		}

		// Drain: the grace period covers DRAIN_DELAY plus the ~20s stop timeout.
		env := envOf(c)
		drain := 5
		if v, ok := env["DRAIN_DELAY"]; ok {
			if _, err := fmt.Sscanf(v.Value, "%ds", &drain); err != nil {
				t.Errorf("%s: DRAIN_DELAY %q is not whole seconds", what, v.Value)
			}
		}
		if spec.TerminationGracePeriodSeconds == nil || *spec.TerminationGracePeriodSeconds <= int64(drain+20) {
			t.Errorf("%s: terminationGracePeriodSeconds must exceed DRAIN_DELAY (%ds) + 20s", what, drain)
		}
		if env["LISTEN_ADDR"].Value != fmt.Sprintf(":%d", port.ContainerPort) {
			t.Errorf("%s: LISTEN_ADDR %q does not match the container port %d", what, env["LISTEN_ADDR"].Value, port.ContainerPort)
		}
		// Every component has its Redis and verifies tokens: the gateway
		// keeps its callers' request budgets there, keyed by principals it
		// has verified itself.
		{
			if _, ok := env["REDIS_URL"]; !ok {
				t.Errorf("%s: every component needs REDIS_URL", what)
			}
			// Some issuer is trusted: OpenID Connect issuers, or the
			// static-key issuer, whose keys are a mounted Secret.
			keys, ok := env["AUTH_JWT_PUBLIC_KEYS_FILE"]
			if _, oidc := env["AUTH_OIDC_ISSUERS"]; !ok && !oidc {
				t.Errorf("%s: neither AUTH_OIDC_ISSUERS nor AUTH_JWT_PUBLIC_KEYS_FILE: no issuer trusted", what)
			}
			mounted := false
			for _, m := range c.VolumeMounts {
				if ok && strings.HasPrefix(keys.Value, m.MountPath+"/") && m.ReadOnly {
					for _, v := range spec.Volumes {
						if v.Name == m.Name && v.Secret != nil {
							mounted = true
						}
					}
				}
			}
			if ok && !mounted {
				t.Errorf("%s: AUTH_JWT_PUBLIC_KEYS_FILE must point into a read-only mounted Secret", what)
			}
			if _, ok := env["AUTH_AUDIENCE"]; !ok {
				t.Errorf("%s: every component needs AUTH_AUDIENCE", what)
			}
			if _, ok := env["POD_NAME"]; !ok || env["POD_NAME"].ValueFrom == nil || env["POD_NAME"].ValueFrom.FieldRef == nil {
				t.Errorf("%s: POD_NAME must come from the downward API", what)
			}
		}
		if comp == "gateway" {
			for _, kind := range []string{"ANONYMOUS", "AUTHENTICATED", "ADMIN", "VERIFY"} {
				if env["RATE_LIMIT_"+kind].Value == "" {
					t.Errorf("%s: RATE_LIMIT_%s unset", what, kind)
				}
			}
		}

		// Rolling updates never take a component below its desired ready count.
		ru := d.Spec.Strategy.RollingUpdate
		if d.Spec.Strategy.Type != appsv1.RollingUpdateDeploymentStrategyType || ru == nil || ru.MaxUnavailable == nil || ru.MaxUnavailable.IntValue() != 0 || ru.MaxSurge == nil || ru.MaxSurge.IntValue() < 1 {
			t.Errorf("%s: want RollingUpdate with maxUnavailable 0 and maxSurge >= 1", what)
		}

		// Topology spread over zones and hosts.
		keys := map[string]bool{}
		for _, tsc := range spec.TopologySpreadConstraints {
			if selectorMatches(t, tsc.LabelSelector, d.Spec.Template.Labels) {
				keys[tsc.TopologyKey] = true
			}
		}
		if !keys["topology.kubernetes.io/zone"] || !keys["kubernetes.io/hostname"] {
			t.Errorf("%s: want topology spread over zone and hostname, got %v", what, keys)
		}

		// ServiceAccount without token automount.
		sa, ok := r.accounts[spec.ServiceAccountName]
		if !ok {
			t.Errorf("%s: ServiceAccount %q not rendered", what, spec.ServiceAccountName)
		} else if sa.AutomountServiceAccountToken == nil || *sa.AutomountServiceAccountToken {
			t.Errorf("ServiceAccount %s: automountServiceAccountToken must be false", sa.Name)
		}

		// Every address a component dials is a dns:/// target of a headless
		// Service, so its clients balance over every pod.
		for _, e := range c.Env {
			callee, ok := strings.CutSuffix(e.Name, "_ADDR")
			if !ok || e.Name == "LISTEN_ADDR" {
				continue
			}
			target := checkTarget(t, r, what, strings.ToLower(callee), e.Value)
			if target != nil && (target.Spec.ClusterIP != corev1.ClusterIPNone) {
				t.Errorf("%s dials %s, whose Service %s is not headless", what, e.Value, target.Name)
			}
		}

		// A Service that selects the pods and targets the container port.
		var svc *corev1.Service
		for _, s := range r.services {
			if len(s.Spec.Selector) > 0 && selectorMatches(t, &metav1.LabelSelector{MatchLabels: s.Spec.Selector}, d.Spec.Template.Labels) {
				svc = s
			}
		}
		if svc != nil && comp != "gateway" && svc.Spec.ClusterIP != corev1.ClusterIPNone {
			t.Errorf("Service %s of a gRPC service is not headless (clusterIP %q)", svc.Name, svc.Spec.ClusterIP)
		}
		if svc == nil {
			t.Errorf("%s: no Service selects its pods", what)
		} else if tp := svc.Spec.Ports[0].TargetPort; tp.String() != port.Name && tp.IntValue() != int(port.ContainerPort) {
			t.Errorf("Service %s targets %s, not the container port %s", svc.Name, tp.String(), port.Name)
		}

		// HPA and PDB.
		var hpa *autoscalingv2.HorizontalPodAutoscaler
		for _, h := range r.hpas {
			if h.Spec.ScaleTargetRef.Kind == "Deployment" && h.Spec.ScaleTargetRef.Name == d.Name && h.Spec.ScaleTargetRef.APIVersion == "apps/v1" {
				hpa = h
			}
		}
		if hpa == nil {
			t.Errorf("%s: no HorizontalPodAutoscaler", what)
		} else {
			if hpa.Spec.MinReplicas == nil || *hpa.Spec.MinReplicas < 2 || hpa.Spec.MaxReplicas < *hpa.Spec.MinReplicas {
				t.Errorf("HPA %s: want 2 <= minReplicas <= maxReplicas", hpa.Name)
			}
			if len(hpa.Spec.Metrics) == 0 {
				t.Errorf("HPA %s: no metrics", hpa.Name)
			}
			if d.Spec.Replicas != nil {
				t.Errorf("%s: replicas must be left to the HPA (set: %d)", what, *d.Spec.Replicas)
			}
		}
		var pdb *policyv1.PodDisruptionBudget
		for _, p := range r.pdbs {
			if selectorMatches(t, p.Spec.Selector, d.Spec.Template.Labels) {
				if pdb != nil {
					t.Errorf("%s: more than one PodDisruptionBudget selects it", what)
				}
				pdb = p
			}
		}
		if pdb == nil {
			t.Errorf("%s: no PodDisruptionBudget", what)
		} else {
			min := int32(1)
			if hpa != nil && hpa.Spec.MinReplicas != nil {
				min = *hpa.Spec.MinReplicas
			}
			switch {
			case pdb.Spec.MaxUnavailable != nil:
				if v := pdb.Spec.MaxUnavailable.IntValue(); v < 1 || int32(v) >= min {
					t.Errorf("PDB %s: maxUnavailable %d must allow a drain and keep a pod (min replicas %d)", pdb.Name, v, min)
				}
			case pdb.Spec.MinAvailable != nil:
				if v := pdb.Spec.MinAvailable.IntValue(); v < 1 || int32(v) >= min {
					t.Errorf("PDB %s: minAvailable %d must keep a pod and allow a drain (min replicas %d)", pdb.Name, v, min)
				}
			default:
				t.Errorf("PDB %s: neither minAvailable nor maxUnavailable", pdb.Name)
			}
		}
	}
}

func checkImages(t *testing.T, r *rendered) {
	t.Helper()
	var specs []corev1.PodSpec
	for _, d := range r.deployments {
		specs = append(specs, d.Spec.Template.Spec)
	}
	for _, s := range r.statefulSets {
		specs = append(specs, s.Spec.Template.Spec)
	}
	for _, s := range specs {
		for _, c := range append(append([]corev1.Container{}, s.InitContainers...), s.Containers...) {
			img := c.Image
			if strings.Contains(img, "@sha256:") {
				continue
			}
			slash := strings.LastIndex(img, "/")
			colon := strings.LastIndex(img, ":")
			if colon <= slash {
				t.Errorf("image %q has no tag", img)
				continue
			}
			if tag := img[colon+1:]; tag == "" || tag == "latest" {
				t.Errorf("image %q: tag must be pinned, not %q", img, tag)
			}
			if c.ImagePullPolicy == corev1.PullAlways {
				t.Errorf("image %q: pullPolicy Always", img)
			}
		}
	}
}

func checkRedis(t *testing.T, r *rendered) {
	t.Helper()
	internal := len(r.statefulSets) > 0
	for _, d := range r.deployments {
		if component(d.Spec.Template.Labels) == "gateway" {
			continue
		}
		env := envOf(d.Spec.Template.Spec.Containers[0])
		url := env["REDIS_URL"]
		if internal {
			if !strings.Contains(url.Value, "$(REDIS_PASSWORD)@") || env["REDIS_PASSWORD"].ValueFrom == nil || env["REDIS_PASSWORD"].ValueFrom.SecretKeyRef == nil {
				t.Errorf("%s: in-chart Redis URL must carry the password from a Secret", d.Name)
			}
		} else if url.ValueFrom == nil || url.ValueFrom.SecretKeyRef == nil {
			t.Errorf("%s: external REDIS_URL must come from a Secret", d.Name)
		}
	}
	if !internal {
		return
	}
	if len(r.statefulSets) != 1 {
		t.Fatalf("want one StatefulSet (Redis), got %d", len(r.statefulSets))
	}
	s := r.statefulSets[0]
	checkPodSecurity(t, "StatefulSet "+s.Name, s.Spec.Template.Spec)
	c := s.Spec.Template.Spec.Containers[0]
	if c.ReadinessProbe == nil || c.LivenessProbe == nil {
		t.Errorf("Redis needs liveness and readiness probes")
	}
	if !strings.Contains(strings.Join(c.Args, " "), "--requirepass $(REDIS_PASSWORD)") || envOf(c)["REDIS_PASSWORD"].ValueFrom == nil {
		t.Errorf("Redis must require the password from its Secret: args %v", c.Args)
	}
	if len(s.Spec.VolumeClaimTemplates) != 1 {
		t.Fatalf("Redis needs one volumeClaimTemplate")
	}
	pvc := s.Spec.VolumeClaimTemplates[0]
	if pvc.Annotations["helm.sh/resource-policy"] != "keep" {
		t.Errorf("Redis PVC must be annotated helm.sh/resource-policy: keep")
	}
	if p := s.Spec.PersistentVolumeClaimRetentionPolicy; p == nil || p.WhenDeleted != appsv1.RetainPersistentVolumeClaimRetentionPolicyType {
		t.Errorf("Redis PVCs must be retained when the StatefulSet is deleted")
	}
	mounted := false
	for _, m := range c.VolumeMounts {
		if m.Name == pvc.Name && m.MountPath == "/data" {
			mounted = true
		}
	}
	if !mounted {
		t.Errorf("Redis data volume is not mounted at /data")
	}
	// The config carries every directive of deploy/redis.conf, /data as its dir.
	var conf *corev1.ConfigMap
	for _, v := range s.Spec.Template.Spec.Volumes {
		if v.ConfigMap != nil {
			conf = r.configMaps[v.ConfigMap.Name]
		}
	}
	if conf == nil {
		t.Fatal("Redis config ConfigMap not found")
	}
	got := directives(conf.Data["redis.conf"])
	prod, err := os.ReadFile(filepath.Join(repoRoot(t), "deploy", "redis.conf"))
	if err != nil {
		t.Fatal(err)
	}
	for d := range directives(string(prod)) {
		if !got[d] {
			t.Errorf("in-chart redis.conf lacks %q from deploy/redis.conf", d)
		}
	}
	for _, d := range []string{"appendonly yes", "appendfsync always", "dir /data"} {
		if !got[d] {
			t.Errorf("in-chart redis.conf lacks %q", d)
		}
	}
}

func directives(conf string) map[string]bool {
	m := map[string]bool{}
	for _, l := range strings.Split(conf, "\n") {
		l = strings.Join(strings.Fields(l), " ")
		if l != "" && !strings.HasPrefix(l, "#") {
			m[l] = true
		}
	}
	return m
}

func checkCharter(t *testing.T, r *rendered) {
	t.Helper()
	want := map[string]string{
		"INITIAL_BRANCH": "ai", "INITIAL_BRANCH_DISPLAY_NAME": "人工智能分会",
		"MIN_EXCHANGE_ACTIVITIES_PER_YEAR": "2", "MAX_CONSECUTIVE_TERMS": "2",
		"MIN_REPRESENTATIVE_RANK": "VICE_PRESIDENT", "CHAIR_MAX_AGE": "70", "DIRECTOR_MAX_AGE": "65",
		"COUNCIL_QUORUM": "2/3", "COUNCIL_MAJORITY": "1/2", "MAX_DIRECTOR_NOMINEES_PER_MEMBER": "1",
	}
	cm := r.configMaps[release+"-chapterhouse-charter"]
	if cm == nil {
		t.Fatal("charter ConfigMap not rendered")
	}
	for k, v := range want {
		if cm.Data[k] != v {
			t.Errorf("charter %s = %q, want %q", k, cm.Data[k], v)
		}
	}
	// Governance owns the branches; nobody else may read a setting that
	// could disagree with it.
	for _, d := range r.deployments {
		found := false
		for _, ef := range d.Spec.Template.Spec.Containers[0].EnvFrom {
			if ef.ConfigMapRef != nil && ef.ConfigMapRef.Name == cm.Name {
				found = true
			}
		}
		if governs := component(d.Spec.Template.Labels) == "governance"; found != governs {
			t.Errorf("%s reads the charter ConfigMap: %v, want %v (governance alone)", d.Name, found, governs)
		}
		for _, e := range d.Spec.Template.Spec.Containers[0].Env {
			if e.Name == "BRANCHES" || e.Name == "MIN_EXCHANGE_ACTIVITIES_PER_YEAR" {
				t.Errorf("%s is configured with %s, which governance owns", d.Name, e.Name)
			}
		}
	}
}

// checkTarget checks that value is dns:///<the callee's Service>...:<its
// port> and returns that Service.
func checkTarget(t *testing.T, r *rendered, what, callee, value string) *corev1.Service {
	t.Helper()
	host, ok := strings.CutPrefix(value, "dns:///")
	if !ok {
		t.Errorf("%s: %s address %q is not a dns:/// target", what, callee, value)
		return nil
	}
	for _, s := range r.services {
		if s.Spec.Selector["app.kubernetes.io/component"] != callee {
			continue
		}
		want := fmt.Sprintf("%s.%s.svc:%d", s.Name, namespace, s.Spec.Ports[0].Port)
		if host != want {
			t.Errorf("%s: %s address %q, want dns:///%s", what, callee, value, want)
		}
		return s
	}
	t.Errorf("%s: dials %s, which has no Service", what, callee)
	return nil
}

// TestEventSourcesFollowTheProducersRedis: a consumer reads a producer's
// events from the producer's Redis. With per-service external Redis, the
// consumer's <PRODUCER>_REDIS_URL comes from the same Secret key as the
// producer's own REDIS_URL; with the in-chart Redis both are that one.
func TestEventSourcesFollowTheProducersRedis(t *testing.T) {
	for name, file := range valuesSets(t) {
		t.Run(name, func(t *testing.T) {
			r := renderSet(t, file)
			own := map[string]corev1.EnvVar{}
			for _, d := range r.deployments {
				if v, ok := envOf(d.Spec.Template.Spec.Containers[0])["REDIS_URL"]; ok {
					own[component(d.Spec.Template.Labels)] = v
				}
			}
			sources := 0
			for _, d := range r.deployments {
				consumer := component(d.Spec.Template.Labels)
				for name, got := range envOf(d.Spec.Template.Spec.Containers[0]) {
					p, ok := strings.CutSuffix(name, "_REDIS_URL")
					if !ok || p == "" {
						continue
					}
					sources++
					producer, ok := own[strings.ToLower(p)]
					if !ok {
						t.Errorf("%s reads events from %s, which is not in this release", consumer, strings.ToLower(p))
						continue
					}
					if got.Value != producer.Value || !reflect.DeepEqual(got.ValueFrom, producer.ValueFrom) {
						t.Errorf("%s reads %s's events from %+v; %s writes them to %+v", consumer, strings.ToLower(p), got, strings.ToLower(p), producer)
					}
				}
			}
			// Activities consumes membership's MemberTerminated.
			if _, a := own["activities"]; a && own["membership"].Name != "" && sources == 0 {
				t.Error("no consumer is told where its producer's Redis is; activities would read membership's events from its own Redis")
			}
		})
	}
}

func isMembershipDeployment(d *appsv1.Deployment) bool {
	return component(d.Spec.Template.Labels) == "membership"
}
