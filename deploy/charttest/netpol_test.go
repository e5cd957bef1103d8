package charttest

import (
	"fmt"
	"sort"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// callsOf is who calls whom, read from what each component is given to
// dial: its <SERVICE>_ADDR variables, which the chart renders from its one
// table (chapterhouse.calls). They are the only service-to-service paths
// the NetworkPolicies may open.
func callsOf(r *rendered) map[string][]string {
	calls := map[string][]string{}
	for _, d := range r.deployments {
		for _, e := range d.Spec.Template.Spec.Containers[0].Env {
			if callee, ok := strings.CutSuffix(e.Name, "_ADDR"); ok && e.Name != "LISTEN_ADDR" {
				src := component(d.Spec.Template.Labels)
				calls[src] = append(calls[src], strings.ToLower(callee))
			}
		}
	}
	return calls
}

// pod is one kind of pod, in the chart or a stand-in for something around it.
type pod struct {
	name      string
	namespace string
	labels    map[string]string
	ports     []corev1.ContainerPort
	inChart   bool
}

// Stand-ins for what lives around the release.
func aroundPods() []pod {
	tcp := func(name string, p int32) corev1.ContainerPort {
		return corev1.ContainerPort{Name: name, ContainerPort: p, Protocol: corev1.ProtocolTCP}
	}
	return []pod{
		{name: "ingress-controller", namespace: "ingress-nginx", labels: map[string]string{"app": "ingress-nginx"}, ports: []corev1.ContainerPort{tcp("http", 80)}},
		{name: "gateway-api-controller", namespace: "gateway-system", labels: map[string]string{"app": "envoy"}, ports: []corev1.ContainerPort{tcp("http", 80)}},
		{name: "kube-dns", namespace: "kube-system", labels: map[string]string{"k8s-app": "kube-dns"},
			ports: []corev1.ContainerPort{{Name: "dns", ContainerPort: 53, Protocol: corev1.ProtocolUDP}, tcp("dns-tcp", 53)}},
		{name: "otel-collector", namespace: "observability", labels: map[string]string{"app": "otel-collector"}, ports: []corev1.ContainerPort{tcp("otlp-grpc", 4317)}},
		{name: "external-redis", namespace: "data", labels: map[string]string{"app": "redis"}, ports: []corev1.ContainerPort{tcp("redis", 6379)}},
		// Same namespace as the release, but not part of it.
		{name: "stranger", namespace: namespace, labels: map[string]string{"app": "stranger"}, ports: []corev1.ContainerPort{tcp("http", 8080)}},
		{name: "other-namespace", namespace: "other", labels: map[string]string{"app": "other"}, ports: []corev1.ContainerPort{tcp("http", 8080)}},
	}
}

func chartPods(r *rendered) []pod {
	var pods []pod
	add := func(spec corev1.PodSpec, labels map[string]string) {
		var ports []corev1.ContainerPort
		for _, c := range spec.Containers {
			ports = append(ports, c.Ports...)
		}
		pods = append(pods, pod{name: component(labels), namespace: namespace, labels: labels, ports: ports, inChart: true})
	}
	for _, d := range r.deployments {
		add(d.Spec.Template.Spec, d.Spec.Template.Labels)
	}
	for _, s := range r.statefulSets {
		add(s.Spec.Template.Spec, s.Spec.Template.Labels)
	}
	return pods
}

func nsLabels(ns string) map[string]string {
	return map[string]string{"kubernetes.io/metadata.name": ns}
}

// peerMatches: does a NetworkPolicyPeer of a policy in policyNS cover pod p?
func peerMatches(t *testing.T, peer networkingv1.NetworkPolicyPeer, policyNS string, p pod) bool {
	if peer.IPBlock != nil {
		return true // conservatively: an IP block may cover any pod
	}
	if peer.PodSelector == nil && peer.NamespaceSelector == nil {
		return false
	}
	if peer.NamespaceSelector == nil {
		if p.namespace != policyNS {
			return false
		}
	} else if !selectorMatchesOrAll(t, peer.NamespaceSelector, nsLabels(p.namespace)) {
		return false
	}
	return peer.PodSelector == nil || selectorMatchesOrAll(t, peer.PodSelector, p.labels)
}

// selectorMatchesOrAll treats the empty selector as "everything", as the API does.
func selectorMatchesOrAll(t *testing.T, sel *metav1.LabelSelector, labels map[string]string) bool {
	if len(sel.MatchLabels) == 0 && len(sel.MatchExpressions) == 0 {
		return true
	}
	return selectorMatches(t, sel, labels)
}

func portMatches(ports []networkingv1.NetworkPolicyPort, dst pod, port corev1.ContainerPort) bool {
	if len(ports) == 0 {
		return true
	}
	for _, pp := range ports {
		proto := corev1.ProtocolTCP
		if pp.Protocol != nil {
			proto = *pp.Protocol
		}
		// A port without a protocol is TCP.
		if proto != port.Protocol && (port.Protocol != "" || proto != corev1.ProtocolTCP) {
			continue
		}
		if pp.Port == nil {
			return true
		}
		if pp.Port.IntValue() != 0 {
			end := int32(pp.Port.IntValue())
			if pp.EndPort != nil {
				end = *pp.EndPort
			}
			if port.ContainerPort >= int32(pp.Port.IntValue()) && port.ContainerPort <= end {
				return true
			}
		} else if pp.Port.String() == port.Name {
			return true
		}
	}
	return false
}

func selecting(t *testing.T, policies []*networkingv1.NetworkPolicy, p pod, typ networkingv1.PolicyType) []*networkingv1.NetworkPolicy {
	var out []*networkingv1.NetworkPolicy
	for _, np := range policies {
		if np.Namespace != "" && np.Namespace != p.namespace {
			continue
		}
		if np.Namespace == "" && p.namespace != namespace {
			continue
		}
		has := false
		for _, pt := range np.Spec.PolicyTypes {
			has = has || pt == typ
		}
		if has && selectorMatchesOrAll(t, &np.Spec.PodSelector, p.labels) {
			out = append(out, np)
		}
	}
	return out
}

// allowed reports whether the policies let src open a connection to dst:port.
func allowed(t *testing.T, policies []*networkingv1.NetworkPolicy, src, dst pod, port corev1.ContainerPort) bool {
	if eg := selecting(t, policies, src, networkingv1.PolicyTypeEgress); len(eg) > 0 {
		ok := false
		for _, np := range eg {
			for _, rule := range np.Spec.Egress {
				if !portMatches(rule.Ports, dst, port) {
					continue
				}
				if len(rule.To) == 0 {
					ok = true
				}
				for _, peer := range rule.To {
					ok = ok || peerMatches(t, peer, namespace, dst)
				}
			}
		}
		if !ok {
			return false
		}
	}
	if in := selecting(t, policies, dst, networkingv1.PolicyTypeIngress); len(in) > 0 {
		for _, np := range in {
			for _, rule := range np.Spec.Ingress {
				if !portMatches(rule.Ports, dst, port) {
					continue
				}
				if len(rule.From) == 0 {
					return true
				}
				for _, peer := range rule.From {
					if peerMatches(t, peer, namespace, src) {
						return true
					}
				}
			}
		}
		return false
	}
	return true
}

func edge(src, dst pod, port corev1.ContainerPort) string {
	return fmt.Sprintf("%s -> %s:%d/%s", src.name, dst.name, port.ContainerPort, port.Protocol)
}

// checkNetworkPolicies evaluates the rendered NetworkPolicies for every pair
// of pods (the chart's and stand-ins around it) and compares the open paths
// with the ones the architecture allows.
func checkNetworkPolicies(t *testing.T, r *rendered) {
	t.Helper()
	in := chartPods(r)
	enabled := map[string]bool{}
	for _, p := range in {
		enabled[p.name] = true
		// Every chart pod is isolated both ways.
		if len(selecting(t, r.policies, p, networkingv1.PolicyTypeIngress)) == 0 || len(selecting(t, r.policies, p, networkingv1.PolicyTypeEgress)) == 0 {
			t.Errorf("%s pods are not isolated by a NetworkPolicy for both ingress and egress", p.name)
		}
	}
	internalRedis := enabled["redis"]
	ingress := len(r.ingresses) > 0
	route := len(r.routes) > 0

	want := map[string]bool{}
	all := append(append([]pod{}, in...), aroundPods()...)
	byName := map[string]pod{}
	for _, p := range all {
		byName[p.name] = p
	}
	allow := func(src, dst string) {
		if !enabled[src] && byName[src].inChart || !enabled[dst] && byName[dst].inChart {
			return
		}
		if _, ok := byName[src]; !ok {
			return
		}
		if _, ok := byName[dst]; !ok {
			return
		}
		for _, port := range byName[dst].ports {
			want[edge(byName[src], byName[dst], port)] = true
		}
	}
	for src, dsts := range callsOf(r) {
		for _, dst := range dsts {
			allow(src, dst)
		}
	}
	for _, p := range in {
		allow(p.name, "kube-dns")
		allow(p.name, "otel-collector")
		if p.name == "redis" {
			continue
		}
		if internalRedis {
			allow(p.name, "redis")
		} else {
			allow(p.name, "external-redis")
		}
	}
	if p, ok := byName["redis"]; ok {
		// Redis itself talks to no one but its clients; it needs no DNS or collector.
		delete(want, edge(p, byName["kube-dns"], byName["kube-dns"].ports[0]))
		delete(want, edge(p, byName["kube-dns"], byName["kube-dns"].ports[1]))
		delete(want, edge(p, byName["otel-collector"], byName["otel-collector"].ports[0]))
	}
	if ingress {
		allow("ingress-controller", "gateway")
	}
	if route {
		allow("gateway-api-controller", "gateway")
	}

	got := map[string]bool{}
	for _, src := range all {
		for _, dst := range all {
			if src.name == dst.name || (!src.inChart && !dst.inChart) {
				continue
			}
			for _, port := range dst.ports {
				if allowed(t, r.policies, src, dst, port) {
					got[edge(src, dst, port)] = true
				}
			}
		}
	}
	var extra, missing []string
	for e := range got {
		if !want[e] {
			extra = append(extra, e)
		}
	}
	for e := range want {
		if !got[e] {
			missing = append(missing, e)
		}
	}
	sort.Strings(extra)
	sort.Strings(missing)
	if len(extra) > 0 {
		t.Errorf("NetworkPolicies open paths the architecture does not allow:\n  %s", strings.Join(extra, "\n  "))
	}
	if len(missing) > 0 {
		t.Errorf("NetworkPolicies block paths the system needs:\n  %s", strings.Join(missing, "\n  "))
	}
}
